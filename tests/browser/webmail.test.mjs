// Webmail in the portal through a real browser, against real Postfix and Dovecot (tests/browser/run
// starts them with `schola-mail local` on loopback ports):
// - a hostile HTML mail from outside (a script, an onerror handler, a javascript: link, a remote
//   picture) is shown harmless: nothing runs, the picture is not fetched until the reader asks;
//   its attachment downloads with the same bytes;
// - the admin writes to the student with an attachment from the portal; the student reads it,
//   replies with an attachment of her own; the admin gets the reply with that attachment;
// - search finds a message, delete moves it to the trash, and the quota is shown.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  BASE, ADMIN_LOGIN, ADMIN_PASSWORD, STUDENT_LOGIN, STUDENT_PASSWORD, env, freshPage, screenshot, signIn,
} from './lib.mjs';

const run = promisify(execFile);
const SMTP_PORT = env('SCHOLA_MAIL_SMTP_PORT');
const DOMAIN = env('SCHOLA_MAIL_DOMAIN');
const STUDENT_ADDRESS = `${STUDENT_LOGIN}@${DOMAIN}`;
const ADMIN_ADDRESS = `${ADMIN_LOGIN}@${DOMAIN}`;

// A web server standing in for a tracker: it counts who asks for its picture.
let tracker;
let trackerHits = 0;
let trackerUrl;
before(async () => {
  tracker = createServer((req, res) => {
    trackerHits += 1;
    res.writeHead(200, { 'content-type': 'image/gif' });
    res.end(Buffer.from('R0lGODlhAQABAAAAACwAAAAAAQABAAA=', 'base64'));
  });
  await new Promise((resolve) => tracker.listen(0, '127.0.0.1', resolve));
  trackerUrl = `http://127.0.0.1:${tracker.address().port}/pixel.gif`;
});
after(() => tracker?.close());

