//! `scholactl`, the Schola admin command line: parses the command, runs it through schola-core,
//! and turns any failure into one line `error: …` on stderr and exit status 1.

mod backup;
mod backup_helper;
mod check;
mod cli;
mod context;
mod db;
mod demo;
mod demo_data;
mod group;
mod import;
mod output;
mod setup;
mod upgrade;
mod user;

use std::io::Write as _;
use std::process::ExitCode;

use clap::Parser as _;

use crate::cli::{
    BackupCommand, Cli, Command, ConfigCommand, DbCommand, GroupCommand, UserCommand,
};
use crate::context::Ctx;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // `check` exits 1 and 2 for its verdicts, so its usage errors take 3 instead of clap's 2
        Err(e) if e.use_stderr() && std::env::args().skip(1).any(|a| a == "check") => {
            let _ = e.print();
            return ExitCode::from(check::COULD_NOT_RUN);
        }
        Err(e) => e.exit(),
    };
    // `check` has its own exit statuses: 0 OK, 1 WARN, 2 FAIL, 3 could not run
    let failed = if matches!(cli.command, Command::Check(_)) {
        check::COULD_NOT_RUN
    } else {
        1
    };
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "error: {}", one_line(&e));
            ExitCode::from(failed)
        }
    }
}

/// Runs the command; returns the exit status.
fn run(cli: Cli) -> anyhow::Result<u8> {
    let ctx = Ctx {
        config_path: schola_core::Config::locate(cli.config.as_deref()),
        json: cli.json,
    };
    match cli.command {
        Command::Init(args) => setup::init(&ctx, args),
        Command::User(cmd) => match cmd {
            UserCommand::Add(args) => user::add(&ctx, args),
            UserCommand::List(args) => user::list(&ctx, args),
            UserCommand::Show { login } => user::show(&ctx, &login),
            UserCommand::Disable { login } => user::disable(&ctx, &login),
            UserCommand::Enable { login } => user::enable(&ctx, &login),
            UserCommand::Passwd {
                login,
                password_stdin,
            } => user::passwd(&ctx, &login, password_stdin),
        },
        Command::Group(cmd) => match cmd {
            GroupCommand::Add(args) => group::add(&ctx, args),
            GroupCommand::List { kind } => group::list(&ctx, kind),
            GroupCommand::Members(args) => group::members(&ctx, args),
        },
        Command::Import(cmd) => import::run(&ctx, cmd),
        Command::Config(ConfigCommand::Check) => setup::config_check(&ctx),
        Command::Db(DbCommand::Status) => db::status(&ctx),
        Command::Db(DbCommand::Migrate) => db::migrate(&ctx),
        Command::Demo(args) => demo::run(&ctx, args),
        Command::Backup(BackupCommand::Nightly { force }) => {
            return backup_helper::nightly(&ctx, force);
        }
        Command::Backup(BackupCommand::RunRequest) => return backup_helper::run_request(&ctx),
        Command::Backup(BackupCommand::PreUpgrade { from, prune }) => {
            backup_helper::pre_upgrade(&ctx, from, prune)
        }
        Command::Backup(BackupCommand::RecoverySheet { out }) => {
            backup_helper::recovery_sheet(&ctx, &out)
        }
        Command::Backup(cmd) => backup::backup(&ctx, cmd),
        Command::Restore(cmd) => backup::restore(&ctx, cmd),
        Command::Upgrade(args) => upgrade::run(&ctx, args),
        Command::Check(args) => return check::run(&ctx, args),
        Command::GenerateMan { dir } => write_man_pages(&dir),
    }
    .map(|()| 0)
}

/// scholactl.8, scholactl-user.8, scholactl-user-add.8, … (section 8: administration).
fn write_man_pages(dir: &std::path::Path) -> anyhow::Result<()> {
    fn write(cmd: clap::Command, dir: &std::path::Path) -> std::io::Result<()> {
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()).cloned() {
            write(sub, dir)?;
        }
        clap_mangen::Man::new(cmd)
            .section("8")
            .generate_to(dir)
            .map(|_| ())
    }
    let mut cmd = <Cli as clap::CommandFactory>::command().disable_help_subcommand(true);
    cmd.build();
    std::fs::create_dir_all(dir)?;
    write(cmd, dir)
        .map_err(|e| anyhow::anyhow!("cannot write the manual pages to {}: {e}", dir.display()))
}

/// The error and its causes joined with ": ", on one line. A cause whose text the message
/// already ends with is left out (library errors often print their source themselves), and
/// control characters are made visible.
pub(crate) fn one_line(e: &anyhow::Error) -> String {
    let mut msg = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if text.is_empty() || msg.ends_with(&text) {
            continue;
        }
        if !msg.is_empty() {
            msg.push_str(": ");
        }
        msg.push_str(&text);
    }
    output::printable(&msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_chain_is_one_line_without_repeats() {
        let io = std::io::Error::other("disk on fire");
        let e = anyhow::Error::new(io)
            .context("cannot write /x: disk on fire")
            .context("cannot add 'Anna\nMüller'");
        assert_eq!(
            one_line(&e),
            "cannot add 'Anna\\u{a}Müller': cannot write /x: disk on fire"
        );
    }
}
