//! `scripts/bench import`: the import of a whole school, timed against its limits.
//!
//! 1. A sophomorix export (Windows-1252, `;`) of `--people` students is read and diffed against
//!    an empty school: the dry run an admin waits for (goal < 2 s for 5,000).
//! 2. That diff is applied: the passwords hashed on every core with the configured argon2id
//!    parameters, then everything else in one transaction (goal for everything else < 5 s).
//! 3. The next year's export (everyone promoted, the last grade gone, a new first grade) is
//!    diffed and applied: the school-year changeover, the heaviest write of the year.
//! 4. The same number of people from a real OpenLDAP slapd on loopback: fetched with a paged
//!    search, diffed and applied, no hashing (synced people sign in with their upstream
//!    password; goal < 30 s for 5,000).
//!
//! Each figure is printed next to its limit as a ratio; exit 0 only when all are met.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use clap::Args;
use schola_core::audit::Actor;
use schola_core::config::{Config, Import};
use schola_core::{Store, SystemClock};
use schola_dirsync::apply::{Rules, apply, diff};
use schola_dirsync::csv::{ProfileChoice, read_csv};
use schola_dirsync::ldap::fetch;
use schola_dirsync::ldap::testing::{SchemaKind, Slapd, people_ldif};

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// People in the school
    #[arg(long, default_value_t = 5000)]
    people: usize,
    /// Skip the LDAP part (it needs slapd: apt-get install slapd ldap-utils)
    #[arg(long)]
    no_ldap: bool,
}

// Latin-1 letters only, so each is one byte in Windows-1252 (as the export would have them).
const GIVEN: &[&str] = &[
    "Anna",
    "Jörg",
    "Zoë",
    "Ayse",
    "Lukas",
    "Émilie",
    "Björn",
    "Siobhán",
    "Mehmet",
    "Lena",
    "José",
    "Malgorzata",
    "Noah",
    "Chloé",
    "Ömer",
    "Jürgen",
];
const FAMILY: &[&str] = &[
    "Müller",
    "Groß",
    "O'Connor",
    "Öztürk",
    "Schmidt",
    "De Smet",
    "Weiß",
    "Nguyen",
    "Kowalski",
    "van der Berg",
    "Schäfer",
    "Dubois",
    "Krause",
    "Yilmaz",
    "Straße",
    "Janssens",
];

/// A sophomorix `students.csv` (Windows-1252, CRLF): `n` students in grades 5 to 10, four
/// classes a grade. `next_year` is the same school a year later: everyone a grade up, grade 10
/// gone, a new grade 5.
fn sophomorix(n: usize, next_year: bool) -> Vec<u8> {
    let per_grade = n.div_ceil(6).max(1);
    let mut text = String::new();
    let mut row = |id: usize, grade: usize| {
        let class = format!("{grade}{}", ['a', 'b', 'c', 'd'][id % 4]);
        let given = GIVEN[id % GIVEN.len()];
        let family = FAMILY[(id / GIVEN.len()) % FAMILY.len()];
        text.push_str(&format!(
            "{class};{family};{given};{:02}.{:02}.20{:02};{};\r\n",
            id % 28 + 1,
            id % 12 + 1,
            id % 10 + 10,
            100_000 + id
        ));
    };
    for i in 0..n {
        let grade = 5 + i / per_grade;
        match (next_year, grade) {
            (false, g) => row(i, g),
            (true, 10) => {}
            (true, g) => row(i, g + 1),
        }
    }
    if next_year {
        for j in 0..per_grade {
            row(n + j, 5);
        }
    }
    text.chars()
        .filter_map(|c| u8::try_from(u32::from(c)).ok())
        .collect()
}

struct Figure {
    what: String,
    took: Duration,
    limit: Option<Duration>,
}

