//! The accept loop: every connection the [`GuardedAcceptor`] lets in is
//! served by hyper (HTTP/1.1, or HTTP/2 when the client starts with its
//! preface), each request handed to the service's endpoint, until the
//! service stops.
//!
//! Answers leave with vectored writes: a body (a kept list's shared bytes,
//! hundreds of kilobytes) goes to the socket as it is, beside the head,
//! instead of being copied into the connection's write buffer, a buffer
//! that would keep the largest answer's size for as long as the client
//! keeps the connection alive.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use poem::http::uri::Scheme;
use poem::listener::Acceptor;
use poem::web::{LocalAddr, RemoteAddr};
use poem::{Endpoint, EndpointExt, Request, Response};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::connections::{GuardedAcceptor, GuardedStream};

/// Serves the connections `acceptor` lets in with `app` until `stopping`
/// completes; then the listener closes (new connections are refused), each
/// open connection finishes the request it is answering and closes, and
/// those still open after `grace` are cut.
pub async fn serve_until(
    mut acceptor: GuardedAcceptor,
    app: impl Endpoint + 'static,
    stopping: impl Future<Output = ()>,
    grace: Duration,
) -> io::Result<()> {
    let app = Arc::new(app.map_to_response());
    let protocols = Arc::new(protocols());
    let connections = TaskTracker::new();
    // Asks every connection to close once its request in flight is answered.
    let closing = CancellationToken::new();
    // Ends the connections still open when the grace is over.
    let cutting = CancellationToken::new();
    tokio::pin!(stopping);
    loop {
        let (stream, local, remote, scheme) = tokio::select! {
            () = &mut stopping => break,
            accepted = acceptor.accept() => accepted?,
        };
        let connection = serve_connection(
            stream,
            Peer {
                local,
                remote,
                scheme,
            },
            app.clone(),
            protocols.clone(),
            closing.clone(),
        );
        let cutting = cutting.clone();
        connections.spawn(async move {
            tokio::select! {
                () = connection => {}
                () = cutting.cancelled() => {}
            }
        });
    }
    drop(acceptor);
    closing.cancel();
    connections.close();
    if tokio::time::timeout(grace, connections.wait())
        .await
        .is_err()
    {
        tracing::warn!(
            connections = connections.len(),
            "the shutdown grace is over: cutting the connections still open"
        );
        cutting.cancel();
        connections.wait().await;
    }
    Ok(())
}

/// The HTTP settings of every connection.
fn protocols() -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // Queue the body's chunks beside the head rather than flatten them
    // into one buffer (the connection's stream writes them in one call).
    builder.http1().writev(true);
    builder
        .http2()
        .max_pending_accept_reset_streams(20)
        .max_header_list_size(16 * 1024);
    builder
}

/// Who a connection is between, as each of its requests tells handlers.
struct Peer {
    local: LocalAddr,
    remote: RemoteAddr,
    scheme: Scheme,
}

