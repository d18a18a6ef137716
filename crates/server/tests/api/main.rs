//! Behaviour tests of the REST API against a real server on loopback (port 0), over SQLite, or
//! over PostgreSQL (a fresh schema per server) when BUREAU_TEST_DATABASE_URL is set.
#![allow(missing_docs)]

mod absences;
mod calendar;
mod devices;
mod access;
mod bad_input;
mod guests;
mod joining;
mod http_limits;
mod limits;
mod mail_tls;
mod live;
mod media_server;
mod message_files;
mod multinode;
mod origin;
mod privacy;
mod room_chat;
mod rooms;
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
    /// `http://ADDR/metrics` of the node's metrics listener.
    pub metrics: String,
    pub https: std::net::SocketAddr,
    pub data_dir: PathBuf,
    /// The PostgreSQL database the server uses, if not SQLite.
    pub database_url: Option<String>,
    pub setup_token: Option<String>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    /// A server on a runtime of its own: tell it `true` to drain, `false` to crash.
    isolated: Option<(std::sync::mpsc::Sender<bool>, std::thread::JoinHandle<()>)>,
    _dir: Option<tempfile::TempDir>,
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
        Self::start_clocked(dir, extra_env, std::sync::Arc::new(bureau_office::SystemClock)).await
    }

    /// [`Running::start_in`] with `clock` as the domain's time.
    pub async fn start_clocked(dir: tempfile::TempDir, extra_env: &[(&str, String)], clock: std::sync::Arc<dyn bureau_office::Clock>) -> Result<Running, bureau_server::StartError> {
        let data_dir = dir.path().join("data");
        let database_url = match extra_env.iter().find(|(k, _)| *k == "BUREAU_DATABASE_URL") {
            Some((_, url)) => Some(url.clone()),
            None => bureau_store::test_database_url().await.unwrap(),
        };
        let config = Self::config(&data_dir, extra_env, database_url.as_deref());
        let server = Server::start_with_clock(config, clock).await?;
        let base = format!("http://{}", server.http_addr());
        let metrics = Self::metrics_url(&server);
        let https = server.https_addr();
        let setup_token = server.setup_link().map(|link| link.split_once("#token=").unwrap().1.to_owned());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(server.run(async move {
            let _ = stopped.await;
        }));
        Ok(Running { base, metrics, https, data_dir, database_url, setup_token, stop: Some(stop), task: Some(task), isolated: None, _dir: Some(dir) })
    }

    /// Starts a server on an existing (or new) data folder, on a Tokio runtime of its own, so
    /// that [`Running::crash`] can end it abruptly like a killed process: every task stops where
    /// it is, sockets close, nothing is drained or released. Several such servers may share one
    /// data folder, as nodes of one office: one master key and one database (the SQLite file in
    /// WAL mode, or with BUREAU_TEST_DATABASE_URL one PostgreSQL schema, remembered in the folder
    /// so that a restarted node finds it again).
    pub async fn start_node(data_dir: &std::path::Path, extra_env: &[(&str, String)]) -> Running {
        let database_url = Self::shared_database(data_dir).await;
        let config = Self::config(data_dir, extra_env, database_url.as_deref());
        let (ready, started) = tokio::sync::oneshot::channel();
        let (control, orders) = std::sync::mpsc::channel::<bool>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            let server = runtime.block_on(Server::start(config)).unwrap();
            let token = server.setup_link().map(|link| link.split_once("#token=").unwrap().1.to_owned());
            let _ = ready.send((format!("http://{}", server.http_addr()), Self::metrics_url(&server), server.https_addr(), token));
            let task = runtime.spawn(server.run(async move {
                let _ = stopped.await;
            }));
            if orders.recv().unwrap_or(false) {
                let _ = stop.send(());
                let _ = runtime.block_on(task);
            }
            runtime.shutdown_background();
        });
        let (base, metrics, https, setup_token) = started.await.unwrap();
        let node = Running { base, metrics, https, data_dir: data_dir.to_owned(), database_url, setup_token, stop: None, task: None, isolated: Some((control, thread)), _dir: None };
        node.wait_ready().await;
        node
    }

    fn metrics_url(server: &Server) -> String {
        server.metrics_addr().map(|a| format!("http://{a}/metrics")).unwrap_or_default()
    }

    /// The text of the node's `/metrics`.
    pub async fn metrics_text(&self) -> String {
        reqwest::get(&self.metrics).await.unwrap().text().await.unwrap()
    }

    /// Waits until `/readyz` answers 200 (with Redis: until the node has joined the others).
    pub async fn wait_ready(&self) {
        for _ in 0..200 {
            if let Ok(response) = reqwest::get(self.url("/readyz")).await
                && response.status() == 200
            {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("{} never became ready", self.base);
    }

    /// Ends a server started with [`Running::start_node`] abruptly, without any drain.
    pub async fn crash(&mut self) {
        if let Some((control, thread)) = self.isolated.take() {
            let _ = control.send(false);
            tokio::task::spawn_blocking(move || thread.join()).await.unwrap().unwrap();
        }
    }

    /// The database of the nodes sharing `data_dir`: None for SQLite.
    async fn shared_database(data_dir: &std::path::Path) -> Option<String> {
        let remembered = data_dir.join("test-database-url");
        if let Ok(url) = std::fs::read_to_string(&remembered) {
            return Some(url);
        }
        let url = bureau_store::test_database_url().await.unwrap()?;
        std::fs::create_dir_all(data_dir).unwrap();
        std::fs::write(&remembered, &url).unwrap();
        Some(url)
    }

    fn config(data_dir: &std::path::Path, extra_env: &[(&str, String)], database_url: Option<&str>) -> Config {
        let flags = Flags {
            data_dir: Some(data_dir.to_owned()),
            listen: Some("127.0.0.1:0".into()),
            tls_listen: Some("127.0.0.1:0".into()),
            config: None,
        };
        // Every server on its own TURN and media server ports, with loopback peers allowed for local calls, unless
        // the test says otherwise.
        let env = |name: &str| {
            extra_env.iter().find(|(k, _)| *k == name).map(|(_, v)| v.clone()).or_else(|| match name {
                "BUREAU_TURN_LISTEN" => Some("127.0.0.1:0".to_owned()),
                "BUREAU_SFU_LISTEN" => Some("127.0.0.1:0".to_owned()),
                "BUREAU_TURN_ALLOW_LOOPBACK_PEERS" => Some("true".to_owned()),
                "BUREAU_SIGNAL_PRESENCE_GRACE_SECS" => Some("1".to_owned()),
                "BUREAU_METRICS_LISTEN" => Some("127.0.0.1:0".to_owned()),
                "BUREAU_DATABASE_URL" => database_url.map(str::to_owned),
                _ => None,
            })
        };
        Config::load_from(&flags, env).unwrap()
    }

    /// Stops the server and waits until it has drained.
    pub async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap();
        }
        if let Some((control, thread)) = self.isolated.take() {
            let _ = control.send(true);
            tokio::task::spawn_blocking(move || thread.join()).await.unwrap().unwrap();
        }
    }

    pub fn client() -> reqwest::Client {
        // reqwest's rustls takes the process-wide provider: aws-lc-rs, as everywhere in Bureau.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        reqwest::Client::builder().cookie_store(true).build().unwrap()
    }

    /// A client that trusts the server's self-signed certificate (for its HTTPS listener).
    pub fn client_trusting(server: &Running) -> reqwest::Client {
        server.trusting(reqwest::Client::builder()).build().unwrap()
    }

    /// `builder`, trusting the data folder's self-signed certificate.
    pub fn trusting(&self, builder: reqwest::ClientBuilder) -> reqwest::ClientBuilder {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let pem = std::fs::read(self.data_dir.join("tls-cert.pem")).unwrap();
        builder.add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
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

/// Now, Unix milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

/// Creates a member (password "member password 1") through `admin` and signs them in: their
/// client and user id.
pub async fn member(server: &Running, admin: &reqwest::Client, name: &str, email: &str) -> (reqwest::Client, String) {
    let (status, user) = call(admin.post(server.url("/api/users")).json(&serde_json::json!({"must_change_password": false, "name": name, "email": email, "password": "member password 1"}))).await;
    assert_eq!(status, 201, "{user}");
    let client = Running::client();
    let (status, _) = call(client.post(server.url("/api/auth/login")).json(&serde_json::json!({"email": email, "password": "member password 1"}))).await;
    assert_eq!(status, 200);
    (client, user["id"].as_str().unwrap().to_owned())
}

/// Sends a request and returns the status and the JSON body (Null when there is none).
pub async fn call(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// A `redis-server` of the test's own, on a Unix socket in a temporary folder (no port).
pub struct Redis {
    dir: tempfile::TempDir,
    child: Option<std::process::Child>,
}

impl Redis {
    pub fn start() -> Redis {
        let mut redis = Redis { dir: tempfile::tempdir().unwrap(), child: None };
        redis.spawn();
        redis
    }

    /// The `redis_url` of this server.
    pub fn url(&self) -> String {
        format!("redis+unix://{}", self.socket().display())
    }

    fn socket(&self) -> PathBuf {
        self.dir.path().join("redis.sock")
    }

    /// What `redis-cli` prints for one command.
    pub fn cli(&self, args: &[&str]) -> String {
        let out = std::process::Command::new("redis-cli").arg("-s").arg(self.socket()).args(args).output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn spawn(&mut self) {
        let child = std::process::Command::new("redis-server")
            .args(["--port", "0", "--unixsocket"])
            .arg(self.socket())
            .args(["--save", "", "--appendonly", "no", "--dir"])
            .arg(self.dir.path())
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start redis-server ({err}): install it, e.g. apt-get install redis-server (scripts/test does)"));
        self.child = Some(child);
        for _ in 0..200 {
            if std::os::unix::net::UnixStream::connect(self.socket()).is_ok() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        panic!("redis-server did not open {}", self.socket().display());
    }

    /// Kills the server (as a crash would) and starts a new, empty one on the same socket.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_file(self.socket());
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.kill();
    }
}
