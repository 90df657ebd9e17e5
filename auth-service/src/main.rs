use anyhow::Context;
use auth_service::audit::{AuditLog, Event, EventKind, Origin};
use auth_service::{Application, Settings, store, tokens};

const USAGE: &str =
    "usage: auth-service [serve | rotate-signing-key | revoke-signing-key KID | migrate
                     | healthcheck [--url URL]]

  serve               run the service (the default)
  rotate-signing-key  make the next key (already published) sign from now on;
                      old keys stay published until their tokens expire
  revoke-signing-key KID
                      unpublish a compromised key at once; every verifier
                      refuses its tokens within a second
  migrate             apply database migrations and exit
  healthcheck [--url URL]
                      GET this service's /readyz (at its AUTH_BIND address,
                      or URL); exit 0 when it answers 200, else 1

Running replicas and verifiers learn of key changes on the revocation feed.

Settings come from AUTH_* environment variables; see the README.";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let command = shared::cli::command();
    let settings = shared::cli::settings_or_exit("auth-service", Settings::from_env());
    shared::telemetry::init(settings.log_json);
    let fact_ttl = settings.tokens.access_ttl + tokens::revocation::MARGIN;
    match command.as_str() {
        "serve" => {
            let app = Application::build(settings).await?;
            app.run_until_stopped().await.context("server failed")
        }
        "rotate-signing-key" => {
            let db = store::connect(&settings.database_url, 1).await?;
            let change = tokens::keys::rotate_in(&db, fact_ttl).await?;
            let event = Event::new(EventKind::SigningKeyRotated)
                .detail(format!("kid {} (command line)", change.signing_kid));
            AuditLog::new(None)
                .record_now(&db, event, &Origin::default())
                .await;
            tracing::info!(kid = %change.signing_kid, "signing key rotated");
            Ok(())
        }
        "revoke-signing-key" => {
            let Some(kid) = std::env::args().nth(2) else {
                eprintln!("{USAGE}");
                std::process::exit(2);
            };
            let db = store::connect(&settings.database_url, 1).await?;
            match tokens::keys::revoke_in(&db, &kid, fact_ttl).await? {
                Some(change) => {
                    let event = Event::new(EventKind::SigningKeyRevoked)
                        .detail(format!("kid {kid} (command line)"));
                    AuditLog::new(None)
                        .record_now(&db, event, &Origin::default())
                        .await;
                    tracing::warn!(%kid, signing = %change.signing_kid, "signing key revoked");
                    Ok(())
                }
                None => anyhow::bail!("no signing key {kid}"),
            }
        }
        "migrate" => {
            store::connect(&settings.database_url, 1).await?;
            tracing::info!("migrations applied");
            Ok(())
        }
        "healthcheck" => std::process::exit(shared::cli::healthcheck(settings.bind).await),
        other => {
            shared::cli::help_or_unknown(other, USAGE);
            Ok(())
        }
    }
}
