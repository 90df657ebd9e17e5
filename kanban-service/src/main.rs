use anyhow::Context;
use kanban_service::{Application, Settings, store};

const USAGE: &str = "usage: kanban-service [serve | migrate | healthcheck [--url URL]]

  serve    run the service (the default)
  migrate  apply database migrations and exit
  healthcheck [--url URL]
           GET this service's /readyz (at its KANBAN_BIND address, or URL);
           exit 0 when it answers 200, else 1

Settings come from KANBAN_* environment variables; see the README.";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let command = shared::cli::command();
    let settings = shared::cli::settings_or_exit("kanban-service", Settings::from_env());
    shared::telemetry::init(settings.log_json);
    match command.as_str() {
        "serve" => Application::build(settings)
            .await?
            .run_until_stopped()
            .await
            .context("server failed"),
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
