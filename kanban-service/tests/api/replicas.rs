//! Replicas as the Kubernetes Deployments run them: two account managers on
//! one PostgreSQL database, two kanban services on another, one Redis
//! (with `TEST_DATABASE_URL` and `TEST_REDIS_URL`). Every change made at one
//! replica must be seen by the others: refresh rotation, logout, bans and
//! signing-key rotations. On SQLite (no shared database between processes,
//! no Redis) one account manager serves two kanban services over the HTTP
//! feed, and the same checks run against it.

use std::time::{Duration, Instant};

use base64::Engine;
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};
use sea_orm_migration::MigratorTrait;
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::task::JoinHandle;

use crate::helpers::{CLIENT_ID, CLIENT_SECRET, PASSWORD, expect, settings_from};

/// The account managers' public URL (the issuer of their tokens).
const ISSUER: &str = "http://accounts.test";

/// Servers of the whole test, aborted when it ends.
struct Servers(Vec<JoinHandle<std::io::Result<()>>>);

impl Drop for Servers {
    fn drop(&mut self) {
        self.0.iter().for_each(JoinHandle::abort);
    }
}

fn servers_of_run() -> Option<(String, String)> {
    let var = |name| std::env::var(name).ok().filter(|v: &String| !v.is_empty());
    Some((var("TEST_DATABASE_URL")?, var("TEST_REDIS_URL")?))
}

/// Builds an account manager on `database` (not yet serving).
async fn build_auth(
    database: &str,
    redis: Option<&str>,
    prefix: &str,
    dir: &TempDir,
) -> auth_service::Application {
    let env = vec![
        ("AUTH_BIND", "127.0.0.1:0".to_owned()),
        // Replicas behind one Service: one public URL, the tokens' issuer.
        ("AUTH_PUBLIC_URL", ISSUER.to_owned()),
        ("AUTH_DATABASE_URL", database.to_owned()),
        (
            "AUTH_SERVICE_CLIENTS",
            format!("{CLIENT_ID}:{CLIENT_SECRET}"),
        ),
        ("AUTH_REDIS_URL", redis.unwrap_or_default().to_owned()),
        ("AUTH_REDIS_PREFIX", prefix.to_owned()),
        ("AUTH_LOGIN_LIMIT", "100000/60".to_owned()),
        ("AUTH_REGISTER_LIMIT", "100000/60".to_owned()),
        ("AUTH_REFRESH_LIMIT", "100000/60".to_owned()),
        // A rotated refresh token is refused at once (no retry window).
        ("AUTH_REFRESH_REUSE_GRACE", "0".to_owned()),
        (
            "AUTH_MAIL_OUTBOX",
            dir.path().join("outbox").display().to_string(),
        ),
    ];
    let settings = settings_from("AUTH", &env, |env| {
        auth_service::Settings::from_source(env).unwrap()
    });
    auth_service::Application::build(settings)
        .await
        .expect("build account manager")
}

async fn start_kanban(
    servers: &mut Servers,
    database: &str,
    auth_url: &str,
    redis: Option<&str>,
    prefix: &str,
) -> String {
    let env = vec![
        ("KANBAN_BIND", "127.0.0.1:0".to_owned()),
        ("KANBAN_DATABASE_URL", database.to_owned()),
        ("KANBAN_AUTH_URL", auth_url.to_owned()),
        ("KANBAN_TOKEN_ISSUER", ISSUER.to_owned()),
        ("KANBAN_AUTH_CLIENT_ID", CLIENT_ID.to_owned()),
        ("KANBAN_AUTH_CLIENT_SECRET", CLIENT_SECRET.to_owned()),
        ("KANBAN_REDIS_URL", redis.unwrap_or_default().to_owned()),
        ("KANBAN_REDIS_PREFIX", prefix.to_owned()),
    ];
    let settings = settings_from("KANBAN", &env, |env| {
        kanban_service::Settings::from_source(env).unwrap()
    });
    let kanban = kanban_service::Application::build(settings)
        .await
        .expect("build kanban");
    let url = kanban.public_url().to_owned();
    servers
        .0
        .push(tokio::spawn(kanban.run_until(std::future::pending())));
    url
}

/// Serves the account manager; answers the URL it listens at.
fn serve_auth(servers: &mut Servers, auth: auth_service::Application) -> String {
    let url = format!("http://{}", auth.address());
    servers
        .0
        .push(tokio::spawn(auth.run_until(std::future::pending())));
    url
}

struct Tokens {
    access: String,
    refresh: String,
    user_id: i64,
}

fn tokens(answer: &Value) -> Tokens {
    Tokens {
        access: answer["token"].as_str().expect("token").to_owned(),
        refresh: answer["refreshToken"]
            .as_str()
            .expect("refreshToken")
            .to_owned(),
        user_id: answer["userId"].as_i64().expect("userId"),
    }
}

