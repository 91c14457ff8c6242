// The admin UI's Capacity page in a real browser, in German: the need-versus-capacity bars are
// drawn (inline SVG, allowed by the page's content security policy), the verdicts carry words,
// the banner points here from other admin pages, and the distance-learning profile form saves.
//
// No check runs here: the test stores one the way `scholactl check` does (a row in
// capacity_checks with the check as JSON, through python3's sqlite3, which tests/browser/run
// needs anyway) and removes it afterwards, so the other tests see no banner.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ADMIN_LOGIN, ADMIN_PASSWORD, BASE, env, freshPage, screenshot, signIn } from './lib.mjs';

const DB = join(env('SCHOLA_DIR'), 'state', 'schola.db');
const GIB = 2 ** 30;

function sql(statement, ...params) {
  execFileSync('python3', ['-c', `import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute(sys.argv[2], sys.argv[3:])
db.commit()`, DB, statement, ...params.map(String)]);
}

const count = (value) => ({ value, unit: 'count' });

// A school of 1,942 on 4 cores and 4 GiB: too few connections allowed (FAIL), too little RAM
// (WARN), sign-in CPU fine, the disk 93 % full (WARN).
function fixture(at) {
  return {
    at,
    version: '0.1.0',
    school_name: 'Grundschule Überlingen',
    school: { students: 1800, teachers: 120, staff: 20, admins: 2 },
    profile: {},
    machine: {
      hostname: 'schulserver',
      cpu_model: 'Intel(R) Xeon(R) E-2224 CPU @ 3.40GHz',
      cores: 4,
      argon2: { memory_kib: 19456, iterations: 2, parallelism: 1, verifies_per_sec: 42.5, verify_ms: 90, threads: 4, seconds: 2 },
      memory: { total: 4 * GIB, available: 2 * GIB, swap_total: GIB, swap_free: GIB, cgroup_limited: false },
      filesystems: [{
        role: 'files', path: '/srv/schola', mount_point: '/srv', fs_type: 'ext4',
        size: 500 * GIB, free: 35 * GIB, used: 465 * GIB,
        bench: { seq_write: 150e6, fsyncs_per_sec: 800, read_iops: 5000, write_iops: 3000, bytes_written: 64e6, seconds: 3 },
      }],
      nics: [{ name: 'eno1', speed_mbit: 1000, up: true }],
      open_files: { soft: 1024, hard: 524288, system_max: 1000000, web: 65536 },
      limits: {
        web_workers: 4, web_max_connections: 512, web_max_connections_per_client: 64, web_in_flight: 64,
        web_signins_waiting: 256, web_hash_threads: 4,
        all: [{ key: 'web.max_connections', value: 512, source: 'derived' }],
      },
      oom_kills: 0,
      uptime_secs: 86400,
    },
    needs: {
      figures: [{
        key: 'connections', value: count(1900), formula: 'people × students_online × connections_per_browser',
        inputs: [
          { key: 'people', value: count(1942), source: 'directory' },
          { key: 'students_online', value: { value: 0.95, unit: 'share' }, source: 'profile' },
          { key: 'connections_per_browser', value: count(6), source: 'profile' },
        ],
      }],
    },
    verdicts: [
      {
        resource: 'connections', level: 'fail', needed: count(1900), have: count(512), headroom_pct: -73.05,
        figure: 'connections', measured: false,
        action: { kind: 'set_config', section: 'web', key: 'max_connections', value: 4000 },
      },
      {
        resource: 'memory', level: 'warn', needed: { value: 9.5 * GIB, unit: 'bytes' }, have: { value: 4 * GIB, unit: 'bytes' },
        headroom_pct: -57.9, figure: 'memory', measured: false, action: { kind: 'add_memory', bytes: 8 * GIB },
      },
      {
        resource: 'signin_cpu', level: 'ok', needed: { value: 2.6, unit: 'cores' }, have: { value: 4, unit: 'cores' },
        headroom_pct: 53.8, figure: 'signin_cpu', measured: false, action: null,
      },
    ],
    health: [{
      key: 'disk-free', level: 'warn', value: { value: 0.93, unit: 'share' }, threshold: { value: 0.9, unit: 'share' },
      detail: '/srv is 93 % full', action: null,
    }],
    storm: null,
    largest_school: 620,
    level: 'fail',
  };
}

