//! Configuration in two stages: raw layers (TOML file, then `BUREAU_*` environment variables,
//! then command-line flags) merged into one table that remembers where each value came from,
//! then validated once into [`Config`]. Every key is described in [`FIELDS`], which also
//! generates the documented example file (`bureau config example`).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

mod fields;
mod sms;

pub use fields::{FIELDS, Field};
pub use sms::{SmsSettings, TwilioSettings};

/// The validated configuration of `bureau serve`.
#[derive(Clone, Debug)]
pub struct Config {
    /// Folder for the database, the master key and the TLS certificate.
    pub data_dir: PathBuf,
    /// PostgreSQL database URL; `None` uses the SQLite file in the data folder.
    pub database_url: Option<String>,
    /// Plain HTTP listener.
    pub listen: SocketAddr,
    /// HTTPS listener.
    pub tls_listen: SocketAddr,
    /// The Prometheus metrics listener, off when `None`.
    pub metrics_listen: Option<SocketAddr>,
    /// The address users open, used in links (setup link, emails) and accepted as the origin
    /// of browsers' requests.
    pub public_url: String,
    /// Reverse proxies whose forwarding headers (client address, host) are believed.
    pub trusted_proxies: Vec<crate::requester::ProxyRange>,
    /// PEM certificate chain; `None` means a self-signed certificate in the data folder.
    pub tls_cert: Option<PathBuf>,
    /// PEM private key matching `tls_cert`.
    pub tls_key: Option<PathBuf>,
    /// Log filter (`tracing` syntax).
    pub log: String,
    /// Session lifetime in hours.
    pub session_ttl_hours: u64,
    /// Name of the organisation created on first start.
    pub org_name: String,
    /// Slug of the organisation created on first start.
    pub org_slug: String,
    /// Largest accepted request body, in bytes.
    pub max_body_bytes: usize,
    /// Connection limits and timeouts of the HTTP listeners (`[http]`).
    pub http: crate::gate::HttpLimits,
    /// Serve the web client from this folder instead of the embedded copy (development).
    pub web_dir: Option<PathBuf>,
    /// Outgoing mail server; `None` writes emails to the outbox folder.
    pub smtp_url: Option<String>,
    /// A PEM certificate authority trusted for the mail server's certificate, besides the
    /// public roots.
    pub smtp_ca_file: Option<PathBuf>,
    /// Sender of emails.
    pub mail_from: String,
    /// The Redis server shared by the nodes; `None` runs the live office in process.
    pub redis_url: Option<String>,
    /// Timings of the nodes sharing `redis_url`.
    pub cluster: ClusterSettings,
    /// How long each category of data is kept.
    pub retention: bureau_office::RetentionPeriods,
    /// How often the retention job runs.
    pub retention_interval: Duration,
    /// Signaling timings and limits.
    pub signal: SignalSettings,
    /// The embedded STUN/TURN server; `None` when `turn.enabled = false`. An empty
    /// `auth_secret` is replaced by the secret kept in the data folder at start.
    pub turn: Option<bureau_turn::Config>,
    /// What browsers are told about STUN/TURN.
    pub ice: IceSettings,
    /// The embedded media server; `None` when `sfu.enabled = false`.
    pub sfu: Option<SfuSettings>,
    /// How second-factor codes are sent by SMS.
    pub sms: SmsSettings,
    /// How users' outside calendars are read (`[calendar]`).
    pub calendar: CalendarReading,
}

/// How users' outside calendars are read (`[calendar]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CalendarReading {
    /// How often each connected calendar is read again.
    pub sync_interval: Duration,
    /// Networks calendar addresses may point into although the default policy refuses them.
    pub allow_networks: Vec<bureau_turn::Cidr>,
}

/// Signaling timings and limits (`[signal]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignalSettings {
    /// How long a disconnected user keeps their presence before turning offline.
    pub presence_grace: Duration,
    /// How long a call rings.
    pub ring_timeout: Duration,
    /// Most participants in one room.
    pub mesh_cap: usize,
    /// Signaling connections per user, per organisation and per node.
    pub limits: crate::live::ConnLimits,
}

/// Timings of several nodes sharing one Redis (`[cluster]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterSettings {
    /// How long a home claim (and a node's liveness) lasts without renewal.
    pub home_lease: Duration,
    /// How often claims and liveness are renewed and other nodes checked.
    pub heartbeat: Duration,
}

