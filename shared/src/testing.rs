//! Test support (feature `testing`): a Redis server a test owns and may stop.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A `redis-server` of one test's own, on a free port, stopped on drop.
/// `TEST_REDIS_SERVER` names the binary (default `redis-server` on the PATH).
pub struct RedisServer {
    pub url: String,
    port: u16,
    child: Child,
    _dir: tempfile::TempDir,
}

fn spawn_redis(port: u16, dir: &std::path::Path) -> Child {
    let binary = std::env::var("TEST_REDIS_SERVER").unwrap_or_else(|_| "redis-server".into());
    Command::new(&binary)
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
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

impl RedisServer {
    pub async fn start() -> Self {
        let dir = tempfile::TempDir::new().expect("temp dir");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
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
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                .await
                .is_ok()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("redis-server did not start on port {}", self.port);
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
