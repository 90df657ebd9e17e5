//! Administration: signing keys.

use std::sync::Arc;

use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use shared::{AccessTokenAuth, Role};

use super::ApiTags;
use super::error::{ApiError, not_spread};
use crate::state::AppState;

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
    ) -> Result<Json<RotatedKey>, ApiError> {
        if auth.0.claims.role != Role::Admin {
            return Err(ApiError::AdminRequired);
        }
        let change = state.keys.rotate().await.map_err(ApiError::Internal)?;
        state
            .revocations
            .committed(&change.facts, change.last_fact_id)
            .await
            .map_err(not_spread)?;
        tracing::info!(kid = %change.signing_kid, by = %auth.0.claims.sub, "signing key rotated");
        Ok(Json(RotatedKey {
            kid: change.signing_kid,
        }))
    }

    /// Revoke a compromised signing key
    ///
    /// The key leaves the JWKS at once and every verifier refuses its tokens
    /// on the next request; when it was the signing key, the next key signs
    /// from now on. Answers the key that signs now. Admins only.
    #[oai(path = "/api/v1/admin/signing-keys/:kid/revoke", method = "post")]
    async fn revoke_signing_key(
        &self,
        state: Data<&Arc<AppState>>,
        auth: AccessTokenAuth,
        kid: Path<String>,
    ) -> Result<Json<RotatedKey>, ApiError> {
        if auth.0.claims.role != Role::Admin {
            return Err(ApiError::AdminRequired);
        }
        let change = state
            .keys
            .revoke(&kid.0)
            .await
            .map_err(ApiError::Internal)?
            .ok_or(ApiError::KeyNotFound)?;
        state
            .revocations
            .committed(&change.facts, change.last_fact_id)
            .await
            .map_err(not_spread)?;
        tracing::warn!(kid = %kid.0, by = %auth.0.claims.sub, "signing key revoked");
        Ok(Json(RotatedKey {
            kid: change.signing_kid,
        }))
    }
}