/// The media server (`[sfu]`, docs/sfu.md).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SfuSettings {
    /// Its UDP socket.
    pub listen: SocketAddr,
    /// The address browsers send media to.
    pub public_ip: std::net::IpAddr,
    /// Participants at which a room switches to it.
    pub threshold: usize,
    /// Most participants in one room through it.
    pub max_room_participants: usize,
    /// Connections it takes at once.
    pub max_participants: usize,
    /// How many speakers' videos each receiver gets.
    pub last_n: usize,
    /// Tests only: where to append the frames it forwards.
    pub record_to: Option<PathBuf>,
}

/// STUN/TURN servers handed to browsers (`[ice]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IceSettings {
    /// Explicit URLs; empty means the embedded server's.
    pub urls: Vec<String>,
    /// Lifetime of minted TURN credentials.
    pub credential_ttl: Duration,
    /// `turn.auth_secret`, read even when the embedded server is off: signaling nodes mint
    /// credentials for separate `bureau turn` nodes with it.
    pub auth_secret: Option<String>,
}

/// Where a value came from, for error messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// The built-in default.
    Default,
    /// The configuration file.
    File(PathBuf),
    /// An environment variable.
    Env(String),
    /// A command-line flag.
    Flag(String),
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Default => write!(f, "the default"),
            Source::File(path) => write!(f, "config file {}", path.display()),
            Source::Env(name) => write!(f, "environment variable {name}"),
            Source::Flag(name) => write!(f, "flag {name}"),
        }
    }
}

/// A configuration error, naming the key and where its value came from.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A value is invalid.
    #[error("invalid `{key}` (from {origin}): {message}")]
    Invalid {
        /// The key.
        key: String,
        /// Where the value came from.
        origin: Source,
        /// What is wrong.
        message: String,
    },
    /// The file names a key Bureau does not know.
    #[error("unknown key `{key}` in {origin}")]
    UnknownKey {
        /// The key.
        key: String,
        /// The file.
        origin: Source,
    },
    /// The file could not be read or is not valid TOML.
    #[error("cannot read config file {path}: {message}")]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
}

/// Command-line values for `bureau serve` (flags win over environment and file).
#[derive(Clone, Debug, Default)]
pub struct Flags {
    /// `--config FILE`.
    pub config: Option<PathBuf>,
    /// `--data-dir DIR`.
    pub data_dir: Option<PathBuf>,
    /// `--listen ADDR:PORT`.
    pub listen: Option<String>,
    /// `--tls-listen ADDR:PORT`.
    pub tls_listen: Option<String>,
}

/// The merged raw layers: one TOML value per key, with its source.
#[derive(Default)]
struct Layers {
    values: HashMap<String, (toml::Value, Source)>,
}

impl Config {
    /// Loads the configuration from the file named by `--config`, the process environment and
    /// the flags, and validates it.
    pub fn load(flags: &Flags) -> Result<Config, ConfigError> {
        Self::load_from(flags, |name| std::env::var(name).ok())
    }

    /// Like [`Config::load`] with an explicit environment (for tests).
    pub fn load_from(flags: &Flags, env: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let mut layers = Layers::default();
        if let Some(path) = &flags.config {
            layers.read_file(path)?;
        }
        for field in FIELDS {
            let name = field.env_name();
            if let Some(value) = env(&name) {
                layers.values.insert(field.key.into(), (toml::Value::String(value), Source::Env(name)));
            }
        }
        let flag_values = [
            ("data_dir", "--data-dir", flags.data_dir.as_ref().map(|p| p.display().to_string())),
            ("listen", "--listen", flags.listen.clone()),
            ("tls_listen", "--tls-listen", flags.tls_listen.clone()),
        ];
        for (key, flag, value) in flag_values {
            if let Some(value) = value {
                layers.values.insert(key.into(), (toml::Value::String(value), Source::Flag(flag.into())));
            }
        }
        layers.validate()
    }

    /// The documented example configuration file, generated from [`FIELDS`].
    pub fn example() -> String {
        fields::example()
    }
}