fn kid(token: &str) -> String {
    let header = token.split('.').next().unwrap();
    let header = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .unwrap();
    serde_json::from_slice::<Value>(&header).unwrap()["kid"]
        .as_str()
        .unwrap()
        .to_owned()
}

struct Cluster {
    client: reqwest::Client,
    auths: [String; 2],
    kanbans: [String; 2],
}

impl Cluster {
    async fn post(&self, url: String, token: Option<&str>, body: Value) -> reqwest::Response {
        let mut request = self.client.post(url).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("request")
    }

    async fn register(&self, auth: usize, email: &str) -> Tokens {
        let body = json!({"email": email, "password": PASSWORD, "password2": PASSWORD});
        let url = format!("{}/api/v1/auth/register/email", self.auths[auth]);
        tokens(&expect(self.post(url, None, body).await, StatusCode::CREATED).await)
    }

    async fn login(&self, auth: usize, email: &str) -> Tokens {
        let body = json!({"email": email, "password": PASSWORD});
        let url = format!("{}/api/v1/auth/login/email", self.auths[auth]);
        tokens(&expect(self.post(url, None, body).await, StatusCode::OK).await)
    }

    async fn refresh(&self, auth: usize, refresh: &str) -> reqwest::Response {
        let url = format!("{}/api/v1/auth/token/refresh", self.auths[auth]);
        self.post(url, None, json!({"refreshToken": refresh})).await
    }

    async fn user_status(&self, kanban: usize, token: &str) -> StatusCode {
        self.client
            .get(format!("{}/user", self.kanbans[kanban]))
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
            .status()
    }

    async fn accepted_everywhere(&self, token: &str) {
        for kanban in 0..2 {
            assert_eq!(
                self.user_status(kanban, token).await,
                StatusCode::OK,
                "kanban replica {kanban} refuses a valid token"
            );
        }
    }

