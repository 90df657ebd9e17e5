//! Reading settings from prefixed environment variables.

use std::str::FromStr;
use std::time::Duration;

/// Looks a variable up by its full name.
type Lookup<'a> = Box<dyn Fn(&str) -> Option<String> + 'a>;

/// Reads `PREFIX_NAME` settings from the environment (or any lookup, for tests).
pub struct EnvSource<'a> {
    prefix: &'a str,
    lookup: Lookup<'a>,
}

#[derive(Debug, thiserror::Error)]
#[error("setting {name} is invalid: {reason}")]
pub struct ConfigError {
    pub name: String,
    pub reason: String,
}

impl<'a> EnvSource<'a> {
    /// Reads the process environment.
    pub fn from_env(prefix: &'a str) -> Self {
        Self {
            prefix,
            lookup: Box::new(|key| std::env::var(key).ok()),
        }
    }

    /// Reads from a custom lookup, e.g. a map in tests.
    pub fn from_fn(prefix: &'a str, lookup: impl Fn(&str) -> Option<String> + 'a) -> Self {
        Self {
            prefix,
            lookup: Box::new(lookup),
        }
    }

    pub fn key(&self, name: &str) -> String {
        format!("{}_{}", self.prefix, name)
    }

    /// The raw value; an empty value counts as unset.
    pub fn get(&self, name: &str) -> Option<String> {
        (self.lookup)(&self.key(name)).filter(|value| !value.trim().is_empty())
    }

    pub fn string(&self, name: &str, default: &str) -> String {
        self.get(name).unwrap_or_else(|| default.to_owned())
    }

    pub fn parse<T: FromStr>(&self, name: &str, default: T) -> Result<T, ConfigError>
    where
        T::Err: std::fmt::Display,
    {
        match self.get(name) {
            None => Ok(default),
            Some(raw) => raw.trim().parse().map_err(|err: T::Err| ConfigError {
                name: self.key(name),
                reason: err.to_string(),
            }),
        }
    }

    /// A duration given in whole seconds.
    pub fn seconds(&self, name: &str, default: Duration) -> Result<Duration, ConfigError> {
        self.parse(name, default.as_secs()).map(Duration::from_secs)
    }

    /// An on/off switch: `on`, `true`, `yes`, `1` or `off`, `false`, `no`, `0`.
    pub fn switch(&self, name: &str, default: bool) -> Result<bool, ConfigError> {
        match self.get(name).map(|raw| raw.trim().to_ascii_lowercase()) {
            None => Ok(default),
            Some(value) => match value.as_str() {
                "on" | "true" | "yes" | "1" => Ok(true),
                "off" | "false" | "no" | "0" => Ok(false),
                _ => Err(ConfigError {
                    name: self.key(name),
                    reason: format!("{value:?} is neither on nor off"),
                }),
            },
        }
    }

    /// `LOG_FORMAT`: `json` (the default) or `text`; true for JSON.
    pub fn log_json(&self) -> Result<bool, ConfigError> {
        match self.string("LOG_FORMAT", "json").trim() {
            "json" => Ok(true),
            "text" => Ok(false),
            other => Err(ConfigError {
                name: self.key("LOG_FORMAT"),
                reason: format!("{other:?} is neither json nor text"),
            }),
        }
    }

    /// A database URL: `sqlite:…` or `postgres://…` (`postgresql://…`)
    /// naming a host.
    pub fn database_url(&self, name: &str, default: &str) -> Result<String, ConfigError> {
        let url = self.string(name, default).trim().to_owned();
        let postgres = url.starts_with("postgres://") || url.starts_with("postgresql://");
        let valid = url.starts_with("sqlite:")
            || (postgres && reqwest::Url::parse(&url).is_ok_and(|parsed| parsed.host().is_some()));
        if valid {
            Ok(url)
        } else {
            Err(ConfigError {
                name: self.key(name),
                reason: "not a database URL: sqlite://path?mode=rwc or postgres://user:password@host[:port]/database".to_owned(),
            })
        }
    }

    /// A Redis URL, if set; its scheme picks the topology (see
    /// [`crate::revocation::topology`]): `redis://[:password@]host[:port][/db]`
    /// for one server, `redis+sentinel://host[:port][,host[:port]…]/master[/db]`
    /// for the master Sentinel names, `redis+cluster://host[:port][,…]` for a
    /// Redis Cluster. TLS (`rediss://`) is refused: the client is built
    /// without it. The reason never repeats the URL (it may hold a password).
    pub fn redis_url(&self, name: &str) -> Result<Option<String>, ConfigError> {
        let Some(url) = self.get(name).map(|url| url.trim().to_owned()) else {
            return Ok(None);
        };
        match crate::revocation::topology::RedisTarget::parse(&url) {
            Ok(_) => Ok(Some(url)),
            Err(reason) => Err(ConfigError {
                name: self.key(name),
                reason,
            }),
        }
    }

