//! Liveness and readiness answers, the same in every service.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object};

#[derive(Object, Debug)]
#[oai(rename_all = "camelCase")]
pub struct Health {
    /// `ok`, `unavailable`, or `draining` (the service is shutting down).
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
    /// A dependency does not answer, or the service is shutting down.
    #[oai(status = 503)]
    NotReady(Json<Health>),
}

fn word(ok: bool) -> String {
    if ok { "ok" } else { "unavailable" }.to_owned()
}

/// The liveness answer: the process serves HTTP.
pub fn alive() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
        database: None,
        revocation_store: None,
    })
}

/// The readiness answer for the database and the revocation store.
pub fn readiness(database: bool, revocation_store: bool) -> Readiness {
    let health = Health {
        status: word(database && revocation_store),
        database: Some(word(database)),
        revocation_store: Some(word(revocation_store)),
    };
    if database && revocation_store {
        Readiness::Ready(Json(health))
    } else {
        Readiness::NotReady(Json(health))
    }
}

/// Set once the service was told to stop: readiness answers 503 from then
/// on, so load balancers send nothing new while in-flight requests finish.
#[derive(Debug, Clone, Default)]
pub struct Draining(Arc<AtomicBool>);

impl Draining {
    pub fn start(&self) {
        self.0.store(true, Ordering::Release);
    }

    pub fn is_draining(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

/// The readiness answer of a service that is shutting down.
pub fn draining() -> Readiness {
    Readiness::NotReady(Json(Health {
        status: "draining".into(),
        database: None,
        revocation_store: None,
    }))
}
