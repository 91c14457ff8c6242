// The first-run setup wizard in a real browser: a second schola-web on a fresh school with no
// administrator (started here, on a free loopback port), the setup code read from the file the
// server writes, the four steps filled in (a wrong code first), then the new admin signs in and
// sees the school's logo.
//
// Run by tests/browser/run, which passes SCHOLA_WEB (the binary) besides the usual settings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { env, freshPage, pathOf, screenshot } from './lib.mjs';

const SCHOLA_WEB = env('SCHOLA_WEB');

// A 16×16 PNG (a blue and yellow checkerboard), the same as the Rust tests use.
const PNG = Buffer.from(
  '89504e470d0a1a0a0000000d49484452000000100000001008060000001ff3ff61000000274944415478da63' +
  '10895afb1f197fddcc888209c9330c030348d5802e3f1c0c184d07a3e9008801b47c611fc9a948fc000000004945' +
  '4e44ae426082',
  'hex',
);

// Starts schola-web on a fresh school in a temp dir; resolves with its URL once it listens.
async function startFresh(t) {
  const dir = mkdtempSync(join(tmpdir(), 'schola-wizard.'));
  writeFileSync(join(dir, 'schola.toml'), [
    '# written by tests/browser/wizard.test.mjs',
    'profile = "dev"',
    '[paths]',
    'root = "."',
    '[web]',
    'listen = ["127.0.0.1:0"]',
    '[auth.argon2]',
    'memory_kib = 64',
    'iterations = 1',
    'parallelism = 1',
    '',
  ].join('\n'));
  const childEnv = { ...process.env, RUST_LOG: 'info' };
  delete childEnv.JOURNAL_STREAM;
  const child = spawn(SCHOLA_WEB, ['--config', join(dir, 'schola.toml')], {
    cwd: dir,
    env: childEnv,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGTERM');
    if (process.env.KEEP_TMP !== '1') rmSync(dir, { recursive: true, force: true });
  });
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`schola-web did not start within 30 s:\n${log}`)), 30_000);
    child.stderr.on('data', (chunk) => {
      log += chunk;
      const m = log.match(/schola-web: listening on (https:\/\/127\.0\.0\.1:\d+)\//);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`schola-web exited with ${code} before listening:\n${log}`));
    });
  });
  return { url, dir, log: () => log };
}

test('the first-run wizard sets up the school, then the new admin signs in', async (t) => {
  const server = await startFresh(t);
  const code = readFileSync(join(server.dir, 'state', 'setup-code'), 'utf8').trim();
  assert.match(code, /\S/, 'the server wrote its setup code');
  const { page } = await freshPage(t);

  // the fresh server sends every visitor to the wizard
  await page.goto(`${server.url}/`);
  await page.waitForURL((u) => u.pathname === '/setup');
  for (const n of [1, 2, 3, 4]) {
    assert.match(await page.locator('legend').nth(n - 1).innerText(), new RegExp(`^Schritt ${n}: `),
      `step ${n} is a numbered fieldset (in German: the browser asks for de-DE)`);
  }
  assert.equal(await page.locator('#cert_self_signed').isChecked(), true, 'the self-signed certificate is the default');

  const fill = async (setupCode) => {
    await page.fill('#setup_code', setupCode);
    await page.fill('#school_name', 'Grundschule Am Wald');
    await page.setInputFiles('#logo_file', { name: 'wappen.png', mimeType: 'image/png', buffer: PNG });
    await page.fill('#mail_domain', 'gs-wald.example');
    await page.selectOption('#default_language', 'de');
    await page.fill('#admin_login', 'schulleitung');
    await page.fill('#password', 'Waldameise-2026');
    await page.fill('#password_confirm', 'Waldameise-2026');
  };
  const submit = async () => {
    const posted = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/setup');
    await page.click('form[action="/setup"] button[type=submit]');
    return posted;
  };

  // a wrong setup code: refused, what was typed is kept
  await fill('zzzz-zzzz-zzzz');
  await screenshot(page, 'wizard-filled');
  const refused = await submit();
  assert.equal(refused.status(), 403, 'a wrong setup code answers 403');
  await page.locator('#setup-error').waitFor({ state: 'visible' });
  assert.match(await page.locator('#setup-error').innerText(), /Einrichtungscode ist falsch/);
  assert.equal(await page.inputValue('#school_name'), 'Grundschule Am Wald', 'the school name is kept');
  await screenshot(page, 'wizard-wrong-code');

  // the right code: set up, on to the sign-in page
  await fill(code);
  const done = await submit();
  assert.equal(done.status(), 303, `the wizard is done (status ${done.status()})`);
  await page.waitForURL((u) => u.pathname === '/login');

  // the new admin signs in and sees the school's name and logo in the header
  await page.fill('#login', 'schulleitung');
  await page.fill('#password', 'Waldameise-2026');
  await page.click('form[action="/login"] button[type=submit]');
  await page.waitForURL((u) => u.pathname === '/admin');
  assert.equal(pathOf(page), '/admin');
  assert.equal(await page.locator('header .brand').innerText(), 'Grundschule Am Wald');
  const logo = page.locator('header img.logo');
  await logo.waitFor({ state: 'visible' });
  assert.equal(await logo.getAttribute('alt'), 'Grundschule Am Wald');
  assert.equal(await logo.evaluate((img) => img.complete && img.naturalWidth), 16, 'the logo loaded (16 px wide)');
  await screenshot(page, 'wizard-admin');

  // the settings page shows what the wizard stored
  await page.goto(`${server.url}/admin/settings`);
  assert.equal(await page.inputValue('#mail_domain'), 'gs-wald.example');
  assert.equal(await page.inputValue('#default_language'), 'de');
  assert.match(await page.locator('#cert-fingerprint').innerText(), /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  await screenshot(page, 'settings');

  // and the setup is closed
  await page.goto(`${server.url}/setup`);
  await page.waitForURL((u) => u.pathname !== '/setup');
});
