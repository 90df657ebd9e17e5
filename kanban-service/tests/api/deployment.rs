//! The deployment files against the code: the environment docker-compose.yml
//! and the Kubernetes manifests give each service is read from the files,
//! the database and Redis URLs are pointed at this run's servers (a fresh
//! PostgreSQL database per service with `TEST_DATABASE_URL`, SQLite files
//! otherwise; this run's Redis with `TEST_REDIS_URL`, none otherwise), the
//! services' hosts and ports at free loopback ports, and the real binaries
//! are started with exactly that environment. A setting renamed in the code
//! but not in the deployment files, or one that does not work as deployed,
//! fails here.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde::Deserialize;
use serde_json::json;
use serde_yaml::Value as Yaml;
use tempfile::TempDir;

use crate::helpers::expect;

type Env = BTreeMap<String, String>;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo().join(path)).unwrap_or_else(|err| panic!("{path}: {err}"))
}

fn documents(path: &str) -> Vec<Yaml> {
    serde_yaml::Deserializer::from_str(&read(path))
        .map(|doc| Yaml::deserialize(doc).unwrap_or_else(|err| panic!("{path}: {err}")))
        .filter(|doc| !doc.is_null())
        .collect()
}

fn scalar(value: &Yaml) -> String {
    match value {
        Yaml::Null => String::new(),
        Yaml::Bool(b) => b.to_string(),
        Yaml::Number(n) => n.to_string(),
        Yaml::String(s) => s.clone(),
        other => panic!("not a scalar: {other:?}"),
    }
}

/// `KEY=value` lines of `.env.example` (quotes removed).
fn env_example() -> Env {
    read(".env.example")
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .filter_map(|line| line.split_once('='))
        .map(|(key, value)| {
            let value = value.trim();
            let value = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(value);
            (key.trim().to_owned(), value.to_owned())
        })
        .collect()
}

/// Compose's interpolation: `${VAR}`, `${VAR:-default}`, `${VAR-default}`,
/// `${VAR:?error}`, `${VAR?error}`, `$VAR` and `$$`.
fn interpolate(value: &str, vars: &Env) -> String {
    let mut out = String::new();
    let mut rest = value;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        rest = &rest[at + 1..];
        if let Some(after) = rest.strip_prefix('$') {
            out.push('$');
            rest = after;
        } else if let Some(after) = rest.strip_prefix('{') {
            let end = after.find('}').expect("unclosed ${");
            let expr = &after[..end];
            rest = &after[end + 1..];
            let name_end = expr
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(expr.len());
            let (name, op) = expr.split_at(name_end);
            let set = vars.get(name);
            let value = match op {
                "" => set.cloned().unwrap_or_default(),
                _ if op.starts_with(":-") => set
                    .filter(|v| !v.is_empty())
                    .cloned()
                    .unwrap_or_else(|| op[2..].to_owned()),
                _ if op.starts_with('-') => set.cloned().unwrap_or_else(|| op[1..].to_owned()),
                _ if op.starts_with(":?") || op.starts_with('?') => {
                    let missing = match set {
                        None => true,
                        Some(value) => value.is_empty() && op.starts_with(':'),
                    };
                    assert!(!missing, "compose needs {name} ({op})");
                    set.cloned().unwrap_or_default()
                }
                _ => panic!("unsupported interpolation ${{{expr}}}"),
            };
            out.push_str(&value);
        } else {
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            out.push_str(vars.get(&rest[..end]).map_or("", String::as_str));
            rest = &rest[end..];
        }
    }
    out.push_str(rest);
    out
}

/// The environment compose gives `service`, interpolated from `.env.example`.
fn compose_env(service: &str) -> Env {
    let compose = documents("docker-compose.yml").remove(0);
    let vars = env_example();
    let environment = &compose["services"][service]["environment"];
    match environment {
        Yaml::Mapping(map) => map
            .iter()
            .map(|(key, value)| (scalar(key), interpolate(&scalar(value), &vars)))
            .collect(),
        Yaml::Sequence(items) => items
            .iter()
            .map(|item| {
                let item = scalar(item);
                let (key, value) = item.split_once('=').unwrap_or((&item, ""));
                (key.to_owned(), interpolate(value, &vars))
            })
            .collect(),
        other => panic!("services.{service}.environment: {other:?}"),
    }
}

