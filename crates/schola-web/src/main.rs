//! `schola-web`: the portal and admin UI daemon. Parse options, load the config, serve.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

#[derive(Parser)]
#[command(
    name = "schola-web",
    version,
    about = "Schola's portal and admin web UI (HTTPS)"
)]
struct Opts {
    /// Configuration file (conf.d/*.toml beside it is read too)
    #[arg(long, env = "SCHOLA_CONFIG")]
    config: Option<PathBuf>,
    /// Check the configuration and TLS material, then exit
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
                eprintln!("schola-web: error: cannot write the manual page: {e}");
                ExitCode::FAILURE
            }
        };
    }
    schola_core::daemon::init_logging("info,actix_server=warn");
    let path = schola_core::Config::locate(opts.config.as_deref());
    let result = schola_core::Config::load(&path)
        .map_err(anyhow::Error::from)
        .and_then(|cfg| {
            if opts.check {
                schola_web::tls::load_or_generate(&cfg)?;
                eprintln!("config OK: {}", path.display());
                return Ok(());
            }
            // Under systemd the journal already has these from the log; elsewhere they are the
            // lines a person starting the daemon by hand looks for.
            let to_terminal = !schola_core::daemon::under_journal();
            schola_web::run(cfg, move |s| {
                if !to_terminal {
                    return;
                }
                if let Some(code) = &s.setup_code {
                    eprintln!(
                        "schola-web: first-run setup: open /setup and enter the setup code {code}"
                    );
                }
                eprintln!(
                    "schola-web: TLS certificate SHA-256 fingerprint {}",
                    s.fingerprint
                );
                // before the HTTPS lines, which tell a waiting caller that start-up is done
                for url in &s.metrics_urls {
                    eprintln!("schola-web: metrics on {url}");
                }
                for url in &s.urls {
                    eprintln!("schola-web: listening on {url}");
                }
            })
        });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("schola-web: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
