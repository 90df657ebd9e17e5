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

    #[test]
    fn rejects_values_of_the_wrong_type() {
        let env = EnvSource::from_fn("APP", |_| Some("not-a-number".into()));
        let err = env.parse("PORT", 1u16).unwrap_err();
        assert_eq!(err.name, "APP_PORT");
    }
}