/// The environment the Kubernetes Deployment of `service` gives its
/// container: `envFrom` (ConfigMaps and Secrets of the folder), then `env`.
fn kubernetes_env(service: &str) -> Env {
    let folder = repo().join("deploy/kubernetes");
    let mut sources: BTreeMap<(String, String), Env> = BTreeMap::new();
    let mut deployment = None;
    for entry in std::fs::read_dir(&folder).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|ext| ext != "yaml") {
            continue;
        }
        let relative = format!(
            "deploy/kubernetes/{}",
            path.file_name().unwrap().to_string_lossy()
        );
        for doc in documents(&relative) {
            let kind = scalar(&doc["kind"]);
            let name = scalar(&doc["metadata"]["name"]);
            match kind.as_str() {
                "ConfigMap" | "Secret" => {
                    let mut data = Env::new();
                    for field in ["data", "stringData"] {
                        if let Yaml::Mapping(map) = &doc[field] {
                            for (key, value) in map {
                                let mut value = scalar(value);
                                if kind == "Secret" && field == "data" {
                                    use base64::Engine;
                                    value = String::from_utf8(
                                        base64::engine::general_purpose::STANDARD
                                            .decode(value)
                                            .unwrap(),
                                    )
                                    .unwrap();
                                }
                                data.insert(scalar(key), value);
                            }
                        }
                    }
                    sources.insert((kind, name), data);
                }
                "Deployment" if name == service => deployment = Some(doc),
                _ => {}
            }
        }
    }
    let deployment = deployment.unwrap_or_else(|| panic!("no Deployment {service}"));
    let containers = deployment["spec"]["template"]["spec"]["containers"]
        .as_sequence()
        .expect("containers");
    let container = containers
        .iter()
        .find(|c| scalar(&c["name"]) == service)
        .unwrap_or(&containers[0]);
    let mut env = Env::new();
    for from in container["envFrom"].as_sequence().into_iter().flatten() {
        for (field, kind) in [("configMapRef", "ConfigMap"), ("secretRef", "Secret")] {
            if let Yaml::Mapping(_) = &from[field] {
                let name = scalar(&from[field]["name"]);
                let data = sources
                    .get(&(kind.to_owned(), name.clone()))
                    .unwrap_or_else(|| panic!("{service}: envFrom names a missing {kind} {name}"));
                env.extend(data.clone());
            }
        }
    }
    for var in container["env"].as_sequence().into_iter().flatten() {
        let name = scalar(&var["name"]);
        let value = if let Yaml::Mapping(_) = &var["valueFrom"] {
            let from = &var["valueFrom"];
            let (kind, reference) = if let Yaml::Mapping(_) = &from["configMapKeyRef"] {
                ("ConfigMap", &from["configMapKeyRef"])
            } else {
                ("Secret", &from["secretKeyRef"])
            };
            let source = (kind.to_owned(), scalar(&reference["name"]));
            sources
                .get(&source)
                .and_then(|data| data.get(&scalar(&reference["key"])))
                .unwrap_or_else(|| panic!("{service}: env {name} names a missing {source:?}"))
                .clone()
        } else {
            scalar(&var["value"])
        };
        env.insert(name, value);
    }
    env
}

/// The variables of the README's "Configuration reference" table.
fn documented_variables() -> Vec<String> {
    let readme = read("README.md");
    let section = readme
        .split("## Configuration reference")
        .nth(1)
        .expect("a Configuration reference section");
    let section = section.split("\n## ").next().unwrap();
    let mut names = Vec::new();
    for line in section.lines().filter(|line| line.starts_with("| `")) {
        let first = line.split('|').nth(1).unwrap();
        for name in first.split('`').skip(1).step_by(2) {
            names.push(name.to_owned());
        }
    }
    names
}

