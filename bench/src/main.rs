//! Benchmarks both services: spawns them against the given PostgreSQL and
//! Redis, seeds a board over HTTP, runs each scenario at a fixed concurrency
//! for a fixed time, and reports requests/s, p50/p99 latency, errors, the
//! ratio to the same service's `/healthz` ceiling and peak memory, as a
//! Markdown table on stdout and as JSON in a file.
//!
//! usage: bench --auth-bin PATH --kanban-bin PATH --database-url ADMIN_URL
//!              --redis-url URL [--out FILE] [--short] [--growth]
//!
//! The report says which durability settings the servers ran with, as the
//! servers themselves answer (see `durability`).

mod ceiling;
mod commits;
mod durability;
mod growth;
mod measure;
mod options;
mod propagation;
mod report;
mod scenarios;
mod seed;
mod service;

use std::sync::Arc;
use std::time::Duration;

use anyhow::bail;
use reqwest::Client;
use serde_json::json;

use crate::ceiling::{ARGON2_ITERATIONS, ARGON2_MEMORY_KIB, argon2_rate};
use crate::commits::commit_rates;
use crate::durability::durability;
use crate::options::{FULL, SHORT, options};
use crate::propagation::propagation;
use crate::report::report;
use crate::scenarios::run_scenarios;
use crate::seed::seed;
use crate::service::{Service, create_database};

pub(crate) const PASSWORD: &str = "bench-password-123";
const CLIENT_SECRET: &str = "bench-client-secret-0123456789";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let options = options()?;
    let scale = if options.short { SHORT } else { FULL };
    if let Some(only) = &options.only {
        let _ = measure::ONLY.set(only.clone());
    }
    let durability = durability(&options.database_url, &options.redis_url).await?;
    eprintln!("{}", durability.describe());
    let run = uuid::Uuid::new_v4().simple().to_string();
    let auth_db = create_database(&options.database_url, &format!("bench_auth_{run}")).await?;
    let kanban_db = create_database(&options.database_url, &format!("bench_kanban_{run}")).await?;
    let kanban_db_url = kanban_db.clone();
    let kanban_http_db =
        create_database(&options.database_url, &format!("bench_kanban_http_{run}")).await?;
    let prefix = format!("bench:{run}:");
    let client = Client::builder()
        .pool_max_idle_per_host(256)
        .timeout(Duration::from_secs(60))
        .build()?;

    let auth = Service::spawn(
        "auth",
        &options.auth_bin,
        &[
            ("AUTH_DATABASE_URL", auth_db),
            ("AUTH_REDIS_URL", options.redis_url.clone()),
            ("AUTH_REDIS_PREFIX", prefix.clone()),
            (
                "AUTH_SERVICE_CLIENTS",
                format!("kanban-service:{CLIENT_SECRET}"),
            ),
            ("AUTH_DATABASE_MAX_CONNECTIONS", "20".into()),
            // The load generator is one address: its scenarios measure
            // throughput, so the per-address sign-in limits must not cut in.
            ("AUTH_LOGIN_LIMIT", "100000000/60".into()),
            // Wrong passwords keep the production limit: the login storm
            // scenario goes past it.
            ("AUTH_LOGIN_FAILURE_LIMIT", "5/300".into()),
            ("AUTH_REGISTER_LIMIT", "100000000/60".into()),
            ("AUTH_REFRESH_LIMIT", "100000000/60".into()),
        ],
    )?;
    auth.wait_ready(&client).await?;
    let kanban = Service::spawn(
        "kanban",
        &options.kanban_bin,
        &[
            ("KANBAN_DATABASE_URL", kanban_db),
            ("KANBAN_REDIS_URL", options.redis_url.clone()),
            ("KANBAN_REDIS_PREFIX", prefix),
            ("KANBAN_AUTH_URL", auth.url.clone()),
            ("KANBAN_AUTH_CLIENT_ID", "kanban-service".into()),
            ("KANBAN_AUTH_CLIENT_SECRET", CLIENT_SECRET.into()),
            ("KANBAN_DATABASE_MAX_CONNECTIONS", "20".into()),
        ],
    )?;
    kanban.wait_ready(&client).await?;
    // A second kanban without Redis: it follows the account manager's HTTP
    // revocation feed, as in the embedded default.
    let kanban_http = Service::spawn(
        "kanban-http",
        &options.kanban_bin,
        &[
            ("KANBAN_DATABASE_URL", kanban_http_db),
            ("KANBAN_AUTH_URL", auth.url.clone()),
            ("KANBAN_AUTH_CLIENT_ID", "kanban-service".into()),
            ("KANBAN_AUTH_CLIENT_SECRET", CLIENT_SECRET.into()),
        ],
    )?;
    kanban_http.wait_ready(&client).await?;

    let sample = if options.short {
        Duration::from_millis(500)
    } else {
        Duration::from_secs(3)
    };
    let (before, cores) = tokio::task::spawn_blocking(move || argon2_rate(sample)).await?;
    eprintln!(
        "argon2id (m={ARGON2_MEMORY_KIB} KiB, t={ARGON2_ITERATIONS}, p=1) on {cores} cores: {before:.1} hashes/s"
    );
    // The database's own commit rate, for the write scenarios' clients: the
    // writers of one organization and the full concurrency.
    let mut clients = vec![scenarios::ONE_ORGANIZATION_WRITERS.min(scale.concurrency)];
    if scale.concurrency != clients[0] {
        clients.push(scale.concurrency);
    }
    let commits = commit_rates(&options.database_url, &run, &clients, scale.duration).await?;

    let world = Arc::new(seed(&client, &auth.url, &kanban.url, scale).await?);
    eprintln!(
        "running each scenario for {:?} at concurrency {}",
        scale.duration, scale.concurrency
    );
    let mut outcomes = run_scenarios(world.clone(), scale).await;
    if options.growth {
        outcomes.extend(growth::growth(&world, scale, &kanban_db_url).await?);
    }
    // Those `--only` leaves out ran no request, and are not reported.
    outcomes.retain(|o| !measure::skipped(&o.name));
    let emails: Vec<String> = world.users.iter().map(|u| u.email.clone()).collect();
    let samples = if options.short { 10 } else { 200 };
    let propagations = [
        propagation(
            &client,
            &auth.url,
            &kanban.url,
            "Redis stream",
            &emails,
            samples,
        )
        .await,
        propagation(
            &client,
            &auth.url,
            &kanban_http.url,
            "HTTP long poll",
            &emails,
            samples,
        )
        .await,
    ];
    let rss = json!({"auth": auth.peak_rss_kib(), "kanban": kanban.peak_rss_kib()});
    // A second sample with the services idle again; the ceiling is the better one.
    let (after, _) = tokio::task::spawn_blocking(move || argon2_rate(sample)).await?;
    eprintln!("argon2id again after the scenarios: {after:.1} hashes/s");
    let argon2_per_second = before.max(after);

    report(
        &options,
        &durability,
        scale,
        &outcomes,
        &propagations,
        argon2_per_second,
        cores,
        &rss,
        &commits,
    )?;
    let errors: u64 = outcomes.iter().map(|o| o.errors).sum::<u64>()
        + propagations.iter().map(|p| p.errors).sum::<u64>();
    let silent: Vec<&str> = outcomes
        .iter()
        .filter(|o| o.requests == 0)
        .map(|o| o.name.as_str())
        .collect();
    if errors > 0 || !silent.is_empty() {
        bail!("{errors} failed requests; scenarios that ran no request: {silent:?}");
    }
    Ok(())
}
