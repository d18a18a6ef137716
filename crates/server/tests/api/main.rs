//! Behaviour tests of the REST API against a real server on loopback (port 0), over SQLite, or
//! over PostgreSQL (a fresh schema per server) when BUREAU_TEST_DATABASE_URL is set.
#![allow(missing_docs)]

mod bad_input;
mod guests;
mod joining;
mod live;
mod privacy;
mod sign_in;
mod tls;
mod turn_nodes;
mod two_factor;
mod unavailable;

use std::path::PathBuf;

use bureau_server::{Config, Flags, Server};
use serde_json::{Value, json};

/// A running server with its data folder and a cookie-keeping HTTP client.
pub struct Running {
    pub base: String,
    pub https: std::net::SocketAddr,
    pub data_dir: PathBuf,
    /// The PostgreSQL database the server uses, if not SQLite.
    pub database_url: Option<String>,
    pub setup_token: Option<String>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl Running {
    pub async fn start() -> Running {
        Self::start_with(&[]).await
    }

    /// Starts a server with extra `BUREAU_*` environment variables (e.g. the `[sms]` section).
    pub async fn start_with(extra_env: &[(&str, String)]) -> Running {
        let dir = tempfile::tempdir().unwrap();
        Self::start_in(dir, extra_env).await.unwrap()
    }

    /// Starts a server in the folder `dir` (its data folder is `dir/data`); the error if it
    /// refuses to start. Without BUREAU_DATABASE_URL among `extra_env`, the database is SQLite
    /// or a fresh PostgreSQL schema (BUREAU_TEST_DATABASE_URL).
    pub async fn start_in(dir: tempfile::TempDir, extra_env: &[(&str, String)]) -> Result<Running, bureau_server::StartError> {
        let data_dir = dir.path().join("data");
        let database_url = match extra_env.iter().find(|(k, _)| *k == "BUREAU_DATABASE_URL") {
            Some((_, url)) => Some(url.clone()),
            None => bureau_store::test_database_url().await.unwrap(),
        };
        let flags = Flags {
            data_dir: Some(data_dir.clone()),
            listen: Some("127.0.0.1:0".into()),
            tls_listen: Some("127.0.0.1:0".into()),
            config: None,
        };
        // Every server on its own TURN port, with loopback peers allowed for local calls.
        let env = |name: &str| match name {
            "BUREAU_TURN_LISTEN" => Some("127.0.0.1:0".to_owned()),
            "BUREAU_TURN_ALLOW_LOOPBACK_PEERS" => Some("true".to_owned()),
            "BUREAU_SIGNAL_PRESENCE_GRACE_SECS" => Some("1".to_owned()),
            "BUREAU_DATABASE_URL" => database_url.clone(),
            other => extra_env.iter().find(|(k, _)| *k == other).map(|(_, v)| v.clone()),
        };
        let config = Config::load_from(&flags, env).unwrap();
        let server = Server::start(config).await?;
        let base = format!("http://{}", server.http_addr());
        let https = server.https_addr();
        let setup_token = server.setup_link().map(|link| link.split_once("#token=").unwrap().1.to_owned());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(server.run(async move {
            let _ = stopped.await;
        }));
        Ok(Running { base, https, data_dir, database_url, setup_token, stop: Some(stop), task: Some(task), _dir: dir })
    }

    /// Stops the server and waits until it has drained.
    pub async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap();
        }
    }

    pub fn client() -> reqwest::Client {
        // reqwest's rustls takes the process-wide provider: aws-lc-rs, as everywhere in Bureau.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        reqwest::Client::builder().cookie_store(true).build().unwrap()
    }

    /// Creates the first admin through the setup link and returns a signed-in client.
    pub async fn admin(&self) -> reqwest::Client {
        let client = Self::client();
        let body = json!({"token": self.setup_token.clone().unwrap(), "name": "Ada Admin", "email": "ada@example.org", "password": "ada password 1"});
        let response = client.post(self.url("/api/setup")).json(&body).send().await.unwrap();
        assert_eq!(response.status(), 201);
        client
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

/// Sends a request and returns the status and the JSON body (Null when there is none).
pub async fn call(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}
