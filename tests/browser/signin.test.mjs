// Sign-in through a real browser: Debian's Chromium driven by playwright-core.
//
// Run by tests/browser/run, which sets up a school and starts schola-web, and passes:
//   SCHOLA_URL, ADMIN_LOGIN, ADMIN_PASSWORD, STUDENT_LOGIN, STUDENT_PASSWORD, SCHOLA_SCREENSHOTS
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

function env(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run this through tests/browser/run`);
  return value;
}

const BASE = env('SCHOLA_URL').replace(/\/+$/, '');
const ADMIN_LOGIN = env('ADMIN_LOGIN');
const ADMIN_PASSWORD = env('ADMIN_PASSWORD');
const STUDENT_LOGIN = env('STUDENT_LOGIN');
const STUDENT_PASSWORD = env('STUDENT_PASSWORD');
const SHOTS = env('SCHOLA_SCREENSHOTS');
const SESSION_COOKIE = '__Host-schola_session';
const TIMEOUT_MS = 15_000;

let browser;

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: [
      '--headless=new',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    timeout: 30_000,
  });
});

after(async () => {
  await browser?.close();
});

// A fresh context per test: no cookies shared between the people signing in.
async function freshPage(t) {
  const context = await browser.newContext({
    ignoreHTTPSErrors: true, // the dev server uses a self-signed certificate
    locale: 'de-DE',
    viewport: { width: 1280, height: 900 },
  });
  context.setDefaultTimeout(TIMEOUT_MS);
  context.setDefaultNavigationTimeout(TIMEOUT_MS);
  t.after(() => context.close());
  const page = await context.newPage();
  return { context, page };
}

const pathOf = (page) => new URL(page.url()).pathname;

async function screenshot(page, name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

// Opens "/", which must send a signed-out visitor to the sign-in page.
async function openSignIn(page) {
  await page.goto(`${BASE}/`);
  await page.waitForURL((u) => u.pathname === '/login');
  assert.match(page.url(), /\/login(\?.*)?$/);
  assert.equal(await page.locator('form[action="/login"] input[type=hidden][name=csrf]').count(), 1,
    'the sign-in form carries a csrf hidden field');
}

// Fills in the sign-in form, submits it and returns the response to the POST.
async function submitSignIn(page, login, password) {
  await page.fill('#login', login);
  await page.fill('#password', password);
  const posted = page.waitForResponse(
    (r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/login',
  );
  await page.click('button[type=submit]');
  return posted;
}

// Signs in and waits until the browser has left the sign-in page. POST /login redirects to "/",
// which may send an admin on to "/admin".
async function signIn(page, login, password) {
  await openSignIn(page);
  const response = await submitSignIn(page, login, password);
  assert.equal(response.status(), 303, `POST /login as ${login} answers 303`);
  assert.equal(new URL(await response.headerValue('location'), BASE).pathname, '/', 'and redirects to /');
  await page.waitForURL((u) => u.pathname !== '/login');
}

test('the admin signs in, sees the people table, and signs out', async (t) => {
  assert.equal(STUDENT_LOGIN, 'joerg.mueller', 'scholactl made the login from Jörg Müller');
  const { page } = await freshPage(t);

  await signIn(page, ADMIN_LOGIN, ADMIN_PASSWORD);
  assert.ok(['/', '/admin'].includes(pathOf(page)), `the admin lands on / or /admin, not ${page.url()}`);
  await page.getByText('Administration').first().waitFor({ state: 'visible' });
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
