//! Tags: members read them, admins create, edit and delete them.

use chrono::Utc;

use super::Boards;
use super::error::{BoardError, Field};
use super::guard::BoardGuard;
use super::model::Tag;
use super::rules::{MAX_NAME_CHARS, ensure_member, parse_color, required_text};
use crate::error::KanbanResult;
use crate::store::{self, Transaction};

impl Boards {
    pub async fn tags(&self, user_id: i64, organization_id: i64) -> KanbanResult<Vec<Tag>> {
        ensure_member(self.role_in(organization_id, user_id).await?)?;
        Ok(store::boards::tags_of(&self.db, &[organization_id]).await?)
    }

    /// Locks the tag's board. Unknown tags and those of a board the user is
    /// not a member of look the same: not found.
    async fn lock_tag(
        &self,
        txn: &Transaction,
        user_id: i64,
        tag_id: i64,
    ) -> KanbanResult<(BoardGuard, Tag)> {
        self.lock_board_of(txn, user_id, BoardError::TagNotFound, || {
            store::boards::tag(txn, tag_id)
        })
        .await
    }

    /// Creates a tag (admins).
    pub async fn create_tag(
        &self,
        user_id: i64,
        organization_id: i64,
        name: Option<&str>,
        color: Option<&str>,
    ) -> KanbanResult<Tag> {
        let txn = self.begin().await?;
        self.lock_board_as_admin(&txn, organization_id, user_id, BoardError::NotMember)
            .await?;
        let name = required_text(Field::Name, name, MAX_NAME_CHARS)?;
        let color = parse_color(color)?;
        let tag = store::boards::insert_tag(&txn, organization_id, name, color, Utc::now()).await?;
        txn.commit().await?;
        Ok(tag)
    }

    /// Changes a tag's name and/or color (admins).
    pub async fn update_tag(
        &self,
        user_id: i64,
        tag_id: i64,
        name: Option<&str>,
        color: Option<&str>,
    ) -> KanbanResult<Tag> {
        let txn = self.begin().await?;
        let (board, tag) = self.lock_tag(&txn, user_id, tag_id).await?;
        board.require_admin()?;
        let name = name
            .map(|name| required_text(Field::Name, Some(name), MAX_NAME_CHARS))
            .transpose()?;
        let color = color.map(|color| parse_color(Some(color))).transpose()?;
        let updated = store::boards::update_tag(&txn, tag.id, name, color, Utc::now()).await?;
        txn.commit().await?;
        Ok(updated)
    }

    /// Deletes a tag (admins); it comes off every task.
    pub async fn delete_tag(&self, user_id: i64, tag_id: i64) -> KanbanResult<()> {
        let txn = self.begin().await?;
        let (board, _) = self.lock_tag(&txn, user_id, tag_id).await?;
        board.require_admin()?;
        store::boards::delete_tag(&txn, tag_id).await?;
        txn.commit().await?;
        Ok(())
    }
}
