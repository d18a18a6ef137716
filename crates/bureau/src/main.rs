//! The `bureau` binary: parses the command line and hands over to the library crates.
//! It stays thin: every behaviour lives in `bureau-server` or `bureau-turn`.
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod turn_cmd;

/// Bureau: a self-hosted, privacy-first virtual office.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the STUN/TURN server alone.
    Turn(turn_cmd::TurnArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Turn(args) => turn_cmd::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
