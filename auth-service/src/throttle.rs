//! Rate limits on the sign-in routes: attempts per client address, and
//! failed passwords per (account, address) pair. Nothing here counts per
//! account alone, so guessing one account's password from many addresses
//! never locks its owner out of an address that has not failed.
//!
//! Counters live in this process (governor's GCRA limiters) or, with Redis,
//! in Redis (a window per key that opens with its first request), so that
//! every replica shares them.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use shared::revocation::redis::RedisConnection;

/// A number of requests per window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub count: u32,
    pub window: Duration,
}

impl FromStr for Limit {
    type Err = String;

    /// `count/seconds`, e.g. `30/60`.
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let bad = || format!("`{value}` is not count/seconds (e.g. 30/60)");
        let (count, seconds) = value.trim().split_once('/').ok_or_else(bad)?;
        let count: u32 = count.trim().parse().map_err(|_| bad())?;
        let seconds: u64 = seconds.trim().parse().map_err(|_| bad())?;
        if count == 0 || seconds == 0 {
            return Err(bad());
        }
        Ok(Limit {
            count,
            window: Duration::from_secs(seconds),
        })
    }
}

/// What is limited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rule {
    /// Logins and reactivations, per client address.
    Login,
    /// Wrong passwords, per (account, client address).
    LoginFailure,
    Register,
    Refresh,
    /// Forgotten-password and verification mails asked for.
    Recovery,
}

impl Rule {
    pub const ALL: [Rule; 5] = [
        Rule::Login,
        Rule::LoginFailure,
        Rule::Register,
        Rule::Refresh,
        Rule::Recovery,
    ];

    /// The policy's name in the `RateLimit-Policy` header.
    pub fn name(self) -> &'static str {
        match self {
            Rule::Login => "login",
            Rule::LoginFailure => "login-failures",
            Rule::Register => "register",
            Rule::Refresh => "refresh",
            Rule::Recovery => "recovery",
        }
    }
}

/// The limits an operator configured.
#[derive(Debug, Clone)]
pub struct Limits {
    pub login: Limit,
    pub login_failure: Limit,
    pub register: Limit,
    pub refresh: Limit,
    pub recovery: Limit,
}

impl Default for Limits {
    fn default() -> Self {
        let limit = |count, seconds| Limit {
            count,
            window: Duration::from_secs(seconds),
        };
        Self {
            login: limit(30, 60),
            login_failure: limit(5, 300),
            register: limit(10, 3600),
            refresh: limit(120, 60),
            recovery: limit(5, 900),
        }
    }
}

impl Limits {
    pub fn of(&self, rule: Rule) -> Limit {
        match rule {
            Rule::Login => self.login,
            Rule::LoginFailure => self.login_failure,
            Rule::Register => self.register,
            Rule::Refresh => self.refresh,
            Rule::Recovery => self.recovery,
        }
    }
}

/// A request over its limit: which, and when to try again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exceeded {
    pub rule: Rule,
    pub limit: Limit,
    pub retry_after: Duration,
}

type Keyed =
    RateLimiter<String, DefaultKeyedStateStore<String>, DefaultClock, StateInformationMiddleware>;

struct Memory {
    limiters: HashMap<Rule, Keyed>,
    /// Keys refused until then (a failure count that went over), so an
    /// attempt can be checked without being counted.
    blocked: Mutex<HashMap<(Rule, String), std::time::Instant>>,
}

enum Counters {
    Memory(Memory),
    Redis {
        connection: RedisConnection,
        prefix: String,
    },
}

pub struct Throttle {
    limits: Limits,
    counters: Counters,
}

fn quota(limit: Limit) -> Quota {
    let count = NonZeroU32::new(limit.count).unwrap_or(NonZeroU32::MIN);
    let period = (limit.window / limit.count.max(1)).max(Duration::from_nanos(1));
    Quota::with_period(period)
        .unwrap_or_else(|| Quota::per_second(count))
        .allow_burst(count)
}

