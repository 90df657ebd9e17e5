use std::sync::Arc;
use std::time::Duration;

use auth_service::config::{
    AccountSettings, GoogleSettings, MailSettings, PasswordSettings, ServiceClient, SmtpTls,
    TokenSettings,
};
use auth_service::{Application, Settings};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use reqwest::{Response, StatusCode};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const PASSWORD: &str = "correct horse battery";
/// A service client every test app knows (scopes `users:read revocations:read sessions:extended`).
pub const CLIENT_ID: &str = "test-service";
pub const CLIENT_SECRET: &str = "test-service-secret-0123456789";
/// A client with neither scope.
pub const OTHER_CLIENT_ID: &str = "other-service";

pub fn test_clients() -> Vec<ServiceClient> {
    vec![
        ServiceClient {
            id: CLIENT_ID.into(),
            secret: CLIENT_SECRET.into(),
            scopes: vec![
                "users:read".into(),
                "revocations:read".into(),
                "sessions:extended".into(),
            ],
        },
        ServiceClient {
            id: OTHER_CLIENT_ID.into(),
            secret: CLIENT_SECRET.into(),
            scopes: vec!["reports:read".into()],
        },
    ]
}

/// A database of its own for one test.
#[derive(Clone)]
pub struct TestDatabase {
    pub url: String,
    /// A folder of the test's own (the mail outbox goes there).
    pub dir: std::path::PathBuf,
    _dir: Option<Arc<TempDir>>,
}

impl TestDatabase {
    pub async fn fresh() -> Self {
        let dir = TempDir::new().expect("temp dir");
        let url = shared::testing::fresh_database(dir.path(), "auth").await;
        Self {
            url,
            dir: dir.path().to_owned(),
            _dir: Some(Arc::new(dir)),
        }
    }

    /// Runs SQL against the database directly (to arrange account states
    /// the API under test does not offer yet).
    pub async fn execute(&self, sql: &str) {
        let db = Database::connect(&self.url).await.expect("connect");
        db.execute_unprepared(sql).await.expect("execute");
        db.close().await.ok();
    }

    /// The first column of every row `sql` answers, as text.
    pub async fn strings(&self, sql: &str) -> Vec<String> {
        let db = Database::connect(&self.url).await.expect("connect");
        let statement = sea_orm::Statement::from_string(db.get_database_backend(), sql);
        let rows = db.query_all_raw(statement).await.expect("query");
        db.close().await.ok();
        rows.iter()
            .map(|row| row.try_get_by_index::<String>(0).expect("a text column"))
            .collect()
    }
}

pub fn settings_for(db: &TestDatabase) -> Settings {
    Settings {
        bind: "127.0.0.1:0".parse().unwrap(),
        public_url: None,
        audience: "api".into(),
        database_url: db.url.clone(),
        database_max_connections: 5,
        redis_url: std::env::var("TEST_REDIS_URL")
            .ok()
            .filter(|url| !url.is_empty()),
        redis_prefix: format!("test:{}:", uuid::Uuid::new_v4().simple()),
        revocation_staleness: Duration::from_secs(5),
        account_cache_entries: 10_000,
        account_cache_ttl: Duration::from_secs(60),
        tokens: TokenSettings {
            access_ttl: Duration::from_secs(900),
            refresh_ttl: Duration::from_secs(30 * 24 * 3600),
            refresh_grace: Duration::from_secs(10),
            service_ttl: Duration::from_secs(900),
            extended_access_ttl: Duration::from_secs(12 * 3600),
            fixed_refresh_ttl: Duration::from_secs(7 * 24 * 3600),
            signing_key_file: None,
        },
        passwords: PasswordSettings::default(),
        service_clients: test_clients(),
        cors: shared::http::CorsPolicy::Only(vec![]),
        max_body_bytes: 64 * 1024,
        log_json: false,
        metrics: true,
        connections: shared::connections::ConnectionLimits::default(),
        shutdown: shared::http::Shutdown::default(),
        limits: generous_limits(),
        trusted_proxies: vec![],
        accounts: AccountSettings::default(),
        mail: MailSettings {
            outbox: db.dir.join("outbox"),
            ..MailSettings::default()
        },
        google: GoogleSettings::default(),
    }
}

/// Settings whose Google sign-in trusts the local `issuer`: its JWKS, its
/// client id, Google's issuers; a token naming an unknown `kid` fetches the
/// JWKS again at once (the bound is tested on its own).
pub fn with_google(mut settings: Settings, issuer: &GoogleIssuer) -> Settings {
    settings.google = GoogleSettings {
        client_ids: vec![shared::testing::GOOGLE_CLIENT_ID.to_owned()],
        jwks_url: issuer.jwks_url(),
        jwks_min_refetch: Duration::ZERO,
        ..GoogleSettings::default()
    };
    settings
}

/// An app with Google sign-in on, and the local Google issuer it trusts.
pub async fn spawn_with_google() -> (TestApp, GoogleIssuer) {
    let issuer = GoogleIssuer::start().await;
    let db = TestDatabase::fresh().await;
    let app = spawn_with(with_google(settings_for(&db), &issuer), db).await;
    (app, issuer)
}

