//! `scripts/bench backup` (issue 10): the first and the incremental backup of a school's data
//! through `schola_backup::back_up` (the online database copy, then restic), and restoring one
//! file, each next to `tar` on the same tree and the same filesystem in the same run.
//!
//! 1. A dev-profile school is generated (seeded, streamed to disk, never a file in memory) in a
//!    new folder under `--target`: about 29 % of the bytes as many small text documents (2 to
//!    200 KiB, log-uniform, in `home/<login>/Documents/...` and class folders), 1 % as a few
//!    Maildir mailboxes, 70 % as videos of 100 to 700 MiB of random bytes.
//! 2. `tar -cf tree.tar` of the paths the backup saves, then `sync -f` (the peer); then
//!    `tar -xf tree.tar <member>` of one document and one video (the restore peers). tree.tar
//!    is removed before restic runs, so the run needs about twice the data on the disk, not
//!    three times.
//! 3. The first backup into a new repository; the data is changed by about 1 % (documents
//!    edited, new ones, part of a video replaced, new mail), and backed up again.
//! 4. The same document and video restored with `schola_backup::restore_path`.
//!
//! Before each timed step dirty pages are written back and the page cache dropped (needs root),
//! so that every step reads from the disk alike. Exit 0 only when every goal is met.

use std::fs::File;
use std::io::{BufWriter, Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use clap::Args;
use schola_backup::{Layout, Restic, Target};
use schola_core::audit::Actor;
use schola_core::directory::NewPerson;
use schola_core::login::LoginScheme;
use schola_core::{Config, Store};

use crate::stats::{self, Table, Verdict, count, human};

const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;
const GIB: u64 = 1024 * MIB;

// The goals. restic reads every byte, hashes it (SHA-256), cuts it into content-defined chunks,
// looks each up in its index and encrypts it (AES-256 + Poly1305) before writing; tar only copies.
// On the appliance's two cores that work, not the disk, is the limit, so the first backup may
// run at a quarter of tar's rate: 10 GiB at tar's ~200 MiB/s take ~1 minute, at a quarter of it
// ~4 minutes, which a nightly backup can afford many times over.
/// First backup: restic's throughput at least this share of tar's.
const FIRST_GOAL: f64 = 0.25;
/// Incremental backup: at most this share of tar's time for the whole tree. restic skips
/// unchanged files by their metadata (size, mtime, inode) and reads only the changed ones, so
/// anything near a full copy's time means the incremental path is not working.
const INCREMENTAL_TIME_GOAL: f64 = 0.50;
/// Incremental backup: bytes added at most this share of the data, with about 1 % changed:
/// restic's chunks average 1 MiB (512 KiB to 8 MiB), so a change inside a video costs the
/// chunks around its edges besides the changed bytes, plus the changed folders' tree blobs.
const INCREMENTAL_ADDED_GOAL: f64 = 0.03;
/// Restoring one document: what an admin waits for while a teacher is on the phone.
const DOC_RESTORE_GOAL: Duration = Duration::from_secs(5);
/// Restoring one video: at most this many times tar's extraction of the same member (the
/// same quarter of tar's throughput as the first backup: restic reads, decrypts and checks).
const VIDEO_RESTORE_GOAL: f64 = 4.0;
/// Free space needed on the target, as a multiple of the data: the data, then tar's copy or
/// restic's repository (restic 0.14 does not compress, so about the data again), the changes
/// and one restored video, with room to spare.
const FREE_FACTOR: f64 = 2.6;
/// Shares of the data.
const DOC_SHARE: f64 = 0.29;
const MAIL_SHARE: f64 = 0.01;
/// Shares of the data changed before the incremental backup (about 1 % together).
const EDIT_SHARE: f64 = 0.003;
const NEW_SHARE: f64 = 0.002;
const VIDEO_CHANGE_SHARE: f64 = 0.005;
/// The generator's write size for videos.
const BLOCK: usize = 1 << 20;

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// Size of the school's data to generate, in GiB (30 % documents and mail, 70 % videos)
    #[arg(long, default_value_t = 10.0)]
    gib: f64,
    /// A folder on the filesystem to measure (the backup disk): the school, tar's archive and
    /// restic's repository are made in a new folder under it [default: /var/tmp]
    #[arg(long)]
    target: Option<PathBuf>,
    /// Keep everything the run made (and print where it is)
    #[arg(long)]
    keep: bool,
    /// Seed of the generated data (the same seed makes the same tree)
    #[arg(long, default_value_t = 10)]
    seed: u64,
}

