//! Organizations and their members (with the invitations admins send and
//! the owner's transfer), categories and tags.

use shared::required::{NonBlank, Required, Text};
use std::sync::Arc;

use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use shared::AnyAccessToken;
use shared::payload::{Serialized, Written};

use super::error::ErrorResponse;
use super::error::{Board, Refusal};
use super::kept_lists::ListAnswer;
use super::views::{
    CategoryView, MemberView, Message, OrganizationView, PendingInvitationView, TagView,
};
use super::{ApiTags, acting_user, caller, page};
use crate::boards::{BoardError, Field, OrganizationRole, Rule};
use crate::state::AppState;

#[derive(Object)]
pub struct OrganizationBody {
    #[oai(nullable)]
    pub name: Option<NonBlank>,
    #[oai(nullable)]
    pub description: Option<Text>,
}

/// A new organization.
#[derive(Object)]
#[oai(example)]
pub struct NewOrganization {
    pub name: Required<String>,
    #[oai(nullable)]
    pub description: Option<Text>,
}

impl poem_openapi::types::Example for NewOrganization {
    fn example() -> Self {
        Self {
            name: Required(Some("Hacktiv8".to_owned())),
            description: Some(Text("Our kanban board".to_owned())),
        }
    }
}

#[derive(ApiResponse)]
pub enum OrganizationList {
    /// The caller's organizations, newest first, with categories and tags.
    #[oai(status = 200)]
    Ok(
        Written<Vec<OrganizationView>>,
        #[oai(header = "X-Total-Count")] u64,
    ),
}

#[derive(ApiResponse)]
pub enum OrganizationCreated {
    /// Created with the categories Backlog, Todo, Doing and Done; the caller is its admin.
    #[oai(status = 201)]
    Created(Serialized<OrganizationView>),
}

#[derive(Object)]
pub struct MemberBody {
    #[oai(rename = "UserEmail")]
    pub user_email: Required<String>,
    /// `admin` or `member` (the default).
    #[oai(nullable)]
    pub role: Option<Text>,
}

#[derive(Object)]
pub struct TransferBody {
    /// The member who becomes the owner.
    #[oai(rename = "UserId")]
    pub user_id: Required<i64>,
}

#[derive(Object)]
pub struct RoleBody {
    /// `admin` or `member`.
    pub role: Required<String>,
}

#[derive(ApiResponse)]
pub enum Invited {
    /// The email is invited (the same answer whether or not it has an
    /// account); it joins once its account accepts.
    #[oai(status = 201)]
    Created(Json<Message>),
}

#[derive(Object)]
#[oai(example)]
pub struct CategoryBody {
    pub name: Required<String>,
    #[oai(rename = "OrganizationId")]
    pub organization_id: Required<i64>,
}

impl poem_openapi::types::Example for CategoryBody {
    fn example() -> Self {
        Self {
            name: Required(Some("Backlog".to_owned())),
            organization_id: Required(Some(1)),
        }
    }
}

#[derive(Object)]
pub struct CategoryPatch {
    #[oai(nullable)]
    pub name: Option<NonBlank>,
    /// The new 1-based position; the others shift to keep positions dense.
    #[oai(nullable)]
    pub position: Option<i64>,
}

#[derive(ApiResponse)]
pub enum CategoryCreated {
    #[oai(status = 201)]
    Created(Serialized<CategoryView>),
}

#[derive(Object)]
pub struct TagBody {
    #[oai(nullable)]
    pub name: Option<NonBlank>,
    /// `#RRGGBB`.
    #[oai(nullable)]
    pub color: Option<Text>,
    /// Ignored: a tag stays in its organization.
    #[oai(rename = "OrganizationId")]
    #[oai(nullable)]
    pub organization_id: Option<i64>,
}

/// A new tag.
#[derive(Object)]
#[oai(example)]
pub struct NewTag {
    pub name: Required<String>,
    /// `#RRGGBB`.
    pub color: Required<String>,
    #[oai(rename = "OrganizationId")]
    pub organization_id: Required<i64>,
}

impl poem_openapi::types::Example for NewTag {
    fn example() -> Self {
        Self {
            name: Required(Some("urgent".to_owned())),
            color: Required(Some("#FF0000".to_owned())),
            organization_id: Required(Some(1)),
        }
    }
}

#[derive(ApiResponse)]
pub enum TagCreated {
    #[oai(status = 201)]
    Created(Serialized<TagView>),
}

