// The portal through a real browser: a student finds no way into the administration, chooses
// Dutch although the browser asks for German, and changes the password.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, env, freshPage, pathOf, screenshot, signIn } from './lib.mjs';

const LOGIN = env('STUDENT2_LOGIN');
const PASSWORD = env('STUDENT2_PASSWORD');
const NEW_PASSWORD = 'Gummibaerchen-2027';

test('a student switches language, changes the password, and never sees the administration', async (t) => {
  const { page } = await freshPage(t);

  await signIn(page, LOGIN, PASSWORD);
  assert.equal(pathOf(page), '/');
  assert.equal(await page.locator('html').getAttribute('lang'), 'de', 'the browser asks for German');
  await page.getByRole('heading', { name: /^Willkommen, Ayşe Yılmaz$/ }).waitFor();
  assert.equal(await page.locator('a[href="/admin"]').count(), 0, 'no link to the administration');

  const admin = await page.goto(`${BASE}/admin`);
  assert.equal(admin.status(), 403, 'a student gets 403 for /admin');
  await page.getByRole('heading', { name: 'Nicht erlaubt' }).waitFor();
  await page.goBack();

  // the profile, reached from the navigation with the keyboard-usable link
  await page.getByRole('navigation', { name: 'Hauptmenü' }).getByRole('link', { name: 'Profil' }).click();
  await page.waitForURL((u) => u.pathname === '/profile');
  await page.getByLabel('Sprache der Seiten').selectOption('nl');
  await page.getByRole('button', { name: 'Sprache speichern' }).click();
  await page.waitForURL((u) => u.pathname === '/profile');
  assert.equal(await page.locator('html').getAttribute('lang'), 'nl', 'the person\'s choice wins over the browser');
  await page.getByRole('status').filter({ hasText: 'De taal is opgeslagen.' }).waitFor();
  await screenshot(page, 'student-profile-nl');

  await page.getByLabel('Huidig wachtwoord').fill(PASSWORD);
  await page.getByLabel('Nieuw wachtwoord', { exact: true }).fill(NEW_PASSWORD);
  await page.getByLabel('Nieuw wachtwoord nogmaals').fill(NEW_PASSWORD);
  await page.getByRole('button', { name: 'Wachtwoord wijzigen' }).click();
  await page.getByRole('status').filter({ hasText: 'Je wachtwoord is gewijzigd.' }).waitFor();
  assert.equal(pathOf(page), '/profile', 'still signed in after the change');

  await page.getByRole('button', { name: 'Afmelden' }).click();
  await page.waitForURL((u) => u.pathname === '/login');
  await signIn(page, LOGIN, NEW_PASSWORD);
  await page.getByRole('heading', { name: /^Welkom, Ayşe Yılmaz$/ }).waitFor();
  await screenshot(page, 'student-start-nl');
});
