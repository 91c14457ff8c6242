//! Server-side sessions. The browser holds a 256-bit random token; the database holds only its
//! SHA-256, so a copy of the database does not let anyone take over a session. A session ends
//! after an idle timeout, after an absolute timeout, at sign-out, and when the person's
//! password changes or the account is disabled.

use rusqlite::params;
use sha2::{Digest, Sha256};

use crate::directory::Person;
use crate::error::Result;
use crate::store::{OptionalExt as _, Store};
use crate::token::random_token;

#[derive(Debug, Clone, Copy)]
pub struct SessionPolicy {
    pub idle_secs: i64,
    pub max_secs: i64,
}

/// Seen-time updates are written at most this often per session, so that a page with many
/// requests does not turn into many writes.
const TOUCH_EVERY_SECS: i64 = 60;

#[derive(Debug, Clone)]
pub struct NewSession {
    /// Goes into the cookie; never stored.
    pub token: String,
    pub csrf: String,
}

#[derive(Debug, Clone)]
pub struct Session {
    pub person: Person,
    pub csrf: String,
    pub created_at: i64,
}

fn hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

impl Store {
    pub fn create_session(
        &self,
        person_id: i64,
        addr: Option<&str>,
        user_agent: Option<&str>,
    ) -> Result<NewSession> {
        let now = self.now();
        let token = random_token(32);
        let csrf = random_token(32);
        let ua: Option<String> = user_agent.map(|u| u.chars().take(200).collect());
        self.write(|tx| {
            tx.execute(
                "INSERT INTO sessions (id_hash, person_id, csrf_token, created_at, last_seen_at, client_addr, user_agent)
                 VALUES (?1, ?2, ?3, ?4, ?4, ?5, ?6)",
                params![hash(&token), person_id, csrf, now, addr, ua],
            )
            .map_err(|e| self.sqlite_err(e))?;
            Ok(())
        })?;
        Ok(NewSession { token, csrf })
    }

    /// The live session for `token`, or `None` if it is unknown, expired, or its person is no
    /// longer active. Expired sessions are deleted on sight.
    pub fn session(&self, token: &str, policy: SessionPolicy) -> Result<Option<Session>> {
        let now = self.now();
        let id = hash(token);
        let row: Option<(i64, String, i64, i64)> = {
            let conn = self.conn()?;
            conn.prepare_cached("SELECT person_id, csrf_token, created_at, last_seen_at FROM sessions WHERE id_hash = ?1")
                .and_then(|mut s| s.query_row([&id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))).optional())
                .map_err(|e| self.sqlite_err(e))?
        };
        let Some((person_id, csrf, created_at, last_seen)) = row else {
            return Ok(None);
        };
        let expired = now - last_seen > policy.idle_secs || now - created_at > policy.max_secs;
        let person = if expired {
            None
        } else {
            self.person(person_id)?.filter(Person::is_active)
        };
        let Some(person) = person else {
            self.end_session(token)?;
            return Ok(None);
        };
        if now - last_seen >= TOUCH_EVERY_SECS {
            self.write(|tx| {
                tx.execute(
                    "UPDATE sessions SET last_seen_at = ?2 WHERE id_hash = ?1",
                    params![id, now],
                )
                .map_err(|e| self.sqlite_err(e))?;
                Ok(())
            })?;
        }
        Ok(Some(Session {
            person,
            csrf,
            created_at,
        }))
    }

    pub fn end_session(&self, token: &str) -> Result<()> {
        self.write(|tx| {
            tx.execute("DELETE FROM sessions WHERE id_hash = ?1", [hash(token)])
                .map_err(|e| self.sqlite_err(e))?;
            Ok(())
        })
    }

    /// Deletes all expired sessions; returns how many.
    pub fn end_expired_sessions(&self, policy: SessionPolicy) -> Result<usize> {
        let now = self.now();
        self.write(|tx| {
            tx.execute(
                "DELETE FROM sessions WHERE last_seen_at < ?1 OR created_at < ?2",
                params![now - policy.idle_secs, now - policy.max_secs],
            )
            .map_err(|e| self.sqlite_err(e))
        })
    }

    pub fn count_sessions(&self) -> Result<usize> {
        let conn = self.conn()?;
        conn.query_row("SELECT count(*) FROM sessions", [], |r| r.get::<_, i64>(0))
            .map(|n| n as usize)
            .map_err(|e| self.sqlite_err(e))
    }
}
