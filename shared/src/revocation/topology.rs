//! Which Redis deployment a process speaks to, and its one connection to it.
//!
//! One setting (`*_REDIS_URL`) picks the topology by its scheme:
//! - `redis://[[user]:password@]host[:port][/db]` (or `redis+unix://`,
//!   `unix://`): one server, through the crate's `ConnectionManager`.
//! - `redis+sentinel://[[user]:password@]host[:port][,host[:port]…]/master[/db]`
//!   `[?sentinel_username=…&sentinel_password=…]`: the current master of
//!   `master` as the listed sentinels name it (port 26379 by default). The
//!   user and password are the data nodes'; the sentinels' own, if they
//!   have any, go in the query.
//! - `redis+cluster://[[user]:password@]host[:port][,host[:port]…]`: a Redis
//!   Cluster found from these seed nodes (port 6379 by default).
//!
//! [`RedisConnection`] is one cloneable handle over any of them and is what
//! every user of Redis (the revocation feed, auth's throttle) queries.
//!
//! Sentinel follows the Sentinel clients' protocol: ask the sentinels in
//! turn `SENTINEL GET-MASTER-ADDR-BY-NAME`, connect to that address and
//! check with `ROLE` that it is a master. The handle keeps one multiplexed
//! connection to it, asks again every [`WATCH_EVERY`] and moves to a new
//! master as soon as the sentinels name one (a failover: the old master
//! still accepts writes until the sentinels demote it, seconds later), or
//! after any connection error. [`RedisConnection::epoch`] counts the
//! masters seen, so a reader can start over from a snapshot of the new one.
//! (The crate's own `sentinel::Sentinel` picks the master from `SENTINEL
//! MASTERS`, which during a failover may still name the old master while it
//! answers `ROLE` as one: clients would flip between the two.)

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use redis::aio::{
    ConnectionLike, ConnectionManager, ConnectionManagerConfig, MultiplexedConnection,
};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::{
    AsyncConnectionConfig, Cmd, ConnectionAddr, ErrorKind, IntoConnectionInfo, Pipeline,
    RedisError, RedisFuture, RedisResult, Value,
};

/// How often a Sentinel connection asks which master is current.
pub const WATCH_EVERY: Duration = Duration::from_millis(500);
/// How long connecting (to a server, or to the sentinels) may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
const SENTINEL_PORT: u16 = 26379;
const REDIS_PORT: u16 = 6379;

/// A parsed `*_REDIS_URL`: which deployment, and how to reach it.
#[derive(Clone)]
pub enum RedisTarget {
    /// One server (its URL, for the crate to parse).
    Single(String),
    Sentinel {
        /// `redis://[credentials@]host:port` of each sentinel.
        sentinels: Vec<String>,
        /// The name the sentinels monitor the master under.
        master: String,
        /// Credentials and database of the master.
        node: redis::RedisConnectionInfo,
    },
    Cluster {
        /// `redis://[credentials@]host:port` of each seed node.
        nodes: Vec<String>,
    },
}

impl std::fmt::Debug for RedisTarget {
    /// Never shows credentials.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

/// Why a Redis URL is refused: one line, without the URL (it may hold a
/// password).
fn refused(reason: &str) -> String {
    reason.to_owned()
}

const FORMS: &str = "redis://[:password@]host[:port][/db], \
redis+sentinel://[:password@]host[:port][,host[:port]…]/master[/db] or \
redis+cluster://[:password@]host[:port][,host[:port]…]";

/// `host[:port]` or `[v6]:port`, with the default port added when missing.
fn host_port(item: &str, default_port: u16) -> Result<String, String> {
    let item = item.trim();
    if item.is_empty() {
        return Err(refused("an empty host in the list of hosts"));
    }
    let has_port = match item.strip_prefix('[') {
        Some(v6) => {
            let (_, after) = v6
                .split_once(']')
                .ok_or_else(|| refused("an IPv6 host without its closing bracket"))?;
            after.starts_with(':')
        }
        None => item.contains(':'),
    };
    Ok(if has_port {
        item.to_owned()
    } else {
        format!("{item}:{default_port}")
    })
}

/// Parses `user:password@hosts/path?query` into its parts.
struct Parts<'a> {
    userinfo: Option<&'a str>,
    hosts: Vec<&'a str>,
    path: Vec<&'a str>,
    query: Vec<(&'a str, &'a str)>,
}

