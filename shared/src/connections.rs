//! What the listener does for every connection before HTTP sees it: a cap
//! on open connections, a deadline for a request's headers, a stall timeout
//! while its body arrives, an idle timeout between requests, and a way for
//! a request to learn that its client hung up ([`while_connected`]), so
//! that work nobody waits for (a queued password hash) is dropped.
//!
//! The deadlines apply only while the HTTP server is reading: a handler
//! that takes its time (a long poll) is never cut short by them.

use std::collections::HashMap;
use std::io::{self, IoSlice};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use poem::http::uri::Scheme;
use poem::listener::{Acceptor, TcpAcceptor};
use poem::web::{LocalAddr, RemoteAddr};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};

use crate::config::{ConfigError, EnvSource};

/// How long connections may take, and how many there may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// `*_MAX_CONNECTIONS` (default 4096): open connections beyond this are
    /// closed as soon as they are accepted.
    pub max_connections: usize,
    /// `*_HEADER_TIMEOUT` (seconds, default 10): from a request's first
    /// byte to the end of its headers.
    pub header_timeout: Duration,
    /// `*_BODY_TIMEOUT` (seconds, default 30): the longest pause while a
    /// request body arrives.
    pub body_timeout: Duration,
    /// `*_IDLE_TIMEOUT` (seconds, default 60): the longest wait for the next
    /// request on a kept-alive connection.
    pub idle_timeout: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            max_connections: 4096,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
        }
    }
}

impl ConnectionLimits {
    pub fn from_source(env: &EnvSource<'_>) -> Result<Self, ConfigError> {
        let defaults = Self::default();
        let positive = |name: &str, value: Duration| {
            if value.is_zero() {
                Err(ConfigError {
                    name: env.key(name),
                    reason: "must be at least 1 second".to_owned(),
                })
            } else {
                Ok(value)
            }
        };
        let max_connections = env.parse("MAX_CONNECTIONS", defaults.max_connections)?;
        if max_connections == 0 {
            return Err(ConfigError {
                name: env.key("MAX_CONNECTIONS"),
                reason: "must be at least 1".to_owned(),
            });
        }
        Ok(Self {
            max_connections,
            header_timeout: positive(
                "HEADER_TIMEOUT",
                env.seconds("HEADER_TIMEOUT", defaults.header_timeout)?,
            )?,
            body_timeout: positive(
                "BODY_TIMEOUT",
                env.seconds("BODY_TIMEOUT", defaults.body_timeout)?,
            )?,
            idle_timeout: positive(
                "IDLE_TIMEOUT",
                env.seconds("IDLE_TIMEOUT", defaults.idle_timeout)?,
            )?,
        })
    }
}

/// The open connections of this process, by (local, peer) address, so a
/// request can watch its own for the client hanging up.
type Registry = Mutex<HashMap<(SocketAddr, SocketAddr), Weak<TcpStream>>>;

fn registry() -> &'static Registry {
    static OPEN: OnceLock<Registry> = OnceLock::new();
    OPEN.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Accepts TCP connections within [`ConnectionLimits`].
pub struct GuardedAcceptor {
    inner: TcpAcceptor,
    limits: ConnectionLimits,
    permits: Arc<Semaphore>,
}

impl GuardedAcceptor {
    pub fn new(inner: TcpAcceptor, limits: ConnectionLimits) -> Self {
        Self {
            inner,
            permits: Arc::new(Semaphore::new(limits.max_connections)),
            limits,
        }
    }
}

impl Acceptor for GuardedAcceptor {
    type Io = GuardedStream;

    fn local_addr(&self) -> Vec<LocalAddr> {
        self.inner.local_addr()
    }