pub fn run(args: &BackupArgs) -> Result<bool> {
    if !(0.05..=1024.0).contains(&args.gib) {
        bail!("--gib must be between 0.05 and 1024, not {}", args.gib);
    }
    let total = (args.gib * GIB as f64) as u64;
    let target = args
        .target
        .clone()
        .unwrap_or_else(|| PathBuf::from("/var/tmp"));
    if !target.is_dir() {
        bail!("the target {} is not a folder", target.display());
    }
    require_tools()?;
    let free = free_bytes(&target)?;
    let need = (total as f64 * FREE_FACTOR) as u64;
    if free < need {
        bail!(
            "{} has {} free, but a run with {} of data needs about {} ({FREE_FACTOR}x: the data, \
             then tar's archive or restic's repository, and restored files); free some space, \
             pass a smaller --gib or another --target",
            target.display(),
            gib(free),
            gib(total),
            gib(need)
        );
    }
    let mut work = tempfile::Builder::new()
        .prefix("schola-bench-backup-")
        .tempdir_in(&target)
        .with_context(|| format!("cannot make a folder under {}", target.display()))?;
    if args.keep {
        work.disable_cleanup(true);
    }
    let est = estimate(total);
    println!(
        "backup benchmark: {} of school data in {} ({} free), seed {}; estimated duration {} \
         (at most {} per restic run)",
        gib(total),
        work.path().display(),
        gib(free),
        args.seed,
        minutes(est),
        minutes(restic_deadline(total)),
    );
    if let Some(load) = stats::load_average() {
        println!("load average {load:.2} at the start (the machine is shared: read the ratios)");
    }
    let result = measure(work.path(), total, args.seed);
    if args.keep {
        println!("kept everything in {}", work.path().display());
    } else {
        println!("removing {}", work.path().display());
    }
    drop(work);
    result
}

/// About how long a run takes on the appliance's class of machine (a disk writing ~250 MiB/s
/// with fsync, 2 cores, shared), from `--gib 1` and `--gib 10` runs: generating (~180 MiB/s),
/// tar (~120 MiB/s), the first backup (~45 MiB/s), and a fixed part for the incremental backup,
/// restores and syncs. A 10 GiB run took 7.5 minutes.
fn estimate(total: u64) -> Duration {
    let mib = total as f64 / MIB as f64;
    Duration::from_secs_f64(40.0 + mib * (1.0 / 180.0 + 1.0 / 120.0 + 1.0 / 45.0))
}

/// One restic run may take this long before it is stopped (a floor of 17 MiB/s, far below any
/// disk the appliance would back up to).
fn restic_deadline(total: u64) -> Duration {
    Duration::from_secs(60 + 60 * total.div_ceil(GIB))
}

/// One tar run may take this long.
fn tar_deadline(total: u64) -> Duration {
    Duration::from_secs(60 + 30 * total.div_ceil(GIB))
}

