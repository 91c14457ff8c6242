//! Applying an import's change: all of it in one transaction, or nothing.
//!
//! New accounts get a generated readable password (no 0/O/o, 1/l/I). The passwords are hashed
//! on every core before the transaction starts, so the transaction itself is short; the time
//! spent hashing and the rest are measured apart (`scripts/bench import` prints both). People
//! from an upstream directory get no password here: they sign in with their upstream one.
//!
//! A stored import is applied through [`apply_import`], which computes the diff again from the
//! stored roster first: if the directory changed since the admin saw the diff, the new diff is
//! stored and returned for another look instead of applying something nobody reviewed.

use std::time::{Duration, Instant};

use schola_core::audit::Actor;
use schola_core::config::{Argon2Config, Config};
use schola_core::directory::{GroupKind, MemberRole, NewGroup, Status};
use schola_core::directory_admin::generate_password;
use schola_core::imports::Source;
use schola_core::login::LoginScheme;
use schola_core::password::{Hashed, PasswordPolicy, hash_password_for};
use schola_core::{Error, Result, Store};
use serde::Serialize;
use serde_json::json;

use crate::letters::Letter;
use crate::plan::{Plan, PlanOptions, Summary, plan};
use crate::roster::Roster;

/// The school's rules an import follows: the login scheme and password policy in force (the
/// admin's settings over the configuration), the argon2id parameters, and the grace periods.
#[derive(Debug, Clone)]
pub struct Rules {
    pub scheme: LoginScheme,
    pub policy: PasswordPolicy,
    pub argon2: Argon2Config,
    pub hash_threads: usize,
    /// Disabled leavers are purged this many days later.
    pub grace_days: i64,
    /// A purged person's login is not reused for this many days.
    pub reuse_days: i64,
}

impl Rules {
    /// The rules in force: the configuration, with what the admin set in the web UI on top.
    pub fn in_force(cfg: &Config, store: &Store) -> Result<Rules> {
        let o = store.policy_overrides()?;
        let scheme_text = o
            .login_scheme
            .unwrap_or_else(|| cfg.directory.login_scheme.clone());
        let scheme = LoginScheme::parse(&scheme_text)
            .map_err(|e| Error::Invalid(format!("the login scheme '{scheme_text}': {e}")))?;
        Ok(Rules {
            scheme,
            policy: PasswordPolicy {
                min_length: o
                    .password_min_length
                    .unwrap_or(cfg.auth.password_min_length),
            },
            argon2: cfg.auth.argon2,
            hash_threads: cfg.hash_threads(),
            grace_days: cfg.directory.purge_grace_days,
            reuse_days: cfg.directory.login_reuse_days,
        })
    }
}

/// What applying did.
#[derive(Debug, Clone, Serialize)]
pub struct Applied {
    pub summary: Summary,
    /// The new accounts' initial passwords, for the letters; empty for upstream people.
    #[serde(skip)]
    pub letters: Vec<Letter>,
    /// Time spent hashing the new passwords (on all cores), and everything else (in JSON: seconds).
    #[serde(serialize_with = "secs")]
    pub hashing: Duration,
    #[serde(serialize_with = "secs")]
    pub rest: Duration,
}

