// Sign-in through a real browser: Debian's Chromium driven by playwright-core.
//
// Run by tests/browser/run, which sets up a school and starts schola-web, and passes:
//   SCHOLA_URL, ADMIN_LOGIN, ADMIN_PASSWORD, STUDENT_LOGIN, STUDENT_PASSWORD, SCHOLA_SCREENSHOTS
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ADMIN_LOGIN, ADMIN_PASSWORD, BASE, SESSION_COOKIE, STUDENT_LOGIN, STUDENT_PASSWORD,
  freshPage, openSignIn, pathOf, screenshot, signIn, submitSignIn,
} from './lib.mjs';

test('the admin signs in, sees the people table, and signs out', async (t) => {
  assert.equal(STUDENT_LOGIN, 'joerg.mueller', 'scholactl made the login from Jörg Müller');
  const { page } = await freshPage(t);

  await signIn(page, ADMIN_LOGIN, ADMIN_PASSWORD);
  assert.ok(['/', '/admin'].includes(pathOf(page)), `the admin lands on / or /admin, not ${page.url()}`);
  // the browser asks for German (lib.mjs: locale de-DE), so the page speaks German
  assert.equal(await page.locator('html').getAttribute('lang'), 'de');
  await page.getByRole('heading', { name: 'Verwaltung' }).waitFor({ state: 'visible' });
  const people = page.locator('table#people');
  await people.waitFor({ state: 'visible' });
  assert.ok((await people.innerText()).includes('joerg.mueller'), 'the people table lists joerg.mueller');
  await screenshot(page, 'admin');

  const signOut = page.locator('form[action="/logout"] button');
  await signOut.first().waitFor({ state: 'visible' });
  await signOut.first().click();
  await page.waitForURL((u) => u.pathname === '/login');

  await page.goto(`${BASE}/admin`);
  await page.waitForURL((u) => u.pathname === '/login');
  assert.equal(pathOf(page), '/login', 'after signing out, /admin leads to the sign-in page');
});

test('the student is turned away with a wrong password, then signs in', async (t) => {
  const { page } = await freshPage(t);

  await openSignIn(page);
  const refused = await submitSignIn(page, STUDENT_LOGIN, `${STUDENT_PASSWORD}-wrong`);
  assert.equal(refused.status(), 401, 'a wrong password answers 401');
  await page.locator('[role=alert]').first().waitFor({ state: 'visible' });
  assert.equal(pathOf(page), '/login', 'a wrong password stays on the sign-in page');
  await screenshot(page, 'signin-refused');

  const accepted = await submitSignIn(page, STUDENT_LOGIN, STUDENT_PASSWORD);
  assert.equal(accepted.status(), 303, 'the right password answers 303');
  await page.waitForURL((u) => u.pathname !== '/login');
  assert.equal(pathOf(page), '/', 'the student lands on the start page');
  await page.getByText('Jörg Müller').first().waitFor({ state: 'visible' });
  await page.getByText('Klasse 4b').first().waitFor({ state: 'visible' });
  await screenshot(page, 'student-start');

  const admin = await page.goto(`${BASE}/admin`);
  assert.ok(admin, 'a response for /admin');
  assert.equal(admin.status(), 403, 'a student gets 403 for /admin');
  assert.equal(pathOf(page), '/admin');
  await screenshot(page, 'student-admin-403');
});

test('the session cookie is Secure, HttpOnly and SameSite=Lax', async (t) => {
  const { context, page } = await freshPage(t);

  await signIn(page, STUDENT_LOGIN, STUDENT_PASSWORD);
  const cookies = await context.cookies(BASE);
  const session = cookies.find((c) => c.name === SESSION_COOKIE);
  assert.ok(session, `a ${SESSION_COOKIE} cookie is set (have: ${cookies.map((c) => c.name).join(', ') || 'none'})`);
  assert.equal(session.secure, true, 'Secure');
  assert.equal(session.httpOnly, true, 'HttpOnly');
  assert.equal(session.sameSite, 'Lax', 'SameSite=Lax');
  assert.equal(session.path, '/', 'Path=/ (required for the __Host- prefix)');
});

test('the admin\'s people page speaks German and Dutch, as the browser asks', async (t) => {
  for (const [locale, lang, caption] of [['de-DE', 'de', /Personen gefunden/], ['nl-NL', 'nl', /personen gevonden/]]) {
    const { page } = await freshPage(t, { locale });
    await signIn(page, ADMIN_LOGIN, ADMIN_PASSWORD);
    await page.goto(`${BASE}/admin`);
    assert.equal(await page.locator('html').getAttribute('lang'), lang);
    await page.locator('#people-count').filter({ hasText: caption }).waitFor();
    assert.ok((await page.locator('table#people').innerText()).includes('joerg.mueller'));
    await screenshot(page, `admin-people-${lang}`);
  }
});