fn parts(rest: &str) -> Result<Parts<'_>, String> {
    let (rest, query) = match rest.split_once('?') {
        Some((rest, query)) => (rest, query),
        None => (rest, ""),
    };
    let (authority, path) = match rest.split_once('/') {
        Some((authority, path)) => (authority, path),
        None => (rest, ""),
    };
    let (userinfo, hosts) = match authority.rsplit_once('@') {
        Some((userinfo, hosts)) => (Some(userinfo), hosts),
        None => (None, authority),
    };
    let query = query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| pair.split_once('=').unwrap_or((pair, "")))
        .collect();
    Ok(Parts {
        userinfo,
        hosts: hosts.split(',').collect(),
        path: path.split('/').filter(|part| !part.is_empty()).collect(),
        query,
    })
}

/// `redis://[userinfo@]host:port[/db]`, checked by the crate's own parser.
fn node_url(userinfo: Option<&str>, host_port: &str, db: Option<&str>) -> Result<String, String> {
    let mut url = String::from("redis://");
    if let Some(userinfo) = userinfo {
        url.push_str(userinfo);
        url.push('@');
    }
    url.push_str(host_port);
    if let Some(db) = db {
        url.push('/');
        url.push_str(db);
    }
    url.as_str().into_connection_info().map_err(|_| {
        refused("a host, port, database or credentials the Redis client cannot read")
    })?;
    Ok(url)
}

impl RedisTarget {
    /// Reads a `*_REDIS_URL`; the error is one line that never repeats the
    /// URL (it may carry a password).
    pub fn parse(url: &str) -> Result<Self, String> {
        let url = url.trim();
        let Some((scheme, rest)) = url.split_once("://") else {
            return Err(format!("not a Redis URL: {FORMS}"));
        };
        match scheme {
            "redis" | "redis+unix" | "unix" => match url.into_connection_info() {
                Ok(_) => Ok(Self::Single(url.to_owned())),
                Err(_) => Err(format!(
                    "not a Redis URL (the client cannot read it): {FORMS}"
                )),
            },
            "redis+sentinel" | "redis-sentinel" | "sentinel" => Self::sentinel(rest),
            "redis+cluster" | "redis-cluster" | "cluster" => Self::cluster(rest),
            "rediss" | "rediss+sentinel" | "rediss+cluster" => Err(
                "TLS (rediss://) is not supported by this build; use redis:// on a trusted network"
                    .to_owned(),
            ),
            _ => Err(format!("not a Redis URL: {FORMS}")),
        }
    }

    fn sentinel(rest: &str) -> Result<Self, String> {
        let parts = parts(rest)?;
        let (master, db) = match parts.path.as_slice() {
            [master] => (*master, None),
            [master, db] => (*master, Some(*db)),
            _ => {
                return Err(refused(
                    "a Sentinel URL names the master after the hosts: redis+sentinel://host:26379[,host:26379…]/master[/db]",
                ));
            }
        };
        if db.is_some_and(|db| db.parse::<u16>().is_err()) {
            return Err(refused(
                "the database after the master's name is not a number",
            ));
        }
        let mut sentinel_user = None;
        let mut sentinel_password = None;
        for (name, value) in &parts.query {
            match *name {
                "sentinel_username" => sentinel_user = Some(*value),
                "sentinel_password" => sentinel_password = Some(*value),
                _ => {
                    return Err(refused(
                        "a Sentinel URL takes only sentinel_username and sentinel_password as query parameters",
                    ));
                }
            }
        }
        let sentinel_userinfo = match (sentinel_user, sentinel_password) {
            (None, None) => None,
            (user, password) => Some(format!(
                "{}:{}",
                user.unwrap_or_default(),
                password.unwrap_or_default()
            )),
        };
        let mut sentinels = Vec::new();
        for host in &parts.hosts {
            let address = host_port(host, SENTINEL_PORT)?;
            sentinels.push(node_url(sentinel_userinfo.as_deref(), &address, None)?);
        }
        // The master's credentials and database, read by the crate.
        let first = host_port(parts.hosts[0], REDIS_PORT)?;
        let node = node_url(parts.userinfo, &first, db)?
            .as_str()
            .into_connection_info()
            .map_err(|_| refused("credentials the Redis client cannot read"))?
            .redis_settings()
            .clone();
        Ok(Self::Sentinel {
            sentinels,
            master: master.to_owned(),
            node,
        })
    }

