//! The server's lifecycle: bind every socket ([`Server::bind`]), then run until shutdown
//! ([`Server::run`]). State shared by the tasks lives in [`Shared`], behind one mutex.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bureau_stun::nonce::NonceKey;
use bureau_stun::policy::PeerPolicy;
use bureau_stun::server::{Event, FiveTuple, Server as Core, ServerConfig};
use rand::RngCore;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use crate::config::Config;
use crate::error::Error;
use crate::metrics::Metrics;
use crate::plane::Plane;
use crate::relay::RelayPool;
use crate::udp::Endpoint;

/// The state machine and the relay sockets, locked together.
pub(crate) struct State {
    pub core: Core,
    pub relays: RelayPool,
    /// Listening UDP sockets by local address (one per address is enough to send).
    pub udp: Vec<(SocketAddr, Arc<Endpoint>)>,
}

impl State {
    /// The UDP socket listening on `local`.
    pub fn udp_socket(&self, local: SocketAddr) -> Option<&Arc<Endpoint>> {
        self.udp.iter().find(|(a, _)| *a == local).map(|(_, s)| s)
    }
}

/// What every task of the server shares.
pub(crate) struct Shared {
    state: Mutex<State>,
    /// Writers of TCP and TLS connections.
    pub streams: Mutex<HashMap<FiveTuple, mpsc::Sender<Vec<u8>>>>,
    /// Set when the server stops, for the data-plane threads.
    stopping: AtomicBool,
}

impl Shared {
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn streams(&self) -> MutexGuard<'_, HashMap<FiveTuple, mpsc::Sender<Vec<u8>>>> {
        self.streams.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }
}

/// The addresses the server listens on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalAddrs {
    /// STUN/TURN over UDP.
    pub udp: SocketAddr,
    /// STUN/TURN over TCP (same port as UDP).
    pub tcp: SocketAddr,
    /// TURN over TLS, when configured.
    pub tls: Option<SocketAddr>,
}

/// A bound TURN server, ready to [`run`](Server::run).
pub struct Server {
    shared: Arc<Shared>,
    planes: Vec<Plane>,
    tcp: TcpListener,
    tls: Option<(TcpListener, TlsAcceptor)>,
    addrs: LocalAddrs,
}

/// How often a port chosen by the system for UDP is tried again when TCP finds it taken.
const PORT_ATTEMPTS: usize = 16;

/// Binds `count` UDP listening sockets and a TCP listener on the same address. With port 0 the
/// system picks the UDP port, which TCP may already have in use (another program's connection):
/// then another port is tried, so "any free port" holds for both protocols.
async fn bind_udp_and_tcp(listen: SocketAddr, count: usize) -> Result<(Vec<Arc<Endpoint>>, TcpListener, SocketAddr), Error> {
    let attempts = if listen.port() == 0 { PORT_ATTEMPTS } else { 1 };
    let mut last_error = None;
    for _ in 0..attempts {
        let mut udp = Vec::new();
        let mut addr = listen;
        for _ in 0..count {
            let s = crate::udp::listener_socket(addr, count > 1).map_err(|source| Error::Bind { addr, source })?;
            addr = s.local_addr()?;
            udp.push(Arc::new(Endpoint::listener(s)?));
        }
        match TcpListener::bind(addr).await {
            Ok(tcp) => return Ok((udp, tcp, addr)),
            Err(source) => last_error = Some(Error::Bind { addr, source }),
        }
    }
    Err(last_error.unwrap_or_else(|| Error::Bind { addr: listen, source: std::io::ErrorKind::AddrInUse.into() }))
}

