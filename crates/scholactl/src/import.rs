//! `scholactl import …`: CSV exports and the upstream LDAP into the directory, always as a diff
//! first. A diff is stored as a pending import (the admin UI shows the same ones) and applied
//! with `--apply` or `scholactl import apply ID`; the password letters of new accounts are
//! written where `--letters DIR` says or kept for one download in the admin UI.

use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, anyhow, bail};
use schola_core::audit::Actor;
use schola_core::{Config, Store};
use schola_dirsync::apply::{self, Applied, Outcome, Rules};
use schola_dirsync::csv::{self, ProfileChoice};
use schola_dirsync::letters::{self, BatchMeta, LetterFormat, LetterHeader, LetterStore};
use schola_dirsync::plan::Plan;
use schola_dirsync::roster::Roster;

use crate::cli::{ImportApplyOpts, ImportCommand};
use crate::context::Ctx;
use crate::output::{self, printable};

/// Letters wait this long for their one download.
pub const LETTERS_MAX_AGE: i64 = 24 * 3600;

pub fn run(ctx: &Ctx, cmd: ImportCommand) -> Result<()> {
    let cfg = ctx.config()?;
    match cmd {
        ImportCommand::Profiles => {
            let names = csv::profile_names(&cfg.import);
            if ctx.json {
                return output::print_json(&names);
            }
            output::print(&format!("{}\n", names.join("\n")))
        }
        ImportCommand::Csv(args) => {
            // read and create files as the caller, before acting as the state's owner
            let bytes = read_limited(&args.file)?;
            let files = LetterFiles::create_for(&args.opts)?;
            let store = ctx.store(&cfg)?;
            let origin = args
                .file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| args.file.display().to_string());
            let choice = match args.profile {
                Some(p) => ProfileChoice::Named(p),
                None => ProfileChoice::Auto,
            };
            let mut roster = csv::read_csv(&bytes, &origin, &choice, &cfg.import)
                .map_err(|e| anyhow!("{}: {e}", args.file.display()))?;
            if args.partial {
                roster.roles.clear();
            }
            prepare_and_maybe_apply(ctx, &cfg, &store, &roster, &args.opts, files)
        }
        ImportCommand::Ldap(opts) => {
            let files = LetterFiles::create_for(&opts)?;
            let store = ctx.store(&cfg)?;
            let ldap = cfg.import.ldap.as_ref().ok_or_else(|| {
                anyhow!(
                    "no upstream directory is configured: add an [import.ldap] section to {}",
                    ctx.config_path.display()
                )
            })?;
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .context("cannot start the LDAP client")?;
            let roster = rt
                .block_on(schola_dirsync::ldap::fetch(ldap))
                .map_err(|e| anyhow!("{e}"))?;
            prepare_and_maybe_apply(ctx, &cfg, &store, &roster, &opts, files)
        }
        ImportCommand::Promote { last_grade, opts } => {
            let files = LetterFiles::create_for(&opts)?;
            let store = ctx.store(&cfg)?;
            let grade = last_grade.unwrap_or(cfg.import.last_grade);
            let (id, plan) = apply::prepare_promotion(&store, &Actor::cli(), grade)?;
            show_and_maybe_apply(ctx, &cfg, &store, id, &plan, &opts, files)
        }
        ImportCommand::List { status } => {
            let store = ctx.store(&cfg)?;
            let list = store.list_imports(status.as_deref(), 100)?;
            if ctx.json {
                return output::print_json(&list);
            }
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|r| {
                    let s: apply_summary::S = serde_json::from_str(&r.summary).unwrap_or_default();
                    vec![
                        r.id.to_string(),
                        output::datetime(r.created_at),
                        r.status.clone(),
                        r.source.clone(),
                        s.line(),
                        printable(&r.origin),
                    ]
                })
                .collect();
            let mut text = output::table(
                &["id", "prepared", "state", "source", "change", "origin"],
                &rows,
            );
            text.push_str(&output::count(list.len(), "import", "imports"));
            text.push('\n');
            output::print(&text)
        }
        ImportCommand::Show { id } => {
            let store = ctx.store(&cfg)?;
            let rec = store
                .import_record(id)?
                .ok_or_else(|| anyhow!("there is no import #{id} (see 'scholactl import list')"))?;
            let plan: Plan = serde_json::from_str(&rec.plan)
                .with_context(|| format!("import #{id} cannot be read by this version"))?;
            if ctx.json {
                return output::print_json(&plan);
            }
            let mut text = plan_text(&plan);
            text.push_str(&format!("\nimport #{id} is {}\n", rec.status));
            output::print(&text)
        }
        ImportCommand::Apply { id, letters } => {
            let opts = ImportApplyOpts {
                apply: true,
                letters,
            };
            let files = LetterFiles::create_for(&opts)?;
            let store = ctx.store(&cfg)?;
            apply_stored(ctx, &cfg, &store, id, files)
        }
        ImportCommand::Discard { id } => {
            let store = ctx.store(&cfg)?;
            store.close_import(&Actor::cli(), id, "discarded", "")?;
            output::print(&format!("import #{id} discarded; nothing was changed\n"))
        }
        ImportCommand::Letters { token, out } => {
            let letters_store = LetterStore::new(cfg.letters_dir());
            let now = now();
            match (token, out) {
                (None, _) => {
                    let list = letters_store
                        .list(now, LETTERS_MAX_AGE)
                        .with_context(|| format!("cannot read {}", cfg.letters_dir().display()))?;
                    if ctx.json {
                        return output::print_json(&list);
                    }
                    let rows: Vec<Vec<String>> = list
                        .iter()
                        .map(|b| {
                            vec![
                                b.token.clone(),
                                output::datetime(b.created_at),
                                b.count.to_string(),
                                [("pdf", b.pdf_left), ("csv", b.csv_left)]
                                    .iter()
                                    .filter(|(_, left)| *left)
                                    .map(|(f, _)| *f)
                                    .collect::<Vec<_>>()
                                    .join(" "),
                                b.classes.join(" "),
                            ]
                        })
                        .collect();
                    output::print(&output::table(
                        &["token", "made", "letters", "left", "classes"],
                        &rows,
                    ))
                }
                (Some(token), out) => {
                    let dir = out.unwrap_or_else(|| ".".into());
                    // which formats are left, read before anything is created
                    let Some(batch) = letters_store
                        .list(now, LETTERS_MAX_AGE)
                        .with_context(|| format!("cannot read {}", cfg.letters_dir().display()))?
                        .into_iter()
                        .find(|b| b.token == token)
                    else {
                        bail!(
                            "the letters '{}' were already taken, have expired (after 24 hours) or never existed; \
                             make new passwords for a class with 'scholactl user passwd' or the class page in the admin UI",
                            printable(&token)
                        );
                    };
                    let files = LetterFiles::create(
                        &dir,
                        "password-letters",
                        batch.pdf_left,
                        batch.csv_left,
                    )?;
                    let store = ctx.store(&cfg)?;
                    let school = store.school()?.name;
                    let created = output::date(now);
                    let header = LetterHeader {
                        school: &school,
                        portal_url: &portal_url(&cfg),
                        created: &created,
                    };
                    let pdf = match batch.pdf_left {
                        true => letters_store.take(
                            &token,
                            LetterFormat::Pdf,
                            &header,
                            now,
                            LETTERS_MAX_AGE,
                        )?,
                        false => None,
                    };
                    let csv_bytes = match batch.csv_left {
                        true => letters_store.take(
                            &token,
                            LetterFormat::Csv,
                            &header,
                            now,
                            LETTERS_MAX_AGE,
                        )?,
                        false => None,
                    };
                    let wrote = files.write(pdf.as_deref(), csv_bytes.as_deref())?;
                    output::print(&format!(
                        "wrote {} (readable only by you; they are gone from the server now)\n",
                        wrote.join(" and ")
                    ))
                }
            }
        }
    }
}

