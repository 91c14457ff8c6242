//! `scholactl db status|migrate`: the database schema. `migrate` is what the package's
//! `postinst` runs on every upgrade: it writes a backup first, and if a migration step fails it
//! restores that backup, so the previous version's data is intact (schola-core does both).

use std::sync::Arc;

use anyhow::{Context as _, Result};
use schola_core::store::LATEST_VERSION;
use schola_core::{Store, SystemClock};
use serde_json::json;

use crate::context::Ctx;
use crate::output;

pub fn status(ctx: &Ctx) -> Result<()> {
    let cfg = ctx.config()?;
    let db = cfg.database_path();
    let version = if db.exists() {
        Some(Store::open_existing(&db, Arc::new(SystemClock))?.schema_version()?)
    } else {
        None
    };
    if ctx.json {
        return output::print_json(&json!({
            "database": db, "exists": db.exists(), "schema_version": version, "latest_known": LATEST_VERSION,
        }));
    }
    let state = match version {
        None => "no database yet (run 'scholactl init')".to_string(),
        Some(v) if v == LATEST_VERSION => format!("schema version {v}, up to date"),
        Some(v) => {
            format!("schema version {v}; 'scholactl db migrate' upgrades it to {LATEST_VERSION}")
        }
    };
    output::print(&format!("{}: {state}\n", db.display()))
}

pub fn migrate(ctx: &Ctx) -> Result<()> {
    let cfg = ctx.config()?;
    crate::context::become_state_owner(&cfg)?;
    let db = cfg.database_path();
    if !db.exists() {
        let msg = format!("{}: no database yet, nothing to migrate", db.display());
        return if ctx.json {
            output::print_json(&json!({"database": db, "migrated": false}))
        } else {
            output::print(&format!("{msg}\n"))
        };
    }
    let before = Store::open_existing(&db, Arc::new(SystemClock))?.schema_version()?;
    let (_, migration) = Store::open(&db).with_context(|| {
        format!("the database was not upgraded (it was at schema version {before})")
    })?;
    if ctx.json {
        return output::print_json(&json!({
            "database": db, "migrated": migration.is_some(), "from": before, "to": LATEST_VERSION,
            "backup": migration.as_ref().and_then(|m| m.backup.clone()),
        }));
    }
    let text = match migration {
        None => format!("{}: schema version {before}, up to date\n", db.display()),
        Some(m) => format!(
            "{}: upgraded from schema version {} to {}{}\n",
            db.display(),
            m.from,
            m.to,
            m.backup
                .map(|b| format!("; the backup from before is {}", b.display()))
                .unwrap_or_default()
        ),
    };
    output::print(&text)
}