fn measure(work: &Path, total: u64, seed: u64) -> Result<bool> {
    let mut rng = Rng(seed);
    let t = Instant::now();
    let mut school = School::generate(&work.join("school"), total, &mut rng)?;
    let generated = t.elapsed();
    println!(
        "generated {} in {}: {} documents, {} mails in {} mailboxes, {} videos, {} people",
        gib(school.bytes()),
        human(generated),
        count(school.docs.len() as u64),
        count(school.mails),
        school.mailboxes,
        school.videos.len(),
        count(school.people as u64),
    );
    let mut cache = Cache::default();

    // what the backup saves: the plan after staging the database copy, as back_up makes it
    schola_backup::stage_database(&school.store, &school.layout)?;
    let paths = school.layout.plan().paths;
    let (files, tree_bytes) = walk(&paths)?;

    // 1. tar, and extracting one document and one video from its archive
    let doc = school
        .docs
        .get(school.docs.len() / 2)
        .cloned()
        .context("no document was generated")?;
    let video = school
        .videos
        .iter()
        .max_by_key(|(_, size)| *size)
        .cloned()
        .context("no video was generated")?;
    let tar = work.join("tree.tar");
    println!("tar -cf of {} in {} files", gib(tree_bytes), count(files));
    cache.settle()?;
    let t = Instant::now();
    let mut cmd = Command::new("tar");
    cmd.arg("-cf").arg(&tar).arg("-C").arg("/");
    for p in &paths {
        cmd.arg(p.strip_prefix("/").unwrap_or(p));
    }
    run_tool(&mut cmd, "tar -cf", tar_deadline(total))?;
    sync_fs(&tar)?;
    let tar_took = t.elapsed();
    let _ = std::fs::remove_file(school.layout.staged_database());

    let untar = work.join("untar");
    std::fs::create_dir_all(&untar).context("cannot make the folder for tar -xf")?;
    let tar_extract = |cache: &mut Cache, (path, size): &(PathBuf, u64)| -> Result<Duration> {
        cache.settle()?;
        let member = path.strip_prefix("/").unwrap_or(path);
        let t = Instant::now();
        run_tool(
            Command::new("tar")
                .arg("-xf")
                .arg(&tar)
                .arg("-C")
                .arg(&untar)
                .arg(member),
            "tar -xf",
            tar_deadline(total),
        )?;
        let took = t.elapsed();
        let got = std::fs::metadata(untar.join(member))
            .with_context(|| format!("tar -xf did not extract {}", member.display()))?
            .len();
        if got != *size {
            bail!(
                "tar -xf extracted {} with {got} bytes, not {size}",
                member.display()
            );
        }
        Ok(took)
    };
    let tar_doc = tar_extract(&mut cache, &doc)?;
    let tar_video = tar_extract(&mut cache, &video)?;
    // the archive's space goes to the repository
    std::fs::remove_file(&tar).context("cannot remove tree.tar")?;
    std::fs::remove_dir_all(&untar).context("cannot remove the extracted files")?;

    // 2. the first backup
    let restic = school.restic(work, restic_deadline(total))?;
    restic.init()?;
    println!("first backup (schola_backup::back_up: database copy, then restic)");
    cache.settle()?;
    let t = Instant::now();
    let first = schola_backup::back_up(&restic, &school.store, &school.layout)
        .context("the first backup failed")?;
    sync_fs(work)?;
    let first_took = t.elapsed();

    // 3. change about 1 %, back up again
    let change = school.change(total, &video.0, &mut rng)?;
    println!(
        "changed {}; incremental backup",
        change.describe(tree_bytes)
    );
    cache.settle()?;
    let t = Instant::now();
    let second = schola_backup::back_up(&restic, &school.store, &school.layout)
        .context("the incremental backup failed")?;
    sync_fs(work)?;
    let second_took = t.elapsed();

    // 4. restore the document and the video
    let restored = work.join("restored");
    let restore = |cache: &mut Cache, path: &Path| -> Result<Duration> {
        cache.settle()?;
        let t = Instant::now();
        let landed = schola_backup::restore_path(&restic, "latest", path, &restored)?;
        let took = t.elapsed();
        if !same_bytes(&landed, path)? {
            bail!(
                "the restored {} differs from the original",
                landed.display()
            );
        }
        Ok(took)
    };
    let restic_doc = restore(&mut cache, &doc.0)?;
    let restic_video = restore(&mut cache, &video.0)?;

    // the table
    let tar_rate = mib_per_s(tree_bytes, tar_took);
    let first_rate = mib_per_s(first.summary.total_bytes_processed, first_took);
    let mut t = Table::new(format!(
        "backup of {} of school data ({} files) to {}",
        gib(tree_bytes),
        count(files),
        work.display()
    ));
    t.info(
        "tar -cf + sync -f (the peer)",
        format!("{}, {tar_rate:.0} MiB/s", human(tar_took)),
    );
    let ratio = first_rate / tar_rate;
    t.row(
        format!(
            "first backup, {} processed",
            gib(first.summary.total_bytes_processed)
        ),
        format!("{}, {first_rate:.0} MiB/s", human(first_took)),
        format!(">= {FIRST_GOAL:.2}x tar's rate"),
        format!("{ratio:.2}"),
        Verdict::of(ratio >= FIRST_GOAL),
    );
    t.info(
        "  bytes added to the repository",
        format!(
            "{} ({:.0} % of the data)",
            gib(first.summary.data_added),
            pct(first.summary.data_added, tree_bytes)
        ),
    );
    t.info(
        "changed before the incremental",
        format!(
            "{} = {:.2} % of the data",
            mib(change.bytes()),
            pct(change.bytes(), tree_bytes)
        ),
    );
    // restic reads a file whose size or mtime changed from its start to its end (it cannot know
    // where the change is), so replacing part of a video costs reading all of it: with
    // `--gib 1` the one video is 70 % of the data, and this row, not the goal, explains the time
    t.info(
        "  read again by restic (changed files whole)",
        mib(change.reread),
    );
    let ratio = second_took.as_secs_f64() / tar_took.as_secs_f64();
    t.row(
        format!(
            "incremental backup ({} new, {} changed files)",
            count(second.summary.files_new),
            count(second.summary.files_changed)
        ),
        human(second_took),
        format!("<= {INCREMENTAL_TIME_GOAL:.2}x tar's time"),
        format!("{ratio:.2}"),
        Verdict::of(ratio <= INCREMENTAL_TIME_GOAL),
    );
    let added = second.summary.data_added;
    let share = added as f64 / tree_bytes as f64;
    t.row(
        "  bytes added to the repository",
        format!(
            "{} = {:.2} % of the data",
            mib(added),
            pct(added, tree_bytes)
        ),
        format!("<= {:.0} %", INCREMENTAL_ADDED_GOAL * 100.0),
        format!("{:.2}", share / INCREMENTAL_ADDED_GOAL),
        Verdict::of(share <= INCREMENTAL_ADDED_GOAL),
    );
    let ratio = restic_doc.as_secs_f64() / DOC_RESTORE_GOAL.as_secs_f64();
    t.row(
        format!("restore one document ({} KiB)", doc.1 / KIB),
        human(restic_doc),
        format!("< {}", human(DOC_RESTORE_GOAL)),
        format!("{ratio:.2}"),
        Verdict::of(restic_doc < DOC_RESTORE_GOAL),
    );
    t.info("  tar -xf of the same member (peer)", human(tar_doc));
    let ratio = restic_video.as_secs_f64() / tar_video.as_secs_f64();
    t.row(
        format!("restore one video ({})", mib(video.1)),
        format!(
            "{}, {:.0} MiB/s",
            human(restic_video),
            mib_per_s(video.1, restic_video)
        ),
        format!("<= {VIDEO_RESTORE_GOAL:.0}x tar -xf's time"),
        format!("{ratio:.2}"),
        Verdict::of(ratio <= VIDEO_RESTORE_GOAL),
    );
    t.info(
        "  tar -xf of the same member (peer)",
        format!(
            "{}, {:.0} MiB/s",
            human(tar_video),
            mib_per_s(video.1, tar_video)
        ),
    );
    t.note(format!("  changed: {}", change.describe(tree_bytes)));
    t.note(format!(
        "  generated in {}; tar -xf was measured right after tar -cf (its archive then made \
         room for the repository)",
        human(generated)
    ));
    if cache.dropped {
        t.note("  before each timed step: sync and the page cache dropped");
    } else {
        t.note(format!(
            "  the page cache was NOT dropped ({}): steps may have read from memory, and \
             the ratios are less fair",
            cache.why.as_deref().unwrap_or("not root")
        ));
    }
    print!("{}", t.render());
    let pass = t.passed();
    println!("\nbackup benchmark: {}", if pass { "PASS" } else { "FAIL" });
    Ok(pass)
}

