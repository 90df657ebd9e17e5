//! Test support (feature `testing`): a Redis server a test owns and may
//! stop, a mail server that keeps what it receives, a fresh database per
//! test, answers checked by status, and snapshots of documents such as a
//! service's OpenAPI description.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

/// A `redis-server` of one test's own, on a free port, stopped on drop.
/// `TEST_REDIS_SERVER` names the binary (default `redis-server` on the PATH).
pub struct RedisServer {
    pub url: String,
    port: u16,
    child: Child,
    _dir: tempfile::TempDir,
}

fn redis_binary() -> String {
    std::env::var("TEST_REDIS_SERVER").unwrap_or_else(|_| "redis-server".into())
}

/// `redis-cli`: beside `TEST_REDIS_SERVER` when that names a path, else on
/// the PATH.
fn redis_cli_binary() -> std::path::PathBuf {
    let server = std::path::PathBuf::from(redis_binary());
    match server.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.join("redis-cli"),
        _ => "redis-cli".into(),
    }
}

/// Starts `redis-server` with `args` (a config file first, if any), its
/// data in `dir`, output discarded.
fn spawn_redis_with(args: &[String], dir: &std::path::Path) -> Child {
    let binary = redis_binary();
    Command::new(&binary)
        .args(args)
        .arg("--dir")
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|err| {
            panic!(
                "cannot start {binary} ({err}); run the README's test command, which installs it"
            )
        })
}

fn spawn_redis(port: u16, dir: &std::path::Path) -> Child {
    let args = [
        "--port",
        &port.to_string(),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
    ]
    .map(str::to_owned);
    spawn_redis_with(&args, dir)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

async fn wait_port(port: u16) {
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("redis-server did not start on port {port}");
}

impl RedisServer {
    pub async fn start() -> Self {
        let dir = tempfile::TempDir::new().expect("temp dir");
        let port = free_port();
        let child = spawn_redis(port, dir.path());
        // Owned from here on, so the process is reaped whatever happens.
        let server = Self {
            url: format!("redis://127.0.0.1:{port}"),
            port,
            child,
            _dir: dir,
        };
        server.wait_listening().await;
        server
    }

    async fn wait_listening(&self) {
        wait_port(self.port).await;
    }

    /// Kills the server and starts an empty one on the same port (a restart
    /// without persistence, or a failover to an empty replica).
    pub async fn restart_empty(&mut self) {
        self.stop();
        self.child = spawn_redis(self.port, self._dir.path());
        self.wait_listening().await;
    }

    /// Starts the server again after [`Self::stop`], empty.
    pub async fn start_again(&mut self) {
        self.restart_empty().await;
    }

    /// `FLUSHALL`: every key is gone.
    pub async fn flush_all(&self) {
        let client = redis::Client::open(self.url.as_str()).expect("redis url");
        let mut connection = client
            .get_multiplexed_async_connection()
            .await
            .expect("connect to redis");
        redis::cmd("FLUSHALL")
            .query_async::<()>(&mut connection)
            .await
            .expect("FLUSHALL");
    }

    /// Kills the server (a Redis outage, as far as the test is concerned).
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Processes stopped (killed and reaped) on drop.
struct Processes(Vec<Child>);

impl Drop for Processes {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
        }
        for child in &mut self.0 {
            let _ = child.wait();
        }
    }
}

/// One command to the server on `port`, with short timeouts.
async fn redis_at<T: redis::FromRedisValue>(
    port: u16,
    command: &redis::Cmd,
) -> redis::RedisResult<T> {
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}"))?;
    let config = redis::AsyncConnectionConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(1)))
        .set_response_timeout(Some(Duration::from_secs(2)));
    let mut connection = client
        .get_multiplexed_async_connection_with_config(&config)
        .await?;
    command.query_async(&mut connection).await
}