pub fn run(args: &ImportArgs) -> Result<bool> {
    let dir = tempfile::tempdir().context("cannot make a temporary directory")?;
    let (store, _) = Store::open_with_clock(&dir.path().join("schola.db"), Arc::new(SystemClock))?;
    let cfg = Config::default();
    let rules = Rules::in_force(&cfg, &store)?;
    let actor = Actor::cli();
    let n = args.people;
    println!(
        "import benchmark: {n} people, argon2id m={} KiB t={} p={}, {} hash threads",
        cfg.auth.argon2.memory_kib,
        cfg.auth.argon2.iterations,
        cfg.auth.argon2.parallelism,
        rules.hash_threads
    );
    let mut figures = Vec::new();

    // 1. read + diff (dry run)
    let file = sophomorix(n, false);
    let t = Instant::now();
    let roster = read_csv(
        &file,
        "students.csv",
        &ProfileChoice::Auto,
        &Import::default(),
    )?;
    let plan = diff(&store, &roster, &rules)?;
    figures.push(Figure {
        what: format!("dry run: read and diff {n} people"),
        took: t.elapsed(),
        limit: Some(Duration::from_secs(2)),
    });
    if plan.create.len() != n {
        bail!(
            "the diff creates {} people, not {n} (rejected: {:?})",
            plan.create.len(),
            plan.rejected.first()
        );
    }
    // 2. apply
    let done = apply(&store, &actor, &plan, None, &rules)?;
    figures.push(Figure {
        what: format!("apply, hashing {} passwords", done.letters.len()),
        took: done.hashing,
        limit: None,
    });
    figures.push(Figure {
        what: "apply, everything else".into(),
        took: done.rest,
        limit: Some(Duration::from_secs(5)),
    });
    // 3. the changeover from next year's export
    let next = sophomorix(n, true);
    let t = Instant::now();
    let roster = read_csv(
        &next,
        "students-next-year.csv",
        &ProfileChoice::Auto,
        &Import::default(),
    )?;
    let plan = diff(&store, &roster, &rules)?;
    figures.push(Figure {
        what: format!(
            "changeover dry run ({} moved, {} leaving, {} new)",
            plan.moves.len(),
            plan.disable.len(),
            plan.create.len()
        ),
        took: t.elapsed(),
        limit: Some(Duration::from_secs(2)),
    });
    let done = apply(&store, &actor, &plan, None, &rules)?;
    figures.push(Figure {
        what: "changeover apply, everything but hashing".into(),
        took: done.rest,
        limit: Some(Duration::from_secs(5)),
    });
    drop(store);

    // 4. LDAP
    if !args.no_ldap {
        figures.push(ldap_sync(n)?);
    }

    let mut pass = true;
    // the LDAP line names its three parts: widen the column for it rather than misalign
    let w = figures
        .iter()
        .map(|f| f.what.chars().count())
        .max()
        .unwrap_or(0)
        .max(58);
    println!();
    for f in &figures {
        match f.limit {
            Some(limit) => {
                let ratio = f.took.as_secs_f64() / limit.as_secs_f64();
                let ok = ratio < 1.0;
                pass &= ok;
                println!(
                    "  {:<w$} {:>8.2} s   limit {:>5.1} s   ratio {:.2}  {}",
                    f.what,
                    f.took.as_secs_f64(),
                    limit.as_secs_f64(),
                    ratio,
                    if ok { "ok" } else { "TOO SLOW" }
                );
            }
            None => println!("  {:<w$} {:>8.2} s", f.what, f.took.as_secs_f64()),
        }
    }
    println!("\nimport benchmark: {}", if pass { "PASS" } else { "FAIL" });
    Ok(pass)
}

/// Part 4: `n` people in a real slapd (the harness of `schola_dirsync::ldap::testing`, LDAPS
/// with its test CA, the service account's 1,000-entry limit, so paged), synced into a fresh
/// school. Setting the server up is not timed; the fetch, the diff and the apply are.
fn ldap_sync(n: usize) -> Result<Figure> {
    let ldap_dir = tempfile::tempdir().context("cannot make a temporary directory for slapd")?;
    let t = Instant::now();
    let ldif = people_ldif(n, SchemaKind::OpenLdap);
    let slapd = Slapd::start_with(ldap_dir.path(), SchemaKind::OpenLdap, &ldif)
        .context("cannot start the test slapd (run with --no-ldap to skip this part)")?;
    println!(
        "slapd with {n} people on {} (set up in {:.1} s, not timed)",
        slapd.ldaps_url,
        t.elapsed().as_secs_f64()
    );
    let dir = tempfile::tempdir().context("cannot make a temporary directory")?;
    let (store, _) = Store::open_with_clock(&dir.path().join("schola.db"), Arc::new(SystemClock))?;
    let rules = Rules::in_force(&Config::default(), &store)?;
    let ldap = slapd.config();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start a tokio runtime")?;

    let t = Instant::now();
    let roster = rt.block_on(fetch(&ldap)).with_context(|| {
        format!(
            "the LDAP fetch failed (slapd's log: {})",
            slapd.log_path.display()
        )
    })?;
    let fetch_took = t.elapsed();
    let t = Instant::now();
    let plan = diff(&store, &roster, &rules)?;
    let diff_took = t.elapsed();
    let t = Instant::now();
    let done = apply(&store, &Actor::cli(), &plan, None, &rules)?;
    let apply_took = t.elapsed();

    if roster.people.len() + roster.rejected.len() != n {
        bail!(
            "the LDAP fetch read {} people and rejected {}, but slapd holds {n}",
            roster.people.len(),
            roster.rejected.len()
        );
    }
    let expected = n - plan.rejected.len();
    if done.summary.create != expected || plan.create.len() != expected {
        bail!(
            "the LDAP sync created {} people, not {expected} ({n} entries, {} rejected: {:?})",
            done.summary.create,
            plan.rejected.len(),
            plan.rejected.first()
        );
    }
    if !done.letters.is_empty() {
        bail!(
            "the LDAP sync made {} initial passwords; upstream people sign in with their upstream one",
            done.letters.len()
        );
    }
    let again = diff(&store, &roster, &rules)?;
    if !again.is_empty() {
        bail!(
            "after the LDAP sync the same roster still differs from the school: {:?}",
            again.summary()
        );
    }
    drop(slapd);

    Ok(Figure {
        what: format!(
            "LDAP sync of {n} entries (fetch {:.1} s, diff {:.1} s, apply {:.1} s), no hashing",
            fetch_took.as_secs_f64(),
            diff_took.as_secs_f64(),
            apply_took.saturating_sub(done.hashing).as_secs_f64()
        ),
        took: (fetch_took + diff_took + apply_took).saturating_sub(done.hashing),
        limit: Some(Duration::from_secs(30)),
    })
}
