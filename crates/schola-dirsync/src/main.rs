//! `schola-dirsync`: the directory sync daemon. Parse options, load the config, run rounds:
//! the drop folder every few seconds, purges hourly, the upstream LDAP at its interval.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use clap::Parser;
use schola_core::{Config, Store, SystemClock};

#[derive(Parser)]
#[command(
    name = "schola-dirsync",
    version,
    about = "Schola's directory sync: CSV exports dropped into the import folder, the upstream LDAP/AD, and purges of leavers after the grace period"
)]
struct Opts {
    /// Configuration file (conf.d/*.toml beside it is read too)
    #[arg(long, env = "SCHOLA_CONFIG")]
    config: Option<PathBuf>,
    /// Check the configuration, then exit
    #[arg(long)]
    check: bool,
    /// Run one round (drop folder, purges, upstream sync) and exit
    #[arg(long)]
    once: bool,
    /// Seconds between looks at the drop folder
    #[arg(long, default_value_t = 5, value_name = "SECS")]
    poll_secs: u64,
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
                eprintln!("schola-dirsync: error: cannot write the manual page: {e}");
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
            run(cfg, &opts)
        });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("schola-dirsync: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cfg: Config, opts: &Opts) -> anyhow::Result<()> {
    let store = Store::open_current(&cfg.database_path(), Arc::new(SystemClock))?;
    let drop_dir = cfg.import_drop_dir();
    std::fs::create_dir_all(&drop_dir)
        .map_err(|e| anyhow::anyhow!("cannot make the drop folder {}: {e}", drop_dir.display()))?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let ldap_every = cfg
        .import
        .ldap
        .as_ref()
        .map(|l| Duration::from_secs(l.interval_minutes * 60))
        .filter(|d| !d.is_zero());
    log::info!(
        "watching {} for CSV exports (auto-apply {}); upstream {}",
        drop_dir.display(),
        if cfg.import.auto_apply { "on" } else { "off" },
        match (&cfg.import.ldap, ldap_every) {
            (Some(l), Some(d)) => format!("{} every {} min", l.url, d.as_secs() / 60),
            (Some(l), None) => format!("{} only when asked", l.url),
            (None, _) => "none".into(),
        }
    );
    schola_core::daemon::notify_ready();
    let mut next_purge = Instant::now();
    let mut next_ldap = Instant::now();
    let watchdog = schola_core::daemon::watchdog_interval();
    // Registered once, before the first round: a SIGTERM that arrives during a round is kept
    // and ends the daemon right after it (a round's writes are each one transaction).
    let mut sigterm = rt.block_on(async {
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
    })?;
    let mut sigint = rt.block_on(async {
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
    })?;
    loop {
        match schola_dirsync::daemon::scan_drop_dir(&cfg, &store, SystemTime::now()) {
            Ok(round) => {
                for (name, reason) in &round.failed {
                    log::error!("{name} was not imported: {reason}");
                }
            }
            Err(e) => log::error!("cannot read the drop folder {}: {e}", drop_dir.display()),
        }
        if Instant::now() >= next_purge {
            if let Err(e) = schola_dirsync::daemon::purge_due(&cfg, &store) {
                log::error!("purging leavers failed: {e}");
            }
            next_purge = Instant::now() + Duration::from_secs(3600);
        }
        if let Some(every) = ldap_every
            && Instant::now() >= next_ldap
        {
            if let Err(e) = rt.block_on(schola_dirsync::daemon::sync_ldap(&cfg, &store)) {
                log::error!("upstream sync failed: {e}");
            }
            next_ldap = Instant::now() + every;
        }
        if opts.once {
            return Ok(());
        }
        if watchdog.is_some() && store.ping().is_ok() {
            schola_core::daemon::notify_watchdog();
        }
        let stop = rt.block_on(async {
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(opts.poll_secs.max(1))) => false,
                _ = sigterm.recv() => true,
                _ = sigint.recv() => true,
            }
        });
        if stop {
            schola_core::daemon::notify_stopping();
            log::info!("stopping");
            return Ok(());
        }
    }
}
