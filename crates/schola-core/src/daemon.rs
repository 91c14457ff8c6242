//! What every daemon does at start and while running: logging (to the systemd journal when
//! started by systemd, else to stderr) and readiness/watchdog notifications.

/// Sets up logging. Under systemd (`JOURNAL_STREAM` set) events go to the journal with their
/// fields; elsewhere to stderr. `RUST_LOG` overrides `default_filter`.
pub fn init_logging(default_filter: &str) {
    if systemd_journal_logger::connected_to_journal()
        && let Ok(logger) = systemd_journal_logger::JournalLog::new()
    {
        // tracing forwards to `log` (its "log" feature) when no subscriber is installed
        let level = std::env::var("RUST_LOG")
            .ok()
            .and_then(|l| l.parse::<log::LevelFilter>().ok())
            .unwrap_or(log::LevelFilter::Info);
        if logger.install().is_ok() {
            log::set_max_level(level);
            return;
        }
    }
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_filter));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// True when stderr goes to the systemd journal.
pub fn under_journal() -> bool {
    systemd_journal_logger::connected_to_journal()
}

/// Tells systemd the daemon is ready (listeners bound). A no-op outside systemd.
pub fn notify_ready() {
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Ready]);
}

pub fn notify_stopping() {
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Stopping]);
}

/// The watchdog interval systemd asked for, if any; keep-alives go out at half of it.
pub fn watchdog_interval() -> Option<std::time::Duration> {
    sd_notify::watchdog_enabled().map(|d| d / 2)
}

pub fn notify_watchdog() {
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Watchdog]);
}
