// The waiting room through a real browser. A second schola-web is started with room for one
// request at a time and a deliberately slow password hash; while sign-ins keep that one slot
// busy, the browser is shown the waiting page in its own language, and once the rush is over
// the page gets in by itself, without anyone reloading it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { env, freshPage, screenshot } from './lib.mjs';

const SCHOLA_WEB = env('SCHOLA_WEB');
let dir;
let web;
let base;

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// One HTTPS request to the test server (self-signed certificate), body as text.
function call(method, path, { headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { method, headers, rejectUnauthorized: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${path} timed out`)));
    if (body) req.write(body);
    req.end();
  });
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'schola-waiting-'));
  const port = await freePort();
  base = `https://127.0.0.1:${port}`;
  // a hash that takes a good part of a second, one hashing thread, one request at a time
  writeFileSync(join(dir, 'schola.toml'), `profile = "dev"
[paths]
root = "."
[web]
listen = ["127.0.0.1:${port}"]
max_in_flight = 1
[auth]
hash_threads = 1
[auth.argon2]
memory_kib = 65536
iterations = 6
parallelism = 1
`);
  web = spawn(SCHOLA_WEB, ['--config', join(dir, 'schola.toml')], { stdio: ['ignore', 'ignore', 'inherit'] });
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      if ((await call('GET', '/healthz')).status === 200) break;
    } catch { /* not up yet */ }
    if (Date.now() > deadline) throw new Error('the second schola-web did not start within 30 s');
    await new Promise((r) => setTimeout(r, 200));
  }
});

after(() => {
  web?.kill('SIGTERM');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// Keeps the one request slot busy with sign-in attempts (each costs a slow hash) until stopped.
async function rush() {
  const form = await call('GET', '/setup');
  const cookie = form.headers['set-cookie'][0].split(';')[0];
  const csrf = /name="csrf" value="([^"]+)"/.exec(form.text)[1];
  let running = true;
  const body = `csrf=${csrf}&login=nobody&password=wrong-password`;
  const one = async () => {
    while (running) {
      await call('POST', '/login', {
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', 'content-length': body.length },
        body,
      }).catch(() => {});
    }
  };
  const workers = [one(), one()];
  return async () => { running = false; await Promise.all(workers); };
}

for (const [locale, lang, title] of [['de-DE', 'de', 'Einen Moment bitte'], ['nl-NL', 'nl', 'Een ogenblik geduld']]) {
  test(`the waiting room speaks ${lang} and lets the browser in by itself`, async (t) => {
    const stop = await rush();
    try {
      const { page } = await freshPage(t, { locale });
      let response;
      for (let i = 0; i < 20; i++) {
        response = await page.goto(`${base}/login`);
        if (response.status() === 503) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(response.status(), 503, 'the busy server answers 503, not a reset or a hang');
      const retry = Number(await response.headerValue('retry-after'));
      assert.ok(retry >= 2 && retry <= 6, `Retry-After ${retry}`);
      assert.equal(await page.locator('html').getAttribute('lang'), lang);
      await page.getByRole('heading', { name: title }).waitFor();
      assert.equal(await page.locator('meta[http-equiv=refresh]').getAttribute('content'), String(retry),
        'the page retries by itself after Retry-After');
      await screenshot(page, `waiting-${lang}`);

      await stop();
      // no reload by the test: the page's own refresh brings the browser in (to the setup page,
      // as this second server has no administrator)
      await page.waitForURL((u) => u.pathname === '/setup', { timeout: (retry + 10) * 1000 });
      assert.equal(await page.locator('html').getAttribute('lang'), lang);
    } finally {
      await stop();
    }
  });
}
