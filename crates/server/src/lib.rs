//! Bureau's server: the adapters around the domain.
//!
//! - [`config`]: the two-stage configuration (file, environment, flags -> validated [`Config`]).
//! - [`Server`]: opens the data folder, binds the HTTP and HTTPS listeners and serves the REST
//!   API, the operations endpoints and the embedded web client until shutdown.
//! - [`data`]: the data folder and the `bureau admin` maintenance operations.

pub mod config;
mod calendar;
pub mod data;
pub mod keys;
pub mod migrate;
mod error;
mod gate;
mod limits;
mod ice;
mod live;
mod mail;
mod metrics;
mod requester;
mod routes;
mod serve;
mod session;
mod sfu;
mod sms;
mod tls;
mod web;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use bureau_office::{Clock, Office, OfficeError, Policy, SystemClock};
use bureau_store::{Backend, StoreError, VaultError};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

pub use config::{Config, ConfigError, Flags};
pub use error::ApiError;
pub use gate::HttpLimits;
pub use requester::ProxyRange;
pub use routes::{Access, export_schema, route_access};

/// Shared by every request handler.
pub struct AppState {
    /// The validated configuration.
    pub config: Arc<Config>,
    /// The domain services.
    pub office: Arc<Office>,
    /// The signaling hub.
    pub live: Arc<live::Live>,
    /// What browsers are told about STUN/TURN.
    pub ice: ice::IceServers,
    /// Metrics of the embedded TURN server, when it runs.
    pub turn_metrics: Option<bureau_turn::Metrics>,
    /// The clock (for cookie lifetimes).
    pub clock: Arc<dyn Clock>,
    /// Counters for `/metrics`.
    pub metrics: metrics::Metrics,
    /// Message files being uploaded or downloaded now: each holds its whole file (up to 100
    /// MiB) in memory, so a node moves at most `routes::message_files::MAX_AT_ONCE` at once.
    pub file_transfers: Arc<tokio::sync::Semaphore>,
    /// The sessions whose listings were audited already (`routes::audit_read_once`).
    pub audited_reads: AuditedReads,
}

/// Sessions (a keyed hash of their token and the action) with the end of each, for audit
/// entries written once per session.
#[derive(Default)]
pub struct AuditedReads {
    /// The key of the hash, random per process.
    pub keys: std::collections::hash_map::RandomState,
    /// Hash → when the session ends (Unix ms); ended ones are dropped as new ones come.
    pub seen: std::sync::Mutex<std::collections::HashMap<u64, i64>>,
}

