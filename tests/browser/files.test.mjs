// The file browser of the portal through a real browser, end to end: schola-web forwarding to a
// running schola-files (tests/browser/run must start it on the socket of [files] socket). A
// student uploads a file in resumable 8 MiB chunks and sees the progress, finds it listed,
// downloads it and gets the same bytes, renames it, deletes it to the trash and restores it. A
// second test cuts the connection during an upload: the page asks for the offset and goes on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { BASE, STUDENT_LOGIN, STUDENT_PASSWORD, freshPage, screenshot, signIn } from './lib.mjs';

const MIB = 1024 * 1024;

// Opens the student's home in the file browser; fails at once, saying so, when schola-files
// does not answer (the page itself is served by schola-web alone).
async function openHome(t) {
  const { page } = await freshPage(t);
  await signIn(page, STUDENT_LOGIN, STUDENT_PASSWORD);
  const usage = await page.request.get(`${BASE}/files/api/usage`);
  assert.equal(usage.status(), 200,
    `schola-files must be running behind schola-web: GET /files/api/usage answered ${usage.status()}: ${await usage.text()}`);
  await page.getByRole('navigation', { name: 'Hauptmenü' }).getByRole('link', { name: 'Dateien' }).click();
  await page.waitForURL((u) => u.pathname === '/files');
  await page.goto(`${BASE}/files?path=%2Fhome`);
  await page.locator('#crumbs [aria-current=page]').filter({ hasText: 'home' }).waitFor();
  await page.locator('#usage').waitFor({ state: 'visible' });
  return page;
}

// Records every value the upload's progress bar takes.
async function watchProgress(page) {
  await page.evaluate(() => {
    const bar = document.getElementById('upload-progress');
    window.__progress = [];
    new MutationObserver(() => window.__progress.push(bar.value))
      .observe(document.getElementById('upload-text'), { childList: true, characterData: true, subtree: true });
  });
}

async function upload(page, name, buffer) {
  await page.setInputFiles('#upload-input', { name, mimeType: 'application/octet-stream', buffer });
  await page.locator('#upload-submit').click();
  await page.locator('#files-status').filter({ hasText: `${name} wurde hochgeladen.` })
    .waitFor({ timeout: 120_000 });
}

const row = (page, name) => page.locator(`#file-list tr[data-name="${name}"]`);

test('a student uploads with progress, downloads the same bytes, renames, deletes to the trash and restores', async (t) => {
  const page = await openHome(t);
  const name = 'Referat Übung.bin';
  const data = randomBytes(20 * MIB + 12345); // three chunks, the last one short

  const chunks = [];
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (r.method() === 'PUT' && u.pathname.startsWith('/files/api/uploads/')) chunks.push(u.searchParams.get('offset'));
  });
  await watchProgress(page);
  await upload(page, name, data);
  assert.deepEqual(chunks, ['0', String(8 * MIB), String(16 * MIB)], 'sent in 8 MiB chunks');
  const seen = await page.evaluate(() => window.__progress);
  assert.ok(seen.some((v) => v > 0 && v < 100), `the bar moved between 0 and 100: ${seen}`);
  assert.equal(seen[seen.length - 1], 100);
  await row(page, name).waitFor();
  assert.match(await row(page, name).locator('td').nth(1).innerText(), /^20 MiB$/);
  await screenshot(page, 'files-uploaded');

  // download: the same bytes, as an attachment, never rendered
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    row(page, name).locator('a').first().click(),
  ]);
  assert.equal(download.suggestedFilename(), name);
  const got = await readFile(await download.path());
  assert.equal(got.length, data.length);
  assert.ok(got.equals(data), 'the downloaded bytes are the uploaded ones');
  const head = await page.request.get(`${BASE}/files/api/download?path=${encodeURIComponent(`/home/${name}`)}`,
    { headers: { Range: 'bytes=0-99' } });
  assert.equal(head.status(), 206, 'Range requests work (video scrubbing)');
  assert.match(head.headers()['content-disposition'], /^attachment/);
  assert.ok((await head.body()).equals(data.subarray(0, 100)));

  // rename (a prompt asks for the new path)
  page.once('dialog', (d) => d.accept('/home/Umbenannt.bin'));
  await row(page, name).getByRole('button', { name: 'Umbenennen oder verschieben' }).click();
  await row(page, 'Umbenannt.bin').waitFor();
  assert.equal(await row(page, name).count(), 0);

  // delete to the trash (after a confirmation)
  page.once('dialog', (d) => d.accept());
  await row(page, 'Umbenannt.bin').getByRole('button', { name: 'Löschen' }).click();
  await page.locator('#files-status').filter({ hasText: 'In den Papierkorb gelegt.' }).waitFor();
  await row(page, 'Umbenannt.bin').waitFor({ state: 'detached' });

  // the trash, and back
  await page.getByRole('button', { name: 'Papierkorb anzeigen' }).click();
  const trashed = page.locator('#trash-list tbody tr').filter({ hasText: '/home/Umbenannt.bin' });
  await trashed.waitFor();
  await screenshot(page, 'files-trash');
  await trashed.getByRole('button', { name: 'Wiederherstellen' }).click();
  await page.locator('#files-status').filter({ hasText: 'Wiederhergestellt als /home/Umbenannt.bin.' }).waitFor();
  await row(page, 'Umbenannt.bin').waitFor();
  const [again] = await Promise.all([
    page.waitForEvent('download'),
    row(page, 'Umbenannt.bin').locator('a').first().click(),
  ]);
  assert.ok((await readFile(await again.path())).equals(data), 'restored intact');
});

test('an upload cut by a network error asks for the offset and finishes', async (t) => {
  const page = await openHome(t);
  const name = 'Unterbrochen.bin';
  const data = randomBytes(17 * MIB);
  let cut = false;
  const asked = [];
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (r.method() === 'GET' && /^\/files\/api\/uploads\/[^/]+$/.test(u.pathname)) asked.push(u.pathname);
  });
  // the second chunk's connection breaks once
  await page.route('**/files/api/uploads/*', async (route) => {
    const u = new URL(route.request().url());
    if (!cut && route.request().method() === 'PUT' && u.searchParams.get('offset') === String(8 * MIB)) {
      cut = true;
      await route.abort('connectionreset');
    } else {
      await route.continue();
    }
  });
  await upload(page, name, data);
  assert.ok(cut, 'the connection was cut once');
  assert.ok(asked.length >= 1, 'the page asked the server for the offset');
  await row(page, name).waitFor();
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    row(page, name).locator('a').first().click(),
  ]);
  assert.ok((await readFile(await download.path())).equals(data), 'nothing lost, nothing doubled');
});
