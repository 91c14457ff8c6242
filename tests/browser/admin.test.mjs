// The admin UI's people and groups in a real browser: the admin makes a class, a student in it,
// resets the student's password (reading the new one from the page), and the student signs in
// with it. On the way: search as you type on the people list, and "all" on the class's page.
//
// Run by tests/browser/run (see signin.test.mjs). The browser asks for German (lib.mjs), so the
// pages are German; the test finds things by id and checks German words only where a user would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_LOGIN, ADMIN_PASSWORD, BASE, freshPage, pathOf, screenshot, signIn, submitSignIn, openSignIn } from './lib.mjs';

// Script errors and CSP refusals show up on the console; the pages must have none.
function watchProblems(page) {
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
  page.on('pageerror', (e) => problems.push(String(e)));
  return problems;
}

test('the admin makes a class and a student, resets the password, and the student signs in', async (t) => {
  const { page } = await freshPage(t);
  const problems = watchProblems(page);
  await signIn(page, ADMIN_LOGIN, ADMIN_PASSWORD);

  // a new class
  await page.goto(`${BASE}/admin/groups`);
  await page.fill('#name', '7c');
  await page.fill('#display_name', 'Klasse 7c');
  await page.selectOption('#kind', 'class');
  await page.click('form[action="/admin/groups"] button[type=submit]');
  await page.waitForURL((u) => u.pathname === '/admin/groups/7c');
  assert.equal(await page.locator('h1').innerText(), 'Klasse 7c');
  await page.locator('p.ok[role=status]').waitFor({ state: 'visible' });
  await screenshot(page, 'admin-class-created');

  // a student in it, from the class's page
  await page.click('a[href="/admin/people/new?class=7c"]');
  await page.waitForURL((u) => u.pathname === '/admin/people/new');
  assert.equal(await page.locator('#class').inputValue(), '7c', 'the class is chosen already');
  await page.fill('#given_name', 'Emil');
  await page.fill('#family_name', 'Fischer');
  await page.selectOption('#role', 'student');
  const created = page.waitForResponse(
    (r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/admin/people/new',
  );
  await page.click('form[action="/admin/people/new"] button[type=submit]');
  assert.equal((await created).status(), 200);
  const login = (await page.locator('#new-login').innerText()).trim();
  const initial = (await page.locator('#new-password').innerText()).trim();
  assert.equal(login, 'emil.fischer');
  assert.match(initial, /^[a-z2-9]{4}(-[a-z2-9]{4})+$/, `a readable password, not ${initial}`);
  assert.doesNotMatch(initial, /[01lIoO]/);
  await screenshot(page, 'admin-person-created');

  // search as you type: the list narrows without a page load, and the address follows
  await page.goto(`${BASE}/admin`);
  const loaded = await page.evaluate(() => performance.timeOrigin);
  await page.locator('#q').pressSequentially('Fisch', { delay: 40 });
  await page.waitForFunction(() => {
    const rows = document.querySelectorAll('table#people tbody tr');
    return rows.length === 1 && rows[0].innerText.includes('emil.fischer');
  });
  await page.waitForURL((u) => u.searchParams.get('q') === 'Fisch');
  assert.equal(await page.evaluate(() => performance.timeOrigin), loaded, 'no page load while typing');
  assert.match(await page.locator('#people-count').innerText(), /^1 Person gefunden$/);
  await screenshot(page, 'admin-people-search');

  // on the class's page, "all" ticks every member's box
  await page.goto(`${BASE}/admin/groups/7c`);
  const boxes = page.locator('#members tbody input[type=checkbox]');
  assert.equal(await boxes.count(), 1);
  await page.check('#bulk-all');
  assert.equal(await boxes.first().isChecked(), true, '"all" ticks the member');
  await boxes.first().uncheck();
  assert.equal(await page.isChecked('#bulk-all'), false, 'and leaving one out clears "all"');
  await screenshot(page, 'admin-class-members');

  // a new password from the person's page
  await page.goto(`${BASE}/admin/people/${login}`);
  assert.equal(await page.locator('#person-login').innerText(), login);
  await screenshot(page, 'admin-person');
  await page.click('#reset-password');
  await page.waitForURL((u) => u.pathname === `/admin/people/${login}/password`);
  const fresh = (await page.locator('#new-password').innerText()).trim();
  assert.notEqual(fresh, initial, 'a new password');
  await screenshot(page, 'admin-password-reset');
  assert.deepEqual(problems, [], 'no script errors or CSP refusals');

  // the student: the initial password is gone, the new one works
  const student = await freshPage(t);
  await openSignIn(student.page);
  const refused = await submitSignIn(student.page, login, initial);
  assert.equal(refused.status(), 401, 'the initial password no longer works');
  await signIn(student.page, login, fresh);
  assert.equal(pathOf(student.page), '/', 'the student lands on the start page');
  await student.page.getByText('Emil Fischer').first().waitFor({ state: 'visible' });
  await student.page.getByText('Klasse 7c').first().waitFor({ state: 'visible' });
  await screenshot(student.page, 'student-after-reset');
});
