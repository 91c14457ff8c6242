//! `schola-mail`: parse options, load the config, then either serve Postfix's and Dovecot's
//! questions, write their configuration, or (`local`, for demos and tests) start them on
//! 127.0.0.1 and serve their questions.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use clap::Parser;
use schola_core::{Config, Store};
use schola_mail::conf::{self, Listen, Setup};
use schola_mail::local::LocalServers;

#[derive(Parser)]
#[command(
    name = "schola-mail",
    version,
    about = "Schola's school e-mail: answers Postfix's lookups and sending-policy questions and Dovecot's account lookups from the Schola directory"
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
    /// Write Postfix's main.cf and master.cf and Dovecot's configuration for this school into
    /// a directory (postfix/ and dovecot/schola/, as under /etc on the appliance). Exits with
    /// status 75 when the school is not set up yet (no database or no mail domain)
    RenderConfig {
        /// Where to write them (the appliance's files are rendered for /etc)
        #[arg(long)]
        out: PathBuf,
        /// The server's host name (default: this machine's)
        #[arg(long)]
        hostname: Option<String>,
    },
    /// For demos and tests only: start Postfix and Dovecot on 127.0.0.1 and answer them
    ///
    /// Never used on the appliance, where systemd runs Postfix and Dovecot with the files
    /// render-config writes. This starts Debian's Postfix and Dovecot for this school beside
    /// the system's own mail servers: on 127.0.0.1 at the ports of [mail.ports], with their
    /// configuration, queue and logs (postfix.log, dovecot.log) under <state_dir>/mail-local/
    /// and the mailboxes in [mail] vmail_dir; then it answers their questions as `schola-mail`
    /// does. SIGTERM or Ctrl-C stops all three. Needs root, the packages postfix,
    /// dovecot-imapd and dovecot-lmtpd, the system user vmail, and the TLS certificate
    /// schola-web makes on its first start. `scholactl demo` (as root) and tests/browser/run
    /// use it.
    Local {
        /// The server's host name (default: this machine's)
        #[arg(long)]
        hostname: Option<String>,
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
                eprintln!("schola-mail: error: cannot write the manual page: {e}");
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
                Some(Command::RenderConfig { out, hostname }) => {
                    render_config(&cfg, &out, hostname)
                }
                Some(Command::Local { hostname }) => local(&cfg, hostname),
                None => run(&cfg),
            }
        });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.is::<NotSetUp>() => {
            eprintln!("schola-mail: {e}");
            ExitCode::from(NotSetUp::EXIT)
        }
        Err(e) => {
            eprintln!("schola-mail: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cfg: &Config) -> anyhow::Result<()> {
    schola_mail::server::run(cfg, |s| {
        log::info!(
            "answering Postfix on {} (lookups) and {} (policy), Dovecot on {}",
            s.socketmap.display(),
            s.policy.display(),
            s.auth.display()
        );
        schola_core::daemon::notify_ready();
    })?;
    schola_core::daemon::notify_stopping();
    Ok(())
}

/// `run`, with Postfix and Dovecot started here first and stopped when it ends.
fn local(cfg: &Config, hostname: Option<String>) -> anyhow::Result<()> {
    let hostname = hostname.unwrap_or_else(schola_mail::local::this_host);
    let servers = LocalServers::start(cfg, &hostname)?;
    let mut cfg = cfg.clone();
    // cached sign-ins are dropped in this Dovecot, not the appliance's
    cfg.mail.dovecot_config = servers.dovecot_config();
    let ports = servers.setup().ports;
    schola_mail::server::run(&cfg, |s| {
        log::info!(
            "mail for {} on 127.0.0.1: SMTP {}, submission {} (STARTTLS), IMAP {} (STARTTLS), IMAPS {}; answering on {}",
            servers.setup().domain,
            ports.smtp,
            ports.submission,
            ports.imap,
            ports.imaps,
            s.auth.parent().unwrap_or(s.auth.as_path()).display()
        );
        schola_core::daemon::notify_ready();
    })?;
    drop(servers);
    Ok(())
}

/// The school has no mail domain yet: nothing to render until the first-run setup is done. Not
/// an error of the installation, so it has an exit status of its own (EX_TEMPFAIL), which the
/// package's apply-config helper tells apart from a real failure.
#[derive(Debug, thiserror::Error)]
#[error(
    "the school is not set up yet ({0}): the mail configuration is written after the first-run setup"
)]
struct NotSetUp(&'static str);

impl NotSetUp {
    const EXIT: u8 = 75;
}

/// Where Dovecot's files live on the appliance. Not /etc/dovecot itself: its dovecot.conf is a
/// conffile of dovecot-core, which an upgrade of Dovecot would offer to replace (or stop at a
/// prompt). The package's drop-in for dovecot.service starts Dovecot with `-c` on ours.
const DOVECOT_DIR: &str = "/etc/dovecot/schola";

/// Where a generated file goes under `--out`: Postfix's in `postfix/`, Dovecot's in
/// `dovecot/schola/`, so `--out /etc` is the appliance's layout (`DOVECOT_DIR`).
fn appliance_place(out: &std::path::Path, f: &conf::File) -> PathBuf {
    match f.name.strip_prefix("dovecot/") {
        Some(rest) => out.join("dovecot/schola").join(rest),
        None => out.join(f.name),
    }
}

/// The appliance's layout: Debian's paths, every interface, the ports of `[mail.ports]`.
fn render_config(
    cfg: &Config,
    out: &std::path::Path,
    hostname: Option<String>,
) -> anyhow::Result<()> {
    if !cfg.database_path().exists() {
        return Err(NotSetUp("no database yet").into());
    }
    let store = Store::open_current(&cfg.database_path(), Arc::new(schola_core::SystemClock))
        .context("cannot open the database")?;
    let domain = store.school()?.mail_domain;
    if domain.is_empty() {
        return Err(NotSetUp("no mail domain yet").into());
    }
    let hostname = match hostname {
        Some(h) => h,
        None => nix::unistd::gethostname()?.to_string_lossy().into_owned(),
    };
    let m = &cfg.mail;
    let vmail_uid = nix::unistd::User::from_name(&m.vmail_user)?
        .with_context(|| {
            format!(
                "the mailbox owner '{}' does not exist (create it: adduser --system --group {})",
                m.vmail_user, m.vmail_user
            )
        })?
        .uid
        .as_raw();
    // the certificate schola-web serves (the admin's, or the one made on first start)
    let (tls_cert, tls_key) = cfg.tls_pair();
    let setup = Setup {
        hostname,
        domain,
        listen: Listen::All,
        ports: m.ports,
        postfix_dir: "/etc/postfix".into(),
        postfix_queue_dir: "/var/spool/postfix".into(),
        postfix_data_dir: "/var/lib/postfix".into(),
        postfix_log: None,
        dovecot_dir: DOVECOT_DIR.into(),
        dovecot_base_dir: "/run/dovecot".into(),
        dovecot_state_dir: None,
        dovecot_log: None,
        instance_name: "dovecot".into(),
        tls_cert,
        tls_key,
        socketmap_socket: cfg.mail_socketmap_socket(),
        policy_socket: cfg.mail_policy_socket(),
        auth_socket: cfg.mail_auth_socket(),
        lmtp_socket: "/run/dovecot/schola-lmtp".into(),
        sasl_socket: "/run/dovecot/schola-auth".into(),
        vmail_dir: m.vmail_dir.clone(),
        vmail_user: m.vmail_user.clone(),
        vmail_uid,
        schola_user: "schola".into(),
        login_processes: Config::cores(),
        mail: m.clone(),
    };
    let written = conf::write_placed(&conf::render(&setup), |f| appliance_place(out, f))?;
    for f in written {
        println!("{}", f.display());
    }
    Ok(())
}