// ---------------------------------------------------------------------------------------------
// the school

/// Ascii, so that logins can be made from them.
const GIVEN: &[&str] = &[
    "anna", "ben", "lena", "noah", "mia", "elias", "emma", "paul", "zoe", "finn", "ayse", "mehmet",
    "chloe", "jonas", "lara", "luca",
];
const FAMILY: &[&str] = &[
    "mueller", "schmidt", "yilmaz", "nguyen", "kowalski", "weber", "dubois", "krause", "becker",
    "hoffmann", "janssens", "schaefer",
];
const SUBJECTS: &[&str] = &[
    "Deutsch",
    "Mathematik",
    "Englisch",
    "Biologie",
    "Geschichte",
    "Physik",
    "Kunst",
    "Musik",
    "Erdkunde",
    "Informatik",
];
const KINDS: &[&str] = &[
    "Aufsatz",
    "Referat",
    "Notizen",
    "Arbeitsblatt",
    "Protokoll",
    "Hausaufgabe",
];
const WORDS: &[&str] = &[
    "der",
    "die",
    "das",
    "und",
    "ist",
    "nicht",
    "mit",
    "ein",
    "eine",
    "auf",
    "für",
    "von",
    "zu",
    "im",
    "den",
    "dem",
    "sich",
    "auch",
    "als",
    "Schule",
    "Klasse",
    "Lehrerin",
    "Lehrer",
    "Aufgabe",
    "Lösung",
    "Gleichung",
    "Funktion",
    "Beispiel",
    "Zelle",
    "Photosynthese",
    "Energie",
    "Kraft",
    "Geschwindigkeit",
    "Revolution",
    "Kaiser",
    "Gedicht",
    "Roman",
    "Autor",
    "Figur",
    "Handlung",
    "Kapitel",
    "the",
    "and",
    "of",
    "to",
    "a",
    "in",
    "that",
    "is",
    "was",
    "for",
    "it",
    "with",
    "as",
    "his",
    "on",
    "be",
    "at",
    "by",
    "school",
    "because",
    "however",
    "therefore",
    "example",
    "answer",
    "question",
    "river",
    "mountain",
    "climate",
    "population",
    "experiment",
    "result",
    "hypothesis",
    "measurement",
    "temperature",
    "Ergebnis",
    "Versuch",
    "Temperatur",
    "Messung",
    "Tabelle",
    "Diagramm",
    "Quelle",
    "Zusammenfassung",
    "Einleitung",
    "Schluss",
    "Argument",
    "meiner",
    "Meinung",
    "nach",
    "wurde",
    "werden",
    "haben",
    "hatte",
    "sind",
    "waren",
    "können",
    "müssen",
    "sollte",
    "zwischen",
    "während",
    "obwohl",
    "deshalb",
];