/// `admin` or `member`, in any case; `default` when absent.
fn role_of(
    value: Option<&str>,
    default: Option<OrganizationRole>,
) -> Result<OrganizationRole, ErrorResponse> {
    let role = match value.map(|v| v.trim().to_ascii_lowercase()).as_deref() {
        Some("admin") => Some(OrganizationRole::Admin),
        Some("member") => Some(OrganizationRole::Member),
        Some(_) => None,
        None => default,
    };
    role.ok_or_else(|| BoardError::invalid(Field::Role, Rule::RoleName).into())
}

fn required_organization(id: Option<i64>) -> Result<i64, ErrorResponse> {
    id.ok_or_else(|| BoardError::invalid(Field::OrganizationId, Rule::Required).into())
}

pub struct OrganizationsApi;

#[OpenApi(tag = "ApiTags::Organizations")]
impl OrganizationsApi {
    /// The caller's organizations
    #[oai(path = "/organizations", method = "get")]
    async fn list(
        &self,
        state: Data<&Arc<AppState>>,
        auth: AnyAccessToken,
        #[oai(validator(minimum(value = "1"), maximum(value = "1000")))] limit: Query<Option<u64>>,
        #[oai(validator(maximum(value = "1000000")))] offset: Query<Option<u64>>,
    ) -> Result<OrganizationList, Refusal<Board>> {
        let user = caller(&auth.0)?;
        let page = page(limit.0, offset.0);
        let listing = state.boards.organization_listing(user).await?;
        let answer = state
            .organization_lists
            .answer(Some(listing), page, || async {
                let (boards, total) = state.boards.organizations(user, page).await?;
                let views: Vec<OrganizationView> = boards.into_iter().map(Into::into).collect();
                let body = Written::of(&views);
                Ok::<_, Refusal<Board>>(ListAnswer { body, total })
            })
            .await?;
        Ok(OrganizationList::Ok(answer.body, answer.total))
    }

    /// One organization, with its categories and tags
    #[oai(path = "/organizations/:id", method = "get")]
    async fn get(
        &self,
        state: Data<&Arc<AppState>>,
        auth: AnyAccessToken,
        id: Path<i64>,
    ) -> Result<Serialized<OrganizationView>, Refusal<Board>> {
        let user = caller(&auth.0)?;
        Ok(Serialized(
            state.boards.organization(user, id.0).await?.into(),
        ))
    }

    /// Create an organization
    #[oai(path = "/organizations", method = "post")]
    async fn create(
        &self,
        state: Data<&Arc<AppState>>,
        auth: AnyAccessToken,
        body: Json<NewOrganization>,
    ) -> Result<OrganizationCreated, Refusal<Board>> {
        let actor = acting_user(&auth.0)?;
        let board = state
            .boards
            .create_organization(
                &actor,
                body.0.name.as_deref(),
                body.0.description.as_deref(),
            )
            .await?;
        Ok(OrganizationCreated::Created(Serialized(board.into())))
    }

    /// Edit an organization (admins)
    #[oai(path = "/organizations/:id", method = "put")]
    async fn edit(
        &self,
        state: Data<&Arc<AppState>>,
        auth: AnyAccessToken,
        id: Path<i64>,
        body: Json<OrganizationBody>,
    ) -> Result<Serialized<OrganizationView>, Refusal<Board>> {
        let user = caller(&auth.0)?;
        let updated = state
            .boards
            .update_organization(
                user,
                id.0,
                body.0.name.as_deref(),
                body.0.description.as_deref(),
            )
            .await?;
        Ok(Serialized(updated.into()))
    }

    /// Delete an organization and everything in it (the owner)
    #[oai(path = "/organizations/:id", method = "delete")]
    async fn delete(
        &self,
        state: Data<&Arc<AppState>>,
        auth: AnyAccessToken,
        id: Path<i64>,
    ) -> Result<Json<Message>, Refusal<Board>> {
        let user = caller(&auth.0)?;
        state.boards.delete_organization(user, id.0).await?;
        Ok(Json(Message::new("Organization has been deleted")))
    }

    /// The organization's members
    #[oai(path = "/organizations/:id/members", method = "get")]
    async fn members(
        &self,
        state: Data<&Arc<AppState>>,
        auth: AnyAccessToken,
        id: Path<i64>,
    ) -> Result<Serialized<Vec<MemberView>>, Refusal<Board>> {
        let user = caller(&auth.0)?;
        let members = state.boards.members(user, id.0).await?;
        Ok(Serialized(
            members
                .into_iter()
                .map(|member| MemberView::new(member, &state.avatars))
                .collect(),
        ))
    }