impl Layers {
    fn read_file(&mut self, path: &PathBuf) -> Result<(), ConfigError> {
        let file_error = |message: String| ConfigError::File { path: path.clone(), message };
        let text = std::fs::read_to_string(path).map_err(|e| file_error(e.to_string()))?;
        let table: toml::Table = text.parse().map_err(|e: toml::de::Error| file_error(e.message().to_owned()))?;
        let mut entries = Vec::new();
        for (key, value) in table {
            match value {
                toml::Value::Table(section) if FIELDS.iter().any(|f| f.key.starts_with(&format!("{key}."))) => {
                    entries.extend(section.into_iter().map(|(sub, v)| (format!("{key}.{sub}"), v)));
                }
                value => entries.push((key, value)),
            }
        }
        for (key, value) in entries {
            if !FIELDS.iter().any(|f| f.key == key) {
                return Err(ConfigError::UnknownKey { key, origin: Source::File(path.clone()) });
            }
            self.values.insert(key, (value, Source::File(path.clone())));
        }
        Ok(())
    }

    /// The value of `key`: the highest layer that set it, else the default.
    fn raw(&self, key: &str) -> Option<(toml::Value, Source)> {
        if let Some(found) = self.values.get(key) {
            return Some(found.clone());
        }
        let default = FIELDS.iter().find(|f| f.key == key)?.default?;
        let value: toml::Table = format!("v = {default}").parse().ok()?;
        Some((value.get("v")?.clone(), Source::Default))
    }

    fn string(&self, key: &str) -> Result<Option<(String, Source)>, ConfigError> {
        match self.raw(key) {
            None => Ok(None),
            Some((toml::Value::String(s), source)) => Ok(Some((s, source))),
            Some((_, source)) => Err(invalid(key, source, "expected a string")),
        }
    }

    fn required_string(&self, key: &str) -> Result<(String, Source), ConfigError> {
        self.string(key)?.ok_or_else(|| invalid(key, Source::Default, "missing"))
    }

    fn addr(&self, key: &str) -> Result<SocketAddr, ConfigError> {
        let (text, source) = self.required_string(key)?;
        text.parse().map_err(|_| invalid(key, source, &format!("`{text}` is not an ADDRESS:PORT such as 127.0.0.1:8080")))
    }

    fn integer(&self, key: &str, range: std::ops::RangeInclusive<u64>) -> Result<u64, ConfigError> {
        let Some((value, source)) = self.raw(key) else {
            return Err(invalid(key, Source::Default, "missing"));
        };
        let number = match &value {
            toml::Value::Integer(n) => u64::try_from(*n).ok(),
            toml::Value::String(s) => s.trim().parse().ok(),
            _ => None,
        };
        match number {
            Some(n) if range.contains(&n) => Ok(n),
            _ => Err(invalid(key, source, &format!("expected a whole number from {} to {}", range.start(), range.end()))),
        }
    }

    fn boolean(&self, key: &str) -> Result<bool, ConfigError> {
        match self.raw(key) {
            None => Ok(false),
            Some((toml::Value::Boolean(b), _)) => Ok(b),
            Some((toml::Value::String(s), source)) => match s.trim() {
                "true" | "1" | "yes" => Ok(true),
                "false" | "0" | "no" => Ok(false),
                _ => Err(invalid(key, source, "expected true or false")),
            },
            Some((_, source)) => Err(invalid(key, source, "expected true or false")),
        }
    }

    /// A list of strings: a TOML array, or a comma-separated string from the environment.
    fn list(&self, key: &str) -> Result<(Vec<String>, Source), ConfigError> {
        match self.raw(key) {
            None => Ok((Vec::new(), Source::Default)),
            Some((toml::Value::Array(items), source)) => {
                let strings = items.into_iter().map(|v| v.as_str().map(str::to_owned)).collect::<Option<Vec<_>>>();
                Ok((strings.ok_or_else(|| invalid(key, source.clone(), "expected a list of strings"))?, source))
            }
            Some((toml::Value::String(s), source)) => {
                Ok((s.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect(), source))
            }
            Some((_, source)) => Err(invalid(key, source, "expected a list of strings")),
        }
    }

    fn cidrs(&self, key: &str) -> Result<Vec<bureau_turn::Cidr>, ConfigError> {
        let (cidrs, source) = self.list(key)?;
        cidrs.iter().map(|c| c.parse().map_err(|_| invalid(key, source.clone(), &format!("`{c}` is not a CIDR such as 10.0.0.0/8")))).collect()
    }