struct School {
    store: Store,
    layout: Layout,
    data: PathBuf,
    logins: Vec<String>,
    people: usize,
    docs: Vec<(PathBuf, u64)>,
    videos: Vec<(PathBuf, u64)>,
    mail_bytes: u64,
    mails: u64,
    mailboxes: usize,
    mailbox_dirs: Vec<PathBuf>,
}

/// What was changed before the incremental backup.
struct Change {
    edited: usize,
    edited_bytes: u64,
    new: usize,
    new_bytes: u64,
    video_bytes: u64,
    mails: u64,
    mail_bytes: u64,
    /// The changed files' whole sizes: what restic reads again.
    reread: u64,
}

impl Change {
    fn bytes(&self) -> u64 {
        self.edited_bytes + self.new_bytes + self.video_bytes + self.mail_bytes
    }

    fn describe(&self, of: u64) -> String {
        format!(
            "{} ({:.2} % of the data): {} documents edited ({}), {} new ({}), {} of a video \
             replaced, {} new mails",
            mib(self.bytes()),
            pct(self.bytes(), of),
            count(self.edited as u64),
            mib(self.edited_bytes),
            count(self.new as u64),
            mib(self.new_bytes),
            mib(self.video_bytes),
            self.mails
        )
    }
}

impl School {
    /// A dev-profile school under `root` with `total` bytes of generated files.
    fn generate(root: &Path, total: u64, rng: &mut Rng) -> Result<School> {
        std::fs::create_dir_all(root).with_context(|| format!("cannot make {}", root.display()))?;
        let config = root.join("schola.toml");
        std::fs::write(
            &config,
            "profile = \"dev\"\n[mail]\nvmail_dir = \"vmail\"\n",
        )
        .with_context(|| format!("cannot write {}", config.display()))?;
        let cfg = Config::load(&config)?;
        let (store, _) = Store::open(&cfg.database_path())?;
        let scheme = LoginScheme::parse(&cfg.directory.login_scheme)
            .map_err(|e| anyhow::anyhow!("the default login scheme: {e}"))?;
        // a school of about 150 people per GiB of data, within 20 and 1,500
        let people = ((total as f64 / GIB as f64) * 150.0).clamp(20.0, 1500.0) as usize;
        let mut logins = Vec::with_capacity(people);
        let mut ids = Vec::with_capacity(people);
        let actor = Actor::system("bench");
        for i in 0..people {
            let given = GIVEN[i % GIVEN.len()];
            let family = FAMILY[(i / GIVEN.len()) % FAMILY.len()];
            let login = format!("{given}.{family}{i}");
            let p = store.create_person(
                &actor,
                NewPerson {
                    login: Some(login.clone()),
                    given_name: given.into(),
                    family_name: family.into(),
                    ..Default::default()
                },
                &scheme,
            )?;
            logins.push(login);
            ids.push(p.id);
        }
        let mut layout = Layout::of(&cfg);
        // this machine's Samba password database is not the generated school's
        layout.samba_passdb = root.join("no-samba/passdb.tdb");
        let mut school = School {
            store,
            layout,
            data: cfg.paths.data_dir.clone(),
            logins,
            people,
            docs: Vec::new(),
            videos: Vec::new(),
            mail_bytes: 0,
            mails: 0,
            mailboxes: 0,
            mailbox_dirs: Vec::new(),
        };
        let data = cfg.paths.data_dir.clone();

        // documents
        let budget = (total as f64 * DOC_SHARE) as u64;
        let mut written = 0;
        while written < budget {
            let size = doc_size(rng).min(budget - written);
            let path = school.doc_path(&data, rng, "");
            write_text(&path, size, rng, &title_of(&path))?;
            school.docs.push((path, size));
            written += size;
        }

        // a few mailboxes
        let budget = (total as f64 * MAIL_SHARE) as u64;
        school.mailboxes = ids.len().min(6);
        for id in ids.iter().take(school.mailboxes) {
            let maildir = school.layout.mailbox(*id).join("Maildir");
            for sub in ["new", "tmp", "cur"] {
                std::fs::create_dir_all(maildir.join(sub))
                    .with_context(|| format!("cannot make {}", maildir.display()))?;
            }
            school.mailbox_dirs.push(maildir);
        }
        while school.mail_bytes < budget {
            let size = (2 * KIB + rng.below(48 * KIB)).min(budget - school.mail_bytes);
            school.write_mail(size, "cur", rng)?;
        }

        // videos: in teachers' homes and class folders
        let budget = total.saturating_sub(written + school.mail_bytes);
        let mut written = 0;
        let mut n: usize = 0;
        while written < budget {
            let left = budget - written;
            let mut size = (100 * MIB + rng.below(601 * MIB)).min(left);
            if left - size < 100 * MIB {
                size = left;
            }
            n += 1;
            let path = if n.is_multiple_of(2) {
                let login = rng.pick(&school.logins);
                data.join(format!("home/{login}/Videos/Aufnahme-{n:03}.mp4"))
            } else {
                data.join(format!(
                    "groups/{}{}/Videos/Schulfest-{n:03}.mp4",
                    5 + n % 6,
                    ['a', 'b', 'c', 'd'][n % 4]
                ))
            };
            write_random(&path, size, rng)?;
            school.videos.push((path, size));
            written += size;
        }
        Ok(school)
    }