/// Limits no ordinary test reaches (every test client is 127.0.0.1); the
/// rate-limit tests set their own.
pub fn generous_limits() -> auth_service::throttle::Limits {
    let plenty = auth_service::throttle::Limit {
        count: 100_000,
        window: Duration::from_secs(60),
    };
    auth_service::throttle::Limits {
        login: plenty,
        login_failure: plenty,
        register: plenty,
        refresh: plenty,
        recovery: plenty,
    }
}

/// Settings that send mail to an SMTP server on this host (no TLS).
pub fn with_smtp(mut settings: Settings, port: u16) -> Settings {
    settings.mail.smtp_host = Some("127.0.0.1".into());
    settings.mail.smtp_port = Some(port);
    settings.mail.smtp_tls = SmtpTls::None;
    settings
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub db: TestDatabase,
    stop: Option<oneshot::Sender<()>>,
    handle: Option<JoinHandle<std::io::Result<()>>>,
}

pub async fn spawn_app() -> TestApp {
    let db = TestDatabase::fresh().await;
    spawn_with(settings_for(&db), db).await
}

pub async fn spawn_with(settings: Settings, db: TestDatabase) -> TestApp {
    if std::env::var("TEST_LOG").is_ok() {
        shared::telemetry::init(false);
    }
    let app = Application::build(settings.clone())
        .await
        .expect("build app");
    let address = app.public_url().to_owned();
    let address = if settings.public_url.is_some() {
        format!("http://127.0.0.1:{}", app.port())
    } else {
        address
    };
    let (stop, stopped) = oneshot::channel::<()>();
    let handle = tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));
    TestApp {
        address,
        client: reqwest::Client::new(),
        db,

        stop: Some(stop),
        handle: Some(handle),
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn post(&self, path: &str, body: &Value) -> Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("request")
    }

    /// Any request, with a bearer token and a JSON body when given.
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Response {
        let mut request = self.client.request(method, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        request.send().await.expect("request")
    }

    pub async fn post_json_auth(&self, path: &str, token: &str, body: &Value) -> Response {
        self.send(reqwest::Method::POST, path, Some(token), Some(body))
            .await
    }

    pub async fn get_auth(&self, path: &str, token: &str) -> Response {
        self.send(reqwest::Method::GET, path, Some(token), None)
            .await
    }

    pub async fn patch_auth(&self, path: &str, token: &str, body: &Value) -> Response {
        self.send(reqwest::Method::PATCH, path, Some(token), Some(body))
            .await
    }

    pub async fn delete_auth(&self, path: &str, token: &str) -> Response {
        self.send(reqwest::Method::DELETE, path, Some(token), None)
            .await
    }

    /// Logs in with a password other than the default one.
    pub async fn login_with(&self, email: &str, password: &str) -> Response {
        self.post(
            "/api/v1/login/email",
            &json!({"email": email, "password": password}),
        )
        .await
    }

    pub async fn post_auth(&self, path: &str, token: &str) -> Response {
        self.client
            .post(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .unwrap_or_else(|err| panic!("GET {path}: {err:?}"))
    }

    pub async fn me(&self, token: &str) -> Response {
        self.client
            .get(self.url("/api/v1/auth/me"))
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
    }

    pub async fn register(&self, email: &str) -> Value {
        let body = json!({"email": email, "password": PASSWORD, "password2": PASSWORD});
        let response = self.post("/api/v1/register/email", &body).await;
        assert_eq!(response.status(), StatusCode::CREATED, "register {email}");
        response.json().await.unwrap()
    }

    pub async fn login(&self, email: &str) -> Value {
        let response = self
            .post(
                "/api/v1/login/email",
                &json!({"email": email, "password": PASSWORD}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK, "login {email}");
        response.json().await.unwrap()
    }

    pub async fn refresh(&self, refresh_token: &str) -> Response {
        self.post(
            "/api/v1/auth/token/refresh",
            &json!({"refreshToken": refresh_token}),
        )
        .await
    }

    pub async fn validate(&self, token: &str) -> Response {
        self.post("/api/v1/auth/token/validate", &json!({"token": token}))
            .await
    }

    /// Stops the server gracefully and waits for it.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(handle) = self.handle.take() {
            let _ = handle.await;
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(handle) = self.handle.take() {
            handle.abort();
        }
    }
}

/// The claims of a JWT, read without verification.
pub fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url"))
        .expect("JSON claims")
}

/// The header of a JWT, read without verification.
pub fn header_of(token: &str) -> Value {
    let header = token.split('.').next().expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).expect("base64url"))
        .expect("JSON header")
}

/// A fresh Ed25519 key: (PKCS#8 DER, PEM).
pub fn ed25519_key() -> (Vec<u8>, String) {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).unwrap();
    let mut der = vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    der.extend_from_slice(&seed);
    let pem = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        STANDARD.encode(&der)
    );
    (der, pem)
}

pub use shared::testing::{
    GoogleIssuer, LogCapture, RedisServer, SmtpSink, expect, link_token, mail_text,
};