    /// Invite by email (admins)
    ///
    /// Seed 000's "add member": the email is invited with the role, and
    /// becomes a member once the account with that email (now, or when it
    /// registers) accepts at `POST /invitations/{id}/accept`. The answer is
    /// the same whether or not the email has an account, and nothing of the
    /// invitee shows in the organization until they accept. Inviting the
    /// same email again renews its invitation (new role and period); an
    /// email of a current member is refused.
    #[oai(path = "/organizations/:id/members", method = "post")]
    async fn add_member(
        &self,
        state: Data<&Arc<AppState>>,
        auth: AnyAccessToken,
        id: Path<i64>,
        body: Json<MemberBody>,
    ) -> Result<Invited, Refusal<Board>> {
        let user = caller(&auth.0)?;
        let role = role_of(body.0.role.as_deref(), Some(OrganizationRole::Member))?;
        let email = body.0.user_email.as_deref();
        state.boards.invite(user, id.0, email, role).await?;
        Ok(Invited::Created(Json(Message::new(
            "User has been invited",
        ))))
    }

    /// The organization's pending invitations (admins)
    #[oai(path = "/organizations/:id/invitations", method = "get")]
    async fn invitations(
        &self,
        state: Data<&Arc<AppState>>,
        auth: AnyAccessToken,
        id: Path<i64>,
    ) -> Result<Serialized<Vec<PendingInvitationView>>, Refusal<Board>> {
        let user = caller(&auth.0)?;
        let invitations = state.boards.invitations_of(user, id.0).await?;
        Ok(Serialized(
            invitations.into_iter().map(Into::into).collect(),
        ))
    }

    /// Withdraw a pending invitation (admins)
    #[oai(
        path = "/organizations/:id/invitations/:invitation_id",
        method = "delete"
    )]
    async fn revoke_invitation(
        &self,
        state: Data<&Arc<AppState>>,
        auth: AnyAccessToken,
        id: Path<i64>,
        invitation_id: Path<i64>,
    ) -> Result<Json<Message>, Refusal<Board>> {
        let user = caller(&auth.0)?;
        state
            .boards
            .revoke_invitation(user, id.0, invitation_id.0)
            .await?;
        Ok(Json(Message::new("Invitation has been revoked")))
    }

    /// Hand ownership to another member (the owner)
    ///
    /// The member becomes the owner (and an admin); the old owner stays an
    /// admin. The owner is the only one who can neither be demoted nor be
    /// removed, and this is the only way ownership moves.
    #[oai(path = "/organizations/:id/transfer", method = "post")]
    async fn transfer(
        &self,
        state: Data<&Arc<AppState>>,
        auth: AnyAccessToken,
        id: Path<i64>,
        body: Json<TransferBody>,
    ) -> Result<Json<Message>, Refusal<Board>> {
        let user = caller(&auth.0)?;
        state
            .boards
            .transfer_ownership(user, id.0, body.0.user_id.into())
            .await?;
        Ok(Json(Message::new("Ownership has been transferred")))
    }

    /// Change a member's role (admins; the owner stays an admin)
    #[oai(path = "/organizations/:id/members/:user_id", method = "patch")]
    async fn change_role(
        &self,
        state: Data<&Arc<AppState>>,
        auth: AnyAccessToken,
        id: Path<i64>,
        user_id: Path<i64>,
        body: Json<RoleBody>,
    ) -> Result<Json<Message>, Refusal<Board>> {
        let user = caller(&auth.0)?;
        let role = role_of(body.0.role.as_deref(), None)?;
        state
            .boards
            .change_role(user, id.0, user_id.0, role)
            .await?;
        Ok(Json(Message::new("Member role has been updated")))
    }

    /// Remove a member (admins, not the owner; members may remove themselves)
    #[oai(path = "/organizations/:id/members/:user_id", method = "delete")]
    async fn remove_member(
        &self,
        state: Data<&Arc<AppState>>,
        auth: AnyAccessToken,
        id: Path<i64>,
        user_id: Path<i64>,
    ) -> Result<Json<Message>, Refusal<Board>> {
        let user = caller(&auth.0)?;
        state.boards.remove_member(user, id.0, user_id.0).await?;
        Ok(Json(Message::new("Member has been removed")))
    }
}

pub struct CategoriesApi;