test('the capacity page shows the bars and verdicts in German, and the profile form saves', async (t) => {
  const at = Math.floor(Date.now() / 1000) - 600;
  sql("INSERT INTO capacity_checks (at, level, trigger, result) VALUES (?, 'fail', 'timer', ?)", at, JSON.stringify(fixture(at)));
  t.after(() => {
    sql('DELETE FROM capacity_checks WHERE at = ?', at);
    sql("DELETE FROM settings WHERE key = 'capacity_profile'");
  });

  const { page } = await freshPage(t);
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
  page.on('pageerror', (e) => problems.push(String(e)));
  await signIn(page, ADMIN_LOGIN, ADMIN_PASSWORD);

  // the banner on another admin page leads here
  await page.goto(`${BASE}/admin/groups`);
  const banner = page.locator('#capacity-banner');
  await banner.waitFor({ state: 'visible' });
  assert.equal((await banner.innerText()).trim(), 'Kapazitätsprüfung: 2 Warnungen, 1 Fehler — siehe Kapazität');
  await banner.locator('a').click();
  await page.waitForURL((u) => u.pathname === '/admin/capacity');

  assert.equal(await page.locator('h1').innerText(), 'Kapazität');
  assert.equal(await page.locator('#overall').innerText(), 'Gesamt: Fehler');
  assert.match(await page.locator('#largest').innerText(), /um 8:00 trägt: 620 Personen \(diese Schule: 1\.942\)/);

  // the bars: an inline SVG the browser lays out at a readable size
  const bars = page.locator('#need-bars svg');
  await bars.waitFor({ state: 'visible' });
  const box = await bars.boundingBox();
  assert.ok(box && box.width > 300 && box.height > 60, `the bars are drawn: ${JSON.stringify(box)}`);
  assert.ok(await bars.locator('rect').count() >= 3, 'one bar per resource at least');

  const connections = page.locator('#verdict-connections');
  assert.match(await connections.innerText(), /Gleichzeitige Verbindungen/);
  assert.match(await connections.innerText(), /Fehler/, 'the level is a word, not a colour only');
  assert.match(await connections.innerText(), /benötigt 1\.900, vorhanden 512, Reserve -73 %/);
  assert.match(await connections.innerText(), /\[web\] max_connections = 4000 setzen\./);
  assert.match(await page.locator('#verdict-memory').innerText(), /9,5 GiB/);
  assert.match(await page.locator('#health-disk-free').innerText(), /Freier Speicherplatz/);
  await screenshot(page, 'admin-capacity');

  // the form: the browser checks the range first …
  const online = page.locator('#pf-students_online');
  assert.equal(await online.inputValue(), '95', 'the default, in per cent');
  await online.fill('150');
  assert.equal(await online.evaluate((el) => el.checkValidity()), false, '150 % is refused before sending');
  // … and a good profile is stored
  await online.fill('60');
  await page.fill('#pf-uplink_bits', '100');
  await page.click('#profile-save');
  await page.waitForURL((u) => u.searchParams.get('done') === 'profile');
  assert.equal(await page.locator('#profile-note').innerText(), 'Das Profil ist gespeichert. Die nächste Prüfung verwendet es.');
  assert.equal(await page.locator('#pf-students_online').inputValue(), '60');
  assert.equal(await page.locator('#pf-uplink_bits').inputValue(), '100');
  await screenshot(page, 'admin-capacity-profile-saved');

  // the printable report, without the navigation
  await page.goto(`${BASE}/admin/capacity/report`);
  assert.equal(await page.locator('h1').innerText(), 'Bereitschaftsbericht: Grundschule Überlingen');
  assert.equal(await page.locator('nav.subnav').count(), 0);
  await screenshot(page, 'admin-capacity-report');
  assert.deepEqual(problems, [], 'no script errors or CSP refusals');
});