    fn bytes(&self) -> u64 {
        self.docs.iter().map(|(_, s)| s).sum::<u64>()
            + self.videos.iter().map(|(_, s)| s).sum::<u64>()
            + self.mail_bytes
    }

    /// A new document's path: mostly a person's `Documents/<subject>/`, a tenth a class's
    /// material folder. `tag` marks documents written after the first backup.
    fn doc_path(&self, data: &Path, rng: &mut Rng, tag: &str) -> PathBuf {
        let subject = rng.pick(SUBJECTS);
        let kind = rng.pick(KINDS);
        let n = self.docs.len();
        let ext = if n.is_multiple_of(3) { "md" } else { "txt" };
        if rng.below(10) == 0 {
            let class = format!("{}{}", 5 + rng.below(6), ['a', 'b', 'c', 'd'][n % 4]);
            data.join(format!(
                "groups/{class}/Material/{subject}/{kind}{tag}-{n:06}.{ext}"
            ))
        } else {
            let login = rng.pick(&self.logins);
            data.join(format!(
                "home/{login}/Documents/{subject}/{kind}{tag}-{n:06}.{ext}"
            ))
        }
    }

    fn write_mail(&mut self, size: u64, sub: &str, rng: &mut Rng) -> Result<()> {
        let n = self.mails;
        let i = rng.below(self.mailbox_dirs.len() as u64) as usize;
        let Some(maildir) = self.mailbox_dirs.get(i) else {
            bail!("no mailbox to write to");
        };
        let path = maildir.join(format!("{sub}/{}.M{n}P1.schola:2,S", 1_700_000_000 + n));
        let head = format!(
            "From: {}@schule.example\nTo: klasse@schule.example\nSubject: {} {n}\n\
             Content-Type: text/plain; charset=utf-8\n",
            rng.pick(&self.logins),
            rng.pick(KINDS)
        );
        write_text(&path, size, rng, &head)?;
        self.mails += 1;
        self.mail_bytes += size;
        Ok(())
    }

    /// Changes about 1 % of the data: documents saved again with new text, new documents, a
    /// stretch in the middle of `video` overwritten in place, new mail.
    fn change(&mut self, total: u64, video: &Path, rng: &mut Rng) -> Result<Change> {
        let mut c = Change {
            edited: 0,
            edited_bytes: 0,
            new: 0,
            new_bytes: 0,
            video_bytes: 0,
            mails: 0,
            mail_bytes: 0,
            reread: 0,
        };
        let goal = (total as f64 * EDIT_SHARE) as u64;
        let mut tries = 0;
        while c.edited_bytes < goal && tries < self.docs.len() * 2 {
            tries += 1;
            let i = rng.below(self.docs.len() as u64) as usize;
            let Some((path, size)) = self.docs.get(i).cloned() else {
                continue;
            };
            write_text(&path, size, rng, &title_of(&path))?;
            c.edited += 1;
            c.edited_bytes += size;
        }
        let goal = (total as f64 * NEW_SHARE) as u64;
        let data = self.data.clone();
        while c.new_bytes < goal {
            let size = doc_size(rng);
            let path = self.doc_path(&data, rng, "-neu");
            write_text(&path, size, rng, &title_of(&path))?;
            self.docs.push((path, size));
            c.new += 1;
            c.new_bytes += size;
        }
        let len = std::fs::metadata(video)
            .with_context(|| format!("cannot read {}", video.display()))?
            .len();
        c.video_bytes = ((total as f64 * VIDEO_CHANGE_SHARE) as u64).min(len / 2);
        overwrite_random(video, len / 3, c.video_bytes, rng)?;
        let before = self.mail_bytes;
        for _ in 0..5 {
            let size = 2 * KIB + rng.below(20 * KIB);
            self.write_mail(size, "new", rng)?;
            c.mails += 1;
        }
        c.mail_bytes = self.mail_bytes - before;
        c.reread = c.edited_bytes + c.new_bytes + len + c.mail_bytes;
        Ok(c)
    }

