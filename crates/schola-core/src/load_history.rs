//! What the capacity checks keep: every check, whole (as the JSON `schola-capacity` writes), and
//! the web server's load per minute, from which each day's morning peak is read. The distance
//! learning profile an admin edits lives in the `settings` table beside the school's settings.
//!
//! It also makes and removes the temporary accounts of a measured storm (`scholactl check
//! --storm`): students whose login starts with [`STORM_PREFIX`], made without the directory
//! journal (no other service must ever see them) and removed, sessions and all, afterwards.
//!
//! This module only stores and reads; `schola-capacity` decides what the numbers mean.

use rusqlite::{OptionalExtension as _, params};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::audit::{self, Actor};
use crate::error::{Error, Result};
use crate::store::Store;

const PROFILE: &str = "capacity_profile";

/// Logins of a measured storm's temporary accounts start with this. A real login cannot: the
/// login schemes make logins from names, and names cannot start with this.
pub const STORM_PREFIX: &str = "capacity-storm-";

/// Load samples older than this are removed when a new one is written.
pub const KEEP_MINUTES_DAYS: i64 = 400;
/// Checks older than this are removed when a new one is stored.
pub const KEEP_CHECKS_DAYS: i64 = 400;

/// One stored capacity check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredCheck {
    pub id: i64,
    pub at: i64,
    /// `ok`, `warn` or `fail`.
    pub level: String,
    /// What started it: `cli`, `timer`, `upgrade`, `web`, `storm`.
    pub trigger: String,
    /// The check as JSON (`schola_capacity::Check`).
    pub result: String,
}

/// The web server's load during one minute (`minute` = Unix time / 60).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct LoadMinute {
    pub minute: i64,
    pub signins: u64,
    pub signin_failures: u64,
    pub requests: u64,
    /// Requests answered with the waiting room (503 with Retry-After).
    pub waiting_room: u64,
    /// Connections refused or closed because a connection limit was reached.
    pub refused: u64,
    /// 99th percentile of request latency in this minute, when there were requests.
    pub p99_ms: Option<f64>,
    /// Open connections at the end of the minute.
    pub connections: u64,
}

/// The busiest minute of one day (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DailyPeak {
    /// Unix time of midnight (UTC) that starts the day.
    pub day: i64,
    /// Unix time of the busiest minute (most sign-ins; most requests when there were none).
    pub at: i64,
    pub signins_per_minute: u64,
    pub requests_per_minute: u64,
    /// p99 latency of the busiest minute.
    pub p99_ms: Option<f64>,
    /// Waiting-room answers during the whole day.
    pub waiting_room: u64,
    /// Connections refused at a limit during the whole day.
    pub refused: u64,
}

impl Store {
    /// Stores a check; checks older than [`KEEP_CHECKS_DAYS`] are removed.
    pub fn save_check(&self, at: i64, level: &str, trigger: &str, result: &str) -> Result<i64> {
        if !matches!(level, "ok" | "warn" | "fail") {
            return Err(Error::Invalid(format!(
                "'{}' is not a check level (ok, warn, fail)",
                level.escape_debug()
            )));
        }
        self.write(|tx| {
            let sql = |e| self.sqlite_err(e);
            tx.execute(
                "INSERT INTO capacity_checks (at, level, trigger, result) VALUES (?1, ?2, ?3, ?4)",
                params![at, level, trigger, result],
            )
            .map_err(sql)?;
            let id = tx.last_insert_rowid();
            tx.execute(
                "DELETE FROM capacity_checks WHERE at < ?1",
                [at - KEEP_CHECKS_DAYS * 86_400],
            )
            .map_err(sql)?;
            Ok(id)
        })
    }

    /// The newest check, if any.
    pub fn latest_check(&self) -> Result<Option<StoredCheck>> {
        Ok(self.checks(1)?.into_iter().next())
    }

