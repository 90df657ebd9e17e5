//! What every service's command line shares.

use std::net::SocketAddr;
use std::time::Duration;

/// The command given as the first argument (`serve` when none).
pub fn command() -> String {
    std::env::args()
        .nth(1)
        .unwrap_or_else(|| "serve".to_owned())
}

/// The end of every service's command match: help for `-h`, `--help` and
/// `help`; anything else is an unknown command (exit status 2).
pub fn help_or_unknown(command: &str, usage: &str) {
    if matches!(command, "-h" | "--help" | "help") {
        eprintln!("{usage}");
        return;
    }
    eprintln!("unknown command {command:?}\n\n{usage}");
    std::process::exit(2);
}

/// The settings, or, when one is invalid, its one-line reason on stderr
/// (`<service>: setting <PREFIX>_X is invalid: …`) and exit status 2: no
/// backtrace, whatever `RUST_BACKTRACE` says.
pub fn settings_or_exit<T>(service: &str, settings: Result<T, crate::config::ConfigError>) -> T {
    settings.unwrap_or_else(|err| {
        eprintln!("{service}: {err}");
        std::process::exit(2);
    })
}

/// How long `healthcheck` waits for the whole answer.
pub const HEALTHCHECK_TIMEOUT: Duration = Duration::from_secs(3);

/// The usage line of the `healthcheck` command, the same in every service.
pub const HEALTHCHECK_USAGE: &str = "healthcheck [--url URL]
                      GET this service's /readyz (at its AUTH_BIND/KANBAN_BIND
                      address, or URL); exit 0 when it answers 200, else 1";

/// The URL `healthcheck` probes: `--url URL` (or `--url=URL`) among `args`
/// (the arguments after the command), else `/readyz` at the address the
/// server binds (the loopback address when it binds every interface).
pub fn healthcheck_url(bind: SocketAddr, args: &[String]) -> Result<String, String> {
    let mut url = None;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        if let Some(value) = arg.strip_prefix("--url=") {
            url = Some(value.to_owned());
        } else if arg == "--url" {
            url = Some(args.next().ok_or("--url needs a value")?.clone());
        } else {
            return Err(format!("unknown argument {arg:?}"));
        }
    }
    Ok(url.unwrap_or_else(|| format!("{}/readyz", crate::http::default_public_url(bind))))
}

/// GETs `url` once within `timeout`: `Ok` on a 200, else what went wrong.
pub async fn probe(url: &str, timeout: Duration) -> Result<(), String> {
    let client = reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .build()
        .map_err(|err| err.to_string())?;
    let response = client
        .get(url)
        .send()
        .await
        .map_err(|err| format!("{url}: {err}"))?;
    match response.status() {
        reqwest::StatusCode::OK => Ok(()),
        status => Err(format!("{url} answered {status}")),
    }
}

/// The `healthcheck` command (for container health checks, which run the
/// image's own binary: no shell or curl is needed in the image). Exit
/// status 0 when the service answers 200 on `/readyz`, 1 when it does not
/// (or not within [`HEALTHCHECK_TIMEOUT`]), 2 for bad arguments.
pub async fn healthcheck(bind: SocketAddr) -> i32 {
    let args: Vec<String> = std::env::args().skip(2).collect();
    let url = match healthcheck_url(bind, &args) {
        Ok(url) => url,
        Err(err) => {
            eprintln!("healthcheck: {err}\nusage: {HEALTHCHECK_USAGE}");
            return 2;
        }
    };
    match probe(&url, HEALTHCHECK_TIMEOUT).await {
        Ok(()) => {
            eprintln!("healthcheck: {url} is ready");
            0
        }
        Err(err) => {
            eprintln!("healthcheck: not ready: {err}");
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|arg| (*arg).to_owned()).collect()
    }

    #[test]
    fn healthcheck_url_follows_the_bind_address_or_the_flag() {
        let every = SocketAddr::from(([0, 0, 0, 0], 8081));
        let local = SocketAddr::from(([127, 0, 0, 2], 9000));
        assert_eq!(
            healthcheck_url(every, &[]).unwrap(),
            "http://127.0.0.1:8081/readyz"
        );
        assert_eq!(
            healthcheck_url(local, &[]).unwrap(),
            "http://127.0.0.2:9000/readyz"
        );
        assert_eq!(
            healthcheck_url(every, &args(&["--url", "http://auth:8081/readyz"])).unwrap(),
            "http://auth:8081/readyz"
        );
        assert_eq!(
            healthcheck_url(every, &args(&["--url=http://x/readyz"])).unwrap(),
            "http://x/readyz"
        );
        assert!(healthcheck_url(every, &args(&["--url"])).is_err());
        assert!(healthcheck_url(every, &args(&["--verbose"])).is_err());
    }

    #[tokio::test]
    async fn probe_is_ok_only_for_a_200() {
        use poem::http::StatusCode;
        use poem::{EndpointExt, Route, get, handler};

        #[handler]
        fn ready() -> StatusCode {
            StatusCode::OK
        }
        #[handler]
        fn busy() -> StatusCode {
            StatusCode::SERVICE_UNAVAILABLE
        }
        let (acceptor, address) = crate::http::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .unwrap();
        let app = Route::new()
            .at("/readyz", get(ready))
            .at("/busy", get(busy))
            .boxed();
        let server = tokio::spawn(poem::Server::new_with_acceptor(acceptor).run(app));
        let base = format!("http://{address}");
        let timeout = Duration::from_secs(2);
        assert_eq!(probe(&format!("{base}/readyz"), timeout).await, Ok(()));
        assert!(probe(&format!("{base}/busy"), timeout).await.is_err());
        assert!(probe(&format!("{base}/missing"), timeout).await.is_err());
        server.abort();
        let _ = server.await;
        // Nobody listens any more: refused, not hung.
        assert!(probe(&format!("{base}/readyz"), timeout).await.is_err());
    }
}
