//! Test support (feature `testing`): a Redis server a test owns and may stop.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A `redis-server` of one test's own, on a free port, stopped on drop.
/// `TEST_REDIS_SERVER` names the binary (default `redis-server` on the PATH).
pub struct RedisServer {
    pub url: String,
    child: Child,
    _dir: tempfile::TempDir,
}

impl RedisServer {
    pub async fn start() -> Self {
        let binary = std::env::var("TEST_REDIS_SERVER").unwrap_or_else(|_| "redis-server".into());
        let dir = tempfile::TempDir::new().expect("temp dir");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let child = Command::new(&binary)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start {binary} ({err}); run the README's test command, which installs it"));
        // Owned from here on, so the process is reaped whatever happens.
        let server = Self {
            url: format!("redis://127.0.0.1:{port}"),
            child,
            _dir: dir,
        };
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("redis-server did not start on port {port}");
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
