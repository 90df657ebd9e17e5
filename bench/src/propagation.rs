//! Revocation propagation: how long after a logout is sent to the account
//! manager a kanban service first refuses the logged-out token, through
//! each kind of revocation feed. Measured from sending the logout (so the
//! logout's own time is included) to kanban's first 401, polling kanban
//! back to back.

use std::time::{Duration, Instant};

use reqwest::{Client, StatusCode};
use serde_json::json;

use crate::PASSWORD;
use crate::measure::json_of;

/// The figures of one feed.
pub(crate) struct Propagation {
    pub(crate) feed: &'static str,
    pub(crate) samples: usize,
    pub(crate) errors: u64,
    pub(crate) p50_ms: f64,
    pub(crate) p99_ms: f64,
    pub(crate) max_ms: f64,
}

/// Gives up on one sample after this long.
const LIMIT: Duration = Duration::from_secs(5);

async fn status(client: &Client, url: &str, token: &str) -> Option<StatusCode> {
    let response = client.get(url).bearer_auth(token).send().await.ok()?;
    let status = response.status();
    response.bytes().await.ok()?;
    Some(status)
}

/// One sample: log in, see kanban accept the token, log out, wait for
/// kanban's 401. `None` when any step failed.
async fn sample(client: &Client, auth: &str, kanban: &str, email: &str) -> Option<Duration> {
    let login = json_of(
        client
            .post(format!("{auth}/api/v1/auth/login/email"))
            .json(&json!({"email": email, "password": PASSWORD})),
        StatusCode::OK,
    )
    .await?;
    let token = login["token"].as_str()?.to_owned();
    let user = format!("{kanban}/user");
    if status(client, &user, &token).await? != StatusCode::OK {
        return None;
    }
    let started = Instant::now();
    let logout = client
        .post(format!("{auth}/api/v1/auth/logout"))
        .bearer_auth(&token)
        .send()
        .await
        .ok()?;
    if logout.status() != StatusCode::NO_CONTENT {
        return None;
    }
    while started.elapsed() < LIMIT {
        match status(client, &user, &token).await? {
            StatusCode::UNAUTHORIZED => return Some(started.elapsed()),
            StatusCode::OK => {}
            _ => return None,
        }
    }
    None
}

pub(crate) async fn propagation(
    client: &Client,
    auth: &str,
    kanban: &str,
    feed: &'static str,
    emails: &[String],
    samples: usize,
) -> Propagation {
    let mut times = Vec::with_capacity(samples);
    let mut errors = 0;
    for n in 0..samples {
        match sample(client, auth, kanban, &emails[n % emails.len()]).await {
            Some(elapsed) => times.push(elapsed.as_secs_f64() * 1000.0),
            None => errors += 1,
        }
    }
    times.sort_by(f64::total_cmp);
    let percentile = |p: f64| -> f64 {
        if times.is_empty() {
            return 0.0;
        }
        let index = ((times.len() as f64 * p).ceil() as usize).clamp(1, times.len()) - 1;
        times[index]
    };
    let outcome = Propagation {
        feed,
        samples: times.len(),
        errors,
        p50_ms: percentile(0.50),
        p99_ms: percentile(0.99),
        max_ms: times.last().copied().unwrap_or(0.0),
    };
    eprintln!(
        "  revocation propagation ({feed}): p50 {:.2} ms  p99 {:.2} ms  errors {errors}",
        outcome.p50_ms, outcome.p99_ms
    );
    outcome
}
