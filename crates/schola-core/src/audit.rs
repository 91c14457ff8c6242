//! The audit log: who changed what, when, and from which address. Written in the same
//! transaction as the change it describes, so the log and the directory never disagree.

use rusqlite::{Transaction, params};
use serde::Serialize;

use crate::error::Result;
use crate::store::Store;

/// Who is making a change: a signed-in person's login, `scholactl` (run by root on the
/// appliance), or a daemon; with the client's address when it came over the network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Actor {
    pub name: String,
    pub addr: Option<String>,
}

impl Actor {
    pub fn cli() -> Self {
        let user = std::env::var("SUDO_USER")
            .or_else(|_| std::env::var("USER"))
            .unwrap_or_else(|_| "root".into());
        Actor {
            name: format!("scholactl:{user}"),
            addr: None,
        }
    }
    pub fn system(daemon: &str) -> Self {
        Actor {
            name: daemon.to_string(),
            addr: None,
        }
    }
    pub fn person(login: &str, addr: Option<String>) -> Self {
        Actor {
            name: login.to_string(),
            addr,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: i64,
    pub actor: String,
    pub client_addr: Option<String>,
    pub action: String,
    pub target: Option<String>,
    pub detail: String,
}

pub(crate) fn record(
    tx: &Transaction<'_>,
    at: i64,
    actor: &Actor,
    action: &str,
    target: Option<&str>,
    detail: serde_json::Value,
) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO audit (at, actor, client_addr, action, target, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![at, actor.name, actor.addr, action, target, detail.to_string()],
    )?;
    Ok(())
}

impl Store {
    /// Records something an admin did that changes no directory data (e.g. asking for an
    /// upgrade), so the audit log still tells who did it and when.
    pub fn record_event(
        &self,
        actor: &Actor,
        action: &str,
        target: Option<&str>,
        detail: serde_json::Value,
    ) -> Result<()> {
        let at = self.now();
        self.write(|tx| {
            record(tx, at, actor, action, target, detail).map_err(|e| self.sqlite_err(e))
        })
    }

    /// The newest entries first, optionally only those whose action, actor or target contain
    /// `filter`.
    pub fn audit_log(
        &self,
        filter: Option<&str>,
        limit: usize,
        offset: usize,
    ) -> Result<Vec<AuditEntry>> {
        let conn = self.conn()?;
        let like = filter.map(crate::directory::like_pattern);
        let mut stmt = conn
            .prepare_cached(
                "SELECT id, at, actor, client_addr, action, target, detail FROM audit
                 WHERE ?1 IS NULL OR action LIKE ?1 ESCAPE '\\' OR actor LIKE ?1 ESCAPE '\\' OR target LIKE ?1 ESCAPE '\\'
                 ORDER BY id DESC LIMIT ?2 OFFSET ?3",
            )
            .map_err(|e| self.sqlite_err(e))?;
        let rows = stmt
            .query_map(params![like, limit as i64, offset as i64], |r| {
                Ok(AuditEntry {
                    id: r.get(0)?,
                    at: r.get(1)?,
                    actor: r.get(2)?,
                    client_addr: r.get(3)?,
                    action: r.get(4)?,
                    target: r.get(5)?,
                    detail: r.get(6)?,
                })
            })
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(|e| self.sqlite_err(e))?;
        Ok(rows)
    }
}
