//! `schola-files`: the file share daemon.
//!
//! (wt-samba branch: only the privileged `samba-sync` subcommand; the daemon's own `main` comes
//! from the schola-files helper and takes this subcommand over.)

use std::os::unix::fs::MetadataExt as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut config: Option<PathBuf> = None;
    let mut command = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--config" => config = it.next().map(PathBuf::from),
            "samba-sync" => command = Some("samba-sync"),
            other => {
                eprintln!(
                    "schola-files: unknown argument '{other}'; usage: schola-files [--config PATH] samba-sync"
                );
                return ExitCode::from(2);
            }
        }
    }
    match command {
        Some("samba-sync") => match samba_sync(config) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("schola-files samba-sync: {e:#}");
                ExitCode::FAILURE
            }
        },
        _ => {
            eprintln!("usage: schola-files [--config PATH] samba-sync");
            ExitCode::from(2)
        }
    }
}

/// Runs as root: provisions Samba from the store (see `schola_files::samba`).
fn samba_sync(config: Option<PathBuf>) -> anyhow::Result<()> {
    let path = schola_core::Config::locate(config.as_deref());
    let cfg = schola_core::Config::load(&path)
        .with_context(|| format!("cannot load {}", path.display()))?;
    let db = cfg.database_path();
    let store =
        schola_core::Store::open_current(&db, std::sync::Arc::new(schola_core::SystemClock))?;
    let result = schola_files::samba::sync(&cfg, &store);
    drop(store);
    give_back_sqlite_files(&db);
    let report = result?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

/// Root opening the database may have created its `-wal`/`-shm` files; they must belong to the
/// database's owner, or the daemons cannot open it afterwards.
fn give_back_sqlite_files(db: &std::path::Path) {
    let Ok(meta) = std::fs::metadata(db) else {
        return;
    };
    for suffix in ["-wal", "-shm"] {
        let mut p = db.as_os_str().to_owned();
        p.push(suffix);
        let p = PathBuf::from(p);
        if std::fs::metadata(&p).is_ok_and(|m| m.uid() != meta.uid()) {
            let _ = nix::unistd::chown(
                &p,
                Some(nix::unistd::Uid::from_raw(meta.uid())),
                Some(nix::unistd::Gid::from_raw(meta.gid())),
            );
        }
    }
}
