//! `scholactl user …`: add, list, show, disable, enable people and set their passwords, each a
//! thin layer over the directory methods of schola-core's store.

use anyhow::{Context as _, Result};
use schola_core::audit::Actor;
use schola_core::directory::{MemberRole, NewPerson, Person, PersonFilter};
use schola_core::password::hash_password_for;
use serde_json::json;

use crate::cli::{UserAddArgs, UserListArgs};
use crate::context::{Ctx, NewPassword, login_scheme};
use crate::output::{self, printable};

pub fn add(ctx: &Ctx, args: UserAddArgs) -> Result<()> {
    let who = describe(&args.given, &args.family);
    let cfg = ctx.config()?;
    let scheme = login_scheme(&cfg)?;
    // The policy refuses passwords containing the login; before the store has chosen the final
    // login (maybe with a counter) the one it starts from is the best guess.
    let login_hint = args
        .login
        .clone()
        .or_else(|| scheme.base_login(&args.given, &args.family))
        .unwrap_or_default();
    let store = ctx.store(&cfg)?;
    let password = NewPassword::obtain(&cfg, args.password_stdin, &login_hint)
        .with_context(|| format!("cannot add {who}"))?;
    let hash = hash_password_for(cfg.auth.argon2, &password.password)?;
    let new = NewPerson {
        external_id: args.external_id,
        login: args.login,
        given_name: args.given,
        family_name: args.family,
        display_name: None,
        role: Some(args.role),
        mail: args.mail,
        quota_mb: args.quota_mb.map(i64::from),
        password_hash: Some(hash),
    };
    let id = store
        .batch(&Actor::cli(), |b| {
            let (id, login) = b.create_person(&new, &scheme)?;
            for class in &args.classes {
                b.add_member(class, &login, MemberRole::Member)?;
            }
            Ok(id)
        })
        .with_context(|| format!("cannot add {who}"))?;
    let person = store
        .person(id)?
        .with_context(|| format!("{who} vanished right after being added"))?;
    if ctx.json {
        let mut out = json!({"login": person.login, "mail": person.mail});
        if let Some(p) = password.shown() {
            out["password"] = json!(p);
        }
        return output::print_json(&out);
    }
    let mut text = format!(
        "added {} ({}, {})\n",
        person.login, person.display_name, person.role
    );
    if let Some(mail) = &person.mail {
        text.push_str(&format!("mail: {mail}\n"));
    }
    if !args.classes.is_empty() {
        text.push_str(&format!("member of: {}\n", args.classes.join(", ")));
    }
    if let Some(p) = password.shown() {
        text.push_str(&format!("password (shown once): {p}\n"));
    }
    output::print(&text)
}

pub fn list(ctx: &Ctx, args: UserListArgs) -> Result<()> {
    let cfg = ctx.config()?;
    let store = ctx.store(&cfg)?;
    if let Some(g) = &args.group
        && store.group(g)?.is_none()
    {
        anyhow::bail!("there is no group '{}'", printable(g));
    }
    let filter = PersonFilter {
        role: args.role,
        status: args.status,
        query: args.query,
        group: args.group,
    };
    let (people, total) = store
        .list_people(&filter, args.limit, args.offset)
        .context("cannot list people")?;
    if ctx.json {
        return output::print_json(&people);
    }
    let rows: Vec<Vec<String>> = people
        .iter()
        .map(|p| {
            vec![
                p.login.clone(),
                p.display_name.clone(),
                p.role.to_string(),
                p.status.to_string(),
                p.mail.clone().unwrap_or_default(),
            ]
        })
        .collect();
    let mut text = output::table(&["login", "name", "role", "status", "mail"], &rows);
    let shown = people.len();
    let mut footer = if args.offset > 0 && shown > 0 {
        format!("{}-{} of {total}", args.offset + 1, args.offset + shown)
    } else {
        format!("{shown} of {total}")
    };
    if args.offset + shown < total && shown > 0 {
        footer.push_str(&format!(
            " (the next ones: --offset {})",
            args.offset + shown
        ));
    }
    text.push_str(&footer);
    text.push('\n');
    output::print(&text)
}