fn secs<S: serde::Serializer>(d: &Duration, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

/// Applies `plan` now, in one transaction. `import` is the stored import it came from, if any.
pub fn apply(
    store: &Store,
    actor: &Actor,
    plan: &Plan,
    import: Option<i64>,
    rules: &Rules,
) -> Result<Applied> {
    let t0 = Instant::now();
    let with_password: Vec<usize> = plan
        .create
        .iter()
        .enumerate()
        .filter(|(_, c)| c.fields.source != Source::Ldap)
        .map(|(i, _)| i)
        .collect();
    let mut passwords = Vec::with_capacity(with_password.len());
    for &i in &with_password {
        passwords.push(generate_password(&rules.policy, &plan.create[i].login)?);
    }
    let prep = t0.elapsed();
    let t1 = Instant::now();
    let hashes = hash_all(rules.argon2, &passwords, rules.hash_threads)?;
    let hashing = t1.elapsed();
    let t2 = Instant::now();
    let mut hash_of: Vec<Option<&Hashed>> = vec![None; plan.create.len()];
    for (k, &i) in with_password.iter().enumerate() {
        hash_of[i] = hashes.get(k);
    }
    let purge_at = store.now() + rules.grace_days.max(0) * 86_400;
    let summary = plan.summary();
    store.batch(actor, |b| {
        for c in &plan.new_classes {
            b.create_group(&NewGroup {
                name: c.clone(),
                display_name: None,
                kind: GroupKind::Class,
                external_id: None,
            })?;
        }
        for (i, c) in plan.create.iter().enumerate() {
            b.create_imported(
                &c.login,
                &c.fields,
                c.mail.as_deref(),
                hash_of[i],
                &rules.scheme,
            )?;
            for class in &c.classes {
                b.add_member(class, &c.login, MemberRole::Member)?;
            }
        }
        for u in &plan.update {
            b.update_imported(u.person_id, &u.login, &u.fields)?;
        }
        for m in &plan.moves {
            for old in m.from.iter().filter(|c| !m.to.contains(c)) {
                b.remove_member(old, &m.login, MemberRole::Member)?;
            }
            for new in m.to.iter().filter(|c| !m.from.contains(c)) {
                b.add_member(new, &m.login, MemberRole::Member)?;
            }
        }
        for e in &plan.enable {
            b.set_status(e.person_id, &e.login, Status::Active, None)?;
        }
        for d in &plan.disable {
            b.set_status(d.person_id, &d.login, Status::Disabled, Some(purge_at))?;
        }
        for p in &plan.purge {
            b.purge(p.person_id, &p.login, rules.reuse_days)?;
        }
        if let Some(id) = import {
            b.record_import(
                id,
                json!({"summary": summary, "origin": plan.origin, "source": plan.source}),
            )?;
        }
        Ok(())
    })?;
    let letters = with_password
        .iter()
        .zip(passwords)
        .map(|(&i, password)| {
            let c = &plan.create[i];
            Letter {
                login: c.login.clone(),
                display_name: format!("{} {}", c.fields.given_name, c.fields.family_name),
                role: c.fields.role,
                class: c.classes.first().cloned(),
                password,
                mail: c.mail.clone(),
            }
        })
        .collect();
    Ok(Applied {
        summary,
        letters,
        hashing,
        rest: prep + t2.elapsed(),
    })
}

/// Hashes each password (argon2id and NT hash) on `threads` threads at once.
pub fn hash_all(cfg: Argon2Config, passwords: &[String], threads: usize) -> Result<Vec<Hashed>> {
    let mut out = vec![Hashed::default(); passwords.len()];
    if passwords.is_empty() {
        return Ok(out);
    }
    let chunk = passwords.len().div_ceil(threads.max(1));
    std::thread::scope(|s| {
        let handles: Vec<_> = out
            .chunks_mut(chunk)
            .zip(passwords.chunks(chunk))
            .map(|(slots, pws)| {
                s.spawn(move || -> Result<()> {
                    for (slot, pw) in slots.iter_mut().zip(pws) {
                        *slot = hash_password_for(cfg, pw)?;
                    }
                    Ok(())
                })
            })
            .collect();
        for h in handles {
            h.join()
                .map_err(|_| Error::Hash("a password hashing thread stopped".into()))??;
        }
        Ok::<(), Error>(())
    })?;
    Ok(out)
}

/// Computes the diff for `roster` against the directory now.
pub fn diff(store: &Store, roster: &Roster, rules: &Rules) -> Result<Plan> {
    let snap = store.import_snapshot()?;
    Ok(plan(
        roster,
        &snap,
        &PlanOptions {
            scheme: &rules.scheme,
            now: store.now(),
        },
    ))
}

/// Computes the diff and stores it with its roster for approval; returns the import's id.
pub fn prepare(
    store: &Store,
    actor: &Actor,
    roster: &Roster,
    rules: &Rules,
) -> Result<(i64, Plan)> {
    let plan = diff(store, roster, rules)?;
    let id = store.save_import(
        actor,
        roster.source.as_str(),
        &roster.origin,
        &to_json(roster)?,
        &to_json(&plan)?,
        &to_json(&plan.summary())?,
    )?;
    Ok((id, plan))
}

/// What became of an approval.
#[derive(Debug)]
pub enum Outcome {
    Applied(Applied),
    /// The directory changed since the diff was made; this is the new diff, stored in place of
    /// the old one. Nothing was written.
    Changed(Box<Plan>),
}

/// Applies stored import `id` if its diff is still what the directory would get now.
pub fn apply_import(store: &Store, actor: &Actor, id: i64, rules: &Rules) -> Result<Outcome> {
    let rec = store
        .import_record(id)?
        .ok_or_else(|| Error::NotFound(format!("import #{id}")))?;
    if rec.status != "pending" {
        return Err(Error::Invalid(format!(
            "import #{id} is {} and cannot be applied again",
            rec.status
        )));
    }
    let shown: Plan = from_json(&rec.plan, id)?;
    let now_plan = if rec.source == "promote" {
        let stored: serde_json::Value = from_json(&rec.roster, id)?;
        let last_grade = stored
            .get("last_grade")
            .and_then(serde_json::Value::as_u64)
            .and_then(|g| u32::try_from(g).ok())
            .ok_or_else(|| Error::Invalid(format!("import #{id} has no last grade stored")))?;
        crate::plan::promotion(&store.import_snapshot()?, last_grade)
    } else {
        let roster: Roster = from_json(&rec.roster, id)?;
        diff(store, &roster, rules)?
    };
    if now_plan != shown {
        store.replace_import_plan(id, &to_json(&now_plan)?, &to_json(&now_plan.summary())?)?;
        return Ok(Outcome::Changed(Box::new(now_plan)));
    }
    match apply(store, actor, &shown, Some(id), rules) {
        Ok(a) => Ok(Outcome::Applied(a)),
        Err(e) => {
            // The transaction rolled back; say so on the import, keep the error for the caller.
            let _ = store.close_import(actor, id, "failed", &e.to_string());
            Err(e)
        }
    }
}

/// Stores the school-year changeover's plan for approval.
pub fn prepare_promotion(store: &Store, actor: &Actor, last_grade: u32) -> Result<(i64, Plan)> {
    let plan = crate::plan::promotion(&store.import_snapshot()?, last_grade);
    let id = store.save_import(
        actor,
        "promote",
        &plan.origin,
        &json!({"last_grade": last_grade}).to_string(),
        &to_json(&plan)?,
        &to_json(&plan.summary())?,
    )?;
    Ok((id, plan))
}

fn to_json<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| Error::Invalid(format!("cannot store the import: {e}")))
}

fn from_json<T: serde::de::DeserializeOwned>(s: &str, id: i64) -> Result<T> {
    serde_json::from_str(s).map_err(|e| {
        Error::Invalid(format!(
            "import #{id} was stored by another version and cannot be read ({e}); prepare it again"
        ))
    })
}
