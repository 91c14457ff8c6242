//! Searching the audit log for the admin UI's audit page: free text over action, actor and
//! target, one action, a time range, and a total for the pager. Writing the log is `audit`.

use rusqlite::params;

use crate::audit::AuditEntry;
use crate::directory::like_pattern;
use crate::error::Result;
use crate::store::Store;

/// What the audit page asks for; every part is optional and they combine with AND.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Part of the action, the actor or the target (case-insensitive for ASCII, like SQL LIKE).
    pub text: Option<String>,
    /// Exactly this action, e.g. `notice.added`.
    pub action: Option<String>,
    /// Entries at or after this time (Unix seconds).
    pub since: Option<i64>,
    /// Entries before this time (Unix seconds).
    pub before: Option<i64>,
}

/// How many distinct actions the action menu lists at most.
const MAX_ACTIONS: usize = 500;

impl Store {
    /// The entries matching `filter`, newest first, and how many match in all.
    pub fn search_audit(
        &self,
        filter: &AuditFilter,
        limit: usize,
        offset: usize,
    ) -> Result<(Vec<AuditEntry>, usize)> {
        let conn = self.conn()?;
        let sql = |e| self.sqlite_err(e);
        let like = filter
            .text
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(like_pattern);
        let action = filter.action.as_deref().filter(|a| !a.is_empty());
        const WHERE: &str = "(?1 IS NULL OR action LIKE ?1 ESCAPE '\\' OR actor LIKE ?1 ESCAPE '\\' OR target LIKE ?1 ESCAPE '\\')
             AND (?2 IS NULL OR action = ?2)
             AND (?3 IS NULL OR at >= ?3)
             AND (?4 IS NULL OR at < ?4)";
        let total: i64 = conn
            .prepare_cached(&format!("SELECT count(*) FROM audit WHERE {WHERE}"))
            .and_then(|mut s| {
                s.query_row(params![like, action, filter.since, filter.before], |r| {
                    r.get(0)
                })
            })
            .map_err(sql)?;
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT id, at, actor, client_addr, action, target, detail FROM audit
                 WHERE {WHERE} ORDER BY id DESC LIMIT ?5 OFFSET ?6"
            ))
            .map_err(sql)?;
        let rows = stmt
            .query_map(
                params![
                    like,
                    action,
                    filter.since,
                    filter.before,
                    limit as i64,
                    offset as i64
                ],
                |r| {
                    Ok(AuditEntry {
                        id: r.get(0)?,
                        at: r.get(1)?,
                        actor: r.get(2)?,
                        client_addr: r.get(3)?,
                        action: r.get(4)?,
                        target: r.get(5)?,
                        detail: r.get(6)?,
                    })
                },
            )
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(sql)?;
        Ok((rows, total.max(0) as usize))
    }

    /// The actions that occur in the log, in name order, for the audit page's action menu.
    pub fn audit_actions(&self) -> Result<Vec<String>> {
        let conn = self.conn()?;
        let mut stmt = conn
            .prepare_cached("SELECT DISTINCT action FROM audit ORDER BY action LIMIT ?1")
            .map_err(|e| self.sqlite_err(e))?;
        stmt.query_map([MAX_ACTIONS as i64], |r| r.get(0))
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<String>>>())
            .map_err(|e| self.sqlite_err(e))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::audit::Actor;
    use crate::store::testing;

    #[test]
    fn filters_combine_and_the_total_counts_all_pages() {
        let (store, clock, _dir) = testing::store();
        let start = store.now();
        let admin = Actor::person("admin", Some("192.0.2.7".into()));
        for i in 0..5 {
            store
                .record_event(&admin, "update.requested", None, json!({"n": i}))
                .unwrap();
            clock.advance(3600);
        }
        store
            .record_event(
                &Actor::cli(),
                "notice.added",
                Some("Wandertag_100%"),
                json!({}),
            )
            .unwrap();
        let all = AuditFilter::default();
        let (page, total) = store.search_audit(&all, 2, 0).unwrap();
        assert_eq!(total, 6);
        assert_eq!(page.len(), 2);
        assert_eq!(page[0].action, "notice.added", "newest first");

        let text = |t: &str| AuditFilter {
            text: Some(t.into()),
            ..Default::default()
        };
        // LIKE's wildcards are taken literally
        assert_eq!(store.search_audit(&text("_100%"), 10, 0).unwrap().1, 1);
        assert_eq!(store.search_audit(&text("x_1"), 10, 0).unwrap().1, 0);
        assert_eq!(store.search_audit(&text("ADMIN"), 10, 0).unwrap().1, 5);
        assert_eq!(store.search_audit(&text("   "), 10, 0).unwrap().1, 6);

        let action = AuditFilter {
            action: Some("update.requested".into()),
            since: Some(start + 3600),
            before: Some(start + 3 * 3600),
            ..Default::default()
        };
        let (page, total) = store.search_audit(&action, 10, 0).unwrap();
        assert_eq!(total, 2, "two of the five fall in the two hours");
        assert_eq!(page[0].detail, r#"{"n":2}"#);
        assert_eq!(
            store.search_audit(&action, 10, 1).unwrap().0[0].detail,
            r#"{"n":1}"#,
            "the offset pages on"
        );
        assert_eq!(
            store.audit_actions().unwrap(),
            ["notice.added", "update.requested"]
        );
    }
}
