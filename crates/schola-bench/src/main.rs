//! schola-bench: benchmarks that start a real Schola on this machine and measure it, run by
//! `scripts/bench`. Exit status: 0 when the benchmark meets its goal, 1 when it does not or
//! cannot run, 2 for a usage error.

mod backup;
mod capacity;
mod cgroup;
mod files;
mod import;
mod login;
mod server;
mod stats;
mod storm;
mod verify;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "schola-bench",
    version,
    about = "Benchmarks for Schola (not shipped)"
)]
struct Cli {
    #[command(subcommand)]
    bench: Bench,
}

#[derive(Debug, Subcommand)]
enum Bench {
    /// HTTPS sign-in rate of a real schola-web against the raw argon2id verify rate.
    Login(login::LoginArgs),
    /// The 8:00 sign-in storm: people signing in within a window, the start page rate, and
    /// idle keep-alive connections held while a second client measures, against the argon2id
    /// limit measured in the same run.
    Storm(storm::StormArgs),
    /// The capacity model's accuracy: predicted vs measured largest school whose 8:00 storm
    /// stays within target, on machine sizes emulated with control groups (needs root).
    CapacityAccuracy(capacity::CapacityArgs),
    /// Import of a whole school: dry-run diff, apply (hashing apart from the rest), the
    /// school-year changeover, and an LDAP sync against a real slapd, against their limits.
    Import(import::ImportArgs),
    /// File shares: a 1 GiB upload against dd, parallel uploads while people sign in, and
    /// WebDAV against Apache's mod_dav, through a real schola-web and schola-files.
    Files(files::FilesArgs),
    /// Backup of a school's data (documents, videos, mail) through schola-backup and restic:
    /// the first and an incremental backup and restoring one file, against tar on the same tree.
    Backup(backup::BackupArgs),
    /// The capacity probe and model inside a size's control group (used by
    /// capacity-accuracy; prints JSON).
    #[command(hide = true)]
    CapacityProbe(capacity::ProbeArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let (name, result) = match &cli.bench {
        Bench::Login(args) => ("login", login::run(args)),
        Bench::Storm(args) => ("storm", storm::run(args)),
        Bench::CapacityAccuracy(args) => ("capacity-accuracy", capacity::run(args)),
        Bench::Import(args) => ("import", import::run(args)),
        Bench::Files(args) => ("files", files::run(args)),
        Bench::Backup(args) => ("backup", backup::run(args)),
        Bench::CapacityProbe(args) => ("capacity-probe", capacity::probe(args)),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("schola-bench {name}: error: {e:#}");
            ExitCode::from(1)
        }
    }
}
