//! Categories, the board's columns: members read them, admins add,
//! rename, move and delete them; positions stay dense.

use chrono::Utc;

use super::Boards;
use super::error::{BoardError, Field};
use super::guard::BoardGuard;
use super::model::{Category, CategoryKind};
use super::rules::{MAX_NAME_CHARS, ensure_member, place, required_text};
use crate::error::KanbanResult;
use crate::store::{self, Transaction};

impl Boards {
    pub async fn categories(
        &self,
        user_id: i64,
        organization_id: i64,
    ) -> KanbanResult<Vec<Category>> {
        ensure_member(self.role_in(organization_id, user_id).await?)?;
        Ok(store::boards::categories_of(&self.db, &[organization_id]).await?)
    }

    /// Locks the category's board. Unknown categories and those of a board
    /// the user is not a member of look the same: not found.
    async fn lock_category(
        &self,
        txn: &Transaction,
        user_id: i64,
        category_id: i64,
    ) -> KanbanResult<(BoardGuard, Category)> {
        self.lock_board_of(txn, user_id, BoardError::CategoryNotFound, || {
            store::boards::category(txn, category_id)
        })
        .await
    }

    /// Adds a category at the end (admins).
    pub async fn create_category(
        &self,
        user_id: i64,
        organization_id: i64,
        name: Option<&str>,
    ) -> KanbanResult<Category> {
        let txn = self.begin().await?;
        self.lock_board_as_admin(&txn, organization_id, user_id, BoardError::NotMember)
            .await?;
        let name = required_text(Field::Name, name, MAX_NAME_CHARS)?;
        let count = store::boards::categories_of(&txn, &[organization_id])
            .await?
            .len();
        let category = store::boards::insert_category(
            &txn,
            organization_id,
            &name,
            CategoryKind::Custom,
            count as i32 + 1,
            Utc::now(),
        )
        .await?;
        txn.commit().await?;
        Ok(category)
    }

    /// Renames and/or moves a category (admins); positions stay dense.
    pub async fn update_category(
        &self,
        user_id: i64,
        category_id: i64,
        name: Option<&str>,
        position: Option<i64>,
    ) -> KanbanResult<Category> {
        if name.is_none() && position.is_none() {
            return Err(BoardError::OneOfRequired(&[Field::Name, Field::Position]).into());
        }
        let txn = self.begin().await?;
        let (board, category) = self.lock_category(&txn, user_id, category_id).await?;
        board.require_admin()?;
        let name = name
            .map(|name| required_text(Field::Name, Some(name), MAX_NAME_CHARS))
            .transpose()?;
        let now = Utc::now();
        if let Some(name) = &name {
            store::boards::rename_category(&txn, category_id, name, now).await?;
        }
        if position.is_some() {
            let current = store::boards::categories_of(&txn, &[category.organization_id]).await?;
            let order: Vec<i64> = current.iter().map(|c| c.id).collect();
            let order = place(&order, category_id, position);
            store::boards::set_category_positions(&txn, &current, &order, now).await?;
        }
        let updated = store::boards::category(&txn, category_id)
            .await?
            .ok_or(BoardError::CategoryNotFound)?;
        txn.commit().await?;
        Ok(updated)
    }

    /// Deletes an empty category (admins); one that still holds tasks is kept.
    pub async fn delete_category(&self, user_id: i64, category_id: i64) -> KanbanResult<()> {
        let txn = self.begin().await?;
        let (board, category) = self.lock_category(&txn, user_id, category_id).await?;
        board.require_admin()?;
        // Its tasks go with it, as the seed-000 client expects.
        store::tasks::delete_in_category(&txn, category_id).await?;
        store::boards::delete_category(&txn, category_id).await?;
        let rest = store::boards::categories_of(&txn, &[category.organization_id]).await?;
        let order: Vec<i64> = rest.iter().map(|c| c.id).collect();
        store::boards::set_category_positions(&txn, &rest, &order, Utc::now()).await?;
        txn.commit().await?;
        Ok(())
    }
}
