//! Liveness and readiness probes.

use std::sync::Arc;

use poem::web::Data;
use poem_openapi::OpenApi;
use poem_openapi::payload::Json;
use shared::RevocationCheck;
use shared::health::{Health, Readiness, alive, readiness};

use super::ApiTags;
use crate::state::AppState;

pub struct HealthApi;

#[OpenApi(tag = "ApiTags::Health")]
impl HealthApi {
    /// Liveness: the process serves HTTP
    #[oai(path = "/healthz", method = "get")]
    async fn healthz(&self) -> Json<Health> {
        alive()
    }

    /// Readiness: the database answers, the revocation set is current and
    /// (with Redis) revocations reach Redis; 503 once shutting down
    #[oai(path = "/readyz", method = "get")]
    async fn readyz(&self, state: Data<&Arc<AppState>>) -> Readiness {
        if state.draining.is_draining() {
            return shared::health::draining();
        }
        let database = shared::db::ping(&state.db).await;
        let revocations =
            state.revocations.set().is_current() && state.revocations.ensure_publishing().is_ok();
        readiness(database, revocations)
    }
}
