// The admin UI's Updates page in a real browser: its small script follows a running update live
// (server-sent events), then reloads to show the outcome.
//
// No apt runs here: the test writes the files the privileged update helper would write (the
// request, status.json and the log in the dev profile's update directory, $SCHOLA_DIR/updates),
// the same files the package tests have the real helper write.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ADMIN_LOGIN, ADMIN_PASSWORD, BASE, env, freshPage, screenshot, signIn } from './lib.mjs';

const DIR = env('SCHOLA_DIR');
const UPDATES = join(DIR, 'updates');
const REQUEST_DIR = join(DIR, 'state', 'update-request');

function writeStatus(fields) {
  const now = Math.floor(Date.now() / 1000);
  const status = {
    action: 'upgrade',
    state: 'running',
    started: now,
    finished: null,
    message: 'Upgrading…',
    packages: [
      { package: 'schola-common', installed: '0.1.0', available: '0.2.0' },
      { package: 'schola-web', installed: '0.1.0', available: '0.2.0' },
    ],
    checked: now,
    changelog: 'schola (0.2.0) stable; urgency=medium\n\n  * The Updates page.',
    ...fields,
  };
  writeFileSync(join(UPDATES, 'status.json'), JSON.stringify(status));
}

test('a running upgrade is followed live, then the outcome is shown', async (t) => {
  mkdirSync(UPDATES, { recursive: true });
  mkdirSync(REQUEST_DIR, { recursive: true });
  t.after(() => rmSync(UPDATES, { recursive: true, force: true }));
  writeStatus({});
  writeFileSync(join(UPDATES, 'log'), '$ apt-get update -q\n');
  // a request waits for the helper: the page counts the run as in progress
  writeFileSync(join(REQUEST_DIR, 'request'), 'upgrade\n');

  const { page } = await freshPage(t);
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
  page.on('pageerror', (e) => problems.push(String(e)));
  await signIn(page, ADMIN_LOGIN, ADMIN_PASSWORD);
  await page.goto(`${BASE}/admin/updates`);
  const log = page.locator('#update-log');
  await log.waitFor({ state: 'visible' });
  assert.match(await log.innerText(), /apt-get update -q/);
  assert.equal(await page.locator('#run-state').innerText(), 'Warte auf den Start des Aktualisierungsdienstes');
  assert.equal(await page.getByRole('button', { name: 'Aktualisierung installieren' }).isDisabled(), true,
    'no second upgrade while one is in progress');
  // a marker that a reload would lose
  await page.evaluate(() => { window.scholaTestMarker = 'same page'; });

  // the run writes to its log: the lines appear without a reload
  appendFileSync(join(UPDATES, 'log'), 'Unpacking schola-web (0.2.0) over (0.1.0) ...\n');
  await page.waitForFunction(
    () => document.getElementById('update-log').textContent.includes('Unpacking schola-web (0.2.0)'),
    null, { timeout: 10_000 });
  assert.equal(await page.evaluate(() => window.scholaTestMarker), 'same page',
    'the new line arrived on the open page, not through a reload');
  await screenshot(page, 'updates-running');

  // the run ends: the page reloads by itself and shows the outcome
  writeStatus({ state: 'succeeded', finished: Math.floor(Date.now() / 1000),
    message: 'Upgraded: schola-common 0.2.0, schola-web 0.2.0.',
    packages: [
      { package: 'schola-common', installed: '0.2.0', available: null },
      { package: 'schola-web', installed: '0.2.0', available: null },
    ],
    changelog: '' });
  appendFileSync(join(UPDATES, 'log'), 'Upgraded: schola-common 0.2.0, schola-web 0.2.0.\n');
  rmSync(join(REQUEST_DIR, 'request'));
  await page.waitForFunction(() => window.scholaTestMarker === undefined, null, { timeout: 15_000 });
  await page.locator('#run-state').waitFor({ state: 'visible' });
  assert.equal(await page.locator('#run-state').innerText(), 'Beendet');
  assert.match(await page.locator('#run-message').innerText(), /Upgraded: schola-common 0\.2\.0/);
  assert.equal(await page.getByRole('button', { name: 'Aktualisierung installieren' }).count(), 0, 'nothing left to upgrade');
  await screenshot(page, 'updates-finished');
  assert.deepEqual(problems, [], 'no script errors and no CSP violations');
});
