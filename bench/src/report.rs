//! The results: a Markdown table on stdout and a JSON document in a file.

use serde_json::{Value, json};

use crate::ceiling::{ARGON2_ITERATIONS, ARGON2_MEMORY_KIB};
use crate::commits::CommitRate;
use crate::durability::Durability;
use crate::measure::Outcome;
use crate::options::{Options, Scale};
use crate::propagation::Propagation;

#[allow(clippy::too_many_arguments)]
pub(crate) fn report(
    options: &Options,
    durability: &Durability,
    scale: Scale,
    outcomes: &[Outcome],
    propagations: &[Propagation],
    argon2: f64,
    cores: usize,
    rss: &Value,
    commits: &[CommitRate],
) -> anyhow::Result<()> {
    let ceiling = |service: &str| {
        outcomes
            .iter()
            .find(|o| o.service == service && o.name.starts_with("healthz"))
            .map(Outcome::rate)
    };
    let mut table = String::new();
    if !durability.is_durable() {
        table.push_str(
            "**UNSAFE settings (fsync or synchronous commits off, or Redis without persistence): \
             not a production figure.**\n\n",
        );
    }
    table.push_str(
        "| scenario | service | req/s | p50 ms | p99 ms | errors | vs /healthz | vs DB commits |\n",
    );
    table.push_str("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    let mut rows = Vec::new();
    for outcome in outcomes {
        let ratio = ceiling(outcome.service)
            .map(|c| outcome.rate() / c)
            .unwrap_or(0.0);
        let to_commits = commit_ceiling(outcome, commits).map(|c| outcome.rate() / c);
        table.push_str(&format!(
            "| {} | {} | {:.0} | {:.2} | {:.2} | {} | {:.1} % | {} |\n",
            outcome.name,
            outcome.service,
            outcome.rate(),
            outcome.p50_ms,
            outcome.p99_ms,
            outcome.errors,
            ratio * 100.0,
            to_commits.map_or("".into(), |r| format!("{:.1} %", r * 100.0)),
        ));
        rows.push(json!({
            "scenario": outcome.name, "service": outcome.service, "requests": outcome.requests,
            "requests_per_second": outcome.rate(), "p50_ms": outcome.p50_ms, "p99_ms": outcome.p99_ms,
            "errors": outcome.errors, "ratio_to_healthz": ratio, "concurrency": outcome.concurrency,
            "ratio_to_database_commits": to_commits,
        }));
    }
    table.push_str("\n| revocation propagation (logout sent → kanban's first 401) | samples | p50 ms | p99 ms | max ms | errors |\n");
    table.push_str("| --- | ---: | ---: | ---: | ---: | ---: |\n");
    let mut propagation_rows = Vec::new();
    for p in propagations {
        table.push_str(&format!(
            "| {} | {} | {:.2} | {:.2} | {:.2} | {} |\n",
            p.feed, p.samples, p.p50_ms, p.p99_ms, p.max_ms, p.errors
        ));
        propagation_rows.push(json!({
            "feed": p.feed, "samples": p.samples, "p50_ms": p.p50_ms, "p99_ms": p.p99_ms,
            "max_ms": p.max_ms, "errors": p.errors,
        }));
    }
    let login = outcomes
        .iter()
        .find(|o| o.name.starts_with("login"))
        .map(Outcome::rate)
        .unwrap_or(0.0);
    let kib = |service: &str| {
        rss[service]
            .as_u64()
            .map(|k| format!("{:.1} MiB", k as f64 / 1024.0))
            .unwrap_or_else(|| "n/a".into())
    };
    let commit_line = commits
        .iter()
        .map(|c| format!("{:.0}/s with {} clients", c.commits_per_second, c.clients))
        .collect::<Vec<_>>()
        .join(", ");
    let summary = format!(
        "\nPostgreSQL's own commit rate (pgbench, one-row INSERT per transaction, same cluster, \
         {:?}): {commit_line}; each write row's \"vs DB commits\" is its rate over the one at its \
         concurrency.\n\
         argon2id raw rate (m={ARGON2_MEMORY_KIB} KiB, t={ARGON2_ITERATIONS}, p=1, {cores} threads): {argon2:.1} hashes/s; logins reach {:.0} % of it.\n\
         Peak resident memory: auth-service {}, kanban-service {}.\n\
         Mode: {}; concurrency {}; {:?} per scenario; board: {} users, {} organizations, {} tasks, \
         and an organization of {} cards.\n{}\n",
        std::time::Duration::from_secs(scale.duration.as_secs().max(1)),
        if argon2 > 0.0 {
            login / argon2 * 100.0
        } else {
            0.0
        },
        kib("auth"),
        kib("kanban"),
        if options.short { "short" } else { "full" },
        scale.concurrency,
        scale.duration,
        scale.users,
        scale.organizations,
        scale.tasks,
        scale.organization_cards,
        durability.describe(),
    );
    let document = json!({
        "mode": if options.short { "short" } else { "full" },
        "cores": cores,
        "concurrency": scale.concurrency,
        "seconds_per_scenario": scale.duration.as_secs_f64(),
        "board": {"users": scale.users, "organizations": scale.organizations, "tasks": scale.tasks,
                  "organization_cards": scale.organization_cards},
        "durability": durability.to_json(),
        "argon2id_hashes_per_second": argon2,
        "login_fraction_of_argon2": if argon2 > 0.0 { login / argon2 } else { 0.0 },
        "peak_rss_kib": rss,
        "database_commits_per_second": commits.iter().map(|c| json!({
            "clients": c.clients, "commits_per_second": c.commits_per_second,
            "script": "INSERT INTO commit_probe (client) VALUES (:client_id)",
        })).collect::<Vec<_>>(),
        "scenarios": rows,
        "revocation_propagation": propagation_rows,
    });
    std::fs::write(&options.out, serde_json::to_string_pretty(&document)?)?;
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{table}{summary}JSON: {}", options.out)?;
    Ok(())
}

/// Whether the scenario's requests each commit a write to PostgreSQL.
fn writes(name: &str) -> bool {
    ["create task", "move task", "refresh", "growth: move task"]
        .iter()
        .any(|prefix| name.starts_with(prefix))
}

/// The database's commit rate a write scenario compares with: the one
/// measured with as many clients as it ran workers (or the nearest below).
fn commit_ceiling(outcome: &Outcome, commits: &[CommitRate]) -> Option<f64> {
    if !writes(&outcome.name) {
        return None;
    }
    commits
        .iter()
        .filter(|c| c.clients <= outcome.concurrency)
        .max_by_key(|c| c.clients)
        .or_else(|| commits.first())
        .map(|c| c.commits_per_second)
}
