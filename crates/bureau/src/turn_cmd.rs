//! `bureau turn`: the STUN/TURN server on its own.
//!
//! Settings come from the `[turn]` table of `--config FILE`, then from `BUREAU_TURN_*`
//! environment variables, then from flags (flags win).
//! A bad value names its flag or key and exits with status 2.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use anyhow::Context;
use bureau_turn::{Cidr, Config, PortRange};
use serde::Deserialize;

/// Flags of `bureau turn`.
#[derive(clap::Args)]
pub struct TurnArgs {
    /// UDP and TCP listening address.
    #[arg(long, env = "BUREAU_TURN_LISTEN", value_name = "ADDR:PORT")]
    listen: Option<SocketAddr>,
    /// TLS listening address (needs --cert and --key).
    #[arg(long, env = "BUREAU_TURN_TLS_LISTEN", value_name = "ADDR:PORT")]
    tls_listen: Option<SocketAddr>,
    /// PEM certificate chain for TLS.
    #[arg(long, env = "BUREAU_TURN_CERT", value_name = "FILE")]
    cert: Option<PathBuf>,
    /// PEM private key for TLS.
    #[arg(long, env = "BUREAU_TURN_KEY", value_name = "FILE")]
    key: Option<PathBuf>,
    /// REALM of the long-term credentials.
    #[arg(long, env = "BUREAU_TURN_REALM")]
    realm: Option<String>,
    /// Shared secret of REST credentials (coturn's --static-auth-secret).
    #[arg(long, env = "BUREAU_TURN_AUTH_SECRET", hide_env_values = true, value_name = "SECRET")]
    auth_secret: Option<String>,
    /// Address relay sockets bind to (default: the --listen IP).
    #[arg(long, env = "BUREAU_TURN_RELAY_IP", value_name = "IP")]
    relay_ip: Option<IpAddr>,
    /// IPv6 address for IPv6 relayed addresses.
    #[arg(long, env = "BUREAU_TURN_RELAY_IP6", value_name = "IP")]
    relay_ip6: Option<IpAddr>,
    /// Relay port range.
    #[arg(long, env = "BUREAU_TURN_RELAY_PORTS", value_name = "LOW-HIGH", value_parser = parse_ports)]
    relay_ports: Option<PortRange>,
    /// Allow loopback peers (tests, single-host setups).
    #[arg(long)]
    allow_loopback_peers: bool,
    /// Allow peers in this network although the default policy refuses it (repeatable).
    #[arg(long, value_name = "CIDR")]
    allow_peer: Vec<Cidr>,
    /// Allocations per user.
    #[arg(long, env = "BUREAU_TURN_USER_QUOTA", value_name = "N")]
    user_quota: Option<u32>,
    /// Allocations in total.
    #[arg(long, env = "BUREAU_TURN_TOTAL_QUOTA", value_name = "N")]
    total_quota: Option<u32>,
    /// Bytes per second per allocation (0: no cap).
    #[arg(long, env = "BUREAU_TURN_BANDWIDTH", value_name = "BYTES")]
    bandwidth: Option<u64>,
    /// UDP listening sockets with SO_REUSEPORT (0: one per CPU).
    #[arg(long, env = "BUREAU_TURN_UDP_SOCKETS", value_name = "N")]
    udp_sockets: Option<usize>,
    /// Microseconds a busy UDP thread pauses between rounds to batch its I/O (0: never).
    #[arg(long, env = "BUREAU_TURN_MODERATION_US", value_name = "MICROSECONDS")]
    moderation_us: Option<u64>,
    /// Serve Prometheus metrics (`/metrics`) and a health check (`/healthz`) over plain HTTP on
    /// this address; keep it on a private network.
    #[arg(long, env = "BUREAU_TURN_METRICS_LISTEN", value_name = "ADDR:PORT")]
    metrics_listen: Option<SocketAddr>,
    /// TOML config file; its [turn] table holds the same settings.
    #[arg(long, env = "BUREAU_TURN_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
}

fn parse_ports(s: &str) -> Result<PortRange, String> {
    s.parse()
}

/// Exits with status 2 after printing a usage error.
fn usage_error(message: impl std::fmt::Display) -> ! {
    eprintln!("error: {message}");
    std::process::exit(2)
}

fn load(args: TurnArgs) -> (Config, Option<SocketAddr>) {
    let metrics_listen = args.metrics_listen;
    let mut c = match &args.config {
        None => Config::default(),
        Some(path) => {
            let text = std::fs::read_to_string(path).unwrap_or_else(|e| usage_error(format!("--config {}: {e}", path.display())));
            let table: toml::Table = toml::from_str(&text).unwrap_or_else(|e| usage_error(format!("--config {}: {e}", path.display())));
            match table.get("turn") {
                None => Config::default(),
                Some(v) => Config::deserialize(v.clone()).unwrap_or_else(|e| usage_error(format!("--config {}: [turn] {e}", path.display()))),
            }
        }
    };
    macro_rules! take {
        ($($f:ident),*) => { $(if let Some(v) = args.$f { c.$f = v; })* };
    }
    take!(listen, realm, auth_secret, relay_ports, user_quota, total_quota, bandwidth, udp_sockets, moderation_us);
    macro_rules! take_opt {
        ($($f:ident),*) => { $(if args.$f.is_some() { c.$f = args.$f; })* };
    }
    take_opt!(tls_listen, cert, key, relay_ip, relay_ip6);
    c.allow_loopback_peers |= args.allow_loopback_peers;
    c.allow_peers.extend(args.allow_peer);
    if let Err(e) = c.validate() {
        usage_error(format!("--{} / turn.{}: {}", e.key.replace('_', "-"), e.key, e.message));
    }
    (c, metrics_listen)
}

/// Runs the TURN server until Ctrl-C or SIGTERM.
pub fn run(args: TurnArgs) -> anyhow::Result<()> {
    let (config, metrics_listen) = load(args);
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the runtime")?;
    runtime.block_on(async {
        let shutdown = shutdown_signal();
        let server = bureau_turn::Server::bind(config).await?;
        let addrs = server.local_addrs();
        // Scripts read this line to learn the ports when --listen uses port 0.
        println!("listening udp={} tcp={} tls={}", addrs.udp, addrs.tcp, addrs.tls.map_or("-".into(), |a| a.to_string()));
        if let Some(addr) = metrics_listen {
            let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("--metrics-listen {addr}"))?;
            println!("metrics http://{}/metrics", listener.local_addr()?);
            tokio::spawn(serve_metrics(listener, server.metrics()));
        }
        server.run(shutdown).await?;
        Ok(())
    })
}

/// `/metrics` and `/healthz` for Prometheus and load balancers; ends with the process.
async fn serve_metrics(listener: tokio::net::TcpListener, metrics: bureau_turn::Metrics) {
    use axum::routing::get;
    let app = axum::Router::new()
        .route("/metrics", get(move || async move { metrics.render() }))
        .route("/healthz", get(|| async { "ok" }));
    if let Err(err) = axum::serve(listener, app).await {
        tracing::error!("the metrics listener stopped: {err}");
    }
}

/// Ctrl-C or SIGTERM. The handlers are installed when this is called, not when the future is
/// first polled: a SIGTERM right after the "listening" line must stop the server cleanly, not
/// kill it with the signal's default action.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    let ctrl_c = tokio::signal::ctrl_c();
    async move {
        #[cfg(unix)]
        if let Some(mut term) = term {
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
            return;
        }
        let _ = ctrl_c.await;
    }
}
