//! `bureau turn`: the STUN/TURN server on its own.

/// Flags of `bureau turn`.
#[derive(clap::Args)]
pub struct TurnArgs {}

/// Runs the TURN server until Ctrl-C or SIGTERM.
pub fn run(_args: TurnArgs) -> anyhow::Result<()> {
    anyhow::bail!("the TURN server is not built yet")
}
