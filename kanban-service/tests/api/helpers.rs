use std::sync::Arc;

use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::task::JoinHandle;

pub const PASSWORD: &str = "johndoe-secret";
pub const CLIENT_ID: &str = "kanban-service";
pub const CLIENT_SECRET: &str = "kanban-test-secret-0123456789";

async fn fresh_database(dir: &TempDir, name: &str) -> String {
    shared::testing::fresh_database(dir.path(), name).await
}

pub struct Stack {
    pub auth_url: String,
    /// The local Google issuer the account manager trusts for Google sign-in.
    pub google: GoogleIssuer,
    pub kanban_url: String,
    pub client: reqwest::Client,
    auth: Option<JoinHandle<std::io::Result<()>>>,
    stop_auth: Option<tokio::sync::oneshot::Sender<()>>,
    kanbans: Vec<JoinHandle<std::io::Result<()>>>,
    prefix: String,
    redis_url: Option<String>,
    kanban_extra: Vec<(&'static str, String)>,
    /// The database of the stack's (first) kanban service.
    pub kanban_database: String,
    dir: Arc<TempDir>,
}

impl Drop for Stack {
    fn drop(&mut self) {
        self.auth
            .iter()
            .chain(&self.kanbans)
            .for_each(JoinHandle::abort);
    }
}

pub async fn spawn_stack() -> Stack {
    spawn_stack_with(
        std::env::var("TEST_REDIS_URL")
            .ok()
            .filter(|url| !url.is_empty()),
    )
    .await
}

/// Both services; with `redis_url`, the account manager publishes
/// revocations there and kanban follows them there, under a prefix of this
/// test's own; without, kanban follows the account manager's HTTP feed.
pub async fn spawn_stack_with(redis_url: Option<String>) -> Stack {
    spawn_stack_custom(redis_url, Vec::new()).await
}

pub fn settings_from<T>(
    prefix: &str,
    env: &[(&str, String)],
    parse: impl Fn(&shared::config::EnvSource<'_>) -> T,
) -> T {
    parse(&shared::config::EnvSource::from_fn(prefix, |key| {
        env.iter()
            .find(|(name, _)| *name == key)
            .map(|(_, value)| value.clone())
    }))
}

/// Both services, with extra `KANBAN_*` settings for kanban.
pub async fn spawn_stack_custom(
    redis_url: Option<String>,
    kanban_extra: Vec<(&'static str, String)>,
) -> Stack {
    spawn_stack_full(redis_url, Vec::new(), kanban_extra).await
}

/// Both services, with extra `AUTH_*` settings for the account manager and
/// `KANBAN_*` ones for kanban.
pub async fn spawn_stack_full(
    redis_url: Option<String>,
    auth_extra: Vec<(&'static str, String)>,
    kanban_extra: Vec<(&'static str, String)>,
) -> Stack {
    if std::env::var("TEST_LOG").is_ok() {
        shared::telemetry::init(false);
    }
    let dir = Arc::new(TempDir::new().unwrap());
    let prefix = format!("test:{}:", uuid::Uuid::new_v4().simple());
    // Starting it is cheap: its keys are made when a test first signs.
    let google = GoogleIssuer::start().await;

    let mut auth_env = vec![
        ("AUTH_BIND", "127.0.0.1:0".to_owned()),
        ("AUTH_DATABASE_URL", fresh_database(&dir, "auth").await),
        (
            "AUTH_SERVICE_CLIENTS",
            format!("{CLIENT_ID}:{CLIENT_SECRET}"),
        ),
        ("AUTH_REDIS_PREFIX", prefix.clone()),
        ("AUTH_REDIS_URL", redis_url.clone().unwrap_or_default()),
        // Kanban passes on its callers' addresses.
        ("AUTH_TRUSTED_PROXIES", "127.0.0.1".to_owned()),
        // Every test client is 127.0.0.1: limits no ordinary test reaches.
        ("AUTH_LOGIN_LIMIT", "100000/60".to_owned()),
        ("AUTH_LOGIN_FAILURE_LIMIT", "100000/60".to_owned()),
        ("AUTH_REGISTER_LIMIT", "100000/60".to_owned()),
        ("AUTH_REFRESH_LIMIT", "100000/60".to_owned()),
        (
            "AUTH_MAIL_OUTBOX",
            dir.path().join("outbox").display().to_string(),
        ),
        // Google sign-in against the local issuer.
        (
            "AUTH_GOOGLE_CLIENT_IDS",
            shared::testing::GOOGLE_CLIENT_ID.to_owned(),
        ),
        ("AUTH_GOOGLE_JWKS_URL", google.jwks_url()),
        ("AUTH_GOOGLE_JWKS_MIN_REFETCH", "0".to_owned()),
    ];
    for (name, value) in auth_extra {
        auth_env.retain(|(existing, _)| *existing != name);
        auth_env.push((name, value));
    }
    let auth_settings = settings_from("AUTH", &auth_env, |env| {
        auth_service::Settings::from_source(env).unwrap()
    });
    let auth = auth_service::Application::build(auth_settings)
        .await
        .expect("build account manager");
    let auth_url = auth.public_url().to_owned();
    // Serving before kanban starts: kanban's first revocation snapshot
    // comes from it.
    let (stop_auth, stopped) = tokio::sync::oneshot::channel::<()>();
    let auth = tokio::spawn(auth.run_until(async {
        let _ = stopped.await;
    }));
    let mut stack = Stack {
        auth_url,
        google,
        kanban_url: String::new(),
        client: reqwest::Client::new(),
        auth: Some(auth),
        stop_auth: Some(stop_auth),
        kanbans: Vec::new(),
        prefix,
        redis_url,
        kanban_extra,
        kanban_database: String::new(),
        dir,
    };
    stack.kanban_url = stack.spawn_kanban().await;
    stack
}

/// A registered, logged-in user./// A registered, logged-in user.
#[derive(Debug, Clone)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub token: String,
    pub refresh_token: String,
}

impl Stack {
    /// Starts another kanban service (fresh database) beside the account
    /// manager; answers its URL.
    pub async fn spawn_kanban(&mut self) -> String {
        let database = fresh_database(&self.dir, &format!("kanban{}", self.kanbans.len())).await;
        if self.kanbans.is_empty() {
            self.kanban_database = database.clone();
        }
        self.spawn_kanban_on(database).await
    }

    /// Starts a replica of the stack's kanban service (on its database),
    /// with these `KANBAN_*` settings besides the stack's; answers its URL.
    pub async fn spawn_kanban_replica(&mut self, extra: Vec<(&'static str, String)>) -> String {
        let stack_extra = self.kanban_extra.clone();
        self.kanban_extra.extend(extra);
        let url = self.spawn_kanban_on(self.kanban_database.clone()).await;
        self.kanban_extra = stack_extra;
        url
    }

    async fn spawn_kanban_on(&mut self, database: String) -> String {
        let mut kanban_env = vec![
            ("KANBAN_BIND", "127.0.0.1:0".to_owned()),
            ("KANBAN_DATABASE_URL", database),
            ("KANBAN_AUTH_URL", self.auth_url.clone()),
            ("KANBAN_AUTH_CLIENT_ID", CLIENT_ID.to_owned()),
            ("KANBAN_AUTH_CLIENT_SECRET", CLIENT_SECRET.to_owned()),
            ("KANBAN_JWKS_MIN_REFETCH", "0".to_owned()),
            ("KANBAN_REDIS_PREFIX", self.prefix.clone()),
            (
                "KANBAN_REDIS_URL",
                self.redis_url.clone().unwrap_or_default(),
            ),
        ];
        for (name, value) in &self.kanban_extra {
            kanban_env.retain(|(existing, _)| existing != name);
            kanban_env.push((name, value.clone()));
        }
        let kanban_settings = settings_from("KANBAN", &kanban_env, |env| {
            kanban_service::Settings::from_source(env).unwrap()
        });
        let kanban = kanban_service::Application::build(kanban_settings)
            .await
            .expect("build kanban");
        let url = kanban.public_url().to_owned();
        self.kanbans
            .push(tokio::spawn(kanban.run_until(std::future::pending())));
        url
    }

    /// The account manager's mail outbox folder.
    pub fn outbox(&self) -> std::path::PathBuf {
        self.dir.path().join("outbox")
    }

    /// Extra `KANBAN_*` settings for kanban services started from now on.
    pub fn set_kanban_extra(&mut self, extra: Vec<(&'static str, String)>) {
        self.kanban_extra = extra;
    }

    /// Stops the account manager as SIGTERM would (its feed goes silent:
    /// open connections close once their request is answered).
    pub async fn stop_auth(&mut self) {
        if let Some(stop) = self.stop_auth.take() {
            let _ = stop.send(());
        }
        if let Some(auth) = self.auth.take() {
            let _ = auth.await;
        }
    }

    /// `GET /user` at a kanban service with a token: the status.
    pub async fn user_status_at(&self, kanban_url: &str, token: &str) -> StatusCode {
        self.client
            .get(format!("{kanban_url}/user"))
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
            .status()
    }

    /// `GET /api/v1/auth/me` at the account manager: the status.
    pub async fn me_status(&self, token: &str) -> StatusCode {
        self.client
            .get(format!("{}/api/v1/auth/me", self.auth_url))
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
            .status()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.kanban_url, path)
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Response {
        self.send_at(&self.kanban_url, method, path, token, body)
            .await
    }

    /// [`Self::send`] to the kanban service at `base` (a replica's URL).
    pub async fn send_at(
        &self,
        base: &str,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Response {
        let mut request = self.client.request(method, format!("{base}{path}"));
        if let Some(token) = token {
            request = request.header("access_token", token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.expect("request")
    }

    pub async fn get(&self, path: &str, user: &User) -> Response {
        self.send(reqwest::Method::GET, path, Some(&user.token), None)
            .await
    }

    pub async fn post(&self, path: &str, user: &User, body: Value) -> Response {
        self.send(reqwest::Method::POST, path, Some(&user.token), Some(body))
            .await
    }

    pub async fn put(&self, path: &str, user: &User, body: Value) -> Response {
        self.send(reqwest::Method::PUT, path, Some(&user.token), Some(body))
            .await
    }

    pub async fn patch(&self, path: &str, user: &User, body: Value) -> Response {
        self.send(reqwest::Method::PATCH, path, Some(&user.token), Some(body))
            .await
    }

    pub async fn delete(&self, path: &str, user: &User) -> Response {
        self.send(reqwest::Method::DELETE, path, Some(&user.token), None)
            .await
    }

    /// Registers and logs in through kanban's seed-000 routes.
    pub async fn user(&self, first: &str, last: &str, email: &str) -> User {
        let body =
            json!({"first_name": first, "last_name": last, "email": email, "password": PASSWORD});
        let registered = expect(
            self.send(reqwest::Method::POST, "/register", None, Some(body))
                .await,
            StatusCode::CREATED,
        )
        .await;
        let login = json!({"email": email, "password": PASSWORD});
        let answer = expect(
            self.send(reqwest::Method::POST, "/login", None, Some(login))
                .await,
            StatusCode::OK,
        )
        .await;
        User {
            id: registered["id"].as_i64().unwrap(),
            email: email.to_owned(),
            token: answer["access_token"].as_str().unwrap().to_owned(),
            refresh_token: answer["refresh_token"].as_str().unwrap().to_owned(),
        }
    }

    /// Creates an organization owned by `owner`; returns its JSON.
    pub async fn organization(&self, owner: &User, name: &str) -> Value {
        expect(
            self.post(
                "/organizations",
                owner,
                json!({"name": name, "description": "a board"}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await
    }

    /// Makes `member` a member with `role`: `admin` invites their email,
    /// and they accept.
    pub async fn add_member(&self, admin: &User, organization: i64, member: &User, role: &str) {
        self.invite(admin, organization, &member.email, role).await;
        self.accept_invitation(member, organization).await;
    }

    /// `admin` invites `email` to the organization (201).
    pub async fn invite(&self, admin: &User, organization: i64, email: &str, role: &str) {
        let body = json!({"UserEmail": email, "role": role});
        expect(
            self.post(
                &format!("/organizations/{organization}/members"),
                admin,
                body,
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
    }

    /// The id of `invitee`'s pending invitation to the organization.
    pub async fn invitation_id(&self, invitee: &User, organization: i64) -> i64 {
        let pending = expect(self.get("/invitations", invitee).await, StatusCode::OK).await;
        let invitation = pending
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["OrganizationId"].as_i64() == Some(organization))
            .unwrap_or_else(|| panic!("no invitation to {organization} in {pending}"));
        id(invitation)
    }

    /// `invitee` accepts their invitation to the organization; answers the
    /// organization.
    pub async fn accept_invitation(&self, invitee: &User, organization: i64) -> Value {
        let invitation = self.invitation_id(invitee, organization).await;
        let path = format!("/invitations/{invitation}/accept");
        expect(
            self.send(reqwest::Method::POST, &path, Some(&invitee.token), None)
                .await,
            StatusCode::OK,
        )
        .await
    }

    pub async fn task(&self, owner: &User, organization: i64, category: i64, title: &str) -> Value {
        let body = json!({"title": title, "OrganizationId": organization, "CategoryId": category});
        expect(self.post("/tasks", owner, body).await, StatusCode::CREATED).await
    }

    /// An account-manager call with a bearer token and a JSON body.
    pub async fn auth_send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Value,
    ) -> Response {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.auth_url))
            .json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.unwrap()
    }

    /// An account-manager call with a bearer token.
    pub async fn auth_post(&self, path: &str, token: &str) -> Response {
        self.client
            .post(format!("{}{path}", self.auth_url))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }
}

/// Asserts the status and returns the JSON body.
pub async fn expect(response: Response, status: StatusCode) -> Value {
    let actual = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(actual, status, "body: {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// Asserts the status and the `msg` of the answer.
pub async fn expect_msg(response: Response, status: StatusCode, msg: &str) {
    let body = expect(response, status).await;
    assert_eq!(body["msg"], msg, "body: {body}");
}

pub fn id(value: &Value) -> i64 {
    value["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("id in {value}"))
}

pub use shared::testing::{GoogleIssuer, RedisServer};

/// Waits (at most a second: revocations reach kanban within one) until
/// kanban refuses `token`.
pub async fn until_refused(stack: &Stack, token: &str) {
    let started = std::time::Instant::now();
    while stack.user_status_at(&stack.kanban_url, token).await != StatusCode::UNAUTHORIZED {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(1),
            "kanban still accepts a revoked token"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}
