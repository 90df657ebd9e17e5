//! SIGTERM on the real binary: readiness answers 503 at once, new
//! connections are still served for the delay and refused after it, a
//! request in flight gets its normal answer, and the process exits 0.

use std::process::Stdio;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

use crate::helpers::PASSWORD;

/// The URL the service's JSON log says it listens at.
async fn listening_url(
    lines: &mut tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let line = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
            .await
            .expect("a log line")
            .expect("read the log")
            .expect("the service exited before listening");
        let Ok(entry) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        if entry["message"] == "auth-service listening" {
            return entry["url"].as_str().expect("url").to_owned();
        }
    }
    panic!("the service never said it listens");
}

#[tokio::test]
async fn sigterm_drains_in_flight_requests_refuses_new_ones_and_exits_zero() {
    let dir = tempfile::TempDir::new().unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_auth-service"))
        .arg("serve")
        .current_dir(dir.path())
        .env("AUTH_BIND", "127.0.0.1:0")
        .env(
            "AUTH_DATABASE_URL",
            format!("sqlite://{}/auth.db?mode=rwc", dir.path().display()),
        )
        .env("AUTH_MAIL_OUTBOX", dir.path().join("outbox"))
        .env("AUTH_REDIS_URL", "")
        .env("AUTH_LOG_FORMAT", "json")
        .env("AUTH_SHUTDOWN_DELAY", "2")
        .env("AUTH_SHUTDOWN_GRACE", "20")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("start target/debug/auth-service");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = listening_url(&mut lines).await;
    // Keep reading the log, so the service never blocks on a full pipe.
    let log = tokio::spawn(async move {
        let mut stopped = false;
        while let Ok(Some(line)) = lines.next_line().await {
            stopped |= line.contains("\"stopped\"");
        }
        stopped
    });
    let address = url.trim_start_matches("http://").to_owned();
    let client = reqwest::Client::new();
    let registered = client
        .post(format!("{url}/api/v1/auth/register/email"))
        .json(&json!({"email": "drain@example.com", "password": PASSWORD, "password2": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), StatusCode::CREATED);
    assert_eq!(
        client
            .get(format!("{url}/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );

    // A login in flight: its headers and half its body are in.
    let body = json!({"email": "drain@example.com", "password": PASSWORD}).to_string();
    let (first, rest) = body.as_bytes().split_at(body.len() / 2);
    let mut in_flight = tokio::net::TcpStream::connect(&address).await.unwrap();
    let head = format!(
        "POST /api/v1/auth/login/email HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    in_flight.write_all(head.as_bytes()).await.unwrap();
    in_flight.write_all(first).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;

    let pid = child.id().expect("running").to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());

    // Readiness says 503 while new connections are still served.
    let started = Instant::now();
    loop {
        let answer = client.get(format!("{url}/readyz")).send().await.unwrap();
        if answer.status() == StatusCode::SERVICE_UNAVAILABLE {
            let health: Value = answer.json().await.unwrap();
            assert_eq!(health["status"], "draining");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "readiness still answers {} after SIGTERM",
            answer.status()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // After the delay the listener is closed: new connections are refused.
    let started = Instant::now();
    while tokio::net::TcpStream::connect(&address).await.is_ok() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "new connections are still accepted"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        child.try_wait().unwrap().is_none(),
        "the process waits for the request in flight"
    );

    // The request in flight completes with its normal answer.
    in_flight.write_all(rest).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), async {
        let mut buf = [0u8; 4096];
        loop {
            let read = in_flight.read(&mut buf).await.unwrap();
            answer.extend_from_slice(&buf[..read]);
            let text = String::from_utf8_lossy(&answer);
            if read == 0 || (text.contains("\r\n\r\n") && text.contains("refreshToken")) {
                break;
            }
        }
    })
    .await
    .expect("the in-flight login is answered");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"token\""), "{answer}");
    drop(in_flight);

    let status = tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .expect("the process exits once drained")
        .unwrap();
    assert_eq!(status.code(), Some(0), "exit status {status}");
    assert!(log.await.unwrap(), "the log says the server stopped");
}
