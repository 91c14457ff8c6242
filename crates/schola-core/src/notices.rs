//! Notices: short messages from the school's administrators on everyone's start page ("The
//! server is down for maintenance on Saturday", "Welcome back after the holidays").

use rusqlite::{OptionalExtension as _, params};
use serde::Serialize;
use serde_json::json;

use crate::audit::{self, Actor};
use crate::directory::{Role, clean_name};
use crate::error::{Error, Result};
use crate::store::Store;

/// Longest notice text accepted.
pub const MAX_BODY_CHARS: usize = 2_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notice {
    pub id: i64,
    pub title: String,
    pub body: String,
    /// `None` = everyone.
    pub audience: Option<Role>,
    pub created_by: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
}

#[derive(Debug, Clone, Default)]
pub struct NewNotice {
    pub title: String,
    pub body: String,
    pub audience: Option<Role>,
    pub expires_at: Option<i64>,
}

impl Store {
    /// Adds a notice; the title is cleaned like a name, the body may have line breaks.
    pub fn add_notice(&self, actor: &Actor, new: &NewNotice) -> Result<Notice> {
        let title = clean_name("the notice's title", &new.title)?;
        let body = new.body.trim().replace("\r\n", "\n");
        if body.chars().count() > MAX_BODY_CHARS {
            return Err(Error::Invalid(format!(
                "the notice is longer than {MAX_BODY_CHARS} characters"
            )));
        }
        if body
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t')
        {
            return Err(Error::Invalid(
                "the notice contains control characters".into(),
            ));
        }
        if new.audience == Some(Role::Admin) {
            return Err(Error::Invalid(
                "a notice is for everyone, students, teachers or staff".into(),
            ));
        }
        let now = self.now();
        let id = self.write(|tx| {
            let sql = |e| self.sqlite_err(e);
            tx.execute(
                "INSERT INTO notices (title, body, audience, created_by, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![title, body, new.audience.map_or("all", Role::as_str), actor.name, now, new.expires_at],
            )
            .map_err(sql)?;
            let id = tx.last_insert_rowid();
            audit::record(tx, now, actor, "notice.added", Some(&title), json!({"id": id})).map_err(sql)?;
            Ok(id)
        })?;
        Ok(Notice {
            id,
            title,
            body,
            audience: new.audience,
            created_by: actor.name.clone(),
            created_at: now,
            expires_at: new.expires_at,
        })
    }

    pub fn remove_notice(&self, actor: &Actor, id: i64) -> Result<()> {
        let now = self.now();
        self.write(|tx| {
            let sql = |e| self.sqlite_err(e);
            let title: String = tx
                .query_row("SELECT title FROM notices WHERE id = ?1", [id], |r| {
                    r.get(0)
                })
                .optional()
                .map_err(sql)?
                .ok_or_else(|| Error::NotFound(format!("notice #{id}")))?;
            tx.execute("DELETE FROM notices WHERE id = ?1", [id])
                .map_err(sql)?;
            audit::record(
                tx,
                now,
                actor,
                "notice.removed",
                Some(&title),
                json!({"id": id}),
            )
            .map_err(sql)?;
            Ok(())
        })
    }

    /// The notices not yet expired, newest first; `role: Some(r)` only those for `r` or all.
    pub fn notices(&self, role: Option<Role>) -> Result<Vec<Notice>> {
        let conn = self.conn()?;
        let now = self.now();
        let mut stmt = conn
            .prepare_cached(
                "SELECT id, title, body, audience, created_by, created_at, expires_at FROM notices
                 WHERE (expires_at IS NULL OR expires_at > ?1)
                   AND (?2 IS NULL OR ?2 = 'admin' OR audience = 'all' OR audience = ?2)
                 ORDER BY id DESC LIMIT 50",
            )
            .map_err(|e| self.sqlite_err(e))?;
        stmt.query_map(params![now, role.map(Role::as_str)], |r| {
            let audience: String = r.get(3)?;
            Ok(Notice {
                id: r.get(0)?,
                title: r.get(1)?,
                body: r.get(2)?,
                audience: audience.parse().ok(),
                created_by: r.get(4)?,
                created_at: r.get(5)?,
                expires_at: r.get(6)?,
            })
        })
        .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
        .map_err(|e| self.sqlite_err(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing;

    #[test]
    fn notices_reach_their_audience_until_they_expire() {
        let (store, clock, _dir) = testing::store();
        let admin = Actor::cli();
        let all = store
            .add_notice(
                &admin,
                &NewNotice {
                    title: "  Welcome back ".into(),
                    body: "Classes start at 8:00.\r\nBring your laptop.".into(),
                    ..Default::default()
                },
            )
            .unwrap();
        assert_eq!(all.title, "Welcome back");
        assert_eq!(all.body, "Classes start at 8:00.\nBring your laptop.");
        let now = store.now();
        store
            .add_notice(
                &admin,
                &NewNotice {
                    title: "Staff meeting".into(),
                    body: "Room 12".into(),
                    audience: Some(Role::Teacher),
                    expires_at: Some(now + 60),
                },
            )
            .unwrap();
        let titles = |r| -> Vec<String> {
            store
                .notices(r)
                .unwrap()
                .into_iter()
                .map(|n| n.title)
                .collect()
        };
        assert_eq!(titles(Some(Role::Student)), ["Welcome back"]);
        assert_eq!(
            titles(Some(Role::Teacher)),
            ["Staff meeting", "Welcome back"]
        );
        assert_eq!(titles(None).len(), 2);
        clock.advance(61);
        assert_eq!(titles(Some(Role::Teacher)), ["Welcome back"]);
        store.remove_notice(&admin, all.id).unwrap();
        assert!(titles(Some(Role::Student)).is_empty());
        let e = store
            .add_notice(
                &admin,
                &NewNotice {
                    title: "x".into(),
                    body: "a\u{7}b".into(),
                    ..Default::default()
                },
            )
            .unwrap_err();
        assert!(e.to_string().contains("control characters"), "{e}");
    }
}
