use anyhow::Context;
use auth_service::{Application, Settings, store, tokens};

const USAGE: &str = "usage: auth-service [serve | rotate-signing-key | migrate]

  serve               run the service (the default)
  rotate-signing-key  make a new key sign from now on; old keys stay published
                      until their tokens expire (running replicas pick it up
                      within 15 seconds)
  migrate             apply database migrations and exit

Settings come from AUTH_* environment variables; see the README.";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let command = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "serve".to_owned());
    let settings = Settings::from_env()?;
    shared::telemetry::init(settings.log_json);
    match command.as_str() {
        "serve" => {
            let app = Application::build(settings).await?;
            app.run_until_stopped().await.context("server failed")
        }
        "rotate-signing-key" => {
            let db = store::connect(&settings.database_url, 1).await?;
            let kid = tokens::keys::rotate_in(&db).await?;
            tracing::info!(%kid, "signing key rotated");
            Ok(())
        }
        "migrate" => {
            store::connect(&settings.database_url, 1).await?;
            tracing::info!("migrations applied");
            Ok(())
        }
        "-h" | "--help" | "help" => {
            eprintln!("{USAGE}");
            Ok(())
        }
        other => {
            eprintln!("unknown command {other:?}\n\n{USAGE}");
            std::process::exit(2);
        }
    }
}
