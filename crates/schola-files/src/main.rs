//! `schola-files`: the file share daemon. Parse options, load the config, serve the portal's
//! file API and WebDAV on a Unix socket, and keep house in the background (trash and stale
//! upload purges hourly, the change journal every few seconds).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use schola_core::{Config, Store, SystemClock};
use schola_files::server::{self, Files};

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
            run(cfg)
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
    let store = Store::open_current(&cfg.database_path(), Arc::new(SystemClock))?;
    let socket = cfg.files_socket();
    let files = Arc::new(Files::new(cfg, store).map_err(|e| anyhow::anyhow!("{e}"))?);
    // Housekeeping on its own thread: the journal every 2 s, purges hourly.
    let bg = files.clone();
    std::thread::Builder::new()
        .name("housekeeping".into())
        .spawn(move || {
            let mut next_purge = Instant::now();
            loop {
                let purge = Instant::now() >= next_purge;
                if purge {
                    next_purge = Instant::now() + Duration::from_secs(3600);
                }
                server::housekeeping(&bg, schola_files::now(), purge);
                std::thread::sleep(Duration::from_secs(2));
            }
        })?;
    let sock = socket.clone();
    actix_web::rt::System::new().block_on(server::serve(files, &socket, move || {
        log::info!("listening on {}", sock.display());
        eprintln!("schola-files listening on {}", sock.display());
        schola_core::daemon::notify_ready();
    }))?;
    schola_core::daemon::notify_stopping();
    Ok(())
}
