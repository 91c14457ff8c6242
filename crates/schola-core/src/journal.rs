//! The change journal: every directory change appends one entry with a sequence number, in the
//! same transaction as the change. Daemons (mail, files, Samba) read it from their own cursor and
//! provision themselves idempotently; none of them asks another to be told about a change.

use rusqlite::{Transaction, params};
use serde::Serialize;

use crate::error::Result;
use crate::store::{OptionalExt as _, Store};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JournalEntry {
    pub seq: i64,
    pub at: i64,
    /// `person.created`, `person.password_changed`, `group.member_added`, …
    pub kind: String,
    pub person_id: Option<i64>,
    pub group_id: Option<i64>,
    /// What a consumer needs to act without another lookup (logins, names); never a secret.
    pub data: serde_json::Value,
}

pub(crate) fn append(
    tx: &Transaction<'_>,
    at: i64,
    kind: &str,
    person_id: Option<i64>,
    group_id: Option<i64>,
    data: serde_json::Value,
) -> rusqlite::Result<i64> {
    tx.execute(
        "INSERT INTO journal (at, kind, person_id, group_id, data) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![at, kind, person_id, group_id, data.to_string()],
    )?;
    Ok(tx.last_insert_rowid())
}

impl Store {
    /// Entries after `after`, oldest first, at most `limit`.
    pub fn journal_since(&self, after: i64, limit: usize) -> Result<Vec<JournalEntry>> {
        let conn = self.conn()?;
        let mut stmt = conn
            .prepare_cached("SELECT seq, at, kind, person_id, group_id, data FROM journal WHERE seq > ?1 ORDER BY seq LIMIT ?2")
            .map_err(|e| self.sqlite_err(e))?;
        let rows = stmt
            .query_map(params![after, limit as i64], |r| {
                let data: String = r.get(5)?;
                Ok(JournalEntry {
                    seq: r.get(0)?,
                    at: r.get(1)?,
                    kind: r.get(2)?,
                    person_id: r.get(3)?,
                    group_id: r.get(4)?,
                    data: serde_json::from_str(&data).unwrap_or(serde_json::Value::Null),
                })
            })
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(|e| self.sqlite_err(e))?;
        Ok(rows)
    }

    /// The newest sequence number (0 for an empty journal).
    pub fn journal_head(&self) -> Result<i64> {
        let conn = self.conn()?;
        conn.query_row("SELECT coalesce(max(seq), 0) FROM journal", [], |r| {
            r.get(0)
        })
        .map_err(|e| self.sqlite_err(e))
    }

    /// Where `consumer` has got to (0 if it has never read).
    pub fn journal_cursor(&self, consumer: &str) -> Result<i64> {
        let conn = self.conn()?;
        let seq = conn
            .query_row(
                "SELECT seq FROM journal_cursors WHERE consumer = ?1",
                [consumer],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.sqlite_err(e))?;
        Ok(seq.unwrap_or(0))
    }

    /// Records that `consumer` has handled everything up to `seq`; a cursor never moves back.
    pub fn advance_journal_cursor(&self, consumer: &str, seq: i64) -> Result<()> {
        let now = self.now();
        self.write(|tx| {
            tx.execute(
                "INSERT INTO journal_cursors (consumer, seq, updated_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (consumer) DO UPDATE SET seq = max(seq, excluded.seq), updated_at = excluded.updated_at",
                params![consumer, seq, now],
            )
            .map_err(|e| self.sqlite_err(e))?;
            Ok(())
        })
    }

    /// Hands every entry after `consumer`'s cursor to `handle`, in order, advancing the cursor
    /// after each batch. `handle` must be idempotent: after a crash, the entries of the last
    /// unfinished batch are handed over again. Returns how many entries were handled.
    pub fn follow_journal(
        &self,
        consumer: &str,
        batch: usize,
        mut handle: impl FnMut(&JournalEntry) -> Result<()>,
    ) -> Result<usize> {
        let mut cursor = self.journal_cursor(consumer)?;
        let mut handled = 0;
        loop {
            let entries = self.journal_since(cursor, batch)?;
            let Some(last) = entries.last().map(|e| e.seq) else {
                return Ok(handled);
            };
            for e in &entries {
                handle(e)?;
                handled += 1;
            }
            self.advance_journal_cursor(consumer, last)?;
            cursor = last;
        }
    }
}
