// The admin UI's Import in a real browser, in German: the admin uploads a small CSV export (with
// umlauts and one row that cannot be imported), reviews the diff (the new people, the rejected
// row with its line), applies it, and downloads the password letters: the PDF through the
// browser's download, the CSV once as well, and a second time it is gone (410).
//
// The list is a class of its own (8k) and ids no other test uses, so the other tests' people
// and classes are left as they are.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN_LOGIN, ADMIN_PASSWORD, BASE, freshPage, screenshot, signIn } from './lib.mjs';

const LIST = [
  'id,role,class,given_name,family_name',
  'B-801,student,8k,Jürgen,Weiß',
  'B-802,student,8k,Chloé,Lefèvre',
  'B-803,student,8k,,Ohne Vorname',
  'B-804,student,8k,Ayşe,Güneş',
].join('\n') + '\n';

test('the admin uploads a list, reviews the diff, applies it and downloads the letters once', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'schola-import-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'klasse-8k.csv');
  writeFileSync(file, LIST, 'utf8');

  const { page } = await freshPage(t);
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
  page.on('pageerror', (e) => problems.push(String(e)));
  await signIn(page, ADMIN_LOGIN, ADMIN_PASSWORD);

  // the upload form, reached from the admin's navigation
  await page.goto(`${BASE}/admin`);
  await page.click('nav.subnav a[href="/admin/import"]');
  await page.waitForURL((u) => u.pathname === '/admin/import');
  assert.equal(await page.locator('h1').innerText(), 'Import');
  await page.setInputFiles('#import-file', file);
  assert.equal(await page.locator('#import-profile').inputValue(), 'auto');
  await screenshot(page, 'import-upload');
  await page.click('#import-upload');
  await page.waitForURL((u) => /^\/admin\/import\/\d+$/.test(u.pathname));
  const diffPath = new URL(page.url()).pathname;

  // the diff: the new people with their logins, the rejected row with its line and reason
  assert.equal(await page.locator('#import-origin').innerText(), 'klasse-8k.csv');
  const created = await page.locator('table#create tbody tr').allInnerTexts();
  assert.equal(created.length, 3, `three new people: ${created.join(' | ')}`);
  assert.ok(created.some((r) => r.includes('Jürgen Weiß') && r.includes('juergen.weiss') && r.includes('8k')),
    created.join(' | '));
  assert.ok(created.some((r) => r.includes('Chloé Lefèvre')), created.join(' | '));
  const rejected = page.locator('table#rejected tbody tr');
  assert.equal(await rejected.count(), 1);
  const cells = await rejected.first().locator('td').allInnerTexts();
  assert.equal(cells[0], '4', 'the rejected row names its line');
  assert.match(cells[2], /given name is empty/);
  assert.equal(await page.locator('#count-create').innerText(), '3');
  await screenshot(page, 'import-diff');

  // apply: the result page with the letters
  await page.click('#import-apply');
  await page.waitForURL((u) => u.pathname === `${diffPath}/apply`);
  await page.locator('#import-done').waitFor({ state: 'visible' });
  assert.equal(await page.locator('#count-create').innerText(), '3');
  assert.match(await page.locator('#letters-once').innerText(), /einmal/);
  await screenshot(page, 'import-applied');

  // the letters to print, as the browser downloads them
  const [pdf] = await Promise.all([page.waitForEvent('download'), page.click('#letters-pdf')]);
  assert.match(pdf.suggestedFilename(), /^password-letters-\d{4}-\d{2}-\d{2}\.pdf$/);
  const pdfBytes = readFileSync(await pdf.path());
  assert.equal(pdfBytes.subarray(0, 4).toString('latin1'), '%PDF', 'a PDF file');

  // the password list still works once after the PDF was taken
  const csvHref = await page.locator('#letters-csv').getAttribute('href');
  const [csv] = await Promise.all([page.waitForEvent('download'), page.click('#letters-csv')]);
  assert.match(csv.suggestedFilename(), /^password-letters-\d{4}-\d{2}-\d{2}\.csv$/);
  const csvText = readFileSync(await csv.path(), 'utf8');
  // class;name;login;password;mail (CRLF, as spreadsheets write it)
  assert.match(csvText, /^8k;Jürgen Weiß;juergen\.weiss;[a-z2-9-]+;\r?$/m, csvText);

  // and then it is gone, with a page saying how to make new passwords
  const again = await page.request.get(`${BASE}${csvHref}`, { headers: { 'Accept-Language': 'de' } });
  assert.equal(again.status(), 410);
  assert.match(await again.text(), /nur einmal/);
  await page.goto(`${BASE}${csvHref}`).catch(() => {});
  await screenshot(page, 'import-letters-gone');

  // the import is a record now, without buttons
  await page.goto(`${BASE}${diffPath}`);
  assert.equal(await page.locator('#import-apply').count(), 0);
  assert.match(await page.locator('#import-status').innerText(), /übernommen/);
  assert.deepEqual(problems.filter((p) => !p.includes('410')), [], 'no script errors or CSP refusals');
});