    fn optional_parsed<T: std::str::FromStr>(&self, key: &str, what: &str) -> Result<Option<T>, ConfigError> {
        match self.string(key)? {
            None => Ok(None),
            Some((text, source)) => text.parse().map(Some).map_err(|_| invalid(key, source, &format!("`{text}` is not {what}"))),
        }
    }

    fn seconds(&self, key: &str, range: std::ops::RangeInclusive<u64>) -> Result<Duration, ConfigError> {
        Ok(Duration::from_secs(self.integer(key, range)?))
    }

    fn turn(&self) -> Result<Option<bureau_turn::Config>, ConfigError> {
        if !self.boolean("turn.enabled")? {
            return Ok(None);
        }
        let (relay_ports, ports_source) = self.required_string("turn.relay_ports")?;
        let relay_ports = relay_ports.parse().map_err(|e: String| invalid("turn.relay_ports", ports_source, &e))?;
        let allow_peers = self.cidrs("turn.allow_peers")?;
        let u32_key = |key: &str| self.integer(key, 1..=u64::from(u32::MAX)).map(|n| n as u32);
        let config = bureau_turn::Config {
            listen: self.addr("turn.listen")?,
            tls_listen: self.optional_parsed("turn.tls_listen", "an ADDRESS:PORT")?,
            cert: self.path("turn.cert")?,
            key: self.path("turn.key")?,
            realm: self.required_string("turn.realm")?.0,
            auth_secret: self.string("turn.auth_secret")?.map(|(s, _)| s).unwrap_or_default(),
            relay_ip: self.optional_parsed("turn.relay_ip", "an IP address")?,
            relay_ports,
            allow_loopback_peers: self.boolean("turn.allow_loopback_peers")?,
            allow_peers,
            user_quota: u32_key("turn.user_quota")?,
            total_quota: u32_key("turn.total_quota")?,
            bandwidth: self.integer("turn.bandwidth", 0..=u64::MAX)?,
            moderation_us: self.integer("turn.moderation_us", 0..=10_000)?,
            ..bureau_turn::Config::default()
        };
        // The secret may still be empty here (it then comes from the data folder); check the rest.
        let check = bureau_turn::Config { auth_secret: "placeholder".into(), ..config.clone() };
        if let Err(err) = check.validate() {
            let key = format!("turn.{}", err.key);
            let source = self.raw(&key).map_or(Source::Default, |(_, s)| s);
            return Err(ConfigError::Invalid { key, origin: source, message: err.message });
        }
        Ok(Some(config))
    }

    fn sfu(&self) -> Result<Option<SfuSettings>, ConfigError> {
        if !self.boolean("sfu.enabled")? {
            return Ok(None);
        }
        let listen = self.addr("sfu.listen")?;
        let public_ip = match self.optional_parsed::<std::net::IpAddr>("sfu.public_ip", "an IP address")? {
            Some(ip) if ip.is_unspecified() || ip.is_multicast() => {
                let source = self.raw("sfu.public_ip").map_or(Source::Default, |(_, s)| s);
                return Err(invalid("sfu.public_ip", source, "must be a unicast address browsers can reach"));
            }
            Some(ip) => ip,
            None if listen.ip().is_unspecified() => {
                let source = self.raw("sfu.listen").map_or(Source::Default, |(_, s)| s);
                return Err(invalid("sfu.listen", source, "is a wildcard address: set sfu.public_ip to the address browsers reach"));
            }
            None => listen.ip(),
        };
        Ok(Some(SfuSettings {
            listen,
            public_ip,
            threshold: self.integer("sfu.threshold", sfu_thresholds())? as usize,
            max_room_participants: self.integer("sfu.max_room_participants", 2..=100)? as usize,
            max_participants: self.integer("sfu.max_participants", 1..=100_000)? as usize,
            last_n: self.integer("sfu.last_n", 1..=100)? as usize,
            record_to: self.path("sfu.record_to")?,
        }))
    }

