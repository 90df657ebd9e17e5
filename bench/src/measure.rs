//! Timing scenarios: workers, latencies, errors and percentiles.

use std::future::Future;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;

use crate::options::Scale;

/// `--only`: texts (comma-separated) one of which a scenario's name must
/// contain to run.
pub(crate) static ONLY: OnceLock<String> = OnceLock::new();

/// Whether `--only` leaves this scenario out (the ceilings always run).
pub(crate) fn skipped(name: &str) -> bool {
    ONLY.get().is_some_and(|only| {
        !name.starts_with("healthz") && !only.split(',').any(|part| name.contains(part))
    })
}

/// What one scenario measured.
pub(crate) struct Outcome {
    pub(crate) name: String,
    pub(crate) service: &'static str,
    pub(crate) requests: u64,
    pub(crate) errors: u64,
    pub(crate) elapsed: Duration,
    pub(crate) p50_ms: f64,
    pub(crate) p99_ms: f64,
    /// Workers (clients) the scenario ran.
    pub(crate) concurrency: usize,
}

impl Outcome {
    pub(crate) fn rate(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }
}

/// Latencies and failures of one worker.
#[derive(Default)]
pub(crate) struct Recorder {
    latencies_us: Vec<u32>,
    errors: u64,
}

impl Recorder {
    pub(crate) async fn time(&mut self, request: impl Future<Output = bool>) {
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
pub(crate) async fn scenario<F, Fut>(
    name: impl Into<String>,
    service: &'static str,
    scale: Scale,
    worker: F,
) -> Outcome
where
    F: Fn(usize, Instant) -> Fut,
    Fut: Future<Output = Recorder> + Send + 'static,
{
    let name = name.into();
    let started = Instant::now();
    let duration = if skipped(&name) {
        Duration::ZERO
    } else {
        scale.duration
    };
    let deadline = started + duration;
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
        concurrency: scale.concurrency,
    };
    eprintln!(
        "  {:<28} {:>9.0} req/s  p99 {:>7.2} ms  errors {}",
        outcome.name,
        outcome.rate(),
        outcome.p99_ms,
        outcome.errors
    );
    outcome
}

/// Sends the request (inside the timed future) and reads the whole answer.
pub(crate) async fn ok(request: reqwest::RequestBuilder, expected: StatusCode) -> bool {
    match request.send().await {
        Ok(response) => {
            let status = response.status();
            response.bytes().await.is_ok() && status == expected
        }
        Err(_) => false,
    }
}

pub(crate) async fn json_of(
    request: reqwest::RequestBuilder,
    expected: StatusCode,
) -> Option<Value> {
    let response = request.send().await.ok()?;
    if response.status() != expected {
        return None;
    }
    response.json().await.ok()
}
