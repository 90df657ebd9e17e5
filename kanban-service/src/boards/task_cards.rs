//! Reading tasks: lists by organization, category or tag, and one card.

use super::Boards;
use super::error::{BoardError, Field};
use super::model::{Page, TaskCard, TaskQuery};
use super::rules::ensure_member;
use crate::error::KanbanResult;
use crate::store;

impl Boards {
    /// Tasks by organization, category and/or tag (at least one), for members.
    /// Each criterion's organization and the caller's role there come in one
    /// look-up; the page of cards in three more (see `store::cards`).
    pub async fn tasks(
        &self,
        user_id: i64,
        query: TaskQuery,
        page: Page,
    ) -> KanbanResult<(Vec<TaskCard>, u64)> {
        let mut organizations = Vec::new();
        if let Some(id) = query.organization_id {
            organizations.push((id, self.role_in(id, user_id).await?));
        }
        if let Some(id) = query.category_id {
            let board = store::boards::category_board(&self.db, id, user_id).await?;
            organizations.push(board.ok_or(BoardError::NotMember)?);
        }
        if let Some(id) = query.tag_id {
            let board = store::boards::tag_board(&self.db, id, user_id).await?;
            organizations.push(board.ok_or(BoardError::NotMember)?);
        }
        let Some(&(organization_id, _)) = organizations.first() else {
            let filters = &[Field::OrganizationId, Field::CategoryId, Field::TagId];
            return Err(BoardError::OneOfRequired(filters).into());
        };
        for (_, role) in &organizations {
            ensure_member(*role)?;
        }
        if organizations.iter().any(|(id, _)| *id != organization_id) {
            return Ok((vec![], 0));
        }
        Ok(store::cards::page(&self.db, query, page).await?)
    }

    pub async fn task_card(&self, user_id: i64, task_id: i64) -> KanbanResult<TaskCard> {
        let not_found = || BoardError::TaskNotFound;
        let card = store::cards::card(&self.db, task_id)
            .await?
            .ok_or_else(not_found)?;
        self.visible_role(card.task.organization_id, user_id, not_found())
            .await?;
        Ok(card)
    }
}