mod apply_summary {
    use serde::Deserialize;

    #[derive(Debug, Default, Deserialize)]
    #[serde(default)]
    pub struct S {
        create: usize,
        update: usize,
        moves: usize,
        disable: usize,
        enable: usize,
        purge: usize,
        rejected: usize,
    }

    impl S {
        pub fn line(&self) -> String {
            format!(
                "+{} ~{} >{} -{} ↺{} ✕{} rejected {}",
                self.create,
                self.update,
                self.moves,
                self.disable,
                self.enable,
                self.purge,
                self.rejected
            )
        }
    }
}

fn read_limited(path: &Path) -> Result<Vec<u8>> {
    let meta =
        std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    if meta.len() > csv::MAX_FILE_BYTES as u64 {
        bail!(
            "{} is {} MiB; an export of a school is far smaller (at most {} MiB are read)",
            path.display(),
            meta.len() / (1024 * 1024),
            csv::MAX_FILE_BYTES / (1024 * 1024)
        );
    }
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

fn prepare_and_maybe_apply(
    ctx: &Ctx,
    cfg: &Config,
    store: &Store,
    roster: &Roster,
    opts: &ImportApplyOpts,
    files: Option<LetterFiles>,
) -> Result<()> {
    let rules = Rules::in_force(cfg, store)?;
    let (id, plan) = apply::prepare(store, &Actor::cli(), roster, &rules)?;
    show_and_maybe_apply(ctx, cfg, store, id, &plan, opts, files)
}

fn show_and_maybe_apply(
    ctx: &Ctx,
    cfg: &Config,
    store: &Store,
    id: i64,
    plan: &Plan,
    opts: &ImportApplyOpts,
    files: Option<LetterFiles>,
) -> Result<()> {
    if !opts.apply {
        if ctx.json {
            return output::print_json(&serde_json::json!({"import": id, "plan": plan}));
        }
        let mut text = plan_text(plan);
        if plan.is_empty() {
            text.push_str(&format!("\nnothing to change (import #{id})\n"));
        } else {
            text.push_str(&format!(
                "\nnothing was changed yet. Apply this with: scholactl import apply {id}   (or in the admin UI: Import)\n"
            ));
        }
        return output::print(&text);
    }
    if !ctx.json {
        output::print(&plan_text(plan))?;
    }
    apply_stored(ctx, cfg, store, id, files)
}

fn apply_stored(
    ctx: &Ctx,
    cfg: &Config,
    store: &Store,
    id: i64,
    files: Option<LetterFiles>,
) -> Result<()> {
    let rules = Rules::in_force(cfg, store)?;
    match apply::apply_import(store, &Actor::cli(), id, &rules)
        .with_context(|| format!("import #{id} was not applied; nothing was changed"))?
    {
        Outcome::Changed(plan) => {
            if !ctx.json {
                output::print(&plan_text(&plan))?;
            }
            bail!(
                "the directory changed since import #{id} was prepared; nothing was applied. \
                 Review the new change above and run 'scholactl import apply {id}' again"
            )
        }
        Outcome::Applied(done) => {
            let letters_note = deliver_letters(cfg, store, id, &done, files)?;
            if ctx.json {
                return output::print_json(&serde_json::json!({
                    "import": id, "applied": done, "letters": letters_note
                }));
            }
            output::print(&format!(
                "applied import #{id}: {} created, {} updated, {} moved, {} disabled, {} re-enabled, {} purged \
                 (hashing {:.1} s, everything else {:.1} s)\n{}",
                done.summary.create,
                done.summary.update,
                done.summary.moves,
                done.summary.disable,
                done.summary.enable,
                done.summary.purge,
                done.hashing.as_secs_f64(),
                done.rest.as_secs_f64(),
                letters_note.map(|n| format!("{n}\n")).unwrap_or_default()
            ))
        }
    }
}

/// Writes the letters into the `--letters` files, or keeps them for one download in the admin
/// UI.
fn deliver_letters(
    cfg: &Config,
    store: &Store,
    id: i64,
    done: &Applied,
    files: Option<LetterFiles>,
) -> Result<Option<String>> {
    if let Some(files) = files {
        let school = store.school()?.name;
        let created = output::date(now());
        let header = LetterHeader {
            school: &school,
            portal_url: &portal_url(cfg),
            created: &created,
        };
        let wrote = files.write(
            Some(&letters::letters_pdf(&header, &done.letters)),
            Some(&letters::letters_csv(&done.letters)),
        )?;
        return Ok(Some(if done.letters.is_empty() {
            format!(
                "no new accounts, so no passwords in {}",
                wrote.join(" and ")
            )
        } else {
            format!(
                "password letters for {} new accounts: {} (readable only by you; hand them out, then delete them)",
                done.letters.len(),
                wrote.join(" and ")
            )
        }));
    }
    if done.letters.is_empty() {
        return Ok(None);
    }
    let token = LetterStore::new(cfg.letters_dir())
        .put(
            &done.letters,
            &BatchMeta {
                created_at: now(),
                import_id: Some(id),
                created_by: Actor::cli().name,
            },
        )
        .with_context(|| {
            format!(
                "the import was applied, but its password letters could not be stored in {}; \
                 make new passwords for the new accounts in the admin UI",
                cfg.letters_dir().display()
            )
        })?;
    Ok(Some(format!(
        "password letters for {} new accounts wait for one download in the admin UI (Import), \
         or: scholactl import letters {token} --out DIR",
        done.letters.len()
    )))
}

/// The files `--letters DIR` (or `letters --out DIR`) writes, created empty with mode 0600 by
/// the person running scholactl before it acts as the owner of the school's state (as root, the
/// user schola, who may not write DIR), and filled afterwards through the open files.
struct LetterFiles {
    pdf: Option<(PathBuf, std::fs::File)>,
    csv: Option<(PathBuf, std::fs::File)>,
}

impl LetterFiles {
    fn create_for(opts: &ImportApplyOpts) -> Result<Option<LetterFiles>> {
        let Some(dir) = &opts.letters else {
            return Ok(None);
        };
        let t = now();
        let stem = format!(
            "password-letters-{}-{:02}{:02}{:02}",
            output::date(t),
            t.rem_euclid(86_400) / 3600,
            t.rem_euclid(3600) / 60,
            t.rem_euclid(60)
        );
        LetterFiles::create(dir, &stem, true, true).map(Some)
    }

    fn create(dir: &Path, stem: &str, pdf: bool, csv: bool) -> Result<LetterFiles> {
        let open = |ext: &str| -> Result<(PathBuf, std::fs::File)> {
            let path = dir.join(format!("{stem}.{ext}"));
            let f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
                .with_context(|| {
                    format!("cannot create {} (it must not exist yet)", path.display())
                })?;
            Ok((path, f))
        };
        Ok(LetterFiles {
            pdf: if pdf { Some(open("pdf")?) } else { None },
            csv: if csv { Some(open("csv")?) } else { None },
        })
    }

    /// Writes what there is; returns the paths written.
    fn write(self, pdf: Option<&[u8]>, csv: Option<&[u8]>) -> Result<Vec<String>> {
        let mut wrote = Vec::new();
        for (file, bytes) in [(self.pdf, pdf), (self.csv, csv)] {
            if let (Some((path, mut f)), Some(bytes)) = (file, bytes) {
                // created 0600 by the caller; no chmod here: after taking on the state's owner
                // this process no longer owns the file (fchmod would fail with EPERM)
                f.write_all(bytes)
                    .and_then(|()| f.sync_all())
                    .with_context(|| format!("cannot write {}", path.display()))?;
                wrote.push(path.display().to_string());
            }
        }
        Ok(wrote)
    }
}

fn portal_url(cfg: &Config) -> String {
    match cfg.web.listen.first() {
        Some(a) if a.ip().is_unspecified() => format!(
            "https://{}/",
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .map(|h| h.trim().to_string())
                .ok()
                .filter(|h| !h.is_empty())
                .unwrap_or_else(|| "schola".into())
        ),
        Some(a) if a.port() == 443 => format!("https://{}/", a.ip()),
        Some(a) => format!("https://{a}/"),
        None => "https://schola/".into(),
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// The change as a text report: counts, then each kind as a table, then rejected rows and
/// warnings with their line numbers.
pub fn plan_text(plan: &Plan) -> String {
    let mut out = String::new();
    let s = plan.summary();
    out.push_str(&format!(
        "{} ({}, profile {}{}{})\n",
        printable(&plan.origin),
        plan.source,
        plan.profile,
        plan.encoding
            .as_deref()
            .map(|e| format!(", {e}"))
            .unwrap_or_default(),
        plan.delimiter
            .map(|d| format!(
                ", delimiter {}",
                if d == '\t' {
                    "TAB".into()
                } else {
                    format!("'{d}'")
                }
            ))
            .unwrap_or_default(),
    ));
    out.push_str(&format!(
        "create {}, update {}, move {}, disable {}, re-enable {}, purge {}, new classes {}, unchanged {}, rejected rows {}, warnings {}\n",
        s.create, s.update, s.moves, s.disable, s.enable, s.purge, s.new_classes, s.unchanged, s.rejected, s.warnings
    ));
    let line = |l: Option<u64>| l.map(|l| l.to_string()).unwrap_or_default();
    if !plan.create.is_empty() {
        out.push_str("\nnew people:\n");
        let rows: Vec<Vec<String>> = plan
            .create
            .iter()
            .map(|c| {
                vec![
                    line(c.line),
                    printable(&format!("{} {}", c.fields.given_name, c.fields.family_name)),
                    c.login.clone(),
                    c.fields.role.to_string(),
                    c.classes.join(" "),
                ]
            })
            .collect();
        out.push_str(&output::table(
            &["line", "name", "login", "role", "classes"],
            &rows,
        ));
    }
    if !plan.update.is_empty() {
        out.push_str("\nchanged:\n");
        let rows: Vec<Vec<String>> = plan
            .update
            .iter()
            .flat_map(|u| {
                u.changes.iter().map(move |c| {
                    vec![
                        line(u.line),
                        u.login.clone(),
                        c.field.clone(),
                        printable(&c.from),
                        printable(&c.to),
                    ]
                })
            })
            .collect();
        out.push_str(&output::table(
            &["line", "login", "field", "from", "to"],
            &rows,
        ));
    }
    if !plan.class_flows.is_empty() {
        out.push_str("\nclasses:\n");
        let rows: Vec<Vec<String>> = plan
            .class_flows
            .iter()
            .map(|f| vec![f.from.clone(), f.to.clone(), f.people.to_string()])
            .collect();
        out.push_str(&output::table(&["from", "to", "people"], &rows));
    }
    if !plan.moves.is_empty() {
        out.push_str("\nmoved to another class:\n");
        let rows: Vec<Vec<String>> = plan
            .moves
            .iter()
            .map(|m| {
                vec![
                    line(m.line),
                    m.login.clone(),
                    printable(&m.name),
                    m.from.join(" "),
                    m.to.join(" "),
                ]
            })
            .collect();
        out.push_str(&output::table(
            &["line", "login", "name", "from", "to"],
            &rows,
        ));
    }
    for (title, list) in [
        (
            "left (disabled now, purged after the grace period):",
            &plan.disable,
        ),
        ("back again (re-enabled):", &plan.enable),
        (
            "purged (disabled longer than the grace period; files and mail are archived):",
            &plan.purge,
        ),
    ] {
        if list.is_empty() {
            continue;
        }
        out.push_str(&format!("\n{title}\n"));
        let rows: Vec<Vec<String>> = list
            .iter()
            .map(|a| {
                vec![
                    a.login.clone(),
                    printable(&a.name),
                    a.role.to_string(),
                    a.classes.join(" "),
                ]
            })
            .collect();
        out.push_str(&output::table(&["login", "name", "role", "classes"], &rows));
    }
    if !plan.new_classes.is_empty() {
        out.push_str(&format!("\nnew classes: {}\n", plan.new_classes.join(" ")));
    }
    if !plan.rejected.is_empty() {
        out.push_str("\nrejected rows (not imported):\n");
        let rows: Vec<Vec<String>> = plan
            .rejected
            .iter()
            .map(|r| vec![line(r.line), printable(&r.at), printable(&r.reason)])
            .collect();
        out.push_str(&output::table(&["line", "row", "reason"], &rows));
    }
    if !plan.warnings.is_empty() {
        out.push_str("\nwarnings (repaired or worth a look):\n");
        let rows: Vec<Vec<String>> = plan
            .warnings
            .iter()
            .map(|w| vec![line(w.line), printable(&w.message)])
            .collect();
        out.push_str(&output::table(&["line", "warning"], &rows));
    }
    out
}