    /// restic on a repository in `work`, each run stopped after `deadline` (through a wrapper
    /// around restic, so that `back_up` itself is what is measured and is still bounded).
    fn restic(&self, work: &Path, deadline: Duration) -> Result<Restic> {
        let pass = work.join("backup.pass");
        std::fs::write(&pass, "correct horse battery staple\n")
            .with_context(|| format!("cannot write {}", pass.display()))?;
        let wrapper = work.join("restic-with-deadline");
        std::fs::write(
            &wrapper,
            format!(
                "#!/bin/sh\nexec timeout --kill-after=30 {} restic \"$@\"\n",
                deadline.as_secs()
            ),
        )
        .with_context(|| format!("cannot write {}", wrapper.display()))?;
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755))
            .with_context(|| format!("cannot make {} executable", wrapper.display()))?;
        Ok(Restic::new(Target {
            repo: work.join("repo").to_string_lossy().into_owned(),
            password_file: pass,
        })
        .with_binary(wrapper)
        .with_cache_dir(work.join("restic-cache")))
    }
}

/// A document's size: log-uniform between 2 and 200 KiB (most are small, some are long).
fn doc_size(rng: &mut Rng) -> u64 {
    (2.0 * KIB as f64 * 100f64.powf(rng.unit())) as u64
}

fn title_of(path: &Path) -> String {
    format!(
        "# {}\n\n",
        path.file_stem().unwrap_or_default().to_string_lossy()
    )
}

fn create(path: &Path) -> Result<File> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot make {}", dir.display()))?;
    }
    File::create(path).with_context(|| format!("cannot create {}", path.display()))
}

/// Exactly `size` bytes of text-like words (compressible, each file different) after `head`,
/// through a 64 KiB buffer.
fn write_text(path: &Path, size: u64, rng: &mut Rng, head: &str) -> Result<()> {
    let mut w = BufWriter::with_capacity(64 * 1024, create(path)?);
    let mut written = 0u64;
    let mut line = String::with_capacity(512);
    line.push_str(head);
    while written < size {
        let words = 6 + rng.below(14);
        for i in 0..words {
            line.push_str(rng.pick(WORDS));
            line.push(if i + 1 == words { '.' } else { ' ' });
        }
        line.push(if rng.below(5) == 0 { '\n' } else { ' ' });
        let take = (size - written).min(line.len() as u64) as usize;
        w.write_all(line.as_bytes().get(..take).unwrap_or_default())
            .with_context(|| format!("cannot write {}", path.display()))?;
        written += take as u64;
        line.clear();
    }
    w.flush()
        .with_context(|| format!("cannot write {}", path.display()))
}

/// `size` random bytes (incompressible, like encoded video), a block at a time.
fn write_random(path: &Path, size: u64, rng: &mut Rng) -> Result<()> {
    let mut f = create(path)?;
    let mut buf = vec![0u8; BLOCK];
    let mut left = size;
    while left > 0 {
        let n = left.min(BLOCK as u64) as usize;
        let chunk = buf.get_mut(..n).unwrap_or_default();
        rng.fill(chunk);
        f.write_all(chunk)
            .with_context(|| format!("cannot write {}", path.display()))?;
        left -= n as u64;
    }
    Ok(())
}

/// Overwrites `len` bytes of `path` at `offset` with new random bytes, in place (a video editor
/// re-encoding a scene).
fn overwrite_random(path: &Path, offset: u64, len: u64, rng: &mut Rng) -> Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    f.seek(SeekFrom::Start(offset))
        .with_context(|| format!("cannot seek in {}", path.display()))?;
    let mut buf = vec![0u8; BLOCK];
    let mut left = len;
    while left > 0 {
        let n = left.min(BLOCK as u64) as usize;
        let chunk = buf.get_mut(..n).unwrap_or_default();
        rng.fill(chunk);
        f.write_all(chunk)
            .with_context(|| format!("cannot write {}", path.display()))?;
        left -= n as u64;
    }
    Ok(())
}

/// splitmix64: deterministic for a seed across versions and machines (unlike `StdRng`, whose
/// algorithm may change), and fast enough to generate gigabytes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn pick<'a, S: AsRef<str>>(&mut self, from: &'a [S]) -> &'a str {
        let i = self.below(from.len() as u64) as usize;
        from.get(i).map_or("", |s| s.as_ref())
    }

    fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let bytes = self.next().to_le_bytes();
            chunk.copy_from_slice(bytes.get(..chunk.len()).unwrap_or_default());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// the machine

