// What the browser tests share: the settings tests/browser/run passes, one Chromium per test
// file, a fresh browser context per test, and signing in through the real form.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export function env(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run this through tests/browser/run`);
  return value;
}

export const BASE = env('SCHOLA_URL').replace(/\/+$/, '');
export const ADMIN_LOGIN = env('ADMIN_LOGIN');
export const ADMIN_PASSWORD = env('ADMIN_PASSWORD');
export const STUDENT_LOGIN = env('STUDENT_LOGIN');
export const STUDENT_PASSWORD = env('STUDENT_PASSWORD');
export const SHOTS = env('SCHOLA_SCREENSHOTS');
export const SESSION_COOKIE = '__Host-schola_session';
export const TIMEOUT_MS = 15_000;

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
export async function freshPage(t, { locale = 'de-DE' } = {}) {
  const context = await browser.newContext({
    ignoreHTTPSErrors: true, // the dev server uses a self-signed certificate
    locale,
    viewport: { width: 1280, height: 900 },
  });
  context.setDefaultTimeout(TIMEOUT_MS);
  context.setDefaultNavigationTimeout(TIMEOUT_MS);
  t.after(() => context.close());
  const page = await context.newPage();
  return { context, page };
}

export const pathOf = (page) => new URL(page.url()).pathname;

export async function screenshot(page, name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

// Opens "/", which must send a signed-out visitor to the sign-in page.
export async function openSignIn(page) {
  await page.goto(`${BASE}/`);
  await page.waitForURL((u) => u.pathname === '/login');
  assert.match(page.url(), /\/login(\?.*)?$/);
  assert.equal(await page.locator('form[action="/login"] input[type=hidden][name=csrf]').count(), 1,
    'the sign-in form carries a csrf hidden field');
}

// Fills in the sign-in form, submits it and returns the response to the POST.
export async function submitSignIn(page, login, password) {
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
export async function signIn(page, login, password) {
  await openSignIn(page);
  const response = await submitSignIn(page, login, password);
  assert.equal(response.status(), 303, `POST /login as ${login} answers 303`);
  assert.equal(new URL(await response.headerValue('location'), BASE).pathname, '/', 'and redirects to /');
  await page.waitForURL((u) => u.pathname !== '/login');
}

