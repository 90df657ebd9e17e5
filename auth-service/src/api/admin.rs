use std::sync::Arc;

use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use shared::{AccessTokenAuth, Role};

use super::accounts::ApiTags;
use super::error::ErrorResponse;
use crate::error::AppError;
use crate::startup::AppState;

#[derive(Object, Debug)]
pub struct RotatedKey {
    /// The id of the key that signs from now on.
    pub kid: String,
}

pub struct AdminApi;

#[OpenApi(tag = "ApiTags::Admin")]
impl AdminApi {
    /// Rotate the token signing key
    ///
    /// A new key signs from now on; the old one stays in the JWKS until the
    /// last token it signed has expired. Admins only.
    #[oai(path = "/api/v1/admin/signing-keys/rotate", method = "post")]
    async fn rotate_signing_key(
        &self,
        state: Data<&Arc<AppState>>,
        auth: AccessTokenAuth,
    ) -> Result<Json<RotatedKey>, ErrorResponse> {
        if auth.0.claims.role != Role::Admin {
            return Err(AppError::Forbidden.into());
        }
        let kid = state.keys.rotate().await.map_err(AppError::Internal)?;
        tracing::info!(%kid, by = %auth.0.claims.sub, "signing key rotated");
        Ok(Json(RotatedKey { kid }))
    }
}