    fn retention(&self) -> Result<bureau_office::RetentionPeriods, ConfigError> {
        let days = |key: &str| self.integer(key, 1..=3650).map(|d| d as u32);
        Ok(bureau_office::RetentionPeriods {
            access_logs_days: days("retention.access_logs_days")?,
            call_logs_days: days("retention.call_logs_days")?,
            transfer_logs_days: days("retention.transfer_logs_days")?,
            resolved_tickets_days: days("retention.resolved_tickets_days")?,
            invitations_days: days("retention.invitations_days")?,
            deactivated_accounts_days: days("retention.deactivated_accounts_days")?,
            withdrawn_consents_days: days("retention.withdrawn_consents_days")?,
            guests_days: days("retention.guests_days")?,
            audit_log_days: days("retention.audit_log_days")?,
            absences_days: days("retention.absences_days")?,
            attendance_days: days("retention.attendance_days")?,
            calendar_days: days("retention.calendar_days")?,
            messages_days: days("retention.messages_days")?,
        })
    }

    fn smtp_url(&self) -> Result<Option<String>, ConfigError> {
        match self.string("smtp_url")? {
            Some((url, source)) if !(url.starts_with("smtp://") || url.starts_with("smtps://")) => {
                Err(invalid("smtp_url", source, "must start with smtp:// or smtps://"))
            }
            Some((url, _)) if url.is_empty() => Ok(None),
            other => Ok(other.map(|(url, _)| url)),
        }
    }

    fn database_url(&self) -> Result<Option<String>, ConfigError> {
        match self.string("database_url")? {
            Some((url, _)) if url.is_empty() => Ok(None),
            Some((url, source)) if !bureau_store::is_postgres_url(&url) => {
                Err(invalid("database_url", source, "must start with postgres:// or postgresql:// (leave it empty for SQLite)"))
            }
            other => Ok(other.map(|(url, _)| url)),
        }
    }

    fn redis_url(&self) -> Result<Option<String>, ConfigError> {
        match self.string("redis_url")? {
            Some((url, _)) if url.is_empty() => Ok(None),
            Some((url, source)) => {
                // TLS (rediss://) is not built in: the nodes reach Redis on a private network or socket.
                let schemes = ["redis://", "redis+unix://", "unix://"];
                if !schemes.iter().any(|s| url.starts_with(s)) {
                    return Err(invalid("redis_url", source, "must start with redis:// or redis+unix://"));
                }
                if redis::Client::open(url.as_str()).is_err() {
                    return Err(invalid("redis_url", source, "is not a valid Redis URL"));
                }
                Ok(Some(url))
            }
            None => Ok(None),
        }
    }

    fn cluster(&self) -> Result<ClusterSettings, ConfigError> {
        let home_lease = Duration::from_millis(self.integer("cluster.home_lease_ms", 1000..=60_000)?);
        let heartbeat = Duration::from_millis(self.integer("cluster.heartbeat_ms", 100..=10_000)?);
        if heartbeat * 3 > home_lease {
            let source = self.raw("cluster.heartbeat_ms").map_or(Source::Default, |(_, s)| s);
            return Err(invalid("cluster.heartbeat_ms", source, "must be at most a third of cluster.home_lease_ms"));
        }
        Ok(ClusterSettings { home_lease, heartbeat })
    }

    fn trusted_proxies(&self) -> Result<Vec<crate::requester::ProxyRange>, ConfigError> {
        let (entries, source) = self.list("trusted_proxies")?;
        entries
            .iter()
            .map(|entry| entry.parse().map_err(|()| invalid("trusted_proxies", source.clone(), &format!("`{entry}` is not an IP address or a CIDR range such as 10.0.0.0/8"))))
            .collect()
    }

    fn mail_from(&self) -> Result<String, ConfigError> {
        let (from, source) = self.required_string("mail_from")?;
        if !from.contains('@') {
            return Err(invalid("mail_from", source, "must be an address such as \"Bureau <bureau@example.org>\""));
        }
        Ok(from)
    }

    fn path(&self, key: &str) -> Result<Option<PathBuf>, ConfigError> {
        Ok(self.string(key)?.filter(|(s, _)| !s.is_empty()).map(|(s, _)| PathBuf::from(s)))
    }