/// Serves one connection until the client closes it, a deadline of the
/// [`GuardedStream`] ends it, or `closing` asks it to close after the
/// request it is answering.
async fn serve_connection<E>(
    stream: GuardedStream,
    peer: Peer,
    app: Arc<E>,
    protocols: Arc<auto::Builder<TokioExecutor>>,
    closing: CancellationToken,
) where
    E: Endpoint<Output = Response> + 'static,
{
    let peer = Arc::new(peer);
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let app = app.clone();
        let request = Request::from((
            request,
            peer.local.clone(),
            peer.remote.clone(),
            peer.scheme.clone(),
        ));
        async move {
            let answer = app.get_response(request).await;
            Ok::<_, Infallible>(hyper::Response::<BoxBody<Bytes, io::Error>>::from(answer))
        }
    });
    let connection = protocols.serve_connection_with_upgrades(TokioIo::new(stream), service);
    tokio::pin!(connection);
    let ended = tokio::select! {
        ended = connection.as_mut() => Some(ended),
        () = closing.cancelled() => None,
    };
    let ended = match ended {
        Some(ended) => ended,
        None => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(err) = ended {
        // A client gone mid-request, a deadline, a malformed request: the
        // connection's own business, not the service's.
        tracing::debug!(error = %err, "connection ended");
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;
    use std::time::Instant;

    use poem::{Route, get, handler};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::sync::oneshot;

    use super::*;
    use crate::connections::ConnectionLimits;

    /// 3 MiB that no two positions of a shifted copy would match.
    fn large() -> Bytes {
        (0..3 * 1024 * 1024u32)
            .map(|i| (i % 251) as u8)
            .collect::<Vec<u8>>()
            .into()
    }

    #[handler]
    fn large_answer() -> Bytes {
        large()
    }

    #[handler]
    async fn slow() -> &'static str {
        tokio::time::sleep(Duration::from_millis(400)).await;
        "done"
    }

    #[handler]
    async fn stuck() -> &'static str {
        tokio::time::sleep(Duration::from_secs(600)).await;
        "never"
    }

    struct Serving {
        address: SocketAddr,
        stop: oneshot::Sender<()>,
        stopped: tokio::task::JoinHandle<io::Result<()>>,
    }

    async fn start(grace: Duration) -> Serving {
        let (acceptor, address) = crate::http::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .unwrap();
        let app = Route::new()
            .at("/large", get(large_answer))
            .at("/slow", get(slow))
            .at("/stuck", get(stuck));
        let (stop, stopping) = oneshot::channel::<()>();
        let stopped = tokio::spawn(serve_until(
            GuardedAcceptor::new(acceptor, ConnectionLimits::default()),
            app,
            async move {
                let _ = stopping.await;
            },
            grace,
        ));
        Serving {
            address,
            stop,
            stopped,
        }
    }

    #[tokio::test]
    async fn large_answers_arrive_whole_on_one_kept_alive_connection() {
        let serving = start(Duration::from_secs(5)).await;
        let mut client = tokio::net::TcpStream::connect(serving.address)
            .await
            .unwrap();
        let expected = large();
        for _ in 0..2 {
            client
                .write_all(b"GET /large HTTP/1.1\r\nHost: test\r\n\r\n")
                .await
                .unwrap();
            // The head, byte by byte up to its end, then exactly the body.
            let mut head = Vec::new();
            while !head.ends_with(b"\r\n\r\n") {
                head.push(client.read_u8().await.unwrap());
            }
            let head = String::from_utf8(head).unwrap();
            assert!(head.starts_with("HTTP/1.1 200"), "{head}");
            assert!(
                head.to_ascii_lowercase()
                    .contains(&format!("content-length: {}\r\n", expected.len())),
                "{head}"
            );
            let mut body = vec![0; expected.len()];
            client.read_exact(&mut body).await.unwrap();
            assert!(body == expected, "the body arrives as answered");
        }
        serving.stop.send(()).unwrap();
        serving.stopped.await.unwrap().unwrap();
    }

    #[tokio::test]
    async fn stopping_answers_the_request_in_flight_closes_idle_connections_and_refuses_new_ones() {
        let serving = start(Duration::from_secs(30)).await;
        let url = format!("http://{}", serving.address);
        let client = reqwest::Client::new();
        // An idle kept-alive connection does not hold the stop up.
        let idle = reqwest::Client::new();
        let warmed = idle.get(format!("{url}/large")).send().await.unwrap();
        assert_eq!(warmed.bytes().await.unwrap().len(), large().len());
        let in_flight = tokio::spawn({
            let client = client.clone();
            let url = url.clone();
            async move { client.get(format!("{url}/slow")).send().await }
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        let asked = Instant::now();
        serving.stop.send(()).unwrap();
        let answer = in_flight.await.unwrap().unwrap();
        assert_eq!(answer.status(), reqwest::StatusCode::OK);
        assert_eq!(answer.text().await.unwrap(), "done");
        tokio::time::timeout(Duration::from_secs(5), serving.stopped)
            .await
            .expect("stopped without waiting for the idle connection or the grace")
            .unwrap()
            .unwrap();
        assert!(asked.elapsed() < Duration::from_secs(5));
        assert!(
            tokio::net::TcpStream::connect(serving.address)
                .await
                .is_err(),
            "the listener is closed"
        );
    }

    #[tokio::test]
    async fn connections_still_answering_when_the_grace_is_over_are_cut() {
        let serving = start(Duration::from_millis(300)).await;
        let url = format!("http://{}", serving.address);
        let waiting = tokio::spawn(async move { reqwest::get(format!("{url}/stuck")).await });
        tokio::time::sleep(Duration::from_millis(100)).await;
        serving.stop.send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(5), serving.stopped)
            .await
            .expect("the grace bounds the stop")
            .unwrap()
            .unwrap();
        let cut = tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .expect("the client learns its connection was cut")
            .unwrap();
        assert!(cut.is_err(), "no answer: {cut:?}");
    }
}
