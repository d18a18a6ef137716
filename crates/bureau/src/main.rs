//! The `bureau` binary: parses the command line and hands over to the server crate.
use clap::Parser;

/// Bureau: a self-hosted, privacy-first virtual office.
#[derive(Parser)]
#[command(version, about)]
struct Cli {}

fn main() -> anyhow::Result<()> {
    let _cli = Cli::parse();
    Ok(())
}