/// Facts about the connection a request arrived on.
#[derive(Clone, Copy, Debug)]
pub struct ConnInfo {
    /// The peer's address.
    pub peer: SocketAddr,
    /// Whether the connection is TLS.
    pub tls: bool,
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The data folder could not be created.
    #[error("cannot create the data folder {0}: {1}")]
    DataDir(PathBuf, std::io::Error),
    /// The master key or the organisation keys failed.
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The domain services refused to start.
    #[error(transparent)]
    Office(#[from] OfficeError),
    /// TLS could not be set up.
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    /// A listener could not be bound.
    #[error(transparent)]
    Bind(#[from] std::io::Error),
    /// The mail settings are invalid.
    #[error("{0}")]
    Mail(String),
    /// The embedded TURN server's configuration is invalid.
    #[error(transparent)]
    Turn(#[from] bureau_turn::Error),
    /// The SMS provider could not be set up.
    #[error("SMS provider: {0}")]
    Sms(#[from] bureau_office::SmsError),
    /// The Redis server of `redis_url` could not be set up.
    #[error("redis_url: {0}")]
    Redis(#[from] live::BusError),
    /// The HTTP client reading calendars could not be set up.
    #[error("calendar reader: {0}")]
    Calendar(String),
    /// An organisation key file, export or backup failed.
    #[error(transparent)]
    Archive(#[from] bureau_store::ArchiveError),
}

/// A started server: listeners bound, database open, not yet serving.
pub struct Server {
    state: Arc<AppState>,
    store: Backend,
    http: TcpListener,
    https: TcpListener,
    metrics: Option<TcpListener>,
    tls: TlsAcceptor,
    turn: Option<bureau_turn::Server>,
    /// Where browsers send media to the media server, when it runs.
    sfu_addr: Option<SocketAddr>,
    smtp: Option<Arc<mail::SmtpMailer>>,
    setup_token: Option<String>,
}

impl Server {
    /// Opens the data folder (creating it, the master key, the database and a self-signed
    /// certificate on first start) and binds both listeners.
    pub async fn start(config: Config) -> Result<Server, StartError> {
        Self::start_with_clock(config, Arc::new(SystemClock)).await
    }

    /// [`Server::start`] with another clock for the domain's time (tests move a fake clock
    /// forward instead of waiting: sessions, absences, calendar meetings follow it).
    pub async fn start_with_clock(mut config: Config, clock: Arc<dyn Clock>) -> Result<Server, StartError> {
        // One crypto provider in the process (outgoing HTTPS clients pick up the default).
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let http = serve::bind(config.listen).await?;
        let https = serve::bind(config.tls_listen).await?;
        let metrics = match config.metrics_listen {
            Some(addr) => Some(serve::bind(addr).await?),
            None => None,
        };
        if config.public_url == format!("https://{}", config.tls_listen) {
            config.public_url = serve::default_public_url(https.local_addr()?);
        }
        let dir = data::DataDir::create(&config.data_dir)?.with_database(config.database_url.as_deref());
        let policy = Policy {
            session_ttl_ms: config.session_ttl_hours as i64 * 3600 * 1000,
            retention: config.retention.clone(),
            ..Policy::default()
        };
        let (office, store) = dir.open(policy, clock.clone()).await?;
        let reader = calendar::HttpCalendarReader::new(config.calendar.allow_networks.clone()).map_err(StartError::Calendar)?;
        let mut office = office.with_sms_provider(sms::provider(&config.sms)?).with_calendar_reader(Arc::new(reader));
        if let Some(url) = &config.redis_url {
            office = office.with_failure_windows(Arc::new(limits::RedisWindows::connect(url).await?));
        }
        let from = mail::sender(&config.mail_from).map_err(StartError::Mail)?;
        let smtp = match &config.smtp_url {
            Some(url) => Some(Arc::new(
                mail::SmtpMailer::new(url, from.clone(), dir.file("outbox").join("undelivered"), config.smtp_ca_file.as_deref()).map_err(StartError::Mail)?,
            )),
            None => None,
        };
        let mailer: Arc<dyn bureau_office::Mailer> = match &smtp {
            Some(smtp) => smtp.clone(),
            None => Arc::new(mail::OutboxMailer::new(dir.file("outbox"), from)),
        };
        let recipients = match &config.smtp_url {
            Some(url) => vec![format!("Email relay {}", mail::relay_host(url))],
            None => Vec::new(),
        };
        let office = office.with_mail(mailer, &config.public_url).with_recipients(recipients);
        let setup_token = office.accounts.prepare_first_start(&config.org_slug, &config.org_name).await?;
        let (cert, key) = match (&config.tls_cert, &config.tls_key) {
            (Some(cert), Some(key)) => (cert.clone(), key.clone()),
            _ => {
                let (cert, key) = (dir.file("tls-cert.pem"), dir.file("tls-key.pem"));
                tls::ensure_self_signed(&cert, &key)?;
                (cert, key)
            }
        };
        let tls = TlsAcceptor::from(tls::server_config(&cert, &key)?);
        let (turn, secret) = start_turn(&config, &dir).await?;
        let turn_addr = turn.as_ref().map(|t| t.local_addrs().udp);
        let ice = ice::IceServers::new(&config.ice.urls, turn_addr, secret, config.ice.credential_ttl);
        let office = Arc::new(office);
        let media = start_media(&config).await;
        let sfu_addr = media.as_ref().map(sfu::MediaServer::public_addr);
        let live = live::Live::start(&config.signal, config.sfu.as_ref(), media, config.redis_url.as_deref(), &config.cluster, office.clone()).map_err(StartError::Redis)?;
        let turn_metrics = turn.as_ref().map(bureau_turn::Server::metrics);
        let config = Arc::new(config);
        let file_transfers = Arc::new(tokio::sync::Semaphore::new(routes::message_files::MAX_AT_ONCE));
        let state = Arc::new(AppState { config, office, live, ice, turn_metrics, clock, metrics: Default::default(), file_transfers, audited_reads: AuditedReads::default() });
        Ok(Server { state, store, http, https, metrics, tls, turn, sfu_addr, smtp, setup_token })
    }

    /// The bound plain HTTP address.
    pub fn http_addr(&self) -> SocketAddr {
        self.http.local_addr().unwrap_or(self.state.config.listen)
    }

    /// The bound address of the metrics listener, when there is one.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().and_then(|l| l.local_addr().ok())
    }

    /// The bound address of the embedded STUN/TURN server (UDP and TCP), when it runs.
    pub fn turn_addr(&self) -> Option<SocketAddr> {
        self.turn.as_ref().map(|t| t.local_addrs().udp)
    }

    /// The address of the media server (UDP), when it runs.
    pub fn sfu_addr(&self) -> Option<SocketAddr> {
        self.sfu_addr
    }

    /// The bound HTTPS address.
    pub fn https_addr(&self) -> SocketAddr {
        self.https.local_addr().unwrap_or(self.state.config.tls_listen)
    }

    /// The one-time link for the first administrator, while the organisation has none.
    /// The token sits in the fragment, which browsers never send to servers or proxies.
    pub fn setup_link(&self) -> Option<String> {
        self.setup_token.as_ref().map(|token| format!("{}/setup#token={token}", self.state.config.public_url))
    }

    /// Serves until `shutdown` completes, then drains connections and closes the database.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        let app = routes::router(self.state.clone());
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let config = &self.state.config;
        let gate = gate::Gate::new(config.http.clone(), config.trusted_proxies.clone());
        let http = tokio::spawn(serve::serve(self.http, app.clone(), None, gate.clone(), stopped.clone()));
        let https = tokio::spawn(serve::serve(self.https, app, Some(self.tls), gate.clone(), stopped.clone()));
        let metrics = self.metrics.map(|listener| tokio::spawn(serve::serve(listener, routes::metrics_router(self.state.clone()), None, gate, stopped.clone())));
        let turn = self.turn.map(|turn| {
            let mut stopped = stopped;
            tokio::spawn(turn.run(async move {
                let _ = stopped.wait_for(|stop| *stop).await;
            }))
        });
        let redelivery = self.smtp.map(|smtp| tokio::spawn(redelivery_job(smtp)));
        let retention = tokio::spawn(retention_job(self.state.office.clone(), self.store.clone(), self.state.config.retention_interval));
        // Calendars are read for the organisations whose live office is here (where presence
        // shows them); each node reads its own.
        let live = self.state.live.clone();
        let calendars = tokio::spawn(calendar::sync_job(self.state.office.clone(), self.state.config.calendar.sync_interval, move || live.homed_orgs()));
        shutdown.await;
        tracing::info!("shutting down");
        retention.abort();
        calendars.abort();
        if let Some(redelivery) = redelivery {
            redelivery.abort();
        }
        // Tell every signaling client to reconnect (to this node once restarted, or another).
        self.state.live.shutdown().await;
        // Attendance intervals still open end now (the hub forgot its users without a word).
        self.state.office.working_day.flush_attendance().await;
        let _ = stop.send(true);
        let _ = tokio::join!(http, https);
        if let Some(metrics) = metrics {
            let _ = metrics.await;
        }
        if let Some(turn) = turn
            && let Ok(Err(err)) = turn.await
        {
            tracing::warn!("TURN server stopped with an error: {err}");
        }
        self.store.close().await;
    }
}

/// Sends the emails the mail server did not take, every minute, until it takes them.
async fn redelivery_job(smtp: Arc<mail::SmtpMailer>) {
    let mut ticks = tokio::time::interval(std::time::Duration::from_secs(60));
    loop {
        ticks.tick().await;
        let sent = smtp.redeliver().await;
        if sent > 0 {
            tracing::info!(sent, "sent emails the mail server had refused before");
        }
    }
}

/// Deletes expired data at every interval, then (SQLite) folds the write-ahead log into the
/// database file so that deleted rows (overwritten by SQLite's secure delete) are gone from disk too.
async fn retention_job(office: Arc<Office>, store: Backend, interval: std::time::Duration) {
    let mut ticks = tokio::time::interval(interval);
    loop {
        ticks.tick().await;
        match office.privacy.enforce_retention().await {
            Ok(purged) => {
                if let Err(err) = store.checkpoint().await {
                    tracing::warn!("checkpoint after retention failed: {err}");
                }
                tracing::info!(?purged, "retention job done");
            }
            Err(err) => tracing::error!("retention job failed: {err}"),
        }
    }
}

/// Binds the embedded STUN/TURN server. A port that is taken (another TURN server on 3478, say)
/// does not stop Bureau: calls then use direct connections only, and the log says how to fix it.
/// Binds the media server; a port that cannot be had leaves rooms in the mesh, with an error in
/// the log (as for TURN: the rest of Bureau serves on).
async fn start_media(config: &Config) -> Option<sfu::MediaServer> {
    let settings = config.sfu.as_ref()?;
    match sfu::MediaServer::bind(settings).await {
        Ok(media) => Some(media),
        Err(err) => {
            tracing::error!("media server disabled: cannot listen on {}: {err}; set sfu.listen to a free address or sfu.enabled = false", settings.listen);
            None
        }
    }
}

async fn start_turn(config: &Config, dir: &data::DataDir) -> Result<(Option<bureau_turn::Server>, Option<String>), StartError> {
    let Some(turn) = &config.turn else {
        // Separate `bureau turn` nodes: credentials only work with the secret they share.
        if !config.ice.urls.is_empty() && config.ice.auth_secret.is_none() {
            tracing::warn!("ice.urls are handed out without TURN credentials: set turn.auth_secret to the secret of the `bureau turn` nodes");
        }
        return Ok((None, config.ice.auth_secret.clone()));
    };
    let mut turn = turn.clone();
    if turn.auth_secret.is_empty() {
        turn.auth_secret = dir.turn_secret()?;
    }
    let secret = Some(turn.auth_secret.clone());
    match bureau_turn::Server::bind(turn).await {
        Ok(server) => Ok((Some(server), secret)),
        Err(bureau_turn::Error::Bind { addr, source }) => {
            tracing::error!("STUN/TURN disabled: cannot listen on {addr}: {source}; set turn.listen to a free address or turn.enabled = false");
            Ok((None, secret))
        }
        Err(err) => Err(err.into()),
    }
}

/// A future that resolves when the process gets Ctrl-C (SIGINT) or SIGTERM. The handlers are
/// installed when this is called, not when first polled, so a signal that arrives while the
/// server is still starting is not lost. Must be called inside the Tokio runtime.
pub fn shutdown_signal() -> impl Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let interrupt = signal(SignalKind::interrupt()).ok();
        let terminate = signal(SignalKind::terminate()).ok();
        async move {
            let wait = |s: Option<tokio::signal::unix::Signal>| async move {
                match s {
                    Some(mut s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                () = wait(interrupt) => {},
                () = wait(terminate) => {},
            }
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}
