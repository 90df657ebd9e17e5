//! The caller's invitations to organizations: list, accept, decline. The
//! caller is known by the email in their access token (in any case), so an
//! invitation sent before the account existed works once it does.

use std::sync::Arc;

use poem::web::Data;
use poem_openapi::OpenApi;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use shared::AnyAccessToken;
use shared::payload::Serialized;

use super::error::{Board, Refusal};
use super::views::{InvitationView, Message, OrganizationView};
use super::{ApiTags, acting_user};
use crate::state::AppState;

pub struct InvitationsApi;

#[OpenApi(tag = "ApiTags::Invitations")]
impl InvitationsApi {
    /// The caller's pending invitations, newest first
    #[oai(path = "/invitations", method = "get")]
    async fn list(
        &self,
        state: Data<&Arc<AppState>>,
        auth: AnyAccessToken,
    ) -> Result<Serialized<Vec<InvitationView>>, Refusal<Board>> {
        let actor = acting_user(&auth.0)?;
        let invitations = state.boards.received_invitations(&actor).await?;
        Ok(Serialized(
            invitations
                .into_iter()
                .map(|invitation| InvitationView::new(invitation, &state.avatars))
                .collect(),
        ))
    }

    /// Accept an invitation: join the organization with its role
    ///
    /// Answers the organization, with its categories and tags. Someone
    /// else's, an expired or an unknown invitation is 404.
    #[oai(path = "/invitations/:id/accept", method = "post")]
    async fn accept(
        &self,
        state: Data<&Arc<AppState>>,
        auth: AnyAccessToken,
        id: Path<i64>,
    ) -> Result<Serialized<OrganizationView>, Refusal<Board>> {
        let actor = acting_user(&auth.0)?;
        let board = state.boards.accept_invitation(&actor, id.0).await?;
        Ok(Serialized(board.into()))
    }

    /// Decline an invitation
    ///
    /// Someone else's, an expired or an unknown invitation is 404.
    #[oai(path = "/invitations/:id/decline", method = "post")]
    async fn decline(
        &self,
        state: Data<&Arc<AppState>>,
        auth: AnyAccessToken,
        id: Path<i64>,
    ) -> Result<Json<Message>, Refusal<Board>> {
        let actor = acting_user(&auth.0)?;
        state.boards.decline_invitation(&actor, id.0).await?;
        Ok(Json(Message::new("Invitation has been declined")))
    }
}