/// Waits (at most `timeout`) until `check` answers true.
async fn wait_until<F, Fut>(what: &str, timeout: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The `field:value` lines of `INFO section` on `port`.
async fn info(port: u16, section: &str) -> String {
    redis_at::<String>(port, redis::cmd("INFO").arg(section))
        .await
        .unwrap_or_default()
}

/// A master, its replica and `sentinels` sentinels (`redis-server
/// --sentinel`) monitoring it as [`RedisSentinels::MASTER`], each on a free
/// port in a temporary folder; stopped on drop. `url` is the
/// `redis+sentinel://` URL the services take.
pub struct RedisSentinels {
    pub url: String,
    /// The two data servers' ports: master first, at the start.
    pub data_ports: [u16; 2],
    pub sentinel_ports: Vec<u16>,
    _processes: Processes,
    _dir: tempfile::TempDir,
}

impl RedisSentinels {
    pub const MASTER: &'static str = "mymaster";

    pub async fn start(sentinels: usize) -> Self {
        let dir = tempfile::TempDir::new().expect("temp dir");
        let mut processes = Processes(Vec::new());
        let master = free_port();
        let replica = free_port();
        for (port, replica_of) in [(master, None), (replica, Some(master))] {
            let data = dir.path().join(port.to_string());
            std::fs::create_dir(&data).expect("data dir");
            let mut args = [
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                // The replica's first sync at once, not after 5 s.
                "--repl-diskless-sync-delay",
                "0",
            ]
            .map(str::to_owned)
            .to_vec();
            if let Some(master) = replica_of {
                args.extend(["--replicaof".into(), "127.0.0.1".into(), master.to_string()]);
            }
            processes.0.push(spawn_redis_with(&args, &data));
            wait_port(port).await;
        }
        // The sentinels find the replica in the master's INFO when they
        // start: it must be connected by then.
        wait_until(
            "the replica's link to its master",
            Duration::from_secs(10),
            || async {
                info(replica, "replication")
                    .await
                    .contains("master_link_status:up")
            },
        )
        .await;
        let mut sentinel_ports = Vec::new();
        for _ in 0..sentinels {
            let port = free_port();
            let conf = dir.path().join(format!("sentinel-{port}.conf"));
            std::fs::write(
                &conf,
                format!(
                    "port {port}\nbind 127.0.0.1\n\
                     sentinel monitor {name} 127.0.0.1 {master} 1\n\
                     sentinel down-after-milliseconds {name} 2000\n\
                     sentinel failover-timeout {name} 10000\n",
                    name = Self::MASTER
                ),
            )
            .expect("sentinel config");
            let args = [conf.display().to_string(), "--sentinel".to_owned()];
            processes.0.push(spawn_redis_with(&args, dir.path()));
            wait_port(port).await;
            sentinel_ports.push(port);
        }
        let sentinels = Self {
            url: format!(
                "redis+sentinel://{}/{}",
                sentinel_ports
                    .iter()
                    .map(|port| format!("127.0.0.1:{port}"))
                    .collect::<Vec<_>>()
                    .join(","),
                Self::MASTER
            ),
            data_ports: [master, replica],
            sentinel_ports,
            _processes: processes,
            _dir: dir,
        };
        for port in sentinels.sentinel_ports.clone() {
            wait_until(
                "a sentinel to see the replica",
                Duration::from_secs(10),
                || sentinels.replica_ready(port),
            )
            .await;
        }
        sentinels
    }

    /// Whether the sentinel on `port` knows a healthy replica.
    async fn replica_ready(&self, port: u16) -> bool {
        let replicas: Vec<std::collections::HashMap<String, String>> = redis_at(
            port,
            redis::cmd("SENTINEL").arg("REPLICAS").arg(Self::MASTER),
        )
        .await
        .unwrap_or_default();
        replicas.iter().any(|replica| {
            replica.get("flags").map(String::as_str) == Some("slave")
                && replica.get("master-link-status").map(String::as_str) == Some("ok")
        })
    }

    /// The master's port as the sentinel on `port` names it.
    async fn named_master(&self, port: u16) -> Option<u16> {
        let answer: Option<(String, u16)> = redis_at(
            port,
            redis::cmd("SENTINEL")
                .arg("GET-MASTER-ADDR-BY-NAME")
                .arg(Self::MASTER),
        )
        .await
        .ok()
        .flatten();
        answer.map(|(_, port)| port)
    }

    /// The current master's port, as the first sentinel names it.
    pub async fn master_port(&self) -> u16 {
        self.named_master(self.sentinel_ports[0])
            .await
            .expect("the sentinel names a master")
    }

    /// Kills the data server on `port` (one of [`Self::data_ports`]).
    pub fn kill(&mut self, port: u16) {
        let index = self
            .data_ports
            .iter()
            .position(|data| *data == port)
            .expect("a data server's port");
        let child = &mut self._processes.0[index];
        let _ = child.kill();
        let _ = child.wait();
    }

    /// `SENTINEL FAILOVER`: the replica becomes the master. Returns once
    /// every sentinel names it and it answers as a master; the old master
    /// is turned into its replica by the sentinels later on.
    pub async fn failover(&self) -> u16 {
        let old = self.master_port().await;
        let new = if old == self.data_ports[0] {
            self.data_ports[1]
        } else {
            self.data_ports[0]
        };
        // Everything written so far has reached the replica.
        let synced: redis::RedisResult<i64> =
            redis_at(old, redis::cmd("WAIT").arg(1).arg(2000)).await;
        assert_eq!(synced.ok(), Some(1), "the replica acknowledges every write");
        let asked: redis::RedisResult<String> = redis_at(
            self.sentinel_ports[0],
            redis::cmd("SENTINEL").arg("FAILOVER").arg(Self::MASTER),
        )
        .await;
        assert_eq!(asked.ok().as_deref(), Some("OK"), "SENTINEL FAILOVER");
        for port in self.sentinel_ports.clone() {
            wait_until(
                "every sentinel to name the new master",
                Duration::from_secs(15),
                || async move { self.named_master(port).await == Some(new) },
            )
            .await;
        }
        wait_until("the new master's role", Duration::from_secs(5), || async {
            info(new, "replication").await.contains("role:master")
        })
        .await;
        new
    }
}

/// How many entries the revocation feed's stream (the one key matching
/// `*feed`) holds on the server at `port`; 0 without one.
pub async fn feed_entries_at(port: u16) -> usize {
    let keys: Vec<String> = redis_at(port, redis::cmd("KEYS").arg("*feed"))
        .await
        .expect("KEYS");
    match keys.as_slice() {
        [] => 0,
        [key] => redis_at(port, redis::cmd("XLEN").arg(key))
            .await
            .expect("XLEN"),
        more => panic!("one feed expected on port {port}, found {more:?}"),
    }
}

/// A Redis Cluster of three masters (no replicas) on free ports in a
/// temporary folder, its slots assigned by `redis-cli --cluster create`;
/// stopped on drop. `url` is the `redis+cluster://` URL the services take.
pub struct RedisCluster {
    pub url: String,
    pub ports: Vec<u16>,
    _processes: Processes,
    _dir: tempfile::TempDir,
}

/// A free port whose cluster bus port (`port + 10000`) is free too.
fn free_cluster_port() -> u16 {
    loop {
        let port = free_port();
        if port <= 55535 && std::net::TcpListener::bind(("127.0.0.1", port + 10000)).is_ok() {
            return port;
        }
    }
}

impl RedisCluster {
    pub async fn start() -> Self {
        let dir = tempfile::TempDir::new().expect("temp dir");
        let mut processes = Processes(Vec::new());
        let mut ports = Vec::new();
        for _ in 0..3 {
            let port = free_cluster_port();
            let data = dir.path().join(port.to_string());
            std::fs::create_dir(&data).expect("data dir");
            let args = [
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                "nodes.conf",
                "--cluster-node-timeout",
                "2000",
            ]
            .map(str::to_owned);
            processes.0.push(spawn_redis_with(&args, &data));
            ports.push(port);
        }
        for port in &ports {
            wait_port(*port).await;
        }
        let nodes: Vec<String> = ports
            .iter()
            .map(|port| format!("127.0.0.1:{port}"))
            .collect();
        let cli = redis_cli_binary();
        let created = tokio::process::Command::new(&cli)
            .arg("--cluster")
            .arg("create")
            .args(&nodes)
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .stdin(Stdio::null())
            .output()
            .await
            .unwrap_or_else(|err| panic!("cannot run {} ({err})", cli.display()));
        assert!(
            created.status.success(),
            "redis-cli --cluster create failed: {}",
            String::from_utf8_lossy(&created.stdout)
        );
        for port in ports.clone() {
            wait_until(
                "the cluster to be ok on every node",
                Duration::from_secs(15),
                || async move {
                    let state: String = redis_at(port, redis::cmd("CLUSTER").arg("INFO"))
                        .await
                        .unwrap_or_default();
                    state.contains("cluster_state:ok")
                },
            )
            .await;
        }
        Self {
            url: format!("redis+cluster://{}", nodes.join(",")),
            ports,
            _processes: processes,
            _dir: dir,
        }
    }
}

/// A fresh database for one test: a new PostgreSQL database when
/// `TEST_DATABASE_URL` names a server (an admin URL), else a new SQLite file
/// `name.db` in `dir`.
pub async fn fresh_database(dir: &std::path::Path, name: &str) -> String {
    match std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|url| !url.is_empty())
    {
        Some(admin_url) => {
            let database = format!("t_{name}_{}", uuid::Uuid::new_v4().simple());
            crate::db::create_database(&admin_url, &database)
                .await
                .expect("create a database on TEST_DATABASE_URL")
        }
        None => format!("sqlite://{}/{name}.db?mode=rwc", dir.display()),
    }
}