    /// Both kanban replicas refuse `token` within a second.
    async fn refused_everywhere(&self, token: &str, what: &str) {
        let started = Instant::now();
        for kanban in 0..2 {
            while self.user_status(kanban, token).await != StatusCode::UNAUTHORIZED {
                assert!(
                    started.elapsed() < Duration::from_secs(1),
                    "kanban replica {kanban} still accepts the token a second after {what}"
                );
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_account_managers_and_two_kanbans_see_each_others_changes() {
    let dir = TempDir::new().unwrap();
    let prefix = format!("test:{}:", uuid::Uuid::new_v4().simple());
    let shared_servers = servers_of_run();
    let redis = shared_servers.as_ref().map(|(_, redis)| redis.as_str());
    let mut servers = Servers(Vec::new());

    let auth_db = shared::testing::fresh_database(dir.path(), "auth").await;
    let auth_a = serve_auth(
        &mut servers,
        build_auth(&auth_db, redis, &prefix, &dir).await,
    );
    let auth_b = if shared_servers.is_some() {
        serve_auth(
            &mut servers,
            build_auth(&auth_db, redis, &prefix, &dir).await,
        )
    } else {
        eprintln!(
            "replicas: TEST_DATABASE_URL/TEST_REDIS_URL unset: one account manager (SQLite) \
             and two kanban services following its HTTP feed"
        );
        auth_a.clone()
    };
    let kanban_db = shared::testing::fresh_database(dir.path(), "kanban").await;
    // On SQLite each kanban has its own file: two processes' pools on one
    // file are not a deployment anyone runs.
    let kanban_db_b = if shared_servers.is_some() {
        kanban_db.clone()
    } else {
        shared::testing::fresh_database(dir.path(), "kanban_b").await
    };
    let kanban_a = start_kanban(&mut servers, &kanban_db, &auth_a, redis, &prefix).await;
    let kanban_b = start_kanban(&mut servers, &kanban_db_b, &auth_b, redis, &prefix).await;
    let cluster = Cluster {
        client: reqwest::Client::new(),
        auths: [auth_a, auth_b],
        kanbans: [kanban_a, kanban_b],
    };

    // The first account is the admin.
    let admin = cluster.register(0, "admin@example.com").await;
    let user = cluster.register(1, "user@example.com").await;
    cluster.accepted_everywhere(&user.access).await;

    // Refresh at A, then at B with the new refresh token; the rotated ones
    // are refused at both.
    let first = tokens(&expect(cluster.refresh(0, &user.refresh).await, StatusCode::OK).await);
    let second = tokens(&expect(cluster.refresh(1, &first.refresh).await, StatusCode::OK).await);
    cluster.accepted_everywhere(&second.access).await;
    for auth in 0..2 {
        for old in [&user.refresh, &first.refresh] {
            let status = cluster.refresh(auth, old).await.status();
            assert_eq!(
                status,
                StatusCode::UNAUTHORIZED,
                "account manager {auth} took a rotated refresh token"
            );
        }
    }

    // Logout at A: refused at both kanbans within a second.
    let session = cluster.login(1, "user@example.com").await;
    cluster.accepted_everywhere(&session.access).await;
    let url = format!("{}/api/v1/auth/logout", cluster.auths[0]);
    expect(
        cluster.post(url, Some(&session.access), json!({})).await,
        StatusCode::NO_CONTENT,
    )
    .await;
    cluster
        .refused_everywhere(&session.access, "a logout")
        .await;

    // A ban at B: the user's token is refused at both kanbans.
    let session = cluster.login(0, "user@example.com").await;
    cluster.accepted_everywhere(&session.access).await;
    let response = cluster
        .client
        .patch(format!(
            "{}/api/v1/admin/users/{}",
            cluster.auths[1], session.user_id
        ))
        .bearer_auth(&admin.access)
        .json(&json!({"status": "banned"}))
        .send()
        .await
        .unwrap();
    expect(response, StatusCode::OK).await;
    cluster.refused_everywhere(&session.access, "a ban").await;

    // A rotation at A: B signs with the new key within a second, and its
    // tokens work at both kanbans.
    let url = format!("{}/api/v1/admin/signing-keys/rotate", cluster.auths[0]);
    let rotated = expect(
        cluster.post(url, Some(&admin.access), json!({})).await,
        StatusCode::OK,
    )
    .await;
    let new_kid = rotated["kid"].as_str().expect("kid").to_owned();
    assert_ne!(kid(&admin.access), new_kid, "the rotation changed nothing");
    let started = Instant::now();
    let mut refresh = admin.refresh.clone();
    let token = loop {
        let answer = tokens(&expect(cluster.refresh(1, &refresh).await, StatusCode::OK).await);
        if kid(&answer.access) == new_kid {
            break answer.access;
        }
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "account manager B still signs with the old key a second after a rotation at A"
        );
        refresh = answer.refresh;
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    cluster.accepted_everywhere(&token).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn four_account_managers_start_at_once_on_an_empty_database() {
    let Some((_, redis)) = servers_of_run() else {
        eprintln!(
            "skipped: four account managers on one database need PostgreSQL \
             (TEST_DATABASE_URL and TEST_REDIS_URL)"
        );
        return;
    };
    let dir = TempDir::new().unwrap();
    let prefix = format!("test:{}:", uuid::Uuid::new_v4().simple());
    let database = shared::testing::fresh_database(dir.path(), "auth").await;
    let builds: Vec<_> = (0..4)
        .map(|_| {
            let (database, redis, prefix) = (database.clone(), redis.clone(), prefix.clone());
            let outbox = TempDir::new().unwrap();
            tokio::spawn(async move {
                let auth = build_auth(&database, Some(&redis), &prefix, &outbox).await;
                (auth, outbox)
            })
        })
        .collect();
    let mut servers = Servers(Vec::new());
    let mut urls = Vec::new();
    let mut outboxes = Vec::new();
    for build in builds {
        let (auth, outbox) = build.await.expect("a replica's start panicked");
        urls.push(serve_auth(&mut servers, auth));
        outboxes.push(outbox);
    }
    let client = reqwest::Client::new();
    let started = Instant::now();
    for url in &urls {
        loop {
            let ready = client.get(format!("{url}/readyz")).send().await;
            if ready.is_ok_and(|r| r.status() == StatusCode::OK) {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "{url} is not ready"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    let db = sea_orm::Database::connect(&database).await.unwrap();
    let count = |sql: &str| {
        let db = &db;
        let sql = sql.to_owned();
        async move {
            let rows = db
                .query_all_raw(Statement::from_string(DatabaseBackend::Postgres, sql))
                .await
                .unwrap();
            rows.iter()
                .map(|row| row.try_get_by_index::<i64>(0).unwrap())
                .collect::<Vec<i64>>()
        }
    };
    let migrations = auth_service::migration::Migrator::migrations().len() as i64;
    assert_eq!(
        count("SELECT count(*) FROM seaql_migrations").await,
        vec![migrations],
        "each migration is recorded once"
    );
    assert_eq!(
        count("SELECT count(DISTINCT version) FROM seaql_migrations").await,
        vec![migrations]
    );
    assert_eq!(
        count(
            "SELECT count(*) FROM signing_keys WHERE activated_at IS NOT NULL \
             AND retired_at IS NULL AND revoked_at IS NULL"
        )
        .await,
        vec![1],
        "exactly one active signing key"
    );
    // And one next key, published ahead.
    assert_eq!(
        count("SELECT count(*) FROM signing_keys WHERE activated_at IS NULL").await,
        vec![1],
        "exactly one next signing key"
    );
}
