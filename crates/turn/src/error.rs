//! Errors of the TURN server driver.

use std::net::SocketAddr;

use thiserror::Error;

/// A setting that is missing or wrong; names the config key (`turn.<key>` in the TOML file,
/// `--<key>` on the command line).
#[derive(Debug, Error)]
#[error("`{key}`: {message}")]
pub struct ConfigError {
    /// The config key, e.g. `relay_ports`.
    pub key: &'static str,
    /// What is wrong with it.
    pub message: String,
}

impl ConfigError {
    pub(crate) fn new(key: &'static str, message: impl Into<String>) -> Self {
        ConfigError { key, message: message.into() }
    }
}

/// Why the server could not start or stopped with an error.
#[derive(Debug, Error)]
pub enum Error {
    /// The configuration is invalid.
    #[error("invalid TURN configuration: {0}")]
    Config(#[from] ConfigError),
    /// A listening socket could not be opened.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// The TLS certificate or key could not be loaded.
    #[error("TLS setup failed: {0}")]
    Tls(String),
    /// An I/O error of a listener while running.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}