/// Every `.rs` file under the folders, as one text.
fn sources(folders: &[&str]) -> String {
    fn walk(dir: &Path, out: &mut String) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                out.push_str(&std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    let mut out = String::new();
    for folder in folders {
        walk(&repo().join(folder), &mut out);
    }
    out
}

/// Variables a service would ignore: not its prefix, no README row, or no
/// name the code reads.
fn unknown_variables(service: &str, env: &Env) -> Vec<String> {
    let prefix = if service == "auth-service" {
        "AUTH_"
    } else {
        "KANBAN_"
    };
    let documented = documented_variables();
    let code = sources(&[&format!("{service}/src"), "shared/src"]);
    env.keys()
        .filter(|name| name.as_str() != "RUST_LOG")
        .filter(|name| {
            let read = name
                .strip_prefix(prefix)
                .is_some_and(|suffix| code.contains(&format!("\"{suffix}\"")));
            !read || !documented.contains(name)
        })
        .cloned()
        .collect()
}

#[test]
fn deployment_files_set_only_variables_the_services_read() {
    let documented = documented_variables();
    assert!(
        documented.len() > 50 && documented.iter().any(|name| name == "KANBAN_REDIS_URL"),
        "the README table was not read: {documented:?}"
    );
    for service in ["auth-service", "kanban-service"] {
        for (files, env) in [
            ("docker-compose.yml", compose_env(service)),
            ("deploy/kubernetes", kubernetes_env(service)),
        ] {
            assert!(env.len() > 5, "{files}: {service} gets {env:?}");
            let unknown = unknown_variables(service, &env);
            assert!(
                unknown.is_empty(),
                "{files} gives {service} variables it does not read (not in the README's \
                 Configuration reference, or no such name in its code): {unknown:?}"
            );
        }
    }
}

#[test]
fn an_unknown_variable_is_caught() {
    // The check above can fail: a renamed setting is reported.
    let env: Env = [
        ("KANBAN_REDIS_URL", "redis://127.0.0.1"),
        ("KANBAN_REDIS_ADDRESS", "redis://127.0.0.1"),
        ("AUTH_REDIS_URL", ""),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    assert_eq!(
        unknown_variables("kanban-service", &env),
        ["AUTH_REDIS_URL", "KANBAN_REDIS_ADDRESS"]
    );
    assert_eq!(
        interpolate(
            "a${X:-d}b${Y:-d}c${Z}$$",
            &[("X", ""), ("Y", "y"), ("Z", "z")]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect()
        ),
        "adbycz$"
    );
}

/// A child process killed when the test ends; its output goes to a file.
struct Service {
    name: &'static str,
    child: Child,
    log: PathBuf,
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Service {
    fn start(name: &'static str, env: &Env, dir: &Path) -> Service {
        let binary = Path::new(env!("CARGO_BIN_EXE_kanban-service"))
            .parent()
            .unwrap()
            .join(name);
        assert!(
            binary.exists(),
            "{} is missing (cargo test --workspace builds it)",
            binary.display()
        );
        let log = dir.join(format!("{name}.log"));
        let out = std::fs::File::create(&log).unwrap();
        let child = Command::new(&binary)
            .arg("serve")
            .env_clear()
            .envs(env)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap_or_else(|err| panic!("{}: {err}", binary.display()));
        Service { name, child, log }
    }

    fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    async fn ready(&mut self, client: &reqwest::Client, url: &str) {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!(
                    "{} exited ({status}) with the deployment's settings:\n{}",
                    self.name,
                    self.output()
                );
            }
            let answer = client.get(format!("{url}/readyz")).send().await;
            if answer.is_ok_and(|answer| answer.status() == StatusCode::OK) {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(15),
                "{} is not ready at {url}:\n{}",
                self.name,
                self.output()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Points the deployment's settings at this run: databases, Redis, the
/// services' hosts and ports, paths inside the image, placeholder secrets.
/// The Redis prefix (equal on both sides, as the README demands) becomes
/// this test's own, so that runs sharing a Redis never meet.
async fn for_this_run(mut auth: Env, mut kanban: Env, dir: &TempDir) -> (Env, Env, String, String) {
    let (auth_port, kanban_port) = (free_port(), free_port());
    let hosts = [
        ("auth-service", auth_port, "AUTH_"),
        ("kanban-service", kanban_port, "KANBAN_"),
    ];
    let redis = std::env::var("TEST_REDIS_URL")
        .ok()
        .filter(|url| !url.is_empty());
    assert_eq!(
        auth.get("AUTH_REDIS_PREFIX"),
        kanban.get("KANBAN_REDIS_PREFIX"),
        "both services must use one Redis prefix"
    );
    let prefix = format!("test:{}:", uuid::Uuid::new_v4().simple());
    let secret = format!("deploy-test-{}", uuid::Uuid::new_v4().simple());
    for (env, (service, port, prefix_of)) in [&mut auth, &mut kanban].into_iter().zip(hosts) {
        let database = shared::testing::fresh_database(dir.path(), service).await;
        let names: Vec<String> = env.keys().cloned().collect();
        for name in names {
            let suffix = name.strip_prefix(prefix_of).unwrap_or(&name).to_owned();
            let replaced = match suffix.as_str() {
                "DATABASE_URL" => Some(database.clone()),
                "REDIS_PREFIX" => Some(prefix.clone()),
                "BIND" => Some(format!("127.0.0.1:{port}")),
                "REDIS_URL" => match &redis {
                    Some(url) => Some(url.clone()),
                    None => {
                        env.remove(&name);
                        continue;
                    }
                },
                _ => None,
            };
            if let Some(replaced) = replaced {
                env.insert(name.clone(), replaced);
            }
            let value = env.get_mut(&name).unwrap();
            // The services as the other one reaches them.
            for (host, port, _) in hosts {
                for scheme in ["http", "https"] {
                    let from = format!("{scheme}://{host}:");
                    if let Some(at) = value.find(&from) {
                        let tail = &value[at + from.len()..];
                        let digits = tail
                            .find(|c: char| !c.is_ascii_digit())
                            .unwrap_or(tail.len());
                        *value =
                            format!("{}http://127.0.0.1:{port}{}", &value[..at], &tail[digits..]);
                    }
                }
            }
            // Folders inside the image.
            if let Some(path) = value.strip_prefix("/app/") {
                *value = dir.path().join(service).join(path).display().to_string();
            }
            if value.contains("REPLACE_ME") {
                *value = value.replace("REPLACE_ME", &secret);
            }
        }
    }
    (
        auth,
        kanban,
        format!("http://127.0.0.1:{auth_port}"),
        format!("http://127.0.0.1:{kanban_port}"),
    )
}

/// Starts both binaries with the files' settings and runs a user's flow.
async fn run_as_deployed(files: &str, auth: Env, kanban: Env) {
    let dir = TempDir::new().unwrap();
    let (auth, kanban, auth_url, kanban_url) = for_this_run(auth, kanban, &dir).await;
    let client = reqwest::Client::new();
    // As compose orders them: the account manager first.
    let mut auth_service = Service::start("auth-service", &auth, dir.path());
    auth_service.ready(&client, &auth_url).await;
    let mut kanban_service = Service::start("kanban-service", &kanban, dir.path());
    kanban_service.ready(&client, &kanban_url).await;
    let context = || {
        format!(
            "{files}\n--- auth-service:\n{}\n--- kanban-service:\n{}",
            auth_service.output(),
            kanban_service.output()
        )
    };

    let email = "deployed@example.com";
    let password = "deployed-secret-1";
    let register = client
        .post(format!("{kanban_url}/register"))
        .json(&json!({"first_name": "Dee", "last_name": "Ployed", "email": email, "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(register.status(), StatusCode::CREATED, "{}", context());
    let login = client
        .post(format!("{kanban_url}/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::OK, "{}", context());
    let login: serde_json::Value = login.json().await.unwrap();
    let token = login["access_token"].as_str().unwrap().to_owned();
    let refresh = login["refresh_token"].as_str().unwrap().to_owned();

    let created = client
        .post(format!("{kanban_url}/organizations"))
        .bearer_auth(&token)
        .json(&json!({"name": "Deployed", "description": "as the files say"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED, "{}", context());

    let refreshed = client
        .post(format!("{auth_url}/api/v1/auth/token/refresh"))
        .json(&json!({"refreshToken": refresh}))
        .send()
        .await
        .unwrap();
    let refreshed = expect(refreshed, StatusCode::OK).await;
    let token = refreshed["token"].as_str().unwrap().to_owned();
    let boards = client
        .get(format!("{kanban_url}/organizations"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let boards = expect(boards, StatusCode::OK).await;
    assert_eq!(boards.as_array().map(Vec::len), Some(1), "{boards}");

    let logout = client
        .post(format!("{auth_url}/api/v1/auth/logout"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::NO_CONTENT, "{}", context());
    let started = Instant::now();
    loop {
        let status = client
            .get(format!("{kanban_url}/organizations"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status();
        if status == StatusCode::UNAUTHORIZED {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "kanban still answers {status} to a logged-out token:\n{}",
            context()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn the_services_run_with_the_compose_settings() {
    run_as_deployed(
        "docker-compose.yml",
        compose_env("auth-service"),
        compose_env("kanban-service"),
    )
    .await;
}

#[tokio::test]
async fn the_services_run_with_the_kubernetes_settings() {
    run_as_deployed(
        "deploy/kubernetes",
        kubernetes_env("auth-service"),
        kubernetes_env("kanban-service"),
    )
    .await;
}
