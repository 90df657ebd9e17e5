//! The services under test: spawned as processes, each on its own port.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, bail};
use reqwest::{Client, StatusCode};

/// A service process of this run.
pub(crate) struct Service {
    name: &'static str,
    pub(crate) url: String,
    child: Child,
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Service {
    pub(crate) fn spawn(
        name: &'static str,
        binary: &str,
        env: &[(&str, String)],
    ) -> anyhow::Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let prefix = if name == "auth" { "AUTH" } else { "KANBAN" };
        let mut command = Command::new(binary);
        command
            .env(format!("{prefix}_BIND"), format!("127.0.0.1:{port}"))
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        for (key, value) in env {
            command.env(key, value);
        }
        let child = command
            .spawn()
            .with_context(|| format!("cannot start {binary}"))?;
        Ok(Self {
            name,
            url: format!("http://127.0.0.1:{port}"),
            child,
        })
    }

    pub(crate) async fn wait_ready(&self, client: &Client) -> anyhow::Result<()> {
        for _ in 0..300 {
            if let Ok(response) = client.get(format!("{}/readyz", self.url)).send().await
                && response.status() == StatusCode::OK
            {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("{} did not become ready", self.name)
    }

    /// Peak resident memory (VmHWM), in KiB.
    pub(crate) fn peak_rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }
}

pub(crate) async fn create_database(admin_url: &str, name: &str) -> anyhow::Result<String> {
    shared::db::create_database(admin_url, name)
        .await
        .context("cannot create a database for the benchmark")
}
