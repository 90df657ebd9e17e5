//! Reading tasks: lists by organization, category or tag, and one card.

use super::Boards;
use super::error::{BoardError, Field};
use super::model::{Page, TaskCard, TaskListing, TaskQuery};
use super::rules::ensure_member;
use crate::error::KanbanResult;
use crate::store::{self, boards::BoardOf};

impl Boards {
    /// A list of tasks by organization, category and/or tag (at least one),
    /// for members: each criterion's board and the caller's role there, in
    /// one statement each, and the board's version as of the first, read
    /// in the same statement (before any card).
    pub async fn task_listing(&self, user_id: i64, query: TaskQuery) -> KanbanResult<TaskListing> {
        let criteria = [
            query.organization_id.map(BoardOf::Organization),
            query.category_id.map(BoardOf::Category),
            query.tag_id.map(BoardOf::Tag),
        ];
        let mut boards = Vec::new();
        for named in criteria.into_iter().flatten() {
            let board = store::boards::board_version(&self.db, named, user_id).await?;
            boards.push(board.ok_or(BoardError::NotMember)?);
        }
        let Some(&(organization_id, version, _)) = boards.first() else {
            let filters = &[Field::OrganizationId, Field::CategoryId, Field::TagId];
            return Err(BoardError::OneOfRequired(filters).into());
        };
        for &(_, _, role) in &boards {
            ensure_member(role)?;
        }
        let one_board = boards.iter().all(|&(id, _, _)| id == organization_id);
        Ok(TaskListing {
            query,
            version: one_board.then_some(version),
        })
    }

    /// A page of the listing's tasks and how many it has in all (see
    /// `store::cards`); none when its criteria name different boards.
    pub async fn task_page(
        &self,
        listing: &TaskListing,
        page: Page,
    ) -> KanbanResult<(Vec<TaskCard>, u64)> {
        if listing.version.is_none() {
            return Ok((vec![], 0));
        }
        Ok(store::cards::page(&self.db, listing.query, page).await?)
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