/// Asserts the answer's status (showing the body when it differs) and
/// returns its JSON body (`Null` when it has none).
pub async fn expect(response: reqwest::Response, status: reqwest::StatusCode) -> Value {
    let actual = response.status();
    let text = response.text().await.expect("the answer's body");
    assert_eq!(actual, status, "body: {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// `value` with every object's keys in sorted order.
pub fn sorted_keys(value: Value) -> Value {
    match value {
        Value::Object(object) => {
            let mut entries: Vec<(String, Value)> = object.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(key, value)| (key, sorted_keys(value)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted_keys).collect()),
        other => other,
    }
}

/// A JSON document (such as poem-openapi's `spec()`) as a snapshot holds
/// it: keys sorted, pretty-printed, one final newline.
pub fn snapshot_text(json: &str) -> String {
    let document: Value = serde_json::from_str(json).expect("the document is JSON");
    let mut text = serde_json::to_string_pretty(&sorted_keys(document)).expect("render");
    text.push('\n');
    text
}

/// Compares `current` with the committed snapshot at `path`, panicking at
/// the first line that differs. With `UPDATE_SNAPSHOTS=1` it writes
/// `current` to `path` instead (review the diff, then commit it).
pub fn assert_snapshot(path: &Path, current: &str) {
    if std::env::var("UPDATE_SNAPSHOTS").is_ok_and(|v| v == "1") {
        std::fs::write(path, current).expect("write the snapshot");
        return;
    }
    let committed = std::fs::read_to_string(path).unwrap_or_else(|err| {
        panic!(
            "cannot read {}: {err}; create it with UPDATE_SNAPSHOTS=1",
            path.display()
        )
    });
    let mut was = committed.lines();
    let mut is = current.lines();
    for line in 1.. {
        match (was.next(), is.next()) {
            (None, None) => break,
            (was, is) if was == is => continue,
            (was, is) => panic!(
                "{} changed at line {line}:\n  snapshot: {}\n  now:      {}\n\
                 if the change is intended, rerun with UPDATE_SNAPSHOTS=1 and commit the file",
                path.display(),
                was.unwrap_or("<end of file>"),
                is.unwrap_or("<end of file>"),
            ),
        }
    }
    assert_eq!(
        committed,
        current,
        "{} changed (line endings?)",
        path.display()
    );
}

/// A mail server on a free local port that accepts every message and keeps
/// it: the SMTP dialogue of RFC 5321 (no TLS, no authentication), so a
/// service under test delivers over a real socket and the test reads what
/// arrived. Stopped on drop.
pub struct SmtpSink {
    port: u16,
    messages: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    arrived: std::sync::Arc<tokio::sync::Notify>,
    task: tokio::task::JoinHandle<()>,
}

impl SmtpSink {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind an SMTP port");
        let port = listener.local_addr().expect("local address").port();
        let messages = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let arrived = std::sync::Arc::new(tokio::sync::Notify::new());
        let (kept, notify) = (messages.clone(), arrived.clone());
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let (kept, notify) = (kept.clone(), notify.clone());
                tokio::spawn(async move {
                    let _ = smtp_session(socket, kept, notify).await;
                });
            }
        });
        Self {
            port,
            messages,
            arrived,
            task,
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Every message received so far, as sent (headers and body).
    pub fn messages(&self) -> Vec<String> {
        self.messages.lock().expect("sink lock").clone()
    }

    /// Waits until `count` messages have arrived (panics after `timeout`).
    pub async fn wait_for(&self, count: usize, timeout: Duration) -> Vec<String> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.arrived.notified();
            let messages = self.messages();
            if messages.len() >= count {
                return messages;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                panic!("{count} mails expected, {} arrived", self.messages().len());
            }
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn smtp_session(
    socket: tokio::net::TcpStream,
    kept: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    arrived: std::sync::Arc<tokio::sync::Notify>,
) -> std::io::Result<()> {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let (reader, mut writer) = socket.into_split();
    let mut lines = BufReader::new(reader);
    writer
        .write_all(b"220 localhost test mail sink\r\n")
        .await?;
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let verb = line
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        let answer: &[u8] = match verb.as_str() {
            "EHLO" => b"250-localhost\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n",
            "HELO" | "MAIL" | "RCPT" | "RSET" | "NOOP" => b"250 OK\r\n",
            "DATA" => {
                writer
                    .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    .await?;
                let mut message = String::new();
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" || line == ".\n" {
                        break;
                    }
                    // RFC 5321 4.5.2: a leading dot was doubled by the sender.
                    message.push_str(line.strip_prefix('.').unwrap_or(&line));
                }
                kept.lock().expect("sink lock").push(message);
                arrived.notify_waiters();
                b"250 OK: queued\r\n"
            }
            "QUIT" => {
                writer.write_all(b"221 Bye\r\n").await?;
                return Ok(());
            }
            _ => b"502 Command not implemented\r\n",
        };
        writer.write_all(answer).await?;
    }
}

