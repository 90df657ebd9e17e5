//! Benchmarks both services: spawns them against the given PostgreSQL and
//! Redis, seeds a board over HTTP, runs each scenario at a fixed concurrency
//! for a fixed time, and reports requests/s, p50/p99 latency, errors, the
//! ratio to the same service's `/healthz` ceiling and peak memory, as a
//! Markdown table on stdout and as JSON in a file.
//!
//! usage: bench --auth-bin PATH --kanban-bin PATH --database-url ADMIN_URL
//!              --redis-url URL [--out FILE] [--short]

use std::future::Future;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

const PASSWORD: &str = "bench-password-123";
const CLIENT_SECRET: &str = "bench-client-secret-0123456789";

struct Options {
    auth_bin: String,
    kanban_bin: String,
    database_url: String,
    redis_url: String,
    out: String,
    short: bool,
}

fn options() -> anyhow::Result<Options> {
    let mut args = std::env::args().skip(1);
    let (mut auth_bin, mut kanban_bin, mut database_url, mut redis_url) = (None, None, None, None);
    let (mut out, mut short) = ("bench-results.json".to_owned(), false);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--auth-bin" => auth_bin = args.next(),
            "--kanban-bin" => kanban_bin = args.next(),
            "--database-url" => database_url = args.next(),
            "--redis-url" => redis_url = args.next(),
            "--out" => out = args.next().context("--out needs a file")?,
            "--short" => short = true,
            other => bail!("unknown argument {other}"),
        }
    }
    Ok(Options {
        auth_bin: auth_bin.context("--auth-bin is required")?,
        kanban_bin: kanban_bin.context("--kanban-bin is required")?,
        database_url: database_url.context("--database-url is required")?,
        redis_url: redis_url.context("--redis-url is required")?,
        out,
        short,
    })
}

/// How big the seeded board is and how long each scenario runs.
#[derive(Clone, Copy)]
struct Scale {
    users: usize,
    organizations: usize,
    members_per_organization: usize,
    tasks: usize,
    concurrency: usize,
    duration: Duration,
}

const FULL: Scale = Scale {
    users: 1000,
    organizations: 50,
    members_per_organization: 20,
    tasks: 20_000,
    concurrency: 32,
    duration: Duration::from_secs(10),
};

const SHORT: Scale = Scale {
    users: 12,
    organizations: 3,
    members_per_organization: 3,
    tasks: 60,
    concurrency: 4,
    duration: Duration::from_millis(1500),
};

