//! The command-line syntax of `scholactl`: clap types only; `main.rs` dispatches them to the
//! command modules, which do the work through schola-core.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;

use clap::{Args, Parser, Subcommand};
use schola_core::directory::{GroupKind, Role, Status};

#[derive(Debug, Parser)]
#[command(
    name = "scholactl",
    version = schola_core::VERSION,
    about = "Administer a Schola school server: set it up, manage people and groups, check the configuration, try the demo",
    propagate_version = true
)]
pub struct Cli {
    /// The main configuration file; its conf.d/*.toml drop-ins are read too
    /// [default: /etc/schola/schola.toml]
    #[arg(long, global = true, env = schola_core::config::ENV_VAR, value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// Print machine-readable JSON on standard output instead of text
    #[arg(long, global = true)]
    pub json: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Set up a new school: create the database and the first admin
    Init(InitArgs),
    /// Add, list, show, disable and enable people; set passwords
    #[command(subcommand)]
    User(UserCommand),
    /// Add and list groups (classes, courses, staff rooms); change members
    #[command(subcommand)]
    Group(GroupCommand),
    /// Import people and classes from school administration software (CSV) or an upstream
    /// LDAP/AD: every import shows its whole change first and applies it only when asked
    #[command(subcommand)]
    Import(ImportCommand),
    /// Check the configuration files
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Upgrade Schola's packages with apt (as root), after checking that there is disk space
    Upgrade(UpgradeArgs),
    /// Check whether this machine holds the school's 8:00 morning: measure the machine, model
    /// the school's load, and say OK / WARN / FAIL per resource with what to do (exit status
    /// 0 all OK, 1 a warning, 2 a failure, 3 the check could not run)
    Check(CheckArgs),
    /// Show the database's schema version, or bring it up to date (with a backup first)
    #[command(subcommand)]
    Db(DbCommand),
    /// Back the school up with restic (encrypted, deduplicated, incremental) to a USB disk, a
    /// mounted NAS share or an SFTP server; list, check and thin out the backups
    #[command(subcommand)]
    Backup(BackupCommand),
    /// Restore a file, a folder or a mailbox from a backup, or the whole school onto a new
    /// machine
    #[command(subcommand)]
    Restore(RestoreCommand),
    /// Start a demo school with 650 made-up people on this computer
    Demo(DemoArgs),
    /// Write the manual pages (scholactl.8 and one per subcommand) into DIR; used when building
    /// packages
    #[command(hide = true)]
    GenerateMan { dir: PathBuf },
}

