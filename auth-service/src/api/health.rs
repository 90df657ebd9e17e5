use std::sync::Arc;

use poem::web::Data;
use poem_openapi::OpenApi;
use poem_openapi::payload::Json;
use shared::RevocationCheck;
use shared::health::{Health, Readiness, alive, readiness};

use super::accounts::ApiTags;
use crate::startup::AppState;
use crate::store;

pub struct HealthApi;

#[OpenApi(tag = "ApiTags::Health")]
impl HealthApi {
    /// Liveness: the process serves HTTP
    #[oai(path = "/healthz", method = "get")]
    async fn healthz(&self) -> Json<Health> {
        alive()
    }

    /// Readiness: the database and the revocation store answer
    #[oai(path = "/readyz", method = "get")]
    async fn readyz(&self, state: Data<&Arc<AppState>>) -> Readiness {
        let (database, revocations) =
            tokio::join!(store::ping(&state.db), state.revocations.ping());
        readiness(database, revocations)
    }
}