pub fn show(ctx: &Ctx, login: &str) -> Result<()> {
    let cfg = ctx.config()?;
    let store = ctx.store(&cfg)?;
    let person = store.require_person(login)?;
    let groups = store.groups_of(person.id)?;
    if ctx.json {
        let mut v = serde_json::to_value(&person)?;
        v["groups"] = groups
            .iter()
            .map(|(g, role)| json!({"name": g.name, "display_name": g.display_name, "kind": g.kind, "membership": role}))
            .collect();
        return output::print_json(&v);
    }
    let p = &person;
    let mut rows: Vec<(&str, String)> = vec![
        ("login", p.login.clone()),
        ("name", p.display_name.clone()),
        ("given name", p.given_name.clone()),
        ("family name", p.family_name.clone()),
        ("role", p.role.to_string()),
        ("status", p.status.to_string()),
    ];
    if let Some(t) = p.purge_at {
        rows.push(("purged on", output::date(t)));
    }
    rows.push(("mail", p.mail.clone().unwrap_or_else(|| "-".into())));
    rows.push((
        "quota",
        p.quota_mb
            .map(|q| format!("{q} MB"))
            .unwrap_or_else(|| "school default".into()),
    ));
    rows.push((
        "external id",
        p.external_id.clone().unwrap_or_else(|| "-".into()),
    ));
    rows.push(("created", output::datetime(p.created_at)));
    rows.push(("changed", output::datetime(p.updated_at)));
    let groups_text = if groups.is_empty() {
        "-".to_string()
    } else {
        groups
            .iter()
            .map(|(g, role)| match role {
                MemberRole::Member => g.name.clone(),
                MemberRole::Owner => format!("{} (owner)", g.name),
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    rows.push(("groups", groups_text));
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0) + 1;
    let text: String = rows
        .iter()
        .map(|(k, v)| format!("{:<width$} {v}\n", format!("{k}:")))
        .collect();
    output::print(&text)
}

pub fn disable(ctx: &Ctx, login: &str) -> Result<()> {
    let cfg = ctx.config()?;
    let store = ctx.store(&cfg)?;
    let before = store.require_person(login)?;
    let grace = cfg.directory.purge_grace_days;
    let person = store
        .disable_person(&Actor::cli(), login, grace)
        .with_context(|| format!("cannot disable '{login}'"))?;
    if ctx.json {
        return output::print_json(&person);
    }
    let purge = person
        .purge_at
        .map(|t| {
            format!(
                "; the account and its data will be purged on {}",
                output::date(t)
            )
        })
        .unwrap_or_default();
    let text = if before.is_active() {
        format!(
            "disabled {}{purge} (after {grace} days; 'scholactl user enable {}' undoes this until then)\n",
            person.login, person.login
        )
    } else {
        format!("{} was already disabled{purge}\n", person.login)
    };
    output::print(&text)
}

pub fn enable(ctx: &Ctx, login: &str) -> Result<()> {
    let cfg = ctx.config()?;
    let store = ctx.store(&cfg)?;
    let before = store.require_person(login)?;
    let person = store
        .enable_person(&Actor::cli(), login)
        .with_context(|| format!("cannot enable '{login}'"))?;
    if ctx.json {
        return output::print_json(&person);
    }
    let text = if before.is_active() {
        format!("{} was already active\n", person.login)
    } else {
        format!("enabled {}; the purge is cancelled\n", person.login)
    };
    output::print(&text)
}

pub fn passwd(ctx: &Ctx, login: &str, password_stdin: bool) -> Result<()> {
    let cfg = ctx.config()?;
    let store = ctx.store(&cfg)?;
    let person: Person = store.require_person(login)?;
    let password = NewPassword::obtain(&cfg, password_stdin, &person.login)
        .with_context(|| format!("cannot set the password of '{login}'"))?;
    let hash = hash_password_for(cfg.auth.argon2, &password.password)?;
    store
        .set_password_hash(&Actor::cli(), person.id, &hash)
        .with_context(|| format!("cannot set the password of '{login}'"))?;
    if ctx.json {
        let mut out = json!({"login": person.login});
        if let Some(p) = password.shown() {
            out["password"] = json!(p);
        }
        return output::print_json(&out);
    }
    let mut text = format!(
        "new password set for {}; they were signed out everywhere\n",
        person.login
    );
    if let Some(p) = password.shown() {
        text.push_str(&format!("password (shown once): {p}\n"));
    }
    output::print(&text)
}

/// "Jürgen Müller" for messages, with control characters made visible.
fn describe(given: &str, family: &str) -> String {
    let name = format!("{} {}", given.trim(), family.trim());
    let name = name.trim();
    if name.is_empty() {
        return "the person".to_string();
    }
    // a 500-character name need not be repeated in full to say which one is meant
    let short: String = name.chars().take(40).collect();
    let more = if short.len() < name.len() { "…" } else { "" };
    format!("'{}{more}'", printable(&short))
}