    fn cluster(rest: &str) -> Result<Self, String> {
        let parts = parts(rest)?;
        if !parts.path.is_empty() || !parts.query.is_empty() {
            return Err(refused(
                "a Cluster URL is only its seed nodes (a cluster has database 0 alone): redis+cluster://host:6379[,host:6379…]",
            ));
        }
        let nodes = parts
            .hosts
            .iter()
            .map(|host| node_url(parts.userinfo, &host_port(host, REDIS_PORT)?, None))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self::Cluster { nodes })
    }

    /// What the target is, for logs: no credentials.
    pub fn describe(&self) -> String {
        let addresses = |urls: &[String]| {
            urls.iter()
                .filter_map(|url| url.as_str().into_connection_info().ok())
                .map(|info| info.addr().to_string())
                .collect::<Vec<_>>()
                .join(",")
        };
        match self {
            Self::Single(url) => match url.as_str().into_connection_info() {
                Ok(info) => format!("single Redis server at {}", info.addr()),
                Err(_) => "single Redis server".to_owned(),
            },
            Self::Sentinel {
                sentinels, master, ..
            } => format!(
                "Redis master {master:?} from the sentinels at {}",
                addresses(sentinels)
            ),
            Self::Cluster { nodes } => {
                format!("Redis Cluster from the seed nodes {}", addresses(nodes))
            }
        }
    }
}

fn invalid(reason: String) -> RedisError {
    RedisError::from((ErrorKind::InvalidClientConfig, "invalid Redis URL", reason))
}

/// The process's handle on Redis, whichever the topology: cheap to clone,
/// every clone sharing the same connection(s). Connections are made on
/// first use and again after they fail, so a process starts without Redis.
#[derive(Clone)]
pub struct RedisConnection(Kind);

#[derive(Clone)]
enum Kind {
    Single(ConnectionManager),
    Sentinel(Arc<SentinelShared>),
    Cluster(ClusterConnection),
}