/// Where the backup is; both default to the `[backup]` section of the configuration.
#[derive(Debug, Args, Clone)]
pub struct RepoArgs {
    /// The backup repository: a path (USB disk, mounted NAS share) or sftp:user@host:/path
    /// [default: backup.repository in the configuration]
    #[arg(long, value_name = "REPO")]
    pub repo: Option<String>,
    /// The file holding the backup's passphrase [default: backup.password_file]
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum BackupCommand {
    /// Create a new, empty backup repository (an existing one is refused)
    Init(RepoArgs),
    /// Back up the database, the configuration, the TLS material and secrets, the files, the
    /// mail and Samba's passwords, as one snapshot
    Run(RepoArgs),
    /// List the backups (snapshots)
    List(RepoArgs),
    /// Check the repository's integrity
    Check(RepoArgs),
    /// Forget backups beyond the retention (by default the last of each of 7 days, 4 weeks
    /// and 12 months) and free their space
    Forget {
        #[command(flatten)]
        repo: RepoArgs,
        /// Days to keep [default: backup.keep_daily, 7]
        #[arg(long)]
        keep_daily: Option<u32>,
        /// Weeks to keep [default: backup.keep_weekly, 4]
        #[arg(long)]
        keep_weekly: Option<u32>,
        /// Months to keep [default: backup.keep_monthly, 12]
        #[arg(long)]
        keep_monthly: Option<u32>,
    },
    /// The nightly backup (schola-backup.timer): back up unless one succeeded in the last 20
    /// hours, thin out by the retention, check the repository weekly, and record the result
    /// for the admin UI; exits 75 when the target is not there (the service retries it
    /// hourly)
    Nightly {
        /// Back up even when one succeeded in the last 20 hours
        #[arg(long)]
        force: bool,
    },
    /// Carry out the backup or restore the admin UI asked for (schola-backup-request.path)
    RunRequest,
    /// Write the recovery sheet (a one-page PDF with the backup target and its passphrase, to
    /// print and keep off the server)
    RecoverySheet {
        /// The PDF file to write (it holds the passphrase: it is made readable by root only)
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// A local snapshot of the database and configuration before an upgrade (schola-common's
    /// postinst), in <state_dir>/pre-upgrade/; kept until the next upgrade succeeds
    PreUpgrade {
        /// The version being upgraded from
        #[arg(long, value_name = "VERSION")]
        from: Option<String>,
        /// After a successful upgrade: remove all snapshots but the newest
        #[arg(long, conflicts_with = "from")]
        prune: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum RestoreCommand {
    /// Restore one file or folder, by the path it had, into another folder (where it lands
    /// under its full original path)
    File {
        #[command(flatten)]
        repo: RepoArgs,
        /// The backup: an id from 'scholactl backup list', or latest
        #[arg(long, default_value = "latest")]
        snapshot: String,
        /// The file's or folder's original path, e.g. /srv/schola/home/anna.mueller/Documents
        #[arg(long)]
        path: PathBuf,
        /// The folder to restore into
        #[arg(long)]
        to: PathBuf,
    },
    /// Restore one person's mailbox: into place (deleted mails come back, newer ones stay), or
    /// into another folder with --to
    Mailbox {
        #[command(flatten)]
        repo: RepoArgs,
        #[arg(long, default_value = "latest")]
        snapshot: String,
        /// The person's login
        #[arg(long)]
        login: String,
        /// Restore into this folder instead of into place
        #[arg(long)]
        to: Option<PathBuf>,
    },
    /// Restore the whole school (disaster recovery): the database, the configuration, the TLS
    /// certificate and secrets, the files, the mail and Samba's passwords, each into the place
    /// this machine's configuration names. Stop Schola first (systemctl stop schola.target)
    Server {
        #[command(flatten)]
        repo: RepoArgs,
        /// The backup: an id from 'scholactl backup list', or latest
        #[arg(long, default_value = "latest")]
        snapshot: String,
        /// Replace the school this machine already holds (without it, a database with people
        /// is refused)
        #[arg(long)]
        replace: bool,
    },
}

#[derive(Debug, Args)]
pub struct UpgradeArgs {
    /// Only show what would be upgraded, with the changelog
    #[arg(long)]
    pub check: bool,
    /// Run as the update helper (schola-update.service, root): take the request the admin UI
    /// left and record the outcome for its Updates page
    #[arg(long, hide = true, conflicts_with = "check")]
    pub run_request: bool,
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Read a CSV export and show the change it makes (stored as a pending import); apply it
    /// with --apply or later with 'scholactl import apply ID'
    Csv(ImportCsvArgs),
    /// Read the upstream LDAP/AD ([import.ldap] in the configuration) and show the change
    Ldap(ImportApplyOpts),
    /// The school-year changeover without a new export: every class moves up a grade (5a to
    /// 6a) and the last grade ([import] last_grade) leaves
    Promote {
        /// The highest grade, whose classes leave [default: [import] last_grade]
        #[arg(long, value_name = "N")]
        last_grade: Option<u32>,
        #[command(flatten)]
        opts: ImportApplyOpts,
    },
    /// List stored imports (pending ones wait for approval)
    List {
        /// Only imports in this state: pending, applied, discarded or failed
        #[arg(long, value_name = "STATE")]
        status: Option<String>,
    },
    /// Show a stored import's change
    Show { id: i64 },
    /// Apply a pending import (after checking that the directory has not changed since)
    Apply {
        id: i64,
        /// Write the new accounts' password letters (PDF and CSV) into this directory instead of
        /// keeping them for one download in the admin UI
        #[arg(long, value_name = "DIR")]
        letters: Option<PathBuf>,
    },
    /// Discard a pending import
    Discard { id: i64 },
    /// The CSV profiles this Schola reads (built in and configured)
    Profiles,
    /// Password letters waiting for their one download; with TOKEN, take them into files
    Letters {
        token: Option<String>,
        /// Where to write the letters (password-letters.pdf and .csv) when a TOKEN is given
        #[arg(long, value_name = "DIR", requires = "token")]
        out: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct ImportCsvArgs {
    /// The CSV file
    pub file: PathBuf,
    /// The export's format: schola, sophomorix, untis-teachers or a configured
    /// [import.profiles.NAME] [default: detected]
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// The file is not the whole school: nobody missing from it leaves
    #[arg(long)]
    pub partial: bool,
    #[command(flatten)]
    pub opts: ImportApplyOpts,
}

#[derive(Debug, Args)]
pub struct ImportApplyOpts {
    /// Apply the change at once (after showing it) instead of storing it for approval
    #[arg(long)]
    pub apply: bool,
    /// With --apply: write the password letters (PDF and CSV) into this directory
    #[arg(long, value_name = "DIR", requires = "apply")]
    pub letters: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// The database file, its schema version and the newest version this scholactl knows
    Status,
    /// Upgrade the schema: a backup is written first, and a failed upgrade restores it
    Migrate,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The school's name as people know it, e.g. "Gesamtschule Am Lindenhof"
    #[arg(long, value_name = "NAME")]
    pub school_name: String,
    /// The mail domain the school's addresses end in, e.g. lindenhof.schule.example
    #[arg(long, value_name = "DOMAIN")]
    pub mail_domain: String,
    /// The first admin's login
    #[arg(long, value_name = "LOGIN", default_value = "admin")]
    pub admin_login: String,
    /// The language of the web pages for people whose browser asks for none Schola speaks:
    /// de, en, nl or fr
    #[arg(long, value_name = "LANG")]
    pub default_language: Option<schola_core::directory::Language>,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a person; prints the login and, unless given on stdin, a new password once
    Add(UserAddArgs),
    /// List people, sorted by family name
    List(UserListArgs),
    /// Show everything about one person, with their groups
    Show { login: String },
    /// Disable a person: they can no longer sign in, and are purged after the grace period
    Disable { login: String },
    /// Enable a disabled person again (cancels the purge)
    Enable { login: String },
    /// Set a new password; prints a generated one once unless given on stdin
    Passwd {
        login: String,
        /// Read the new password from the first line of standard input
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Debug, Args)]
pub struct UserAddArgs {
    /// Given name (first name)
    #[arg(long, value_name = "NAME")]
    pub given: String,
    /// Family name (last name)
    #[arg(long, value_name = "NAME")]
    pub family: String,
    /// student, teacher, staff or admin
    #[arg(long, value_name = "ROLE", default_value = "student", value_parser = parse_word::<Role>)]
    pub role: Role,
    /// The login; made from the names with the configured scheme when not given
    #[arg(long, value_name = "LOGIN")]
    pub login: Option<String>,
    /// The id the school administration software uses for this person
    #[arg(long, value_name = "ID")]
    pub external_id: Option<String>,
    /// The mail address; <login>@<school's mail domain> when not given
    #[arg(long, value_name = "ADDRESS")]
    pub mail: Option<String>,
    /// Storage quota in MB; the school's default when not given
    #[arg(long, value_name = "MB")]
    pub quota_mb: Option<u32>,
    /// Make the person a member of this existing group (repeat for several)
    #[arg(long = "class", value_name = "GROUP")]
    pub classes: Vec<String>,
    /// Read the password from the first line of standard input instead of generating one
    #[arg(long)]
    pub password_stdin: bool,
}

#[derive(Debug, Args)]
pub struct UserListArgs {
    /// Only people with this role: student, teacher, staff or admin
    #[arg(long, value_name = "ROLE", value_parser = parse_word::<Role>)]
    pub role: Option<Role>,
    /// Only people with this status: active or disabled
    #[arg(long, value_name = "STATUS", value_parser = parse_word::<Status>)]
    pub status: Option<Status>,
    /// Only members and owners of this group
    #[arg(long, value_name = "GROUP")]
    pub group: Option<String>,
    /// Only people whose login or name contains this text
    #[arg(long, value_name = "TEXT")]
    pub query: Option<String>,
    /// Show at most this many people
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub limit: usize,
    /// Skip this many people first (for paging)
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub offset: usize,
}

#[derive(Debug, Subcommand)]
pub enum GroupCommand {
    /// Add a group
    Add(GroupAddArgs),
    /// List groups with their member and owner counts
    List {
        /// Only groups of this kind: class, course, staff or custom
        #[arg(long, value_name = "KIND", value_parser = parse_word::<GroupKind>)]
        kind: Option<GroupKind>,
    },
    /// List a group's members and owners, or add and remove some
    Members(GroupMembersArgs),
}

#[derive(Debug, Args)]
pub struct GroupAddArgs {
    /// Short name used for shares and lists, e.g. 5a or physik-q1
    pub name: String,
    /// class, course, staff or custom
    #[arg(long, value_name = "KIND", value_parser = parse_word::<GroupKind>)]
    pub kind: GroupKind,
    /// The name people see, e.g. "Klasse 5a"
    #[arg(long, value_name = "TEXT")]
    pub display_name: Option<String>,
    /// The id the school administration software uses for this group
    #[arg(long, value_name = "ID")]
    pub external_id: Option<String>,
}

#[derive(Debug, Args)]
pub struct GroupMembersArgs {
    pub name: String,
    /// Add this person (repeat for several)
    #[arg(long = "add", value_name = "LOGIN")]
    pub add: Vec<String>,
    /// Remove this person (repeat for several)
    #[arg(long = "remove", value_name = "LOGIN")]
    pub remove: Vec<String>,
    /// Add or remove as owner (e.g. the class teacher) instead of as member
    #[arg(long)]
    pub owner: bool,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Load the configuration and its drop-ins and report problems, without starting anything
    Check,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Skip the disk benchmark and measure argon2id for one second only (about 2 s in all)
    #[arg(long)]
    pub quick: bool,
    /// Also run the synthetic 8:00 storm against the running web server, on loopback, with
    /// temporary accounts removed afterwards; the verdict then uses the measurement
    #[arg(long)]
    pub storm: bool,
    /// How long the storm's sign-ins are spread over, in seconds (it ends at most 30 s later)
    #[arg(long, value_name = "SECONDS", default_value_t = 30, requires = "storm",
          value_parser = clap::value_parser!(u64).range(5..=300))]
    pub storm_seconds: u64,
    /// Run the storm even during school hours (Monday to Friday, 7:00 to 16:00)
    #[arg(long, requires = "storm")]
    pub force: bool,
    /// Apply the fixes the check can make safely (connection and queue limits of the web
    /// server) in conf.d/50-capacity.toml next to the configuration, and restart schola-web
    #[arg(long, conflicts_with = "storm")]
    pub fix: bool,
    /// Do not store the result (it is stored by default, for the history and the dashboard)
    #[arg(long)]
    pub no_save: bool,
    /// What started the check, stored with it: cli, timer, upgrade or web
    #[arg(long, hide = true, default_value = "cli")]
    pub trigger: String,
    /// Run as a capacity helper: take the admin UI's waiting request of this kind (check, as
    /// user schola; fix, as root) and do it
    #[arg(long, hide = true, value_name = "KIND", conflicts_with_all = ["storm", "fix"])]
    pub run_request: Option<RequestKind>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RequestKind {
    Check,
    Fix,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// The directory holding the demo's configuration and data; made if missing
    #[arg(long, value_name = "DIR", default_value = "./schola-demo")]
    pub dir: PathBuf,
    /// Address the web server listens on [default: 127.0.0.1:8443, or what the demo's
    /// schola.toml says]
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
}

/// Parses a word such as `student` with the core type's own parser, so the error message lists
/// the accepted words.
fn parse_word<T: FromStr>(s: &str) -> Result<T, String>
where
    T::Err: std::fmt::Display,
{
    s.parse().map_err(|e: T::Err| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory as _;

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