    /// The newest `limit` checks, newest first.
    pub fn checks(&self, limit: usize) -> Result<Vec<StoredCheck>> {
        let conn = self.conn()?;
        let sql = |e| self.sqlite_err(e);
        let mut st = conn
            .prepare(
                "SELECT id, at, level, trigger, result FROM capacity_checks ORDER BY at DESC, id DESC LIMIT ?1",
            )
            .map_err(sql)?;
        let rows = st
            .query_map([limit as i64], |r| {
                Ok(StoredCheck {
                    id: r.get(0)?,
                    at: r.get(1)?,
                    level: r.get(2)?,
                    trigger: r.get(3)?,
                    result: r.get(4)?,
                })
            })
            .map_err(sql)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(sql)
    }

    /// Adds one minute's load (adding to a row already written for that minute, so two
    /// processes or a restart within the minute do not lose counts); samples older than
    /// [`KEEP_MINUTES_DAYS`] are removed.
    pub fn record_load_minute(&self, m: &LoadMinute) -> Result<()> {
        self.write(|tx| {
            let sql = |e| self.sqlite_err(e);
            tx.execute(
                "INSERT INTO load_minutes (minute, signins, signin_failures, requests, waiting_room, refused, p99_ms, connections)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT (minute) DO UPDATE SET
                    signins = signins + excluded.signins,
                    signin_failures = signin_failures + excluded.signin_failures,
                    requests = requests + excluded.requests,
                    waiting_room = waiting_room + excluded.waiting_room,
                    refused = refused + excluded.refused,
                    p99_ms = max(coalesce(p99_ms, 0), coalesce(excluded.p99_ms, 0)),
                    connections = max(connections, excluded.connections)",
                params![
                    m.minute,
                    m.signins as i64,
                    m.signin_failures as i64,
                    m.requests as i64,
                    m.waiting_room as i64,
                    m.refused as i64,
                    m.p99_ms,
                    m.connections as i64
                ],
            )
            .map_err(sql)?;
            tx.execute(
                "DELETE FROM load_minutes WHERE minute < ?1",
                [m.minute - KEEP_MINUTES_DAYS * 1_440],
            )
            .map_err(sql)?;
            Ok(())
        })
    }

    /// The load samples from `since` (Unix time) on, oldest first.
    pub fn load_minutes(&self, since: i64) -> Result<Vec<LoadMinute>> {
        let conn = self.conn()?;
        let sql = |e| self.sqlite_err(e);
        let mut st = conn
            .prepare(
                "SELECT minute, signins, signin_failures, requests, waiting_room, refused, p99_ms, connections
                 FROM load_minutes WHERE minute >= ?1 ORDER BY minute",
            )
            .map_err(sql)?;
        let rows = st
            .query_map([since.div_euclid(60)], |r| {
                Ok(LoadMinute {
                    minute: r.get(0)?,
                    signins: r.get::<_, i64>(1)?.max(0) as u64,
                    signin_failures: r.get::<_, i64>(2)?.max(0) as u64,
                    requests: r.get::<_, i64>(3)?.max(0) as u64,
                    waiting_room: r.get::<_, i64>(4)?.max(0) as u64,
                    refused: r.get::<_, i64>(5)?.max(0) as u64,
                    p99_ms: r.get(6)?,
                    connections: r.get::<_, i64>(7)?.max(0) as u64,
                })
            })
            .map_err(sql)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(sql)
    }

    /// The busiest minute of each of the last `days` days (UTC days, oldest first); days
    /// without any sample are left out.
    pub fn daily_peaks(&self, now: i64, days: i64) -> Result<Vec<DailyPeak>> {
        let first_day = now.div_euclid(86_400) - (days - 1).max(0);
        let minutes = self.load_minutes(first_day * 86_400)?;
        Ok(daily_peaks(&minutes))
    }

