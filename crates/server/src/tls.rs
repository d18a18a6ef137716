//! TLS for the HTTPS listener: rustls with aws-lc-rs, TLS 1.2 and 1.3 only, and a self-signed
//! certificate created in the data folder when the operator supplies none.

use std::io::BufReader;
use std::path::Path;
use std::sync::Arc;

use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A certificate or key file could not be read or written.
    #[error("{path}: {source}")]
    File {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file holds no usable certificate or key.
    #[error("{0}: no PEM certificate or private key found")]
    Empty(String),
    /// Generating the self-signed certificate failed.
    #[error("cannot generate a self-signed certificate: {0}")]
    Generate(String),
    /// rustls refused the certificate/key pair.
    #[error("invalid certificate or key: {0}")]
    Rustls(#[from] rustls::Error),
}

fn file_err(path: &Path) -> impl FnOnce(std::io::Error) -> TlsError + '_ {
    move |source| TlsError::File { path: path.display().to_string(), source }
}

/// Creates `cert.pem` and `key.pem` for `localhost`/127.0.0.1 unless they exist.
pub fn ensure_self_signed(cert: &Path, key: &Path) -> Result<(), TlsError> {
    if cert.exists() && key.exists() {
        return Ok(());
    }
    let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned(), "::1".to_owned()];
    let generated = rcgen::generate_simple_self_signed(names).map_err(|e| TlsError::Generate(e.to_string()))?;
    write_private(key, generated.key_pair.serialize_pem().as_bytes())?;
    std::fs::write(cert, generated.cert.pem()).map_err(file_err(cert))?;
    Ok(())
}

fn write_private(path: &Path, contents: &[u8]) -> Result<(), TlsError> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(file_err(path))?;
    file.write_all(contents).map_err(file_err(path))
}

/// The rustls server configuration for the given PEM files (TLS 1.2 and 1.3, HTTP/2 and 1.1).
pub fn server_config(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>, TlsError> {
    let certs: Vec<CertificateDer<'static>> = {
        let file = std::fs::File::open(cert).map_err(file_err(cert))?;
        rustls_pemfile::certs(&mut BufReader::new(file)).collect::<Result<_, _>>().map_err(file_err(cert))?
    };
    if certs.is_empty() {
        return Err(TlsError::Empty(cert.display().to_string()));
    }
    let key_der: PrivateKeyDer<'static> = {
        let file = std::fs::File::open(key).map_err(file_err(key))?;
        rustls_pemfile::private_key(&mut BufReader::new(file))
            .map_err(file_err(key))?
            .ok_or_else(|| TlsError::Empty(key.display().to_string()))?
    };
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_no_client_auth()
        .with_single_cert(certs, key_der)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