impl RedisConnection {
    /// Opens a handle on the Redis `url` names (see the module's
    /// documentation); `response_timeout` must exceed any blocking read
    /// made on it. Needs a Tokio runtime.
    pub fn open(url: &str, response_timeout: Duration) -> RedisResult<Self> {
        match RedisTarget::parse(url).map_err(invalid)? {
            RedisTarget::Single(url) => {
                let client = redis::Client::open(url.as_str())?;
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(CONNECT_TIMEOUT))
                    .set_response_timeout(Some(response_timeout))
                    .set_number_of_retries(1)
                    .set_max_delay(Duration::from_millis(200));
                Ok(Self(Kind::Single(ConnectionManager::new_lazy_with_config(
                    client, config,
                )?)))
            }
            RedisTarget::Sentinel {
                sentinels,
                master,
                node,
            } => {
                let lookups = sentinels
                    .iter()
                    .map(|url| redis::Client::open(url.as_str()))
                    .collect::<RedisResult<Vec<_>>>()?;
                let config = AsyncConnectionConfig::new()
                    .set_connection_timeout(Some(CONNECT_TIMEOUT))
                    .set_response_timeout(Some(response_timeout));
                Ok(Self(Kind::Sentinel(Arc::new(SentinelShared {
                    lookups,
                    master,
                    node,
                    config,
                    connecting: tokio::sync::Mutex::new(()),
                    asking: tokio::sync::Mutex::new(None),
                    state: Mutex::new(SentinelState::default()),
                    epoch: AtomicU64::new(0),
                    watching: AtomicBool::new(false),
                }))))
            }
            RedisTarget::Cluster { nodes } => {
                let client = ClusterClient::builder(nodes)
                    .connection_timeout(CONNECT_TIMEOUT)
                    .response_timeout(response_timeout)
                    .overall_response_timeout(Some(response_timeout + CONNECT_TIMEOUT))
                    .retries(2)
                    .min_retry_wait(50)
                    .max_retry_wait(200)
                    .build()?;
                let config = redis::cluster::ClusterConfig::new()
                    .set_connection_timeout(CONNECT_TIMEOUT)
                    .set_response_timeout(response_timeout);
                Ok(Self(Kind::Cluster(
                    client.get_pending_async_connection_with_config(config),
                )))
            }
        }
    }

    /// How many times the master changed under this handle (Sentinel
    /// failovers seen); always 0 for one server or a cluster.
    pub fn epoch(&self) -> u64 {
        match &self.0 {
            Kind::Sentinel(shared) => shared.epoch.load(Ordering::Acquire),
            Kind::Single(_) | Kind::Cluster(_) => 0,
        }
    }
}

impl ConnectionLike for RedisConnection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match &mut self.0 {
            Kind::Single(manager) => manager.req_packed_command(cmd),
            Kind::Cluster(cluster) => cluster.req_packed_command(cmd),
            Kind::Sentinel(shared) => {
                let shared = shared.clone();
                Box::pin(async move {
                    let (mut connection, id) = shared.connection().await?;
                    let answer = connection.req_packed_command(cmd).await;
                    shared.after(id, answer.as_ref().err());
                    answer
                })
            }
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match &mut self.0 {
            Kind::Single(manager) => manager.req_packed_commands(pipeline, offset, count),
            Kind::Cluster(cluster) => cluster.req_packed_commands(pipeline, offset, count),
            Kind::Sentinel(shared) => {
                let shared = shared.clone();
                Box::pin(async move {
                    let (mut connection, id) = shared.connection().await?;
                    let answer = connection
                        .req_packed_commands(pipeline, offset, count)
                        .await;
                    shared.after(id, answer.as_ref().err());
                    answer
                })
            }
        }
    }

    fn get_db(&self) -> i64 {
        match &self.0 {
            Kind::Single(manager) => manager.get_db(),
            Kind::Cluster(cluster) => cluster.get_db(),
            Kind::Sentinel(shared) => shared.node.db(),
        }
    }
}

/// `host:port` of a server.
type Address = (String, u16);

#[derive(Default)]
struct SentinelState {
    /// The connection in use, its id and the master it reaches.
    current: Option<(MultiplexedConnection, u64, Option<Address>)>,
    /// The master last seen (connected to, or named by the sentinels).
    master: Option<Address>,
    next_id: u64,
}

struct SentinelShared {
    /// One client per sentinel.
    lookups: Vec<redis::Client>,
    /// The name the sentinels monitor the master under.
    master: String,
    /// Credentials and database of the master.
    node: redis::RedisConnectionInfo,
    config: AsyncConnectionConfig,
    /// Held while connecting, so that callers wait for one connection.
    connecting: tokio::sync::Mutex<()>,
    /// The sentinel that answered last, and the connection to it.
    asking: tokio::sync::Mutex<Option<(usize, MultiplexedConnection)>>,
    state: Mutex<SentinelState>,
    epoch: AtomicU64,
    watching: AtomicBool,
}

