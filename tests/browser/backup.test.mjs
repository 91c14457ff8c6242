// The backup in a real browser, with the real root helper and restic: the admin sets the backup
// up on the Backup page (the target typed in, the passphrase made by Schola), downloads the
// recovery sheet, backs up now; a student then asks for a deleted file back under "restore my
// files" and finds it in a "Wiederhergestellt <date>" folder of their files.
//
// The helper the path unit would start (`scholactl backup run-request`, root) is run by the test
// after each request, as the package tests run the units' commands.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ADMIN_LOGIN, ADMIN_PASSWORD, BASE, STUDENT_LOGIN, STUDENT_PASSWORD, env, freshPage, screenshot, signIn } from './lib.mjs';

const DIR = env('SCHOLA_DIR');
const SCHOLACTL = env('SCHOLACTL');

/// What schola-backup-request.service runs when the page leaves a request.
function helper() {
  return execFileSync(SCHOLACTL, ['--config', join(DIR, 'schola.toml'), 'backup', 'run-request'], { encoding: 'utf8' });
}

test('the admin sets the backup up and backs up; a student gets a deleted file back', async (t) => {
  const usb = join(DIR, 'usb-stick');
  mkdirSync(usb, { recursive: true });
  const home = join(DIR, 'data', 'home', STUDENT_LOGIN);
  mkdirSync(join(home, 'Deutsch'), { recursive: true });
  const essay = 'Mein schönster Ferientag\n'.repeat(200);
  writeFileSync(join(home, 'Deutsch', 'Aufsatz.txt'), essay);
  t.after(() => rmSync(usb, { recursive: true, force: true }));

  const { page } = await freshPage(t);
  await signIn(page, ADMIN_LOGIN, ADMIN_PASSWORD);
  await page.goto(`${BASE}/admin/backup`);
  await page.getByLabel('Wohin die Datensicherung geht').fill(join(usb, 'schola'));
  await page.getByRole('button', { name: 'Einrichten' }).click();
  await page.locator('#backup-notice').waitFor();
  assert.match(helper(), /made the backup repository/);
  assert.ok(existsSync(join(usb, 'schola', 'config')), 'restic made the repository on the stick');

  // the recovery sheet carries the passphrase Schola made; the page itself does not show it
  await page.reload();
  const passphrase = readFileSync(join(DIR, 'state', 'backup.pass'), 'utf8').trim();
  assert.ok(!(await page.content()).includes(passphrase));
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Wiederherstellungsblatt herunterladen (PDF)' }).click(),
  ]);
  const pdf = readFileSync(await download.path());
  assert.equal(pdf.subarray(0, 5).toString(), '%PDF-');
  assert.ok(pdf.includes(Buffer.from(passphrase)), 'the passphrase is on the sheet');
  assert.ok(pdf.includes(Buffer.from('Wiederherstellungsblatt der Datensicherung')) ||
    pdf.includes(Buffer.from('Wiederherstellungsblatt')), 'the sheet is in the admin\'s language');

  await page.getByRole('button', { name: 'Jetzt sichern' }).click();
  await page.locator('#backup-notice').waitFor();
  assert.match(helper(), /made:/);
  await page.reload();
  assert.equal(await page.locator('#backup-list tbody tr').count(), 1);
  assert.doesNotMatch(await page.locator('#backup-last-success').innerText(), /noch keine/);
  await screenshot(page, 'backup-admin');

  // the student deletes the essay, then asks for it back
  rmSync(join(home, 'Deutsch'), { recursive: true });
  const student = (await freshPage(t)).page;
  await signIn(student, STUDENT_LOGIN, STUDENT_PASSWORD);
  await student.goto(`${BASE}/files`);
  await student.getByRole('link', { name: 'Meine Dateien aus einer Sicherung wiederherstellen' }).click();
  await student.getByLabel('Ordner oder Datei').fill('Deutsch');
  await student.getByRole('button', { name: 'Wiederherstellen' }).click();
  const notice = await student.locator('#restore-notice').innerText();
  // named in the language of the student's (German) page
  const folder = /„(Wiederhergestellt [^“]+)“/.exec(notice)?.[1];
  assert.ok(folder, `the notice names the folder in German: ${notice}`);
  assert.match(helper(), /restored 'Deutsch'/);
  assert.equal(readFileSync(join(home, folder, 'Deutsch', 'Aufsatz.txt'), 'utf8'), essay);
  assert.ok(!existsSync(join(home, 'Deutsch')), 'nothing is put back over the student\'s own files');
  await student.goto(`${BASE}/files?path=%2Fhome`);
  await student.locator(`#file-list tr[data-name="${folder}"]`).waitFor();
  await screenshot(student, 'backup-restored-folder');
  assert.deepEqual(readdirSync(join(home, folder)), ['Deutsch']);
});