/// The text of a mail as its reader sees it: quoted-printable soft line
/// breaks joined and `=3D` read as `=`.
pub fn mail_text(message: &str) -> String {
    message
        .replace("=\r\n", "")
        .replace("=\n", "")
        .replace("=3D", "=")
}

/// The value of the first `token=` query parameter in a mail.
pub fn link_token(message: &str) -> String {
    let text = mail_text(message);
    let start = text.find("token=").expect("a link with a token") + "token=".len();
    text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

/// Everything the process logs (at the production level, `info`, as JSON
/// lines), kept in memory so a test can check what never reaches a log.
/// The first call installs the process's log subscriber.
pub struct LogCapture;

#[derive(Clone)]
struct CaptureWriter(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for CaptureWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log lock").extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

static CAPTURED: std::sync::OnceLock<Option<std::sync::Arc<std::sync::Mutex<Vec<u8>>>>> =
    std::sync::OnceLock::new();

impl LogCapture {
    pub fn install() -> LogCapture {
        CAPTURED.get_or_init(|| {
            let buffer = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
            let writer = CaptureWriter(buffer.clone());
            let installed = tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::new("info"))
                .json()
                .flatten_event(true)
                .with_writer(move || writer.clone())
                .try_init()
                .is_ok();
            installed.then_some(buffer)
        });
        LogCapture
    }

    /// What was logged so far, by every test of the process.
    pub fn text(&self) -> String {
        let buffer = CAPTURED
            .get()
            .and_then(|buffer| buffer.clone())
            .expect("another log subscriber was installed first (is TEST_LOG set?)");
        let bytes = buffer.lock().expect("log lock").clone();
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

/// The client id the [`GoogleIssuer`]'s tokens are for by default: configure
/// it as the account manager's Google client id.
pub const GOOGLE_CLIENT_ID: &str = "test-client.apps.googleusercontent.com";
/// The issuer the [`GoogleIssuer`]'s tokens name by default (one of the two
/// Google uses).
pub const GOOGLE_ISSUER: &str = "https://accounts.google.com";

/// RSA keys the [`GoogleIssuer`]s of a test process sign with, generated on
/// first use (2048 bits take a moment; a process needs a few at most).
const KEY_POOL: usize = 4;
/// The key never published by an issuer: what a forger signs with.
const FORGER_KEY: usize = KEY_POOL - 1;

struct PoolKey {
    encoding: jsonwebtoken::EncodingKey,
    /// The public key's modulus and exponent, base64url, as a JWK has them.
    n: String,
    e: String,
}

static KEYS: [std::sync::OnceLock<PoolKey>; KEY_POOL] =
    [const { std::sync::OnceLock::new() }; KEY_POOL];

fn pool_key(index: usize) -> &'static PoolKey {
    KEYS[index].get_or_init(|| {
        use rsa::pkcs1::EncodeRsaPrivateKey;
        let private =
            rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).expect("generate an RSA key");
        let der = private.to_pkcs1_der().expect("encode the RSA key");
        let encoding = jsonwebtoken::EncodingKey::from_rsa_der(der.as_bytes());
        let jwk =
            jsonwebtoken::jwk::Jwk::from_encoding_key(&encoding, jsonwebtoken::Algorithm::RS256)
                .expect("the RSA key as a JWK");
        let jsonwebtoken::jwk::AlgorithmParameters::RSA(params) = jwk.algorithm else {
            unreachable!("an RSA key gives an RSA JWK")
        };
        PoolKey {
            encoding,
            n: params.n,
            e: params.e,
        }
    })
}

struct IssuerState {
    /// Published keys, oldest first: (`kid`, pool index). The last signs.
    published: Vec<(String, usize)>,
    /// JWKS documents served so far.
    fetches: usize,
    /// Answer 500 instead of the JWKS.
    failing: bool,
}

/// A stand-in for Google's sign-in, for tests: an HTTP server on a free
/// local port serving a JWKS of RSA keys (as `https://www.googleapis.com/
/// oauth2/v3/certs` does), and ID tokens signed RS256 with its current key.
/// It can rotate its key (the old one stays published, as Google does),
/// forge tokens (same `kid`, another key), fail, and count the fetches.
/// Stopped on drop.
pub struct GoogleIssuer {
    url: String,
    state: std::sync::Arc<std::sync::Mutex<IssuerState>>,
    /// Tells this issuer's `kid`s from every other's.
    name: String,
    task: tokio::task::JoinHandle<()>,
}

#[poem::handler]
fn serve_jwks(
    state: poem::web::Data<&std::sync::Arc<std::sync::Mutex<IssuerState>>>,
) -> poem::Response {
    let mut state = state.lock().expect("issuer lock");
    state.fetches += 1;
    if state.failing {
        return poem::Response::builder()
            .status(poem::http::StatusCode::INTERNAL_SERVER_ERROR)
            .body("failing on purpose");
    }
    let keys: Vec<Value> = state
        .published
        .iter()
        .map(|(kid, index)| {
            let key = pool_key(*index);
            serde_json::json!({
                "kty": "RSA", "alg": "RS256", "use": "sig",
                "kid": kid, "n": key.n, "e": key.e,
            })
        })
        .collect();
    poem::Response::builder()
        .content_type("application/json; charset=UTF-8")
        .header("Cache-Control", "public, max-age=21600")
        .body(serde_json::json!({ "keys": keys }).to_string())
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs() as i64)
        .unwrap_or(0)
}

