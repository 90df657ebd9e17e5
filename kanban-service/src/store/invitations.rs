//! Invitations to organizations.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    Set, Unchanged,
};

use super::rows::all;
use crate::boards::{Invitation, OrganizationRole};
use crate::entity::invitation;

/// Invites `email` to the organization, or renews the invitation it already
/// has (new role, inviter and period): one invitation per organization and
/// email. Call under the board's lock.
pub async fn upsert(
    conn: &impl ConnectionTrait,
    organization_id: i64,
    email: &str,
    role: OrganizationRole,
    invited_by: i64,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<Invitation, DbErr> {
    let existing = invitation::Entity::find()
        .filter(invitation::Column::OrganizationId.eq(organization_id))
        .filter(invitation::Column::Email.eq(email))
        .one(conn)
        .await?;
    let row = match existing {
        Some(existing) => {
            invitation::ActiveModel {
                id: Unchanged(existing.id),
                role: Set(role.into()),
                invited_by: Set(invited_by),
                created_at: Set(now),
                expires_at: Set(expires_at),
                ..Default::default()
            }
            .update(conn)
            .await?
        }
        None => {
            invitation::ActiveModel {
                organization_id: Set(organization_id),
                email: Set(email.to_owned()),
                role: Set(role.into()),
                invited_by: Set(invited_by),
                created_at: Set(now),
                expires_at: Set(expires_at),
                ..Default::default()
            }
            .insert(conn)
            .await?
        }
    };
    Ok(row.into())
}

pub async fn by_id(conn: &impl ConnectionTrait, id: i64) -> Result<Option<Invitation>, DbErr> {
    Ok(invitation::Entity::find_by_id(id)
        .one(conn)
        .await?
        .map(Into::into))
}

/// The invitations to `email` (lower case) still open at `now`, newest first.
pub async fn open_for_email(
    conn: &impl ConnectionTrait,
    email: &str,
    now: DateTime<Utc>,
) -> Result<Vec<Invitation>, DbErr> {
    let rows = invitation::Entity::find()
        .filter(invitation::Column::Email.eq(email))
        .filter(invitation::Column::ExpiresAt.gt(now))
        .order_by_desc(invitation::Column::CreatedAt)
        .order_by_desc(invitation::Column::Id)
        .all(conn)
        .await?;
    Ok(all(rows))
}

/// The organization's invitations still open at `now`, newest first.
pub async fn open_of_organization(
    conn: &impl ConnectionTrait,
    organization_id: i64,
    now: DateTime<Utc>,
) -> Result<Vec<Invitation>, DbErr> {
    let rows = invitation::Entity::find()
        .filter(invitation::Column::OrganizationId.eq(organization_id))
        .filter(invitation::Column::ExpiresAt.gt(now))
        .order_by_desc(invitation::Column::CreatedAt)
        .order_by_desc(invitation::Column::Id)
        .all(conn)
        .await?;
    Ok(all(rows))
}

pub async fn delete(conn: &impl ConnectionTrait, id: i64) -> Result<(), DbErr> {
    invitation::Entity::delete_by_id(id).exec(conn).await?;
    Ok(())
}
