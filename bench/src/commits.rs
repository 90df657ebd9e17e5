//! The database's own commit rate, the ceiling of every write scenario:
//! `pgbench` with a one-row `INSERT` per transaction (a custom script, into
//! a throwaway table of a database of its own) on the same PostgreSQL
//! cluster, with the same durability settings, for as many clients as the
//! write scenarios run.

use std::process::Command;
use std::time::Duration;

use anyhow::{Context, bail};
use sea_orm::ConnectionTrait;

use crate::service::create_database;

/// What `pgbench` measured at one client count.
#[derive(Clone, Copy)]
pub(crate) struct CommitRate {
    pub(crate) clients: usize,
    pub(crate) commits_per_second: f64,
}

/// The `pgbench` binary: `PGBENCH`, else on the `PATH`, else beside
/// PostgreSQL's newest server binaries.
fn pgbench() -> String {
    if let Ok(path) = std::env::var("PGBENCH") {
        return path;
    }
    let on_path = std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join("pgbench").is_file()));
    if on_path {
        return "pgbench".into();
    }
    let mut dirs: Vec<_> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path().join("bin/pgbench"))
        .filter(|path| path.is_file())
        .collect();
    dirs.sort();
    dirs.pop()
        .map(|path| path.display().to_string())
        .unwrap_or_else(|| "pgbench".into())
}

/// Commits per second of one-row inserts, for each client count in
/// `clients`, each for `duration` (whole seconds, at least one).
pub(crate) async fn commit_rates(
    admin_url: &str,
    run: &str,
    clients: &[usize],
    duration: Duration,
) -> anyhow::Result<Vec<CommitRate>> {
    let url = create_database(admin_url, &format!("bench_commits_{run}")).await?;
    let db = shared::db::connect(&url, 1).await?;
    db.execute_unprepared(
        "CREATE TABLE commit_probe (id bigserial PRIMARY KEY, client int NOT NULL, \
         at timestamptz NOT NULL DEFAULT now())",
    )
    .await?;
    db.close().await?;
    let script = std::env::temp_dir().join(format!("bench-commit-{run}.sql"));
    std::fs::write(
        &script,
        "INSERT INTO commit_probe (client) VALUES (:client_id);\n",
    )?;
    let seconds = duration.as_secs().max(1).to_string();
    let mut rates = Vec::new();
    for &n in clients {
        let output = Command::new(pgbench())
            .args(["--no-vacuum", "--protocol=prepared", "--file"])
            .arg(&script)
            .args([
                "--client",
                &n.to_string(),
                "--jobs",
                "2",
                "--time",
                &seconds,
            ])
            .arg(&url)
            .output()
            .context("cannot run pgbench (set PGBENCH to its path)")?;
        if !output.status.success() {
            bail!(
                "pgbench failed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        let stdout = String::from_utf8_lossy(&output.stdout);
        let tps = stdout
            .lines()
            .find_map(|line| line.strip_prefix("tps = "))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse::<f64>().ok())
            .with_context(|| format!("no tps in pgbench's answer: {stdout}"))?;
        eprintln!("PostgreSQL commit rate (pgbench, one-row INSERT, {n} clients): {tps:.0}/s");
        rates.push(CommitRate {
            clients: n,
            commits_per_second: tps,
        });
    }
    std::fs::remove_file(&script).ok();
    Ok(rates)
}
