//! `schola-mail`: parse options, load the config, then either serve Postfix's and Dovecot's
//! questions or write their configuration.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use clap::Parser;
use schola_core::{Config, Store};
use schola_mail::conf::{self, Listen, Ports, Setup};

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
    /// a directory (postfix/, dovecot/)
    RenderConfig {
        /// Where to write them
        #[arg(long)]
        out: PathBuf,
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
                None => run(&cfg),
            }
        });
    match result {
        Ok(()) => ExitCode::SUCCESS,
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

/// The appliance's layout: Debian's paths, every interface, the standard ports.
fn render_config(
    cfg: &Config,
    out: &std::path::Path,
    hostname: Option<String>,
) -> anyhow::Result<()> {
    let store = Store::open_current(&cfg.database_path(), Arc::new(schola_core::SystemClock))
        .context("cannot open the database")?;
    let domain = store.school()?.mail_domain;
    anyhow::ensure!(
        !domain.is_empty(),
        "the school has no mail domain yet: finish the first-run setup first"
    );
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
    let setup = Setup {
        hostname,
        domain,
        listen: Listen::All,
        ports: Ports::default(),
        postfix_dir: "/etc/postfix".into(),
        postfix_queue_dir: "/var/spool/postfix".into(),
        postfix_data_dir: "/var/lib/postfix".into(),
        postfix_log: None,
        dovecot_dir: "/etc/dovecot".into(),
        dovecot_base_dir: "/run/dovecot".into(),
        dovecot_state_dir: None,
        dovecot_log: None,
        instance_name: "dovecot".into(),
        // the certificate schola-web serves (the admin's, or the one made on first start)
        tls_cert: cfg
            .web
            .tls_cert
            .clone()
            .unwrap_or_else(|| cfg.tls_dir().join("cert.pem")),
        tls_key: cfg
            .web
            .tls_key
            .clone()
            .unwrap_or_else(|| cfg.tls_dir().join("key.pem")),
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
    let written = conf::write(&conf::render(&setup), out)?;
    for f in written {
        println!("{}", f.display());
    }
    Ok(())
}
