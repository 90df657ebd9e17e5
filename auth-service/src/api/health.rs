use std::sync::Arc;

use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use shared::RevocationCheck;

use super::accounts::ApiTags;
use crate::startup::AppState;
use crate::store;

#[derive(Object, Debug)]
#[oai(rename_all = "camelCase")]
pub struct Health {
    /// `ok`, or `unavailable`.
    pub status: String,
    #[oai(skip_serializing_if_is_none)]
    pub database: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub revocation_store: Option<String>,
}

#[derive(ApiResponse)]
pub enum Readiness {
    /// Every dependency answers.
    #[oai(status = 200)]
    Ready(Json<Health>),
    /// A dependency does not answer.
    #[oai(status = 503)]
    NotReady(Json<Health>),
}

fn word(ok: bool) -> String {
    if ok { "ok" } else { "unavailable" }.to_owned()
}

pub struct HealthApi;

#[OpenApi(tag = "ApiTags::Health")]
impl HealthApi {
    /// Liveness: the process serves HTTP
    #[oai(path = "/healthz", method = "get")]
    async fn healthz(&self) -> Json<Health> {
        Json(Health {
            status: "ok".into(),
            database: None,
            revocation_store: None,
        })
    }

    /// Readiness: the database and the revocation store answer
    #[oai(path = "/readyz", method = "get")]
    async fn readyz(&self, state: Data<&Arc<AppState>>) -> Readiness {
        let (database, revocations) =
            tokio::join!(store::ping(&state.db), state.revocations.ping());
        let health = Health {
            status: word(database && revocations),
            database: Some(word(database)),
            revocation_store: Some(word(revocations)),
        };
        if database && revocations {
            Readiness::Ready(Json(health))
        } else {
            Readiness::NotReady(Json(health))
        }
    }
}