    /// Makes `count` temporary students for a measured storm, all with the password hash
    /// `phc`, in one transaction; returns their logins. Leftovers of an earlier storm that was
    /// killed are removed first.
    pub fn create_storm_accounts(&self, count: usize, phc: &str) -> Result<Vec<String>> {
        self.remove_storm_accounts()?;
        let now = self.now();
        let nonce: u32 = rand::random();
        let logins: Vec<String> = (0..count)
            .map(|i| format!("{STORM_PREFIX}{nonce:08x}-{i:05}"))
            .collect();
        self.write(|tx| {
            let sql = |e| self.sqlite_err(e);
            let mut st = tx
                .prepare(
                    "INSERT INTO people (login, given_name, family_name, display_name, role, password_hash, password_changed_at, created_at, updated_at)
                     VALUES (?1, 'Capacity', 'Storm', 'Capacity check', 'student', ?2, ?3, ?3, ?3)",
                )
                .map_err(sql)?;
            for login in &logins {
                st.execute(params![login, phc, now]).map_err(sql)?;
            }
            audit::record(
                tx,
                now,
                &Actor::cli(),
                "capacity.storm_accounts",
                None,
                json!({ "created": count }),
            )
            .map_err(sql)?;
            Ok(())
        })?;
        Ok(logins)
    }

    /// Removes every temporary storm account with its sessions; returns how many there were.
    pub fn remove_storm_accounts(&self) -> Result<usize> {
        let now = self.now();
        self.write(|tx| {
            let sql = |e| self.sqlite_err(e);
            let pattern = format!("{STORM_PREFIX}%");
            let n = tx
                .execute(
                    "DELETE FROM people WHERE login LIKE ?1 AND family_name = 'Storm'",
                    [&pattern],
                )
                .map_err(sql)?;
            tx.execute(
                "DELETE FROM throttle WHERE key LIKE ?1",
                [&format!("%{STORM_PREFIX}%")],
            )
            .map_err(sql)?;
            if n > 0 {
                audit::record(
                    tx,
                    now,
                    &Actor::cli(),
                    "capacity.storm_accounts",
                    None,
                    json!({ "removed": n }),
                )
                .map_err(sql)?;
            }
            Ok(n)
        })
    }

    /// The distance-learning profile an admin saved (JSON), if any.
    pub fn capacity_profile(&self) -> Result<Option<String>> {
        let conn = self.conn()?;
        conn.query_row(
            "SELECT value FROM settings WHERE key = ?1",
            [PROFILE],
            |r| r.get(0),
        )
        .optional()
        .map_err(|e| self.sqlite_err(e))
    }

    /// Saves (or, with `None`, removes) the distance-learning profile, with an audit entry.
    /// The caller checks the JSON's content; this only refuses what is not JSON.
    pub fn set_capacity_profile(&self, actor: &Actor, profile: Option<&str>) -> Result<()> {
        if let Some(p) = profile {
            serde_json::from_str::<serde_json::Value>(p).map_err(|e| {
                Error::Invalid(format!("the capacity profile is not valid JSON: {e}"))
            })?;
        }
        let now = self.now();
        self.write(|tx| {
            let sql = |e| self.sqlite_err(e);
            match profile {
                Some(v) => tx.execute(
                    "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    params![PROFILE, v],
                ),
                None => tx.execute("DELETE FROM settings WHERE key = ?1", [PROFILE]),
            }
            .map_err(sql)?;
            let detail = match profile {
                Some(v) => serde_json::from_str(v).unwrap_or(serde_json::Value::Null),
                None => serde_json::Value::Null,
            };
            audit::record(
                tx,
                now,
                actor,
                "capacity.profile",
                None,
                json!({ "profile": detail }),
            )
            .map_err(sql)?;
            Ok(())
        })
    }
}