impl Server {
    /// Validates `config` and opens the listening sockets.
    pub async fn bind(config: Config) -> Result<Server, Error> {
        config.validate()?;
        let relay_ip = config.relay_ip()?;
        let count = match config.udp_sockets {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        };
        let (udp, tcp, addr) = bind_udp_and_tcp(config.listen, count).await?;
        let tls = match (config.tls_listen, &config.cert, &config.key) {
            (Some(a), Some(cert), Some(key)) => {
                let acceptor = crate::stream::tls_acceptor(cert, key)?;
                let l = TcpListener::bind(a).await.map_err(|source| Error::Bind { addr: a, source })?;
                Some((l, acceptor))
            }
            _ => None,
        };
        let addrs = LocalAddrs { udp: addr, tcp: tcp.local_addr()?, tls: tls.as_ref().map(|(l, _)| l.local_addr()).transpose()? };
        let core_config = ServerConfig {
            realm: config.realm.clone(),
            auth_secret: config.auth_secret.as_bytes().to_vec(),
            software: Some(concat!("bureau ", env!("CARGO_PKG_VERSION")).into()),
            policy: PeerPolicy { allow_loopback: config.allow_loopback_peers, allow: config.allow_peers.clone() },
            max_lifetime: Duration::from_secs(config.max_lifetime),
            user_quota: config.user_quota,
            total_quota: config.total_quota,
            bandwidth: (config.bandwidth > 0).then_some(config.bandwidth),
            unauth_rate: config.unauth_rate,
            ..ServerConfig::default()
        };
        let mut key = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut key);
        let now_unix = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let core = Core::new(core_config, Instant::now(), now_unix, NonceKey::new(key));
        let udp_map = vec![(addr, udp[0].clone())];
        let io_state = Endpoint::shared_state(relay_ip).map_err(|source| Error::Bind { addr: SocketAddr::new(relay_ip, 0), source })?;
        let (planes, handles): (Vec<_>, Vec<_>) = udp.into_iter().map(|ep| Plane::new(ep, addr, Duration::from_micros(config.moderation_us))).collect::<std::io::Result<Vec<_>>>()?.into_iter().unzip();
        let relays = RelayPool::new(relay_ip, config.relay_ip6, config.relay_ports, io_state, handles);
        let shared = Arc::new(Shared {
            state: Mutex::new(State { core, relays, udp: udp_map }),
            streams: Mutex::new(HashMap::new()),
            stopping: AtomicBool::new(false),
        });
        Ok(Server { shared, planes, tcp, tls, addrs })
    }

    /// The bound addresses.
    pub fn local_addrs(&self) -> LocalAddrs {
        self.addrs
    }

    /// A handle that renders Prometheus metrics, usable while the server runs.
    pub fn metrics(&self) -> Metrics {
        Metrics::new(self.shared.clone())
    }

    /// Serves until `shutdown` completes, then closes every socket.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<(), Error> {
        // Dropping the future (or a panic) must stop the data-plane threads too: no task can
        // cancel them.
        let planes = StopPlanes(self.shared.clone());
        let mut tasks = JoinSet::new();
        for plane in self.planes {
            let shared = self.shared.clone();
            tasks.spawn_blocking(move || plane.run(&shared));
        }
        tasks.spawn(crate::stream::accept_loop(self.shared.clone(), self.tcp, None));
        if let Some((l, acceptor)) = self.tls {
            tasks.spawn(crate::stream::accept_loop(self.shared.clone(), l, Some(acceptor)));
        }
        tasks.spawn(timer_loop(self.shared.clone()));
        tracing::info!(udp = %self.addrs.udp, tcp = %self.addrs.tcp, tls = ?self.addrs.tls, "TURN server listening");
        let result = tokio::select! {
            () = shutdown => Ok(()),
            Some(r) = tasks.join_next() => match r {
                Ok(Err(e)) => Err(Error::Io(e)),
                _ => Ok(()),
            },
        };
        drop(planes);
        tasks.shutdown().await;
        {
            let mut st = self.shared.lock();
            st.relays.close_all();
            st.udp.clear();
        }
        self.shared.streams().clear();
        tracing::info!("TURN server stopped");
        result
    }
}

/// Stops the data-plane threads when dropped: they see the flag once woken.
struct StopPlanes(Arc<Shared>);

impl Drop for StopPlanes {
    fn drop(&mut self) {
        self.0.stopping.store(true, Ordering::SeqCst);
        self.0.lock().relays.wake_planes();
    }
}

/// Expires state once a second and logs lifecycle events (without credentials).
async fn timer_loop(shared: Arc<Shared>) -> std::io::Result<()> {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        let mut st = shared.lock();
        let State { core, relays, .. } = &mut *st;
        core.handle_timeout(Instant::now(), relays);
        while let Some(e) = core.poll_event() {
            match e {
                Event::AllocationCreated { five, relays } => {
                    tracing::debug!(client = %five.client, transport = ?five.transport, ?relays, "allocation created");
                }
                Event::AllocationEnded { five, expired } => {
                    tracing::debug!(client = %five.client, transport = ?five.transport, expired, "allocation ended");
                }
            }
        }
    }
}
