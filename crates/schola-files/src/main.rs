//! `schola-files`: the file share daemon. Parse options, load the config, serve the portal's
//! file API and WebDAV on a Unix socket, and keep house in the background (trash and stale
//! upload purges hourly, the change journal every few seconds).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use schola_core::{Config, Store, SystemClock};
use schola_files::server;

#[derive(Parser)]
#[command(
    name = "schola-files",
    version,
    about = "Schola's file shares: homes, group shares and the staff exchange for the portal and WebDAV, with quotas, trash and hand-out/collect"
)]
struct Opts {
    /// Configuration file (conf.d/*.toml beside it is read too)
    #[arg(long, env = "SCHOLA_CONFIG")]
    config: Option<PathBuf>,
    /// Check the configuration, then exit
    #[arg(long)]
    check: bool,
    /// Print the manual page (roff) on standard output; used when building packages
    #[arg(long, hide = true)]
    generate_man: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Bring Samba in line with the directory, as root: accounts through libnss-extrausers,
    /// passwords in Samba's passdb, the generated shares; then reload smbd. Prints what changed.
    SambaSync {
        /// Run for the request schola-files left (schola-samba-sync.service): take the request
        /// away first, so a change made during the run asks again
        #[arg(long)]
        request: bool,
    },
}

fn main() -> ExitCode {
    let opts = Opts::parse();
    if opts.generate_man {
        let cmd = <Opts as clap::CommandFactory>::command();
        return match clap_mangen::Man::new(cmd)
            .section("8")
            .render(&mut std::io::stdout())
        {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("schola-files: error: cannot write the manual page: {e}");
                ExitCode::FAILURE
            }
        };
    }
    schola_core::daemon::init_logging("info");
    let path = Config::locate(opts.config.as_deref());
    let result = Config::load(&path)
        .map_err(anyhow::Error::from)
        .and_then(|cfg| {
            if opts.check {
                eprintln!("config OK: {}", path.display());
                return Ok(());
            }
            match opts.command {
                Some(Command::SambaSync { request }) => samba_sync(&cfg, request),
                None => run(cfg),
            }
        });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("schola-files: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cfg: Config) -> anyhow::Result<()> {
    server::run(cfg, |sock| {
        log::info!("listening on {}", sock.display());
        eprintln!("schola-files listening on {}", sock.display());
        schola_core::daemon::notify_ready();
    })?;
    schola_core::daemon::notify_stopping();
    Ok(())
}

/// `samba-sync`: runs as root (see schola_files::samba for the boundary it keeps).
fn samba_sync(cfg: &Config, request: bool) -> anyhow::Result<()> {
    if !nix::unistd::geteuid().is_root() {
        anyhow::bail!(
            "samba-sync writes Samba's password database and /var/lib/extrausers: run it as root"
        );
    }
    if request {
        let req = server::samba_request_path(cfg);
        match std::fs::remove_file(&req) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => anyhow::bail!("cannot take the request {}: {e}", req.display()),
        }
    }
    let Some(samba) = &cfg.files.samba else {
        println!("SMB is off ([files.samba] enabled = false): nothing to do");
        return Ok(());
    };
    if !samba.smb_conf.exists() {
        println!(
            "Samba is not installed ({} is missing): nothing to do; turn SMB on with: apt install samba",
            samba.smb_conf.display()
        );
        return Ok(());
    }
    schola_files::samba::ensure_include(samba)?;
    let db = cfg.database_path();
    let store = Store::open_current(&db, Arc::new(SystemClock))?;
    let result = schola_files::samba::sync(cfg, &store);
    drop(store);
    give_back_sqlite_files(&db);
    let report = result?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

/// Root opening the database may have created its `-wal`/`-shm` files; they must belong to the
/// database's owner, or the daemons cannot open it afterwards.
fn give_back_sqlite_files(db: &std::path::Path) {
    use std::os::unix::fs::MetadataExt as _;
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
