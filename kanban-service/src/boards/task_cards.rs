//! Reading tasks: lists by organization, category or tag, and one card.

use super::Boards;
use super::error::{BoardError, Field};
use super::model::{Page, TaskCard, TaskListing, TaskQuery};
use super::rules::ensure_member;
use crate::error::KanbanResult;
use crate::store;

impl Boards {
    /// A list of tasks by organization, category and/or tag (at least one),
    /// for members: each criterion's organization and the caller's role
    /// there, and the board's version as of now. The organization's role
    /// and version come in one statement; a category's or a tag's board in
    /// one more.
    pub async fn task_listing(&self, user_id: i64, query: TaskQuery) -> KanbanResult<TaskListing> {
        // The boards of the category and tag criteria, with the caller's role.
        let mut boards = Vec::new();
        if let Some(id) = query.category_id {
            let board = store::boards::category_board(&self.db, id, user_id).await?;
            boards.push(board.ok_or(BoardError::NotMember)?);
        }
        if let Some(id) = query.tag_id {
            let board = store::boards::tag_board(&self.db, id, user_id).await?;
            boards.push(board.ok_or(BoardError::NotMember)?);
        }
        let Some(organization_id) = query
            .organization_id
            .or_else(|| boards.first().map(|&(id, _)| id))
        else {
            let filters = &[Field::OrganizationId, Field::CategoryId, Field::TagId];
            return Err(BoardError::OneOfRequired(filters).into());
        };
        let board = store::boards::board_version(&self.db, organization_id, user_id).await?;
        let (version, role) = board.map_or((None, None), |(version, role)| (Some(version), role));
        ensure_member(role)?;
        for &(_, role) in &boards {
            ensure_member(role)?;
        }
        let one_board = boards.iter().all(|&(id, _)| id == organization_id);
        Ok(TaskListing {
            query,
            version: version.filter(|_| one_board),
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