/// A service process of this run.
struct Service {
    name: &'static str,
    url: String,
    child: Child,
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Service {
    fn spawn(name: &'static str, binary: &str, env: &[(&str, String)]) -> anyhow::Result<Self> {
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

    async fn wait_ready(&self, client: &Client) -> anyhow::Result<()> {
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
    fn peak_rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }
}

async fn create_database(admin_url: &str, name: &str) -> anyhow::Result<String> {
    shared::db::create_database(admin_url, name)
        .await
        .context("cannot create a database for the benchmark")
}

/// What one scenario measured.
struct Outcome {
    name: &'static str,
    service: &'static str,
    requests: u64,
    errors: u64,
    elapsed: Duration,
    p50_ms: f64,
    p99_ms: f64,
}

impl Outcome {
    fn rate(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }
}

/// Latencies and failures of one worker.
#[derive(Default)]
struct Recorder {
    latencies_us: Vec<u32>,
    errors: u64,
}

impl Recorder {
    async fn time(&mut self, request: impl Future<Output = bool>) {
        let started = Instant::now();
        let ok = request.await;
        self.latencies_us
            .push(started.elapsed().as_micros().min(u32::MAX as u128) as u32);
        if !ok {
            self.errors += 1;
        }
    }
}

/// Runs `concurrency` workers until the deadline; `worker(index, deadline)`
/// is one worker's loop.
async fn scenario<F, Fut>(
    name: &'static str,
    service: &'static str,
    scale: Scale,
    worker: F,
) -> Outcome
where
    F: Fn(usize, Instant) -> Fut,
    Fut: Future<Output = Recorder> + Send + 'static,
{
    let started = Instant::now();
    let deadline = started + scale.duration;
    let handles: Vec<_> = (0..scale.concurrency)
        .map(|index| tokio::spawn(worker(index, deadline)))
        .collect();
    let mut latencies = Vec::new();
    let mut errors = 0;
    for handle in handles {
        match handle.await {
            Ok(recorder) => {
                latencies.extend(recorder.latencies_us);
                errors += recorder.errors;
            }
            Err(_) => errors += 1,
        }
    }
    let elapsed = started.elapsed();
    latencies.sort_unstable();
    let percentile = |p: f64| -> f64 {
        if latencies.is_empty() {
            return 0.0;
        }
        let index = ((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1;
        latencies[index] as f64 / 1000.0
    };
    let outcome = Outcome {
        name,
        service,
        requests: latencies.len() as u64,
        errors,
        elapsed,
        p50_ms: percentile(0.50),
        p99_ms: percentile(0.99),
    };
    eprintln!(
        "  {:<28} {:>9.0} req/s  p99 {:>7.2} ms  errors {}",
        name,
        outcome.rate(),
        outcome.p99_ms,
        outcome.errors
    );
    outcome
}

/// Sends the request (inside the timed future) and reads the whole answer.
async fn ok(request: reqwest::RequestBuilder, expected: StatusCode) -> bool {
    match request.send().await {
        Ok(response) => {
            let status = response.status();
            response.bytes().await.is_ok() && status == expected
        }
        Err(_) => false,
    }
}

async fn json_of(request: reqwest::RequestBuilder, expected: StatusCode) -> Option<Value> {
    let response = request.send().await.ok()?;
    if response.status() != expected {
        return None;
    }
    response.json().await.ok()
}

/// A seeded user.
#[derive(Clone)]
struct User {
    email: String,
    token: String,
    refresh_token: String,
}

/// A seeded organization.
#[derive(Clone)]
struct Board {
    id: i64,
    owner: usize,
    categories: Vec<i64>,
    /// Tasks owned by the owner, by category index.
    tasks: Vec<Vec<i64>>,
}

struct World {
    client: Client,
    auth: String,
    kanban: String,
    users: Vec<User>,
    boards: Vec<Board>,
}

/// Runs `jobs` with at most `parallel` at once; fails on the first error.
async fn in_parallel<T, Fut>(parallel: usize, jobs: Vec<Fut>) -> anyhow::Result<Vec<T>>
where
    Fut: Future<Output = anyhow::Result<T>>,
{
    use futures::StreamExt;
    let results: Vec<anyhow::Result<T>> = futures::stream::iter(jobs)
        .buffered(parallel)
        .collect()
        .await;
    results.into_iter().collect()
}

async fn post_json(
    client: &Client,
    url: String,
    token: Option<&str>,
    body: Value,
    expected: StatusCode,
) -> anyhow::Result<Value> {
    let mut request = client.post(&url).json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await?;
    let status = response.status();
    let text = response.text().await?;
    if status != expected {
        bail!("POST {url}: {status} {text}");
    }
    Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// The `m`-th member of organization `o`: never an organization's owner
/// (the first `organizations` users own one board each).
fn member_of(scale: Scale, o: usize, m: usize) -> usize {
    let others = (scale.users - scale.organizations).max(1);
    scale.organizations + (o * scale.members_per_organization + m) % others
}

async fn seed(client: &Client, auth: &str, kanban: &str, scale: Scale) -> anyhow::Result<World> {
    let started = Instant::now();
    let registrations = (0..scale.users)
        .map(|i| {
            let email = format!("bench{i}@example.com");
            let body = json!({"email": email, "password": PASSWORD, "password2": PASSWORD, "firstName": "Bench", "lastName": format!("User{i}")});
            let request = post_json(client, format!("{auth}/api/v1/auth/register/email"), None, body, StatusCode::CREATED);
            async move {
                let answer = request.await?;
                Ok(User {
                    email,
                    token: answer["token"].as_str().context("token")?.to_owned(),
                    refresh_token: answer["refreshToken"].as_str().context("refreshToken")?.to_owned(),
                })
            }
        })
        .collect();
    let users: Vec<User> = in_parallel(8, registrations).await?;

    let mut boards = Vec::new();
    for (o, owner) in users.iter().enumerate().take(scale.organizations) {
        let body = json!({"name": format!("Board {o}"), "description": "benchmark board"});
        let created = post_json(
            client,
            format!("{kanban}/organizations"),
            Some(&owner.token),
            body,
            StatusCode::CREATED,
        )
        .await?;
        let categories = created["Categories"]
            .as_array()
            .context("Categories")?
            .iter()
            .filter_map(|c| c["id"].as_i64())
            .collect::<Vec<_>>();
        boards.push(Board {
            id: created["id"].as_i64().context("id")?,
            owner: o,
            tasks: vec![vec![]; categories.len()],
            categories,
        });
    }

    let mut jobs = Vec::new();
    for (o, board) in boards.iter().enumerate() {
        for m in 0..scale.members_per_organization {
            let member = member_of(scale, o, m);
            let body = json!({"UserEmail": users[member].email});
            jobs.push(post_json(
                client,
                format!("{kanban}/organizations/{}/members", board.id),
                Some(&users[board.owner].token),
                body,
                StatusCode::CREATED,
            ));
        }
        for t in 0..5 {
            let body =
                json!({"name": format!("Tag {t}"), "color": "#3366FF", "OrganizationId": board.id});
            jobs.push(post_json(
                client,
                format!("{kanban}/tags"),
                Some(&users[board.owner].token),
                body,
                StatusCode::CREATED,
            ));
        }
    }
    in_parallel(8, jobs).await?;
    let mut tags = Vec::new();
    for board in &boards {
        let list: Value = client
            .get(format!("{kanban}/tags?OrganizationId={}", board.id))
            .bearer_auth(&users[board.owner].token)
            .send()
            .await?
            .json()
            .await?;
        tags.push(
            list.as_array()
                .context("tags")?
                .iter()
                .filter_map(|t| t["id"].as_i64())
                .collect::<Vec<_>>(),
        );
    }

    let per_board = scale.tasks / scale.organizations.max(1);
    let mut creations = Vec::new();
    for (o, board) in boards.iter().enumerate() {
        for t in 0..per_board {
            let category = t % board.categories.len();
            let body = json!({"title": format!("Task {t}"), "description": "seeded", "OrganizationId": board.id, "CategoryId": board.categories[category]});
            let request = post_json(
                client,
                format!("{kanban}/tasks"),
                Some(&users[board.owner].token),
                body,
                StatusCode::CREATED,
            );
            creations.push(async move {
                Ok((
                    o,
                    category,
                    request.await?["id"].as_i64().context("task id")?,
                ))
            });
        }
    }
    let created: Vec<(usize, usize, i64)> = in_parallel(16, creations).await?;
    let mut links = Vec::new();
    for (n, (o, category, task)) in created.iter().enumerate() {
        boards[*o].tasks[*category].push(*task);
        let owner = &users[boards[*o].owner].token;
        let tag = tags[*o][n % tags[*o].len()];
        links.push(post_json(
            client,
            format!("{kanban}/tasks/{task}/addTag"),
            Some(owner),
            json!({"TagId": tag}),
            StatusCode::CREATED,
        ));
        let member = member_of(scale, *o, n % scale.members_per_organization);
        let body = json!({"UserEmail": users[member].email});
        links.push(post_json(
            client,
            format!("{kanban}/tasks/{task}/assignee"),
            Some(owner),
            body,
            StatusCode::CREATED,
        ));
    }
    in_parallel(16, links).await?;
    eprintln!(
        "seeded {} users, {} organizations, {} tasks (with tags and assignees) in {:.1} s",
        users.len(),
        boards.len(),
        created.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(World {
        client: client.clone(),
        auth: auth.to_owned(),
        kanban: kanban.to_owned(),
        users,
        boards,
    })
}

/// argon2id hashes per second with the service's default parameters, on
/// every core at once, computed the way the service computes them.
fn argon2_rate(duration: Duration) -> (f64, usize) {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let deadline = Instant::now() + duration;
    let started = Instant::now();
    let handles: Vec<_> = (0..cores)
        .map(|_| {
            std::thread::spawn(move || {
                let params = argon2::Params::new(19_456, 2, 1, Some(32)).unwrap_or_default();
                // One working memory per thread, reused, as the service does.
                let mut memory = vec![argon2::Block::default(); params.block_count()];
                let hasher = argon2::Argon2::new(
                    argon2::Algorithm::Argon2id,
                    argon2::Version::V0x13,
                    params,
                );
                let (salt, mut out) = ([7u8; 16], [0u8; 32]);
                let mut count = 0u64;
                while Instant::now() < deadline {
                    if hasher
                        .hash_password_into_with_memory(
                            PASSWORD.as_bytes(),
                            &salt,
                            &mut out,
                            &mut memory,
                        )
                        .is_ok()
                    {
                        count += 1;
                    }
                }
                count
            })
        })
        .collect();
    let total: u64 = handles.into_iter().map(|h| h.join().unwrap_or(0)).sum();
    (total as f64 / started.elapsed().as_secs_f64(), cores)
}

async fn run_scenarios(world: Arc<World>, scale: Scale) -> Vec<Outcome> {
    let mut outcomes = Vec::new();
    let w = &world;
    outcomes.push(
        scenario("healthz (ceiling)", "auth", scale, |_, deadline| {
            let (client, url) = (w.client.clone(), format!("{}/healthz", w.auth));
            async move {
                let mut rec = Recorder::default();
                while Instant::now() < deadline {
                    rec.time(ok(client.get(&url), StatusCode::OK)).await;
                }
                rec
            }
        })
        .await,
    );
    outcomes.push(
        scenario("healthz (ceiling)", "kanban", scale, |_, deadline| {
            let (client, url) = (w.client.clone(), format!("{}/healthz", w.kanban));
            async move {
                let mut rec = Recorder::default();
                while Instant::now() < deadline {
                    rec.time(ok(client.get(&url), StatusCode::OK)).await;
                }
                rec
            }
        })
        .await,
    );
    outcomes.push(
        scenario("JWKS fetch", "auth", scale, |_, deadline| {
            let (client, url) = (
                w.client.clone(),
                format!("{}/.well-known/jwks.json", w.auth),
            );
            async move {
                let mut rec = Recorder::default();
                while Instant::now() < deadline {
                    rec.time(ok(client.get(&url), StatusCode::OK)).await;
                }
                rec
            }
        })
        .await,
    );
    outcomes.push(
        scenario("token validate", "auth", scale, |i, deadline| {
            let (client, url) = (
                w.client.clone(),
                format!("{}/api/v1/auth/token/validate", w.auth),
            );
            let body = json!({"token": w.users[i % w.users.len()].token});
            async move {
                let mut rec = Recorder::default();
                while Instant::now() < deadline {
                    rec.time(async {
                        json_of(client.post(&url).json(&body), StatusCode::OK)
                            .await
                            .is_some_and(|v| v["isValid"] == true)
                    })
                    .await;
                }
                rec
            }
        })
        .await,
    );
    outcomes.push(
        scenario("refresh (rotation)", "auth", scale, |i, deadline| {
            let (client, url) = (
                w.client.clone(),
                format!("{}/api/v1/auth/token/refresh", w.auth),
            );
            let mut token = w.users[i % w.users.len()].refresh_token.clone();
            async move {
                let mut rec = Recorder::default();
                while Instant::now() < deadline {
                    let mut next = None;
                    rec.time(async {
                        next = json_of(
                            client.post(&url).json(&json!({"refreshToken": token})),
                            StatusCode::OK,
                        )
                        .await
                        .and_then(|v| v["refreshToken"].as_str().map(str::to_owned));
                        next.is_some()
                    })
                    .await;
                    match next {
                        Some(fresh) => token = fresh,
                        None => break,
                    }
                }
                rec
            }
        })
        .await,
    );
    outcomes.push(
        scenario("login (argon2id)", "auth", scale, |i, deadline| {
            let (client, url) = (
                w.client.clone(),
                format!("{}/api/v1/auth/login/email", w.auth),
            );
            let emails: Vec<String> = w.users.iter().map(|u| u.email.clone()).collect();
            async move {
                let mut rec = Recorder::default();
                let mut n = i;
                while Instant::now() < deadline {
                    let body = json!({"email": emails[n % emails.len()], "password": PASSWORD});
                    rec.time(ok(client.post(&url).json(&body), StatusCode::OK))
                        .await;
                    n += 7;
                }
                rec
            }
        })
        .await,
    );
    outcomes.push(
        scenario("list organizations", "kanban", scale, |i, deadline| {
            let board = &w.boards[i % w.boards.len()];
            let (client, url, token) = (
                w.client.clone(),
                format!("{}/organizations", w.kanban),
                w.users[board.owner].token.clone(),
            );
            async move {
                let mut rec = Recorder::default();
                while Instant::now() < deadline {
                    rec.time(ok(
                        client.get(&url).header("access_token", &token),
                        StatusCode::OK,
                    ))
                    .await;
                }
                rec
            }
        })
        .await,
    );
    outcomes.push(
        scenario(
            "list tasks of a category",
            "kanban",
            scale,
            |i, deadline| {
                let board = &w.boards[i % w.boards.len()];
                let category = board.categories[i % board.categories.len()];
                let (client, url, token) = (
                    w.client.clone(),
                    format!("{}/tasks?CategoryId={category}", w.kanban),
                    w.users[board.owner].token.clone(),
                );
                async move {
                    let mut rec = Recorder::default();
                    while Instant::now() < deadline {
                        rec.time(ok(
                            client.get(&url).header("access_token", &token),
                            StatusCode::OK,
                        ))
                        .await;
                    }
                    rec
                }
            },
        )
        .await,
    );
    outcomes.push(scenario("create task", "kanban", scale, |i, deadline| {
        let board = &w.boards[i % w.boards.len()];
        let (client, url, token) = (w.client.clone(), format!("{}/tasks", w.kanban), w.users[board.owner].token.clone());
        let body = json!({"title": "Benchmark task", "OrganizationId": board.id, "CategoryId": board.categories[0]});
        async move {
            let mut rec = Recorder::default();
            while Instant::now() < deadline {
                rec.time(ok(client.post(&url).header("access_token", &token).json(&body), StatusCode::CREATED)).await;
            }
            rec
        }
    }).await);
    outcomes.push(
        scenario("move task", "kanban", scale, |i, deadline| {
            let board = &w.boards[i % w.boards.len()];
            let tasks = board.tasks[1 % board.tasks.len()].clone();
            let (client, base, token) = (
                w.client.clone(),
                w.kanban.clone(),
                w.users[board.owner].token.clone(),
            );
            async move {
                let mut rec = Recorder::default();
                let mut n = i;
                while Instant::now() < deadline && !tasks.is_empty() {
                    let task = tasks[n % tasks.len()];
                    let body = json!({"position": (n * 13) % tasks.len() + 1});
                    let request = client
                        .patch(format!("{base}/tasks/{task}"))
                        .header("access_token", &token)
                        .json(&body);
                    rec.time(ok(request, StatusCode::OK)).await;
                    n += 1;
                }
                rec
            }
        })
        .await,
    );
    outcomes.push(scenario("mixed board workload", "kanban", scale, |i, deadline| {
        let board = w.boards[i % w.boards.len()].clone();
        let (client, base, token) = (w.client.clone(), w.kanban.clone(), w.users[board.owner].token.clone());
        async move {
            let mut rec = Recorder::default();
            let mut n = i;
            while Instant::now() < deadline {
                let category = n % board.categories.len();
                let request = match n % 20 {
                    // 70 % reads of a column, 10 % of the organization list,
                    // 15 % moves, 5 % creations.
                    0..=13 => client.get(format!("{base}/tasks?CategoryId={}", board.categories[category])),
                    14 | 15 => client.get(format!("{base}/organizations")),
                    16..=18 if !board.tasks[category].is_empty() => {
                        let tasks = &board.tasks[category];
                        client
                            .patch(format!("{base}/tasks/{}", tasks[n % tasks.len()]))
                            .json(&json!({"position": (n * 7) % tasks.len() + 1}))
                    }
                    _ => client.post(format!("{base}/tasks")).json(
                        &json!({"title": "Mixed", "OrganizationId": board.id, "CategoryId": board.categories[category]}),
                    ),
                };
                rec.time(async {
                    match request.header("access_token", &token).send().await {
                        Ok(response) => {
                            let status = response.status();
                            response.bytes().await.is_ok() && status.is_success()
                        }
                        Err(_) => false,
                    }
                })
                .await;
                n += 1;
            }
            rec
        }
    }).await);
    outcomes
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let options = options()?;
    let scale = if options.short { SHORT } else { FULL };
    let run = uuid::Uuid::new_v4().simple().to_string();
    let auth_db = create_database(&options.database_url, &format!("bench_auth_{run}")).await?;
    let kanban_db = create_database(&options.database_url, &format!("bench_kanban_{run}")).await?;
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

    let sample = if options.short {
        Duration::from_millis(500)
    } else {
        Duration::from_secs(3)
    };
    let (before, cores) = tokio::task::spawn_blocking(move || argon2_rate(sample)).await?;
    eprintln!("argon2id (m=19456 KiB, t=2, p=1) on {cores} cores: {before:.1} hashes/s");

    let world = Arc::new(seed(&client, &auth.url, &kanban.url, scale).await?);
    eprintln!(
        "running each scenario for {:?} at concurrency {}",
        scale.duration, scale.concurrency
    );
    let outcomes = run_scenarios(world, scale).await;
    let rss = json!({"auth": auth.peak_rss_kib(), "kanban": kanban.peak_rss_kib()});
    // A second sample with the services idle again; the ceiling is the better one.
    let (after, _) = tokio::task::spawn_blocking(move || argon2_rate(sample)).await?;
    eprintln!("argon2id again after the scenarios: {after:.1} hashes/s");
    let argon2_per_second = before.max(after);

    report(&options, scale, &outcomes, argon2_per_second, cores, &rss)?;
    let errors: u64 = outcomes.iter().map(|o| o.errors).sum();
    let silent: Vec<&str> = outcomes
        .iter()
        .filter(|o| o.requests == 0)
        .map(|o| o.name)
        .collect();
    if errors > 0 || !silent.is_empty() {
        bail!("{errors} failed requests; scenarios that ran no request: {silent:?}");
    }
    Ok(())
}

fn report(
    options: &Options,
    scale: Scale,
    outcomes: &[Outcome],
    argon2: f64,
    cores: usize,
    rss: &Value,
) -> anyhow::Result<()> {
    let ceiling = |service: &str| {
        outcomes
            .iter()
            .find(|o| o.service == service && o.name.starts_with("healthz"))
            .map(Outcome::rate)
    };
    let mut table = String::new();
    table.push_str("| scenario | service | req/s | p50 ms | p99 ms | errors | vs /healthz |\n");
    table.push_str("| --- | --- | ---: | ---: | ---: | ---: | ---: |\n");
    let mut rows = Vec::new();
    for outcome in outcomes {
        let ratio = ceiling(outcome.service)
            .map(|c| outcome.rate() / c)
            .unwrap_or(0.0);
        table.push_str(&format!(
            "| {} | {} | {:.0} | {:.2} | {:.2} | {} | {:.1} % |\n",
            outcome.name,
            outcome.service,
            outcome.rate(),
            outcome.p50_ms,
            outcome.p99_ms,
            outcome.errors,
            ratio * 100.0
        ));
        rows.push(json!({
            "scenario": outcome.name, "service": outcome.service, "requests": outcome.requests,
            "requests_per_second": outcome.rate(), "p50_ms": outcome.p50_ms, "p99_ms": outcome.p99_ms,
            "errors": outcome.errors, "ratio_to_healthz": ratio,
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
    let summary = format!(
        "\nargon2id raw rate (m=19456 KiB, t=2, p=1, {cores} threads): {argon2:.1} hashes/s; logins reach {:.0} % of it.\n\
         Peak resident memory: auth-service {}, kanban-service {}.\n\
         Mode: {}; concurrency {}; {:?} per scenario; board: {} users, {} organizations, {} tasks.\n",
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
    );
    let document = json!({
        "mode": if options.short { "short" } else { "full" },
        "cores": cores,
        "concurrency": scale.concurrency,
        "seconds_per_scenario": scale.duration.as_secs_f64(),
        "board": {"users": scale.users, "organizations": scale.organizations, "tasks": scale.tasks},
        "argon2id_hashes_per_second": argon2,
        "login_fraction_of_argon2": if argon2 > 0.0 { login / argon2 } else { 0.0 },
        "peak_rss_kib": rss,
        "scenarios": rows,
    });
    std::fs::write(&options.out, serde_json::to_string_pretty(&document)?)?;
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{table}{summary}JSON: {}", options.out)?;
    Ok(())
}