/// Writes back dirty pages and drops the page cache before a timed step, so that each reads
/// from the disk; remembers when it could not (not root, or a container without the knob).
#[derive(Default)]
struct Cache {
    dropped: bool,
    tried: bool,
    why: Option<String>,
}

impl Cache {
    fn settle(&mut self) -> Result<()> {
        run_tool(&mut Command::new("sync"), "sync", Duration::from_secs(300))?;
        let ok = match std::fs::write("/proc/sys/vm/drop_caches", "3\n") {
            Ok(()) => true,
            Err(e) => {
                if self.why.is_none() {
                    self.why = Some(format!("/proc/sys/vm/drop_caches: {e}"));
                    println!(
                        "note: the page cache was not dropped (/proc/sys/vm/drop_caches: {e}); \
                         run as root for cold reads"
                    );
                }
                false
            }
        };
        self.dropped = if self.tried { self.dropped && ok } else { ok };
        self.tried = true;
        Ok(())
    }
}

/// `sync -f`: the filesystem holding `path` written back (the peer's archive and restic's
/// repository alike count as saved only once they are on the disk).
fn sync_fs(path: &Path) -> Result<()> {
    run_tool(
        Command::new("sync").arg("-f").arg(path),
        "sync -f",
        Duration::from_secs(300),
    )
}

fn require_tools() -> Result<()> {
    for (tool, arg, package) in [("restic", "version", "restic"), ("tar", "--version", "tar")] {
        let ok = Command::new(tool)
            .arg(arg)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            bail!("{tool} is not installed: apt-get install {package}");
        }
    }
    Ok(())
}

fn free_bytes(dir: &Path) -> Result<u64> {
    let s = nix::sys::statvfs::statvfs(dir)
        .with_context(|| format!("cannot read the free space of {}", dir.display()))?;
    let (blocks, size): (u64, u64) = (s.blocks_available(), s.fragment_size());
    Ok(blocks.saturating_mul(size))
}

/// Runs `cmd` to its end within `deadline` (killed after it), failing with its stderr.
fn run_tool(cmd: &mut Command, what: &str, deadline: Duration) -> Result<()> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot run {what}"))?;
    let err = child.stderr.take();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(mut e) = err {
            let _ = e.read_to_string(&mut s);
        }
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().context("cannot wait for a child")? {
            break status;
        }
        if start.elapsed() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            bail!("{what} did not finish within {}", human(deadline));
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let err = reader.join().unwrap_or_default();
    if !status.success() {
        bail!("{what} failed ({status}): {}", err.trim());
    }
    Ok(())
}

/// Files and bytes below `paths` (files, or folders walked without following links).
fn walk(paths: &[PathBuf]) -> Result<(u64, u64)> {
    let (mut files, mut bytes) = (0, 0);
    let mut stack: Vec<PathBuf> = paths.to_vec();
    while let Some(p) = stack.pop() {
        let meta = std::fs::symlink_metadata(&p)
            .with_context(|| format!("cannot read {}", p.display()))?;
        if meta.is_dir() {
            for e in
                std::fs::read_dir(&p).with_context(|| format!("cannot list {}", p.display()))?
            {
                stack.push(
                    e.with_context(|| format!("cannot list {}", p.display()))?
                        .path(),
                );
            }
        } else {
            files += 1;
            bytes += meta.len();
        }
    }
    Ok((files, bytes))
}

/// Whether two files hold the same bytes (read a block at a time).
fn same_bytes(a: &Path, b: &Path) -> Result<bool> {
    let open = |p: &Path| File::open(p).with_context(|| format!("cannot open {}", p.display()));
    let (mut fa, mut fb) = (open(a)?, open(b)?);
    if fa.metadata()?.len() != fb.metadata()?.len() {
        return Ok(false);
    }
    let (mut ba, mut bb) = (vec![0u8; BLOCK], vec![0u8; BLOCK]);
    loop {
        let n = fa.read(&mut ba)?;
        if n == 0 {
            return Ok(true);
        }
        let chunk = bb.get_mut(..n).unwrap_or_default();
        fb.read_exact(chunk)?;
        if ba.get(..n) != Some(&*chunk) {
            return Ok(false);
        }
    }
}

fn mib_per_s(bytes: u64, took: Duration) -> f64 {
    bytes as f64 / MIB as f64 / took.as_secs_f64().max(1e-9)
}

fn pct(part: u64, of: u64) -> f64 {
    100.0 * part as f64 / of.max(1) as f64
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / MIB as f64)
}

fn gib(bytes: u64) -> String {
    format!("{:.2} GiB", bytes as f64 / GIB as f64)
}

fn minutes(d: Duration) -> String {
    let s = d.as_secs();
    if s < 120 {
        format!("{s} s")
    } else {
        format!("{} min", s.div_ceil(60))
    }
}