#[OpenApi(tag = "ApiTags::Categories")]
impl CategoriesApi {
    /// The organization's categories, by position
    #[oai(path = "/categories", method = "get")]
    async fn list(
        &self,
        state: Data<&Arc<AppState>>,
        auth: AnyAccessToken,
        #[oai(name = "OrganizationId")] organization_id: Query<Required<i64>>,
    ) -> Result<Serialized<Vec<CategoryView>>, Refusal<Board>> {
        let user = caller(&auth.0)?;
        let categories = state
            .boards
            .categories(user, required_organization(organization_id.0.into_inner())?)
            .await?;
        Ok(Serialized(categories.into_iter().map(Into::into).collect()))
    }

    /// Add a category at the end (admins)
    #[oai(path = "/categories", method = "post")]
    async fn create(
        &self,
        state: Data<&Arc<AppState>>,
        auth: AnyAccessToken,
        body: Json<CategoryBody>,
    ) -> Result<CategoryCreated, Refusal<Board>> {
        let user = caller(&auth.0)?;
        let organization = required_organization(body.0.organization_id.into())?;
        let category = state
            .boards
            .create_category(user, organization, body.0.name.as_deref())
            .await?;
        Ok(CategoryCreated::Created(Serialized(category.into())))
    }

    /// Rename and/or move a category (admins)
    #[oai(path = "/categories/:id", method = "patch")]
    async fn update(
        &self,
        state: Data<&Arc<AppState>>,
        auth: AnyAccessToken,
        id: Path<i64>,
        body: Json<CategoryPatch>,
    ) -> Result<Serialized<CategoryView>, Refusal<Board>> {
        let user = caller(&auth.0)?;
        let category = state
            .boards
            .update_category(user, id.0, body.0.name.as_deref(), body.0.position)
            .await?;
        Ok(Serialized(category.into()))
    }

    /// Delete an empty category (admins)
    #[oai(path = "/categories/:id", method = "delete")]
    async fn delete(
        &self,
        state: Data<&Arc<AppState>>,
        auth: AnyAccessToken,
        id: Path<i64>,
    ) -> Result<Json<Message>, Refusal<Board>> {
        let user = caller(&auth.0)?;
        state.boards.delete_category(user, id.0).await?;
        Ok(Json(Message::new("Category has been deleted")))
    }

    /// The organization's tags
    #[oai(path = "/tags", method = "get")]
    async fn tags(
        &self,
        state: Data<&Arc<AppState>>,
        auth: AnyAccessToken,
        #[oai(name = "OrganizationId")] organization_id: Query<Required<i64>>,
    ) -> Result<Serialized<Vec<TagView>>, Refusal<Board>> {
        let user = caller(&auth.0)?;
        let tags = state
            .boards
            .tags(user, required_organization(organization_id.0.into_inner())?)
            .await?;
        Ok(Serialized(tags.into_iter().map(Into::into).collect()))
    }

    /// Create a tag (admins)
    #[oai(path = "/tags", method = "post")]
    async fn create_tag(
        &self,
        state: Data<&Arc<AppState>>,
        auth: AnyAccessToken,
        body: Json<NewTag>,
    ) -> Result<TagCreated, Refusal<Board>> {
        let user = caller(&auth.0)?;
        let organization = required_organization(body.0.organization_id.into_inner())?;
        let tag = state
            .boards
            .create_tag(
                user,
                organization,
                body.0.name.as_deref(),
                body.0.color.as_deref(),
            )
            .await?;
        Ok(TagCreated::Created(Serialized(tag.into())))
    }

    /// Edit a tag (admins)
    #[oai(path = "/tags/:id", method = "put")]
    async fn edit_tag(
        &self,
        state: Data<&Arc<AppState>>,
        auth: AnyAccessToken,
        id: Path<i64>,
        body: Json<TagBody>,
    ) -> Result<Serialized<TagView>, Refusal<Board>> {
        let user = caller(&auth.0)?;
        let tag = state
            .boards
            .update_tag(user, id.0, body.0.name.as_deref(), body.0.color.as_deref())
            .await?;
        Ok(Serialized(tag.into()))
    }

    /// Delete a tag (admins); it comes off every task
    #[oai(path = "/tags/:id", method = "delete")]
    async fn delete_tag(
        &self,
        state: Data<&Arc<AppState>>,
        auth: AnyAccessToken,
        id: Path<i64>,
    ) -> Result<Json<Message>, Refusal<Board>> {
        let user = caller(&auth.0)?;
        state.boards.delete_tag(user, id.0).await?;
        Ok(Json(Message::new("Tag has been deleted")))
    }
}