// Sends a whole message over SMTP from outside the school, as another mail server would.
async function deliverFromOutside(from, to, raw) {
  const dir = await mkdtemp(join(tmpdir(), 'schola-webmail-'));
  const file = join(dir, 'message.eml');
  await writeFile(file, raw.replace(/\r?\n/g, '\r\n'));
  try {
    await run('swaks', ['--server', `127.0.0.1:${SMTP_PORT}`, '--from', from, '--to', to,
      '--data', file, '--silent', '2'], { timeout: 30_000 });
  } catch (e) {
    assert.fail(`swaks could not deliver to ${to}: ${e.stdout}${e.stderr}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// Reloads the folder until a message with this subject is listed (delivery takes a moment).
async function waitForMessage(page, subject, folder = 'INBOX') {
  const deadline = Date.now() + 30_000;
  for (;;) {
    await page.goto(`${BASE}/mail?folder=${encodeURIComponent(folder)}`);
    const link = page.locator('#mail-messages a', { hasText: subject });
    if (await link.count() > 0) return link.first();
    if (Date.now() > deadline) {
      await screenshot(page, `webmail-missing-${folder}`);
      assert.fail(`no message "${subject}" in ${folder} after 30 s`);
    }
    await page.waitForTimeout(500);
  }
}

async function signInToMail(t, login, password) {
  const { page } = await freshPage(t);
  const dialogs = [];
  page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss().catch(() => {}); });
  await signIn(page, login, password);
  return { page, dialogs };
}

test('a hostile HTML mail is shown harmless, and its attachment downloads', async (t) => {
  const subject = `Elternbrief ${Date.now()}`;
  const attachment = 'Liebe Klasse 4b,\nbitte Turnbeutel mitbringen.\n';
  await deliverFromOutside('eltern@example.org', STUDENT_ADDRESS, `From: Eltern <eltern@example.org>
To: ${STUDENT_ADDRESS}
Subject: ${subject}
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b1"

--b1
Content-Type: text/html; charset=utf-8

<html><head><script>window.__pwned = 'script';</script></head>
<body onload="window.__pwned = 'onload'">
<p id="greeting">Hallo <b>Klasse</b>!</p>
<img src="x" onerror="window.__pwned = 'onerror'; alert('onerror')">
<a id="evil" href="javascript:window.__pwned='link'">Hier klicken</a>
<img id="tracker" src="${trackerUrl}" alt="pixel">
<a href="/logout">abmelden</a>
</body></html>
--b1
Content-Type: text/plain; charset=utf-8; name="Turnbeutel.txt"
Content-Disposition: attachment; filename="Turnbeutel.txt"
Content-Transfer-Encoding: base64

${Buffer.from(attachment).toString('base64')}
--b1--
`);
  const { page, dialogs } = await signInToMail(t, STUDENT_LOGIN, STUDENT_PASSWORD);
  const link = await waitForMessage(page, subject);
  await link.click();
  await page.waitForURL((u) => u.pathname === '/mail/read');
  const body = page.locator('#mail-body');
  await body.waitFor();
  assert.match(await body.innerText(), /Hallo Klasse!/, 'the harmless part of the mail is shown');
  assert.equal(await body.locator('script').count(), 0, 'no script element');
  assert.equal(await body.locator('[onerror], [onload]').count(), 0, 'no event handlers');
  assert.equal(await body.locator('a[href^="javascript" i]').count(), 0, 'no javascript: link');
  assert.equal(await body.locator('a[href="/logout"]').count(), 0, 'no link to the portal itself');
  await body.locator('a', { hasText: 'Hier klicken' }).click().catch(() => {});
  await page.waitForTimeout(500);
  assert.equal(await page.evaluate(() => window.__pwned), undefined, 'nothing of the mail ran');
  assert.deepEqual(dialogs, [], 'no dialog opened');
  assert.equal(trackerHits, 0, 'the remote picture was not fetched');
  await page.locator('#mail-images-blocked').waitFor();
  await screenshot(page, 'webmail-hostile');

  // the attachment, downloaded
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.locator('#mail-attachments a', { hasText: 'Turnbeutel.txt' }).click(),
  ]);
  assert.equal(download.suggestedFilename(), 'Turnbeutel.txt');
  assert.equal(await readFile(await download.path(), 'utf8'), attachment, 'the same bytes');

  // the reader allows the pictures: now, and only now, the tracker is asked
  await page.locator('#mail-show-images').click();
  await page.waitForURL((u) => u.searchParams.get('images') === '1');
  await page.locator('#mail-body img').first().waitFor({ state: 'attached' });
  const deadline = Date.now() + 5_000;
  while (trackerHits === 0 && Date.now() < deadline) await page.waitForTimeout(100);
  assert.ok(trackerHits >= 1, 'the picture loads once the reader allows it');
  assert.equal(await page.evaluate(() => window.__pwned), undefined, 'still nothing of the mail ran');
});

test('the admin writes with an attachment, the student replies with one, the admin reads it', async (t) => {
  const subject = `Arbeitsblatt ${Date.now()}`;
  const sheet = 'Aufgabe 1: 7 x 8 = ?\n';
  const answer = 'Aufgabe 1: 56\n';

  // the admin writes from the portal
  const admin = (await signInToMail(t, ADMIN_LOGIN, ADMIN_PASSWORD)).page;
  await admin.goto(`${BASE}/mail`);
  await admin.locator('#mail-compose').click();
  await admin.waitForURL((u) => u.pathname === '/mail/compose');
  await admin.fill('#mail-to-field', STUDENT_ADDRESS);
  await admin.fill('#mail-subject-field', subject);
  await admin.fill('#mail-body-field', 'Bitte bis Freitag lösen.');
  await admin.setInputFiles('#mail-attach', { name: 'Arbeitsblatt.txt', mimeType: 'text/plain', buffer: Buffer.from(sheet) });
  await admin.locator('#mail-send').click();
  await admin.waitForURL((u) => u.pathname === '/mail' && u.searchParams.get('done') === 'sent');
  await admin.locator('#mail-notice').waitFor();
  // a copy is kept in Sent
  await waitForMessage(admin, subject, 'Sent');

  // the student reads it, with its attachment, and replies with her own
  const { page: student } = await signInToMail(t, STUDENT_LOGIN, STUDENT_PASSWORD);
  await (await waitForMessage(student, subject)).click();
  await student.locator('#mail-body').waitFor();
  assert.match(await student.locator('#mail-body').innerText(), /Bitte bis Freitag lösen\./);
  const [sheetDownload] = await Promise.all([
    student.waitForEvent('download'),
    student.locator('#mail-attachments a', { hasText: 'Arbeitsblatt.txt' }).click(),
  ]);
  assert.equal(await readFile(await sheetDownload.path(), 'utf8'), sheet);
  await student.locator('#mail-reply').click();
  await student.waitForURL((u) => u.pathname === '/mail/compose');
  assert.match(await student.inputValue('#mail-to-field'), new RegExp(ADMIN_LOGIN.replace(/[.]/g, '\\.') + '|@'));
  assert.equal(await student.inputValue('#mail-subject-field'), `Re: ${subject}`);
  assert.match(await student.inputValue('#mail-body-field'), /> Bitte bis Freitag lösen\./, 'the reply quotes the mail');
  await student.fill('#mail-body-field', `Hier meine Lösung.\n${await student.inputValue('#mail-body-field')}`);
  await student.setInputFiles('#mail-attach', { name: 'Lösung.txt', mimeType: 'text/plain', buffer: Buffer.from(answer) });
  await screenshot(student, 'webmail-reply');
  await student.locator('#mail-send').click();
  await student.waitForURL((u) => u.pathname === '/mail' && u.searchParams.get('done') === 'sent');

  // the admin gets the reply with the student's attachment
  await (await waitForMessage(admin, `Re: ${subject}`)).click();
  await admin.locator('#mail-body').waitFor();
  assert.match(await admin.locator('#mail-body').innerText(), /Hier meine Lösung\./);
  const [answerDownload] = await Promise.all([
    admin.waitForEvent('download'),
    admin.locator('#mail-attachments a', { hasText: 'Lösung.txt' }).click(),
  ]);
  assert.equal(await readFile(await answerDownload.path(), 'utf8'), answer);
  await screenshot(admin, 'webmail-reply-received');

  // search finds it; delete moves it to the trash; the quota is shown
  await admin.goto(`${BASE}/mail?folder=INBOX&q=${encodeURIComponent('Lösung')}`);
  assert.equal(await admin.locator('#mail-messages a', { hasText: `Re: ${subject}` }).count(), 1, 'search finds the reply');
  await admin.goto(`${BASE}/mail?folder=INBOX&q=${encodeURIComponent('kein-solches-wort-xyz')}`);
  await admin.locator('#mail-empty').waitFor();
  await (await waitForMessage(admin, `Re: ${subject}`)).click();
  await admin.locator('#mail-delete').click();
  await admin.waitForURL((u) => u.searchParams.get('done') === 'deleted');
  assert.equal(await admin.locator('#mail-messages a', { hasText: `Re: ${subject}` }).count(), 0, 'gone from the inbox');
  await waitForMessage(admin, `Re: ${subject}`, 'Trash');
  await admin.locator('#mail-quota').waitFor();
  assert.match(await admin.locator('#mail-quota').innerText(), /\d.*\d/, 'the quota shows used and limit');
});

test('a message that cannot be sent says why, and the form keeps what was written', async (t) => {
  const { page } = await signInToMail(t, STUDENT_LOGIN, STUDENT_PASSWORD);
  await page.goto(`${BASE}/mail/compose`);
  await page.fill('#mail-to-field', `nicht eine adresse`);
  await page.fill('#mail-subject-field', 'Test');
  await page.fill('#mail-body-field', 'Mein Text bleibt.');
  await page.locator('#mail-send').click();
  await page.locator('#mail-error').waitFor();
  assert.match(await page.locator('#mail-error').innerText(), /nicht eine adresse/);
  assert.equal(await page.inputValue('#mail-body-field'), 'Mein Text bleibt.');
});

test('a long folder comes in pages of 50, newest first', async (t) => {
  const stamp = Date.now();
  const subjects = Array.from({ length: 51 }, (_, i) => `Rundbrief ${stamp} Nr. ${String(i + 1).padStart(2, '0')}`);
  const deliver = (s) => deliverFromOutside('verein@example.org', ADMIN_ADDRESS,
    `From: Verein <verein@example.org>\nTo: ${ADMIN_ADDRESS}\nSubject: ${s}\n\nText\n`);
  const { page } = await signInToMail(t, ADMIN_LOGIN, ADMIN_PASSWORD);
  const q = `/mail?folder=INBOX&q=${encodeURIComponent(`Rundbrief ${stamp}`)}`;
  const waitForCount = async (n) => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      await page.goto(`${BASE}${q}`);
      if (new RegExp(`\\(${n} `).test(await page.locator('#mail-page').innerText())) return;
      assert.ok(Date.now() < deadline, `not all ${n} arrived: ${await page.locator('#mail-page').innerText()}`);
      await page.waitForTimeout(500);
    }
  };
  // the first 50 side by side (they arrive in any order), the newest once they are all in
  for (let i = 0; i < 50; i += 10) await Promise.all(subjects.slice(i, i + 10).map(deliver));
  await waitForCount(50);
  await deliver(subjects[50]);
  await waitForCount(51);
  const rows = page.locator('#mail-messages tbody tr');
  assert.equal(await rows.count(), 50, 'the first page holds 50');
  assert.match(await rows.first().innerText(), /Nr\. 51/, 'newest first');
  await page.locator('#mail-next').click();
  await page.waitForURL((u) => u.searchParams.get('page') === '2');
  assert.equal(await rows.count(), 1, 'the second page holds the rest');
  assert.match(await rows.first().innerText(), new RegExp(`Rundbrief ${stamp}`));
  await page.locator('#mail-prev').waitFor();
});