impl GoogleIssuer {
    pub async fn start() -> Self {
        use poem::EndpointExt;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a port for the Google issuer");
        let port = listener.local_addr().expect("local address").port();
        let name = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
        let state = std::sync::Arc::new(std::sync::Mutex::new(IssuerState {
            published: vec![(format!("{name}-0"), 0)],
            fetches: 0,
            failing: false,
        }));
        let app = poem::Route::new()
            .at("/oauth2/v3/certs", poem::get(serve_jwks))
            .data(state.clone());
        let acceptor =
            poem::listener::TcpAcceptor::from_tokio(listener).expect("the issuer's acceptor");
        let task = tokio::spawn(async move {
            let _ = poem::Server::new_with_acceptor(acceptor).run(app).await;
        });
        Self {
            url: format!("http://127.0.0.1:{port}"),
            state,
            name,
            task,
        }
    }

    /// Where its JWKS is served: the account manager's Google JWKS URL.
    pub fn jwks_url(&self) -> String {
        format!("{}/oauth2/v3/certs", self.url)
    }

    /// How many times its JWKS was asked for.
    pub fn fetches(&self) -> usize {
        self.state.lock().expect("issuer lock").fetches
    }

    /// Makes the JWKS answer 500 (or serve again).
    pub fn set_failing(&self, failing: bool) {
        self.state.lock().expect("issuer lock").failing = failing;
    }