/// Groups minutes (oldest first) into UTC days and picks each day's busiest minute.
pub fn daily_peaks(minutes: &[LoadMinute]) -> Vec<DailyPeak> {
    let mut out: Vec<DailyPeak> = Vec::new();
    for m in minutes {
        let day = (m.minute * 60).div_euclid(86_400) * 86_400;
        let busier =
            |p: &DailyPeak| (m.signins, m.requests) > (p.signins_per_minute, p.requests_per_minute);
        match out.last_mut() {
            Some(p) if p.day == day => {
                p.waiting_room += m.waiting_room;
                p.refused += m.refused;
                if busier(p) {
                    p.at = m.minute * 60;
                    p.signins_per_minute = m.signins;
                    p.requests_per_minute = m.requests;
                    p.p99_ms = m.p99_ms;
                }
            }
            _ => out.push(DailyPeak {
                day,
                at: m.minute * 60,
                signins_per_minute: m.signins,
                requests_per_minute: m.requests,
                p99_ms: m.p99_ms,
                waiting_room: m.waiting_room,
                refused: m.refused,
            }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap_or_else(|e| unreachable!("{e}"));
        let (store, _) =
            Store::open(&dir.path().join("s.db")).unwrap_or_else(|e| unreachable!("{e}"));
        (dir, store)
    }

    fn minute(minute: i64, signins: u64, requests: u64, waiting: u64) -> LoadMinute {
        LoadMinute {
            minute,
            signins,
            requests,
            waiting_room: waiting,
            p99_ms: Some(signins as f64),
            ..LoadMinute::default()
        }
    }

    #[test]
    fn the_busiest_minute_of_each_day_is_its_peak() {
        let day = 20_000 * 1_440; // a day boundary, in minutes
        let minutes = [
            minute(day + 420, 10, 100, 0),
            minute(day + 480, 90, 900, 5),
            minute(day + 481, 40, 950, 1),
            minute(day + 1_440 + 480, 0, 30, 0),
        ];
        let peaks = daily_peaks(&minutes);
        assert_eq!(peaks.len(), 2);
        assert_eq!(peaks[0].day, day * 60);
        assert_eq!(peaks[0].at, (day + 480) * 60);
        assert_eq!(peaks[0].signins_per_minute, 90);
        assert_eq!(peaks[0].p99_ms, Some(90.0));
        assert_eq!(peaks[0].waiting_room, 6, "the whole day's waiting room");
        assert_eq!(peaks[1].requests_per_minute, 30);
    }

    #[test]
    fn minutes_add_up_and_checks_come_back_newest_first() {
        let (_d, s) = store();
        let m = minute(1_000, 3, 10, 1);
        s.record_load_minute(&m)
            .unwrap_or_else(|e| unreachable!("{e}"));
        s.record_load_minute(&m)
            .unwrap_or_else(|e| unreachable!("{e}"));
        let got = s.load_minutes(0).unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(got.len(), 1);
        assert_eq!(
            (got[0].signins, got[0].requests, got[0].waiting_room),
            (6, 20, 2)
        );

        s.save_check(100, "ok", "cli", "{}")
            .unwrap_or_else(|e| unreachable!("{e}"));
        s.save_check(200, "warn", "timer", "{\"a\":1}")
            .unwrap_or_else(|e| unreachable!("{e}"));
        let latest = s.latest_check().unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(latest.map(|c| (c.at, c.level)), Some((200, "warn".into())));
        assert!(s.save_check(300, "bad", "cli", "{}").is_err());
        assert_eq!(s.checks(10).map(|c| c.len()).unwrap_or(0), 2);
    }

    #[test]
    fn storm_accounts_come_and_go_without_touching_real_people() {
        let (_d, s) = store();
        let before = s.count_people(None).unwrap();
        let logins = s.create_storm_accounts(3, "$argon2id$fake").unwrap();
        assert_eq!(logins.len(), 3);
        assert!(logins.iter().all(|l| l.starts_with(STORM_PREFIX)));
        assert_eq!(s.count_people(None).unwrap(), before + 3);
        assert!(s.person_by_login(&logins[0]).unwrap().is_some());
        assert_eq!(s.remove_storm_accounts().unwrap(), 3);
        assert_eq!(s.count_people(None).unwrap(), before);
        assert_eq!(s.remove_storm_accounts().unwrap(), 0);
    }

    #[test]
    fn the_profile_must_be_json_and_is_audited() {
        let (_d, s) = store();
        let actor = Actor::cli();
        assert!(s.set_capacity_profile(&actor, Some("{not json")).is_err());
        assert_eq!(s.capacity_profile().ok().flatten(), None, "nothing stored");
        s.set_capacity_profile(&actor, Some("{\"online_share\":0.9}"))
            .unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(
            s.capacity_profile().ok().flatten().as_deref(),
            Some("{\"online_share\":0.9}")
        );
    }
}