    async fn accept(&mut self) -> io::Result<(Self::Io, LocalAddr, RemoteAddr, Scheme)> {
        loop {
            let (stream, local, remote, scheme) = match self.inner.accept().await {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors, or a connection reset before
                    // it was taken: wait a little rather than spin.
                    tracing::warn!(error = %err, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let Ok(permit) = self.permits.clone().try_acquire_owned() else {
                tracing::debug!(
                    max = self.limits.max_connections,
                    "connection limit reached; closing a new connection"
                );
                continue;
            };
            let _ = stream.set_nodelay(true);
            let stream = Arc::new(stream);
            let key = match (local.as_socket_addr(), remote.as_socket_addr()) {
                (Some(local), Some(remote)) => {
                    let key = (*local, *remote);
                    lock(registry()).insert(key, Arc::downgrade(&stream));
                    Some(key)
                }
                _ => None,
            };
            let io = GuardedStream {
                stream,
                limits: self.limits,
                phase: Phase::Idle,
                timer: Box::pin(tokio::time::sleep(self.limits.idle_timeout)),
                matched: 0,
                key,
                _permit: permit,
            };
            return Ok((io, local, remote, scheme));
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Where a connection is between requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for the next request (after a response, or at connect).
    Idle,
    /// A request's headers are arriving.
    Headers,
    /// The headers are in: a body may be arriving, or the handler works.
    Body,
}

/// A connection under the listener's deadlines.
pub struct GuardedStream {
    stream: Arc<TcpStream>,
    limits: ConnectionLimits,
    phase: Phase,
    /// When the current phase's deadline passes (checked while reading).
    timer: Pin<Box<Sleep>>,
    /// How much of `\r\n\r\n` (the end of the headers) the last bytes read
    /// matched, across reads.
    matched: u8,
    key: Option<(SocketAddr, SocketAddr)>,
    _permit: OwnedSemaphorePermit,
}

impl Drop for GuardedStream {
    fn drop(&mut self) {
        if let Some(key) = self.key {
            lock(registry()).remove(&key);
        }
    }
}

impl GuardedStream {
    fn restart_timer(&mut self, after: Duration) {
        self.timer.as_mut().reset(Instant::now() + after);
    }

    /// An answer is going out: `write` sends what the socket takes of it,
    /// once it can take some, and the next request is awaited from now on.
    fn send(
        &mut self,
        cx: &mut Context<'_>,
        write: impl Fn(&TcpStream) -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        self.phase = Phase::Idle;
        self.restart_timer(self.limits.idle_timeout);
        loop {
            ready!(self.stream.poll_write_ready(cx))?;
            match write(&self.stream) {
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => continue,
                result => return Poll::Ready(result),
            }
        }
    }

    /// Follows the request through the bytes just read.
    fn saw(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        match self.phase {
            Phase::Idle => {
                self.phase = Phase::Headers;
                self.matched = 0;
                self.restart_timer(self.limits.header_timeout);
                self.scan_headers(bytes);
            }
            Phase::Headers => self.scan_headers(bytes),
            // A body's bytes: the stall timer starts again.
            Phase::Body => self.restart_timer(self.limits.body_timeout),
        }
    }

    fn scan_headers(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.matched = match (self.matched, byte) {
                (0 | 2, b'\r') => self.matched + 1,
                (1 | 3, b'\n') => self.matched + 1,
                (_, b'\r') => 1,
                _ => 0,
            };
            if self.matched == 4 {
                self.phase = Phase::Body;
                self.restart_timer(self.limits.body_timeout);
                return;
            }
        }
    }
}

impl AsyncRead for GuardedStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        loop {
            // Bytes already waiting are always taken, however late the
            // server comes to read them; the deadline only ends a wait.
            if self.stream.poll_read_ready(cx)?.is_pending() {
                if self.timer.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                let what = match self.phase {
                    Phase::Idle => "idle",
                    Phase::Headers => "request headers",
                    Phase::Body => "request body",
                };
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("{what} timed out"),
                )));
            }
            let unfilled = buf.initialize_unfilled();
            match self.stream.try_read(unfilled) {
                Ok(read) => {
                    let start = buf.filled().len();
                    buf.advance(read);
                    self.saw(&buf.filled()[start..]);
                    return Poll::Ready(Ok(()));
                }
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => continue,
                Err(err) => return Poll::Ready(Err(err)),
            }
        }
    }
}

impl AsyncWrite for GuardedStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.send(cx, |stream| stream.try_write(data))
    }

    /// The head and the body's chunks in one system call, none of them
    /// copied first.
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        parts: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.send(cx, |stream| stream.try_write_vectored(parts))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let socket = socket2::SockRef::from(self.stream.as_ref());
        match socket.shutdown(std::net::Shutdown::Write) {
            Err(err) if err.kind() != io::ErrorKind::NotConnected => Poll::Ready(Err(err)),
            _ => Poll::Ready(Ok(())),
        }
    }
}

/// Runs `work` for the request, unless its client hangs up first: then the
/// work is dropped (and with it whatever it queued) and `None` answers.
pub async fn while_connected<T>(
    request: &poem::Request,
    work: impl Future<Output = T>,
) -> Option<T> {
    let key = match (
        request.local_addr().as_socket_addr(),
        request.remote_addr().as_socket_addr(),
    ) {
        (Some(local), Some(remote)) => (*local, *remote),
        _ => return Some(work.await),
    };
    let stream = lock(registry()).get(&key).and_then(Weak::upgrade);
    let Some(stream) = stream else {
        return Some(work.await);
    };
    tokio::select! {
        done = work => Some(done),
        () = hung_up(&stream) => None,
    }
}

/// Completes once the peer has closed the connection (its end of the
/// stream is read, nothing else is consumed).
async fn hung_up(stream: &TcpStream) {
    let mut probe = [0u8; 1];
    loop {
        match stream.peek(&mut probe).await {
            Ok(0) | Err(_) => return,
            // Data waits for the server (a pipelined request): look again later.
            Ok(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}