    /// The `kid` of the key that signs now.
    pub fn current_kid(&self) -> String {
        let state = self.state.lock().expect("issuer lock");
        state.published.last().expect("a key").0.clone()
    }

    /// A new key signs from now on (published beside the old ones); answers
    /// its `kid`.
    pub fn rotate(&self) -> String {
        let mut state = self.state.lock().expect("issuer lock");
        let generation = state.published.len();
        let kid = format!("{}-{generation}", self.name);
        state.published.push((kid.clone(), generation % FORGER_KEY));
        kid
    }

    /// The claims of a valid ID token for `sub` with a verified `email`,
    /// for [`GOOGLE_CLIENT_ID`], issued now and valid for an hour (change
    /// any of them before signing).
    pub fn claims(&self, sub: &str, email: &str) -> Value {
        let now = unix_now();
        serde_json::json!({
            "iss": GOOGLE_ISSUER,
            "azp": GOOGLE_CLIENT_ID,
            "aud": GOOGLE_CLIENT_ID,
            "sub": sub,
            "email": email,
            "email_verified": true,
            "at_hash": "DkBaRVIqI2Wkto61TgdUqQ",
            "iat": now,
            "exp": now + 3600,
        })
    }

    fn sign(claims: &Value, kid: &str, key: usize) -> String {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        header.kid = Some(kid.to_owned());
        jsonwebtoken::encode(&header, claims, &pool_key(key).encoding).expect("sign an ID token")
    }