fn lock(state: &Mutex<SentinelState>) -> std::sync::MutexGuard<'_, SentinelState> {
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Whether an error means the connection (or its server's role) is no
/// longer to be trusted: connect again through the sentinels.
fn reconnect_after(err: &RedisError) -> bool {
    err.is_io_error()
        || err.is_connection_dropped()
        || err.is_connection_refusal()
        || err.is_timeout()
        || err.is_unrecoverable_error()
        || matches!(
            err.kind(),
            ErrorKind::Server(
                redis::ServerErrorKind::ReadOnly
                    | redis::ServerErrorKind::MasterDown
                    // A transaction whose write a replica refused.
                    | redis::ServerErrorKind::ExecAbort
            )
        )
        || err.code() == Some("READONLY")
}

impl SentinelShared {
    /// The connection to the current master, made if there is none.
    async fn connection(self: &Arc<Self>) -> RedisResult<(MultiplexedConnection, u64)> {
        if let Some((connection, id, _)) = lock(&self.state).current.clone() {
            return Ok((connection, id));
        }
        let connecting = self.connecting.lock().await;
        // Another caller may have connected while this one waited.
        if let Some((connection, id, _)) = lock(&self.state).current.clone() {
            return Ok((connection, id));
        }
        let connect = async {
            let address = self
                .ask_master()
                .await
                .ok_or_else(|| RedisError::from((ErrorKind::Io, "no sentinel names the master")))?;
            let info = ConnectionAddr::Tcp(address.0.clone(), address.1)
                .into_connection_info()?
                .set_redis_settings(self.node.clone());
            let mut connection = redis::Client::open(info)?
                .get_multiplexed_async_connection_with_config(&self.config)
                .await?;
            let role: redis::Role = redis::cmd("ROLE").query_async(&mut connection).await?;
            if !matches!(role, redis::Role::Primary { .. }) {
                return Err(RedisError::from((
                    ErrorKind::Io,
                    "the server the sentinels name is not a master (yet)",
                )));
            }
            RedisResult::Ok((connection, Some(address)))
        };
        let (connection, address) = tokio::time::timeout(CONNECT_TIMEOUT * 2, connect)
            .await
            .map_err(|_| {
                RedisError::from((ErrorKind::Io, "no master from the sentinels in time"))
            })??;
        drop(connecting);
        let id = {
            let mut state = lock(&self.state);
            state.next_id += 1;
            let id = state.next_id;
            if let Some(address) = &address {
                self.saw_master(&mut state, address);
            }
            state.current = Some((connection.clone(), id, address));
            id
        };
        self.watch();
        Ok((connection, id))
    }

    /// Records the master the sentinels name (or that was reached): a new
    /// one starts a new epoch and retires a connection to another.
    fn saw_master(&self, state: &mut SentinelState, address: &Address) {
        if state.master.as_ref() == Some(address) {
            return;
        }
        if state.master.is_some() {
            self.epoch.fetch_add(1, Ordering::AcqRel);
            tracing::info!(
                master = %format!("{}:{}", address.0, address.1),
                "Redis Sentinel names a new master; moving to it"
            );
        }
        state.master = Some(address.clone());
        if state
            .current
            .as_ref()
            .is_some_and(|(_, _, at)| at.as_ref() != Some(address))
        {
            state.current = None;
        }
    }

    /// After a command on connection `id`: forget the connection when the
    /// error says it is broken or no longer the master's.
    fn after(&self, id: u64, err: Option<&RedisError>) {
        if err.is_some_and(reconnect_after) {
            let mut state = lock(&self.state);
            if state.current.as_ref().is_some_and(|(_, at, _)| *at == id) {
                state.current = None;
            }
        }
    }

    /// Starts (once) the task asking the sentinels which master is current;
    /// it ends when the last handle is dropped.
    fn watch(self: &Arc<Self>) {
        if self.watching.swap(true, Ordering::AcqRel) {
            return;
        }
        let weak: Weak<Self> = Arc::downgrade(self);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(WATCH_EVERY).await;
                let Some(shared) = weak.upgrade() else {
                    return;
                };
                if let Some(address) = shared.ask_master().await {
                    let mut state = lock(&shared.state);
                    shared.saw_master(&mut state, &address);
                }
            }
        });
    }

    /// `SENTINEL GET-MASTER-ADDR-BY-NAME`, from the first sentinel that
    /// answers, starting with the one that answered last (and keeping the
    /// connection to it).
    async fn ask_master(&self) -> Option<Address> {
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(CONNECT_TIMEOUT));
        let mut asking = self.asking.lock().await;
        let start = asking.as_ref().map(|(index, _)| *index).unwrap_or(0);
        for step in 0..self.lookups.len() {
            let index = (start + step) % self.lookups.len();
            let mut connection = match asking.take() {
                Some((at, connection)) if at == index => connection,
                _ => match self.lookups[index]
                    .get_multiplexed_async_connection_with_config(&config)
                    .await
                {
                    Ok(connection) => connection,
                    Err(_) => continue,
                },
            };
            let answer: RedisResult<Option<(String, u16)>> = redis::cmd("SENTINEL")
                .arg("GET-MASTER-ADDR-BY-NAME")
                .arg(&self.master)
                .query_async(&mut connection)
                .await;
            if let Ok(Some(address)) = answer {
                *asking = Some((index, connection));
                return Some(address);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_scheme_picks_its_topology() {
        assert!(matches!(
            RedisTarget::parse("redis://:pw@cache:6379/2"),
            Ok(RedisTarget::Single(url)) if url == "redis://:pw@cache:6379/2"
        ));
        let Ok(RedisTarget::Sentinel {
            sentinels,
            master,
            node,
        }) = RedisTarget::parse(
            "redis+sentinel://:s3cret@s1,s2:26380,[::1]/mymaster/3?sentinel_password=other",
        )
        else {
            panic!("a Sentinel URL");
        };
        assert_eq!(
            sentinels,
            [
                "redis://:other@s1:26379",
                "redis://:other@s2:26380",
                "redis://:other@[::1]:26379"
            ]
        );
        assert_eq!(master, "mymaster");
        assert_eq!(node.password(), Some("s3cret"));
        assert_eq!(node.db(), 3);
        let Ok(RedisTarget::Cluster { nodes }) =
            RedisTarget::parse("redis+cluster://user:pw@n1:7000,n2")
        else {
            panic!("a Cluster URL");
        };
        assert_eq!(
            nodes,
            ["redis://user:pw@n1:7000", "redis://user:pw@n2:6379"]
        );
    }

    #[test]
    fn refusals_are_one_line_without_the_password() {
        for bad in [
            "cache:6379",
            "http://cache:6379",
            "rediss://:s3cret@cache:6380",
            "redis+sentinel://:s3cret@s1:26379",
            "redis+sentinel://:s3cret@s1:26379/mymaster/x",
            "redis+sentinel://:s3cret@s1:26379/mymaster?password=s3cret",
            "redis+sentinel://:s3cret@s1:26379,,s2/mymaster",
            "redis+cluster://:s3cret@n1:7000/1",
            "redis+cluster://:s3cret@n1:notaport",
            "redis://:s3cret@cache:notaport",
        ] {
            let reason = RedisTarget::parse(bad)
                .err()
                .unwrap_or_else(|| panic!("{bad}"));
            assert!(
                !reason.contains("s3cret") && !reason.contains('\n'),
                "{bad}: {reason}"
            );
        }
    }

    #[test]
    fn descriptions_hold_no_credentials() {
        for url in [
            "redis://:s3cret@cache:6379",
            "redis+sentinel://:s3cret@s1,s2/mymaster?sentinel_password=s3cret",
            "redis+cluster://:s3cret@n1,n2",
        ] {
            let target = RedisTarget::parse(url).unwrap();
            let described = format!("{} {target:?}", target.describe());
            assert!(!described.contains("s3cret"), "{described}");
        }
    }
}