    fn validate(self) -> Result<Config, ConfigError> {
        let tls_listen = self.addr("tls_listen")?;
        let public_url = match self.string("public_url")? {
            Some((url, source)) => {
                if !(url.starts_with("https://") || url.starts_with("http://")) {
                    return Err(invalid("public_url", source, "must start with https:// or http://"));
                }
                url.trim_end_matches('/').to_owned()
            }
            None => format!("https://{tls_listen}"),
        };
        let (tls_cert, tls_key) = (self.path("tls_cert")?, self.path("tls_key")?);
        if tls_cert.is_some() != tls_key.is_some() {
            let source = self.raw("tls_cert").or(self.raw("tls_key")).map_or(Source::Default, |(_, s)| s);
            return Err(invalid("tls_key", source, "tls_cert and tls_key must be set together"));
        }
        let (org_slug, slug_source) = self.required_string("org_slug")?;
        if org_slug.is_empty() || !org_slug.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
            return Err(invalid("org_slug", slug_source, "use only a-z, 0-9 and -"));
        }
        Ok(Config {
            data_dir: self.path("data_dir")?.unwrap_or_else(|| PathBuf::from("./bureau-data")),
            database_url: self.database_url()?,
            listen: self.addr("listen")?,
            tls_listen,
            metrics_listen: self.optional_parsed("metrics_listen", "an ADDRESS:PORT")?,
            public_url,
            trusted_proxies: self.trusted_proxies()?,
            tls_cert,
            tls_key,
            log: self.required_string("log")?.0,
            session_ttl_hours: self.integer("session_ttl_hours", 1..=8760)?,
            org_name: self.required_string("org_name")?.0,
            org_slug,
            max_body_bytes: self.integer("max_body_bytes", 1024..=64 * 1024 * 1024)? as usize,
            http: crate::gate::HttpLimits {
                max_connections: self.integer("http.max_connections", 1..=1_000_000)? as usize,
                max_connections_per_ip: self.integer("http.max_connections_per_ip", 1..=1_000_000)? as usize,
                header_timeout: self.seconds("http.header_timeout_secs", 1..=300)?,
            },
            web_dir: self.path("web_dir")?,
            smtp_url: self.smtp_url()?,
            smtp_ca_file: self.path("smtp_ca_file")?,
            mail_from: self.mail_from()?,
            redis_url: self.redis_url()?,
            cluster: self.cluster()?,
            retention: self.retention()?,
            retention_interval: Duration::from_secs(self.integer("retention.interval_minutes", 1..=1440)? * 60),
            signal: SignalSettings {
                presence_grace: self.seconds("signal.presence_grace_secs", 1..=3600)?,
                ring_timeout: self.seconds("signal.ring_timeout_secs", 5..=600)?,
                mesh_cap: self.integer("signal.mesh_cap", 2..=16)? as usize,
                limits: crate::live::ConnLimits {
                    per_user: self.integer("signal.max_connections_per_user", 1..=1000)? as usize,
                    per_org: self.integer("signal.max_connections_per_org", 1..=1_000_000)? as usize,
                    per_node: self.integer("signal.max_connections", 1..=1_000_000)? as usize,
                },
            },
            turn: self.turn()?,
            sfu: self.sfu()?,
            ice: IceSettings {
                urls: self.list("ice.urls")?.0,
                credential_ttl: self.seconds("ice.credential_ttl_secs", 60..=604_800)?,
                auth_secret: self.string("turn.auth_secret")?.map(|(s, _)| s).filter(|s| !s.is_empty()),
            },
            sms: self.sms()?,
            calendar: CalendarReading {
                sync_interval: Duration::from_secs(self.integer("calendar.sync_minutes", 1..=1440)? * 60),
                allow_networks: self.cidrs("calendar.allow_networks")?,
            },
        })
    }
}

fn invalid(key: &str, source: Source, message: &str) -> ConfigError {
    ConfigError::Invalid { key: key.into(), origin: source, message: message.into() }
}