    /// An `http://` or `https://` URL naming a host, without a trailing
    /// slash, if set.
    pub fn http_url(&self, name: &str) -> Result<Option<String>, ConfigError> {
        let Some(url) = self.get(name).map(|url| url.trim().to_owned()) else {
            return Ok(None);
        };
        match reqwest::Url::parse(&url) {
            Ok(parsed)
                if matches!(parsed.scheme(), "http" | "https") && parsed.host().is_some() =>
            {
                Ok(Some(url.trim_end_matches('/').to_owned()))
            }
            _ => Err(ConfigError {
                name: self.key(name),
                reason: format!("{url:?} is not an http:// or https:// URL"),
            }),
        }
    }

    /// A comma-separated list.
    pub fn list(&self, name: &str) -> Vec<String> {
        self.get(name)
            .map(|raw| {
                raw.split(',')
                    .map(str::trim)
                    .filter(|item| !item.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn reads_prefixed_values_and_defaults() {
        let vars: HashMap<&str, &str> = [
            ("APP_PORT", "9000"),
            ("APP_EMPTY", " "),
            ("APP_LIST", "a, b,,c"),
        ]
        .into();
        let env = EnvSource::from_fn("APP", |key| vars.get(key).map(|v| v.to_string()));
        assert_eq!(env.parse("PORT", 1u16).unwrap(), 9000);
        assert_eq!(env.string("EMPTY", "default"), "default");
        assert_eq!(env.list("LIST"), vec!["a", "b", "c"]);
        assert_eq!(
            env.seconds("TTL", Duration::from_secs(5)).unwrap(),
            Duration::from_secs(5)
        );
    }

    #[test]
    fn switches_read_on_and_off_and_refuse_anything_else() {
        let vars: HashMap<&str, &str> =
            [("APP_A", "off"), ("APP_B", "On"), ("APP_C", "maybe")].into();
        let env = EnvSource::from_fn("APP", |key| vars.get(key).map(|v| v.to_string()));
        assert!(!env.switch("A", true).unwrap());
        assert!(env.switch("B", false).unwrap());
        assert!(env.switch("UNSET", true).unwrap());
        assert_eq!(env.switch("C", true).unwrap_err().name, "APP_C");
    }

    fn one(name: &'static str, value: &'static str) -> EnvSource<'static> {
        EnvSource::from_fn("APP", move |key| {
            (key == format!("APP_{name}")).then(|| value.to_owned())
        })
    }

    #[test]
    fn urls_are_checked_by_kind() {
        for good in [
            "sqlite://data/auth.db?mode=rwc",
            "sqlite::memory:",
            "postgres://user:secret@db:5432/auth",
            "postgresql://db/auth",
        ] {
            assert_eq!(one("DB", good).database_url("DB", "x").unwrap(), good);
        }
        for bad in [
            "mysql://db/auth",
            "postgres://",
            "data/auth.db",
            "postgres:db",
        ] {
            let err = one("DB", bad).database_url("DB", "x").unwrap_err();
            assert_eq!(err.name, "APP_DB", "{bad}");
        }
        assert_eq!(
            one("REDIS", "redis://:pw@cache:6379/2")
                .redis_url("REDIS")
                .unwrap(),
            Some("redis://:pw@cache:6379/2".to_owned())
        );
        assert_eq!(one("OTHER", "x").redis_url("REDIS").unwrap(), None);
        for good in [
            "redis+sentinel://:pw@sentinel-a:26379,sentinel-b/mymaster",
            "redis+cluster://:pw@node-a:6379,node-b:6379,node-c:6379",
        ] {
            assert_eq!(
                one("REDIS", good).redis_url("REDIS").unwrap().as_deref(),
                Some(good)
            );
        }
        for bad in [
            "cache:6379",
            "http://cache:6379",
            "rediss://cache:6380",
            "redis+sentinel://sentinel:26379",
            "redis+cluster://node-a:6379/2",
        ] {
            let err = one("REDIS", bad).redis_url("REDIS").unwrap_err();
            assert_eq!(err.name, "APP_REDIS", "{bad}");
        }
        assert_eq!(
            one("URL", "https://auth.example/").http_url("URL").unwrap(),
            Some("https://auth.example".to_owned())
        );
        for bad in ["auth:8081", "ftp://auth", "http://", "not a url"] {
            assert!(one("URL", bad).http_url("URL").is_err(), "{bad}");
        }
    }

    #[test]
    fn the_log_format_is_json_or_text() {
        assert!(one("OTHER", "x").log_json().unwrap());
        assert!(!one("LOG_FORMAT", "text").log_json().unwrap());
        let err = one("LOG_FORMAT", "yaml").log_json().unwrap_err();
        assert_eq!(
            err.to_string(),
            "setting APP_LOG_FORMAT is invalid: \"yaml\" is neither json nor text"
        );
    }

    #[test]
    fn rejects_values_of_the_wrong_type() {
        let env = EnvSource::from_fn("APP", |_| Some("not-a-number".into()));
        let err = env.parse("PORT", 1u16).unwrap_err();
        assert_eq!(err.name, "APP_PORT");
    }
}