impl Throttle {
    pub fn in_memory(limits: Limits) -> Self {
        let limiters = Rule::ALL
            .into_iter()
            .map(|rule| {
                let limiter = RateLimiter::keyed(quota(limits.of(rule)))
                    .with_middleware::<StateInformationMiddleware>();
                (rule, limiter)
            })
            .collect();
        Self {
            limits,
            counters: Counters::Memory(Memory {
                limiters,
                blocked: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// Counters in Redis under `prefix`, shared by every replica. Each
    /// counter is one key, so its commands stay in one slot of a Redis
    /// Cluster.
    pub fn in_redis(limits: Limits, connection: RedisConnection, prefix: &str) -> Self {
        Self {
            limits,
            counters: Counters::Redis {
                connection,
                prefix: format!("{prefix}ratelimit:"),
            },
        }
    }

    fn exceeded(&self, rule: Rule, retry_after: Duration) -> Exceeded {
        Exceeded {
            rule,
            limit: self.limits.of(rule),
            retry_after: retry_after.max(Duration::from_secs(1)),
        }
    }

    /// Counts one request under `key`; `Err` when it is over the limit.
    /// When the counters cannot be reached the request is let through (and
    /// logged): a Redis outage must not lock everyone out.
    pub async fn hit(&self, rule: Rule, key: &str) -> Result<(), Exceeded> {
        match &self.counters {
            Counters::Memory(memory) => match memory.limiters[&rule].check_key(&key.to_owned()) {
                Ok(snapshot) => {
                    // The last allowed failure: later checks refuse until a
                    // cell is free again.
                    if rule == Rule::LoginFailure && snapshot.remaining_burst_capacity() == 0 {
                        let wait = snapshot.quota().replenish_interval();
                        let until = std::time::Instant::now() + wait;
                        lock(&memory.blocked).insert((rule, key.to_owned()), until);
                    }
                    Ok(())
                }
                Err(not_until) => {
                    let wait = not_until.wait_time_from(DefaultClock::default().now());
                    if rule == Rule::LoginFailure {
                        let until = std::time::Instant::now() + wait;
                        lock(&memory.blocked).insert((rule, key.to_owned()), until);
                    }
                    Err(self.exceeded(rule, wait))
                }
            },
            Counters::Redis { connection, prefix } => {
                let limit = self.limits.of(rule);
                let counter = counter_key(prefix, rule, key);
                let mut connection = connection.clone();
                // The window opens with the first request it counts.
                let counted: Result<(u32, i64), _> = redis::pipe()
                    .atomic()
                    .incr(&counter, 1)
                    .cmd("PEXPIRE")
                    .arg(&counter)
                    .arg(limit.window.as_millis() as u64)
                    .arg("NX")
                    .ignore()
                    .cmd("PTTL")
                    .arg(&counter)
                    .query_async(&mut connection)
                    .await;
                match counted {
                    Ok((count, left)) if count > limit.count => {
                        Err(self.exceeded(rule, Duration::from_millis(left.max(0) as u64)))
                    }
                    Ok(_) => Ok(()),
                    Err(err) => {
                        metrics::counter!(shared::metrics::REDIS_ERRORS, "op" => "rate_limit")
                            .increment(1);
                        tracing::warn!(error = %err, "rate-limit counters unreachable; letting the request through");
                        Ok(())
                    }
                }
            }
        }
    }

    /// Whether `key` is over the limit of `rule` now, without counting.
    pub async fn check(&self, rule: Rule, key: &str) -> Result<(), Exceeded> {
        match &self.counters {
            Counters::Memory(memory) => {
                let mut blocked = lock(&memory.blocked);
                let entry = (rule, key.to_owned());
                match blocked.get(&entry).copied() {
                    Some(until) if until > std::time::Instant::now() => {
                        Err(self.exceeded(rule, until - std::time::Instant::now()))
                    }
                    Some(_) => {
                        blocked.remove(&entry);
                        Ok(())
                    }
                    None => Ok(()),
                }
            }
            Counters::Redis { connection, prefix } => {
                let limit = self.limits.of(rule);
                let counter = counter_key(prefix, rule, key);
                let mut connection = connection.clone();
                let counted: Result<(Option<u32>, i64), _> = redis::pipe()
                    .get(&counter)
                    .cmd("PTTL")
                    .arg(&counter)
                    .query_async(&mut connection)
                    .await;
                match counted {
                    Ok((Some(count), left)) if count >= limit.count => {
                        Err(self.exceeded(rule, Duration::from_millis(left.max(0) as u64)))
                    }
                    Ok(_) => Ok(()),
                    Err(err) => {
                        metrics::counter!(shared::metrics::REDIS_ERRORS, "op" => "rate_limit")
                            .increment(1);
                        tracing::warn!(error = %err, "rate-limit counters unreachable; letting the request through");
                        Ok(())
                    }
                }
            }
        }
    }

    /// Forgets in-memory state that no longer limits anyone.
    pub fn forget_stale(&self) {
        if let Counters::Memory(memory) = &self.counters {
            for limiter in memory.limiters.values() {
                limiter.retain_recent();
            }
            let now = std::time::Instant::now();
            lock(&memory.blocked).retain(|_, until| *until > now);
        }
    }
}

/// The Redis key counting `key` under `rule`.
fn counter_key(prefix: &str, rule: Rule, key: &str) -> String {
    format!("{prefix}{}:{key}", rule.name())
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// An address block (`10.0.0.0/8`, `::1/128`, or a single address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    address: IpAddr,
    prefix: u8,
}

impl FromStr for Network {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let bad = || format!("`{value}` is not an address or address/prefix");
        let (address, prefix) = match value.trim().split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (value.trim(), None),
        };
        let address: IpAddr = address.parse().map_err(|_| bad())?;
        let max = if address.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(prefix) => prefix.parse::<u8>().map_err(|_| bad())?,
            None => max,
        };
        if prefix > max {
            return Err(bad());
        }
        Ok(Network { address, prefix })
    }
}

impl Network {
    pub fn contains(&self, address: IpAddr) -> bool {
        let address = match (self.address, address) {
            (IpAddr::V4(_), IpAddr::V6(v6)) => {
                v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(address)
            }
            _ => address,
        };
        match (self.address, address) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// The client's address: the peer's, unless the peer is a trusted proxy;
/// then the nearest address in `X-Forwarded-For` (or `Forwarded: for=`)
/// that is not itself a trusted proxy. Headers from anyone else are
/// ignored, so a client cannot choose its own key.
pub fn client_address(
    peer: Option<IpAddr>,
    forwarded_for: Option<&str>,
    forwarded: Option<&str>,
    trusted: &[Network],
) -> Option<IpAddr> {
    let peer = peer?;
    let is_trusted = |address: IpAddr| trusted.iter().any(|network| network.contains(address));
    if !is_trusted(peer) {
        return Some(peer);
    }
    let hops: Vec<IpAddr> = match (forwarded_for, forwarded) {
        (Some(list), _) => list
            .split(',')
            .filter_map(|hop| hop.trim().parse().ok())
            .collect(),
        (None, Some(forwarded)) => forwarded
            .split([',', ';'])
            .filter_map(|part| {
                let value = part.trim().strip_prefix("for=")?;
                let value = value.trim_matches('"');
                let value = value
                    .strip_prefix('[')
                    .and_then(|v| v.split(']').next())
                    .unwrap_or(value);
                value.parse().ok()
            })
            .collect(),
        (None, None) => Vec::new(),
    };
    Some(
        hops.into_iter()
            .rev()
            .find(|hop| !is_trusted(*hop))
            .unwrap_or(peer),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_and_networks_parse() {
        assert_eq!(
            "30/60".parse::<Limit>(),
            Ok(Limit {
                count: 30,
                window: Duration::from_secs(60)
            })
        );
        assert!("30".parse::<Limit>().is_err() && "0/60".parse::<Limit>().is_err());
        let private: Network = "10.0.0.0/8".parse().unwrap();
        assert!(private.contains("10.1.2.3".parse().unwrap()));
        assert!(!private.contains("11.1.2.3".parse().unwrap()));
        assert!(private.contains("::ffff:10.0.0.1".parse().unwrap()));
        let one: Network = "::1".parse().unwrap();
        assert!(one.contains("::1".parse().unwrap()));
        assert!("10.0.0.0/33".parse::<Network>().is_err());
    }

    #[test]
    fn forwarded_headers_count_only_from_trusted_proxies() {
        let trusted = vec!["10.0.0.0/8".parse().unwrap()];
        let proxy = Some("10.0.0.5".parse().unwrap());
        let stranger = Some("203.0.113.9".parse().unwrap());
        let spoofed = Some("1.2.3.4, 5.6.7.8");
        assert_eq!(client_address(stranger, spoofed, None, &trusted), stranger);
        assert_eq!(
            client_address(
                proxy,
                Some("1.2.3.4, 198.51.100.7, 10.0.0.9"),
                None,
                &trusted
            ),
            Some("198.51.100.7".parse().unwrap())
        );
        assert_eq!(
            client_address(
                proxy,
                None,
                Some("for=\"[2001:db8::1]:4711\";proto=https"),
                &trusted
            ),
            Some("2001:db8::1".parse().unwrap())
        );
        assert_eq!(client_address(proxy, None, None, &trusted), proxy);
        assert_eq!(client_address(proxy, spoofed, None, &[]), proxy);
    }

    #[tokio::test]
    async fn failures_block_without_counting_checks() {
        let limits = Limits {
            login_failure: Limit {
                count: 2,
                window: Duration::from_secs(60),
            },
            ..Limits::default()
        };
        let throttle = Throttle::in_memory(limits);
        let key = "7|10.0.0.1";
        for _ in 0..5 {
            assert!(throttle.check(Rule::LoginFailure, key).await.is_ok());
        }
        assert!(throttle.hit(Rule::LoginFailure, key).await.is_ok());
        assert!(throttle.check(Rule::LoginFailure, key).await.is_ok());
        assert!(throttle.hit(Rule::LoginFailure, key).await.is_ok());
        // Two failures: the next attempt is refused before it is counted.
        let refused = throttle.check(Rule::LoginFailure, key).await.unwrap_err();
        assert!(refused.retry_after >= Duration::from_secs(1));
        assert!(
            throttle
                .check(Rule::LoginFailure, "7|10.0.0.2")
                .await
                .is_ok()
        );
    }
}