/// The bounds of the node's `sfu.threshold`: those of an organisation's own.
fn sfu_thresholds() -> std::ops::RangeInclusive<u64> {
    let range = bureau_office::SFU_THRESHOLDS;
    u64::from(*range.start())..=u64::from(*range.end())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(file: Option<&str>, env: &[(&str, &str)], flags: Flags) -> Result<Config, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let mut flags = flags;
        if let Some(text) = file {
            let path = dir.path().join("bureau.toml");
            std::fs::write(&path, text).unwrap();
            flags.config = Some(path);
        }
        let env: HashMap<String, String> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::load_from(&flags, |name| env.get(name).cloned())
    }

    #[test]
    fn defaults_need_no_configuration() {
        let config = load(None, &[], Flags::default()).unwrap();
        assert_eq!(config.data_dir, PathBuf::from("./bureau-data"));
        assert_eq!(config.listen, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(config.public_url, "https://127.0.0.1:8443");
        assert_eq!(config.max_body_bytes, 1024 * 1024);
    }

    #[test]
    fn flags_win_over_environment_over_file() {
        let file = "listen = \"127.0.0.1:1000\"\ntls_listen = \"127.0.0.1:1001\"\nsession_ttl_hours = 5";
        let env = [("BUREAU_LISTEN", "127.0.0.1:2000"), ("BUREAU_SESSION_TTL_HOURS", "6")];
        let flags = Flags { listen: Some("127.0.0.1:3000".into()), ..Flags::default() };
        let config = load(Some(file), &env, flags).unwrap();
        assert_eq!(config.listen.port(), 3000);
        assert_eq!(config.tls_listen.port(), 1001);
        assert_eq!(config.session_ttl_hours, 6);
    }

    #[test]
    fn errors_name_the_key_and_the_source() {
        let err = load(Some("session_ttl_hours = 0"), &[], Flags::default()).unwrap_err().to_string();
        assert!(err.contains("session_ttl_hours") && err.contains("bureau.toml"), "{err}");
        let err = load(None, &[("BUREAU_LISTEN", "nowhere")], Flags::default()).unwrap_err().to_string();
        assert!(err.contains("`listen`") && err.contains("BUREAU_LISTEN"), "{err}");
        let err = load(Some("lisen = \"x\""), &[], Flags::default()).unwrap_err().to_string();
        assert!(err.contains("unknown key `lisen`"), "{err}");
        let flags = Flags { tls_listen: Some("1.2.3.4".into()), ..Flags::default() };
        assert!(load(None, &[], flags).unwrap_err().to_string().contains("--tls-listen"));
        assert!(load(Some("tls_cert = \"a.pem\""), &[], Flags::default()).is_err());
        assert!(load(Some("not toml ="), &[], Flags::default()).is_err());
    }

    #[test]
    fn sections_come_from_tables_and_environment() {
        let file = "[turn]\nlisten = \"127.0.0.1:5000\"\nallow_peers = [\"10.0.0.0/8\"]\n[signal]\nmesh_cap = 4";
        let env = [("BUREAU_TURN_ALLOW_LOOPBACK_PEERS", "true"), ("BUREAU_SIGNAL_PRESENCE_GRACE_SECS", "3")];
        let config = load(Some(file), &env, Flags::default()).unwrap();
        let turn = config.turn.unwrap();
        assert_eq!(turn.listen.port(), 5000);
        assert!(turn.allow_loopback_peers);
        assert_eq!(turn.allow_peers.len(), 1);
        assert_eq!(config.signal.mesh_cap, 4);
        assert_eq!(config.signal.presence_grace, Duration::from_secs(3));
        assert!(load(Some("[turn]\nenabled = false"), &[], Flags::default()).unwrap().turn.is_none());
        let err = load(Some("[turn]\nlisten = \"0.0.0.0:3478\""), &[], Flags::default()).unwrap_err().to_string();
        assert!(err.contains("turn.relay_ip"), "{err}");
        let err = load(Some("[turn]\nlisen = 1"), &[], Flags::default()).unwrap_err().to_string();
        assert!(err.contains("unknown key `turn.lisen`"), "{err}");
        let err = load(None, &[("BUREAU_TURN_RELAY_PORTS", "9-1")], Flags::default()).unwrap_err().to_string();
        assert!(err.contains("turn.relay_ports") && err.contains("BUREAU_TURN_RELAY_PORTS"), "{err}");
    }

    #[test]
    fn the_example_file_is_valid_and_documents_every_key() {
        let example = Config::example();
        for field in FIELDS {
            let key = field.key.rsplit('.').next().unwrap_or(field.key);
            assert!(example.contains(&format!("\n{key} =")) || example.contains(&format!("# {key} =")), "{}", field.key);
        }
        let docs = include_str!("../../../../docs/config.md");
        assert!(docs.contains(&example), "docs/config.md is out of date: paste `bureau config example` into it");
        let from_example = load(Some(&example), &[], Flags::default()).unwrap();
        assert_eq!(format!("{from_example:?}"), format!("{:?}", load(None, &[], Flags::default()).unwrap()));
    }
}