    /// An ID token with these claims, signed with the current key.
    pub fn id_token(&self, claims: &Value) -> String {
        let (kid, key) = {
            let state = self.state.lock().expect("issuer lock");
            state.published.last().expect("a key").clone()
        };
        Self::sign(claims, &kid, key)
    }

    /// A token naming the current `kid` but signed with another key.
    pub fn forged_token(&self, claims: &Value) -> String {
        Self::sign(claims, &self.current_kid(), FORGER_KEY)
    }

    /// A token signed with a key this issuer never published, under a `kid`
    /// it does not know.
    pub fn token_with_unknown_kid(&self, claims: &Value) -> String {
        Self::sign(claims, &format!("{}-unknown", self.name), FORGER_KEY)
    }
}

impl Drop for GoogleIssuer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// One scrape of a service's `GET /metrics`, parsed by a Prometheus text
/// parser. Tests share the process's one recorder, so they compare two
/// scrapes on series whose labels are theirs alone, or assert increases of
/// at least what they caused.
pub struct Metrics(prometheus_parse::Scrape);

impl Metrics {
    /// GETs `<base_url>/metrics` (it must answer 200 in the text format).
    pub async fn scrape(client: &reqwest::Client, base_url: &str) -> Self {
        let answer = client
            .get(format!("{base_url}/metrics"))
            .send()
            .await
            .expect("GET /metrics");
        assert_eq!(answer.status(), reqwest::StatusCode::OK, "GET /metrics");
        let content_type = answer.headers()[reqwest::header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(content_type.starts_with("text/plain"), "{content_type}");
        let text = answer.text().await.expect("metrics text");
        let lines = text.lines().map(|line| Ok(line.to_owned()));
        Self(prometheus_parse::Scrape::parse(lines).expect("Prometheus text format"))
    }

    /// The samples of `name` whose labels include `labels`.
    fn matching<'a>(
        &'a self,
        name: &'a str,
        labels: &'a [(&'a str, &'a str)],
    ) -> impl Iterator<Item = &'a prometheus_parse::Sample> + 'a {
        self.0.samples.iter().filter(move |sample| {
            sample.metric == name
                && labels
                    .iter()
                    .all(|(key, value)| sample.labels.get(key) == Some(*value))
        })
    }

    /// The sum of the counter or gauge `name` over the series with these
    /// labels (0 when there is none yet).
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.matching(name, labels)
            .map(|sample| match &sample.value {
                prometheus_parse::Value::Counter(value)
                | prometheus_parse::Value::Gauge(value)
                | prometheus_parse::Value::Untyped(value) => *value,
                other => panic!("{name} is not a counter or gauge: {other:?}"),
            })
            .sum()
    }

    /// Whether the histogram `name` has a series with these labels.
    pub fn has_histogram(&self, name: &str, labels: &[(&str, &str)]) -> bool {
        self.matching(name, labels)
            .any(|sample| matches!(sample.value, prometheus_parse::Value::Histogram(_)))
    }

    /// Every value the label `label` takes on the series of `name`.
    pub fn label_values(&self, name: &str, label: &str) -> Vec<String> {
        self.matching(name, &[])
            .filter_map(|sample| sample.labels.get(label).map(str::to_owned))
            .collect()
    }
}
