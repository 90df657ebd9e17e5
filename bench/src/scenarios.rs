//! The scenarios, in the order they run and are reported.

use std::sync::Arc;
use std::time::Instant;

use reqwest::{Client, StatusCode};
use serde_json::json;

use crate::PASSWORD;
use crate::measure::{Outcome, Recorder, json_of, ok, scenario};
use crate::options::Scale;
use crate::seed::{Board, World};

/// A scenario whose workers each GET one URL until the deadline, expecting
/// 200: `target(worker)` gives the worker's URL and the access token to
/// send, if any (in kanban's `access_token` header).
async fn get_scenario(
    name: &'static str,
    service: &'static str,
    scale: Scale,
    client: &Client,
    target: impl Fn(usize) -> (String, Option<String>),
) -> Outcome {
    let target = |i| {
        let (url, token) = target(i);
        (url, token.map(|t| ("access_token", t)))
    };
    get_scenario_with(name, service, scale, client, target).await
}

/// [`get_scenario`], with the header that carries the token named by the
/// target (`authorization` for the account manager's Bearer tokens).
async fn get_scenario_with(
    name: &'static str,
    service: &'static str,
    scale: Scale,
    client: &Client,
    target: impl Fn(usize) -> (String, Option<(&'static str, String)>),
) -> Outcome {
    scenario(name, service, scale, |i, deadline| {
        let (client, (url, header)) = (client.clone(), target(i));
        async move {
            let mut rec = Recorder::default();
            while Instant::now() < deadline {
                let mut request = client.get(&url);
                if let Some((name, value)) = &header {
                    request = request.header(*name, value);
                }
                rec.time(ok(request, StatusCode::OK)).await;
            }
            rec
        }
    })
    .await
}

pub(crate) async fn run_scenarios(world: Arc<World>, scale: Scale) -> Vec<Outcome> {
    let mut outcomes = Vec::new();
    let w = &world;
    let (auth, kanban) = (w.auth.as_str(), w.kanban.as_str());
    for (name, service, url) in [
        ("healthz (ceiling)", "auth", format!("{auth}/healthz")),
        ("healthz (ceiling)", "kanban", format!("{kanban}/healthz")),
        (
            "JWKS fetch",
            "auth",
            format!("{auth}/.well-known/jwks.json"),
        ),
    ] {
        let target = |_| (url.clone(), None);
        outcomes.push(get_scenario(name, service, scale, &w.client, target).await);
    }
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
    let target = |i: usize| {
        let token = &w.users[i % w.users.len()].token;
        let bearer = ("authorization", format!("Bearer {token}"));
        (format!("{auth}/api/v1/auth/me"), Some(bearer))
    };
    outcomes.push(get_scenario_with("me", "auth", scale, &w.client, target).await);
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
    let target = |i: usize| {
        let board = &w.boards[i % w.boards.len()];
        let token = w.users[board.owner].token.clone();
        (format!("{kanban}/organizations"), Some(token))
    };
    outcomes.push(get_scenario("list organizations", "kanban", scale, &w.client, target).await);
    let target = |i: usize| {
        let token = w.users[i % w.users.len()].token.clone();
        (format!("{kanban}/user"), Some(token))
    };
    outcomes.push(get_scenario("GET /user", "kanban", scale, &w.client, target).await);
    let target = |i: usize| {
        let board = &w.boards[i % w.boards.len()];
        let category = board.categories[i % board.categories.len()];
        let token = w.users[board.owner].token.clone();
        (format!("{kanban}/tasks?CategoryId={category}"), Some(token))
    };
    outcomes.extend(login_storm(w, scale).await);
    outcomes.push(
        get_scenario(
            "list tasks of a category",
            "kanban",
            scale,
            &w.client,
            target,
        )
        .await,
    );
    let target = |_| {
        let board = &w.full_board;
        let token = w.users[board.owner].token.clone();
        (
            format!("{kanban}/tasks?OrganizationId={}", board.id),
            Some(token),
        )
    };
    outcomes.push(
        get_scenario(
            "list tasks of an organization",
            "kanban",
            scale,
            &w.client,
            target,
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
    outcomes.extend(one_organization_writes(w, scale).await);
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

/// The writers of one organization at once (the "16 writers").
pub(crate) const ONE_ORGANIZATION_WRITERS: usize = 16;

/// Writes that contend: up to 16 workers on the one organization of the
/// "list tasks of an organization" board, creating tasks in its columns
/// (each worker in one of them), then moving its tasks within and (one
/// move in four) across columns.
async fn one_organization_writes(w: &World, scale: Scale) -> [Outcome; 2] {
    let scale = Scale {
        concurrency: scale.concurrency.min(ONE_ORGANIZATION_WRITERS),
        ..scale
    };
    let board = &w.full_board;
    let token = w.users[board.owner].token.clone();
    let create = scenario(
        format!(
            "create task (one organization, {} writers)",
            scale.concurrency
        ),
        "kanban",
        scale,
        |i, deadline| {
            let (client, url, token) = (w.client.clone(), format!("{}/tasks", w.kanban), token.clone());
            let category = board.categories[i % board.categories.len()];
            let body = json!({"title": "Contended task", "OrganizationId": board.id, "CategoryId": category});
            async move {
                let mut rec = Recorder::default();
                while Instant::now() < deadline {
                    let request = client.post(&url).header("access_token", &token).json(&body);
                    rec.time(ok(request, StatusCode::CREATED)).await;
                }
                rec
            }
        },
    )
    .await;
    let tasks: Vec<i64> = board.tasks.iter().flatten().copied().collect();
    let moves = scenario(
        format!(
            "move task (one organization, {} writers)",
            scale.concurrency
        ),
        "kanban",
        scale,
        |i, deadline| {
            let (client, base, token, tasks) =
                (w.client.clone(), w.kanban.clone(), token.clone(), tasks.clone());
            let categories = board.categories.clone();
            async move {
                let mut rec = Recorder::default();
                let mut n = i;
                while Instant::now() < deadline && !tasks.is_empty() {
                    let task = tasks[(n * 17) % tasks.len()];
                    let position = (n * 13) % 60 + 1;
                    let body = if n % 4 == 3 {
                        json!({"CategoryId": categories[n % categories.len()], "position": position})
                    } else {
                        json!({"position": position})
                    };
                    let request = client
                        .patch(format!("{base}/tasks/{task}"))
                        .header("access_token", &token)
                        .json(&body);
                    rec.time(ok(request, StatusCode::OK)).await;
                    n += 1;
                }
                rec
            }
        },
    )
    .await;
    // Positions must be dense after the run: a gap or a duplicate counts as an error.
    let mut moves = moves;
    if let Err(problem) = dense_columns(w, board, &token).await {
        eprintln!("  positions after the moves: {problem}");
        moves.errors += 1;
    }
    [create, moves]
}

/// Checks that every column of the board lists positions exactly 1..n
/// (paging through columns longer than one answer).
async fn dense_columns(w: &World, board: &Board, token: &str) -> Result<(), String> {
    for category in &board.categories {
        let mut positions = Vec::new();
        loop {
            let url = format!(
                "{}/tasks?CategoryId={category}&limit=1000&offset={}",
                w.kanban,
                positions.len()
            );
            let page = json_of(
                w.client.get(&url).header("access_token", token),
                StatusCode::OK,
            )
            .await
            .ok_or_else(|| format!("GET {url} failed"))?;
            let page = page.as_array().ok_or("not a list")?;
            positions.extend(page.iter().filter_map(|t| t["position"].as_i64()));
            if page.len() < 1000 {
                break;
            }
        }
        let dense = positions.iter().zip(1..).all(|(p, n)| *p == n);
        if !dense {
            return Err(format!("column {category} is not 1..{}", positions.len()));
        }
    }
    Ok(())
}

/// How many accounts the login storm guesses passwords of.
const STORM_VICTIMS: usize = 8;

/// Half the workers guess the passwords of a few accounts from one address
/// (past the wrong-password limit within the first attempts: then 429, or
/// 503 while the hashing queue is full), the other half read organization
/// lists at kanban: token verification and a board read while sign-ins are
/// under attack.
async fn login_storm(w: &World, scale: Scale) -> [Outcome; 2] {
    let half = Scale {
        concurrency: (scale.concurrency / 2).max(1),
        ..scale
    };
    let refused = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let storm = scenario(
        "login storm (wrong passwords)",
        "auth",
        half,
        |i, deadline| {
            let (client, url) = (
                w.client.clone(),
                format!("{}/api/v1/auth/login/email", w.auth),
            );
            // Addresses without accounts cost the same as real ones (the same
            // hashing work, the same limits) and lock no seeded user out of
            // the scenarios that follow.
            let victims: Vec<String> = (0..STORM_VICTIMS)
                .map(|k| format!("storm-victim-{k}@example.com"))
                .collect();
            let refused = refused.clone();
            async move {
                let mut rec = Recorder::default();
                let mut n = i;
                while Instant::now() < deadline {
                    let body = json!({"email": victims[n % victims.len()], "password": "not-the-password"});
                    rec.time(async {
                        match client.post(&url).json(&body).send().await {
                            Ok(response) => {
                                let status = response.status();
                                if status == StatusCode::TOO_MANY_REQUESTS {
                                    refused.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                                }
                                response.bytes().await.is_ok()
                                    && matches!(status.as_u16(), 400 | 429 | 503)
                            }
                            Err(_) => false,
                        }
                    })
                    .await;
                    n += 1;
                }
                rec
            }
        },
    );
    let kanban = w.kanban.as_str();
    let target = |i: usize| {
        let board = &w.boards[i % w.boards.len()];
        let token = w.users[board.owner].token.clone();
        (format!("{kanban}/organizations"), Some(token))
    };
    let reads = get_scenario(
        "list organizations during the storm",
        "kanban",
        half,
        &w.client,
        target,
    );
    let (storm, reads) = tokio::join!(storm, reads);
    eprintln!(
        "  login storm: {} of {} guesses refused with 429",
        refused.load(std::sync::atomic::Ordering::Relaxed),
        storm.requests
    );
    [storm, reads]
}
