//! `scholactl init` (the first-run setup from the command line) and `scholactl config check`
//! (validate the configuration without starting anything, as a unit's `ExecStartPre=` would).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, Result, bail};
use schola_core::audit::Actor;
use schola_core::directory::{NewPerson, School};
use schola_core::password::hash_password_for;
use schola_core::{Store, SystemClock};
use serde_json::json;

use crate::cli::InitArgs;
use crate::context::{self, Ctx, generate_password, login_scheme, password_policy};
use crate::output;

pub fn init(ctx: &Ctx, args: InitArgs) -> Result<()> {
    let cfg = ctx.config()?;
    let scheme = login_scheme(&cfg)?;
    let store = context::open_store(&cfg)?;
    if store.has_admin()? {
        let school = store.school()?;
        bail!(
            "the school '{}' is already set up (it has an admin); nothing was changed; \
             add more admins with 'scholactl user add --role admin'",
            school.name
        );
    }
    let password = generate_password(&password_policy(&cfg), &args.admin_login)?;
    let hash = hash_password_for(cfg.auth.argon2, &password)?;
    let admin = NewPerson {
        login: Some(args.admin_login.clone()),
        given_name: "Schola".into(),
        family_name: "Admin".into(),
        display_name: Some("Schola admin".into()),
        password_hash: Some(hash),
        ..NewPerson::default()
    };
    let school = School {
        name: args.school_name,
        mail_domain: args.mail_domain,
        default_language: args.default_language,
    };
    let person = store
        .setup_school(&Actor::cli(), &school, admin, &scheme)
        .context("cannot set the school up")?;
    if ctx.json {
        return output::print_json(&json!({"login": person.login, "password": password}));
    }
    let school = store.school()?;
    output::print(&format!(
        "set up {} ({})\n\
         database: {}\n\
         admin login: {}\n\
         password (shown once): {password}\n\
         write it down now; it cannot be shown again ('scholactl user passwd {}' sets a new one)\n",
        school.name,
        school.mail_domain,
        store.path().display(),
        person.login,
        person.login,
    ))
}

pub fn config_check(ctx: &Ctx) -> Result<()> {
    let path = &ctx.config_path;
    let cfg = context::load_config(path)?;
    let dropins = dropins(path);
    let db = cfg.database_path();
    let db_exists = db.exists();
    if db_exists {
        // Refuses a database from a newer Schola; does not create or migrate anything.
        Store::open_existing(&db, Arc::new(SystemClock))?;
    }
    let listen: Vec<String> = cfg.web.listen.iter().map(ToString::to_string).collect();
    let tls = match &cfg.web.tls_cert {
        Some(cert) => cert.display().to_string(),
        None => format!(
            "self-signed, made on first start in {}",
            cfg.tls_dir().display()
        ),
    };
    if ctx.json {
        return output::print_json(&json!({
            "ok": true,
            "config": path,
            "dropins": dropins,
            "profile": format!("{:?}", cfg.profile).to_lowercase(),
            "state_dir": cfg.paths.state_dir,
            "data_dir": cfg.paths.data_dir,
            "database": db,
            "database_exists": db_exists,
            "listen": listen,
            "tls_cert": cfg.web.tls_cert,
        }));
    }
    let mut text = format!("config OK: {}\n", path.display());
    for d in &dropins {
        text.push_str(&format!("  drop-in:      {}\n", d.display()));
    }
    let db_note = if db_exists {
        ""
    } else {
        " (not made yet; 'scholactl init' makes it)"
    };
    text.push_str(&format!(
        "  profile:      {}\n  state dir:    {}\n  data dir:     {}\n  database:     {}{db_note}\n  listen:       {}\n  certificate:  {tls}\n",
        format!("{:?}", cfg.profile).to_lowercase(),
        cfg.paths.state_dir.display(),
        cfg.paths.data_dir.display(),
        db.display(),
        listen.join(", "),
    ));
    output::print(&text)
}

/// The `conf.d/*.toml` files read after the main file, in the order they apply.
fn dropins(main: &Path) -> Vec<PathBuf> {
    let dir = main.parent().unwrap_or(Path::new(".")).join("conf.d");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}
