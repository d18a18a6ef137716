//! Configuration in two stages: raw layers (TOML file, then `BUREAU_*` environment variables,
//! then command-line flags) merged into one table that remembers where each value came from,
//! then validated once into [`Config`]. Every key is described in [`FIELDS`], which also
//! generates the documented example file (`bureau config example`).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;

/// The validated configuration of `bureau serve`.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Folder for the database, the master key and the TLS certificate.
    pub data_dir: PathBuf,
    /// Plain HTTP listener.
    pub listen: SocketAddr,
    /// HTTPS listener.
    pub tls_listen: SocketAddr,
    /// The address users open, used in links (setup link, emails).
    pub public_url: String,
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
    /// Serve the web client from this folder instead of the embedded copy (development).
    pub web_dir: Option<PathBuf>,
}

/// One configuration key: its name, default (as TOML text, `None` when unset by default),
/// and documentation.
pub struct Field {
    /// Key in the TOML file; the environment variable is `BUREAU_` + upper-case key.
    pub key: &'static str,
    /// Default value as TOML text.
    pub default: Option<&'static str>,
    /// What the key does.
    pub doc: &'static str,
}

/// Every key of the `[bureau serve]` configuration, in the example file's order.
pub const FIELDS: &[Field] = &[
    Field { key: "data_dir", default: Some("\"./bureau-data\""), doc: "Folder for the database (SQLite, WAL), the master key file (mode 0600) and the self-signed certificate. Created on first start." },
    Field { key: "listen", default: Some("\"127.0.0.1:8080\""), doc: "Address and port of the plain HTTP listener (for a reverse proxy or local use)." },
    Field { key: "tls_listen", default: Some("\"127.0.0.1:8443\""), doc: "Address and port of the HTTPS listener (TLS 1.2 and 1.3 only)." },
    Field { key: "public_url", default: None, doc: "The address users open, used in links such as the first-admin setup link. Default: https://<tls_listen>." },
    Field { key: "tls_cert", default: None, doc: "PEM certificate chain for HTTPS. Default: a self-signed certificate created in the data folder." },
    Field { key: "tls_key", default: None, doc: "PEM private key for tls_cert (required when tls_cert is set)." },
    Field { key: "log", default: Some("\"info\""), doc: "Log filter, e.g. \"info\" or \"bureau_server=debug,info\". Logs never contain personal data." },
    Field { key: "session_ttl_hours", default: Some("168"), doc: "How long a sign-in lasts, in hours (1 to 8760)." },
    Field { key: "org_name", default: Some("\"Bureau\""), doc: "Name of the organisation created on first start (changeable later in the admin page)." },
    Field { key: "org_slug", default: Some("\"default\""), doc: "Short name of the organisation created on first start (a-z, 0-9, -)." },
    Field { key: "max_body_bytes", default: Some("1048576"), doc: "Largest accepted request body in bytes (1 KiB to 64 MiB); larger requests get 413." },
    Field { key: "web_dir", default: None, doc: "Development only: serve the web client from this folder instead of the copy built into the binary." },
];

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
            let name = format!("BUREAU_{}", field.key.to_uppercase());
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
        let mut out = String::from(
            "# Bureau configuration. Every key is optional; the values shown are the defaults.\n\
             # Each key can also be set by the environment variable BUREAU_<KEY> (upper case),\n\
             # and some by flags of `bureau serve`; flags win over the environment, which wins over this file.\n",
        );
        for field in FIELDS {
            out.push('\n');
            for line in wrap(field.doc, 96) {
                out.push_str(&format!("# {line}\n"));
            }
            match field.default {
                Some(default) => out.push_str(&format!("{} = {default}\n", field.key)),
                None => out.push_str(&format!("# {} = \n", field.key)),
            }
        }
        out
    }
}

impl Layers {
    fn read_file(&mut self, path: &PathBuf) -> Result<(), ConfigError> {
        let file_error = |message: String| ConfigError::File { path: path.clone(), message };
        let text = std::fs::read_to_string(path).map_err(|e| file_error(e.to_string()))?;
        let table: toml::Table = text.parse().map_err(|e: toml::de::Error| file_error(e.message().to_owned()))?;
        for (key, value) in table {
            if FIELDS.iter().any(|f| f.key == key) {
                self.values.insert(key, (value, Source::File(path.clone())));
            } else {
                return Err(ConfigError::UnknownKey { key, origin: Source::File(path.clone()) });
            }
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
            listen: self.addr("listen")?,
            tls_listen,
            public_url,
            tls_cert,
            tls_key,
            log: self.required_string("log")?.0,
            session_ttl_hours: self.integer("session_ttl_hours", 1..=8760)?,
            org_name: self.required_string("org_name")?.0,
            org_slug,
            max_body_bytes: self.integer("max_body_bytes", 1024..=64 * 1024 * 1024)? as usize,
            web_dir: self.path("web_dir")?,
        })
    }
}

fn invalid(key: &str, source: Source, message: &str) -> ConfigError {
    ConfigError::Invalid { key: key.into(), origin: source, message: message.into() }
}

/// Splits a paragraph into lines of at most `width` characters at spaces.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in text.split(' ') {
        let line = lines.last_mut().map(|l| l.len()).unwrap_or(0);
        if line > 0 && line + 1 + word.len() > width {
            lines.push(String::new());
        }
        if let Some(last) = lines.last_mut() {
            if !last.is_empty() {
                last.push(' ');
            }
            last.push_str(word);
        }
    }
    lines
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
    fn the_example_file_is_valid_and_documents_every_key() {
        let example = Config::example();
        for field in FIELDS {
            assert!(example.contains(&format!("{} =", field.key)), "{}", field.key);
        }
        let docs = include_str!("../../../docs/config.md");
        assert!(docs.contains(&example), "docs/config.md is out of date: paste `bureau config example` into it");
        let from_example = load(Some(&example), &[], Flags::default()).unwrap();
        assert_eq!(from_example, load(None, &[], Flags::default()).unwrap());
    }
}
