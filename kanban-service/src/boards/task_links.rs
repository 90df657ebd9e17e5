//! A task's assignees and tags: changed by the task's owner and assignees.

use chrono::Utc;

use super::Boards;
use super::error::{BoardError, Field, Rule};
use super::rules::required_text;
use crate::error::KanbanResult;
use crate::store;

impl Boards {
    /// Assigns a member of the task's organization, found by email.
    pub async fn add_assignee(
        &self,
        user_id: i64,
        task_id: i64,
        email: Option<&str>,
    ) -> KanbanResult<()> {
        let email = required_text(Field::UserEmail, email, 255)?;
        let txn = self.begin().await?;
        let (board, _) = self.editable_task(&txn, user_id, task_id).await?;
        let mut member = None;
        if let Some(person) = store::users::by_email(&txn, &email).await?
            && store::boards::role(&txn, board.organization_id(), person.id)
                .await?
                .is_some()
        {
            member = Some(person);
        }
        let member = member.ok_or(BoardError::AssigneeNotMember)?;
        store::tasks::add_assignee(&txn, task_id, member.id).await?;
        store::tasks::touch(&txn, task_id, Utc::now()).await?;
        txn.commit().await?;
        Ok(())
    }

    pub async fn remove_assignee(
        &self,
        user_id: i64,
        task_id: i64,
        assignee: i64,
    ) -> KanbanResult<()> {
        let txn = self.begin().await?;
        self.editable_task(&txn, user_id, task_id).await?;
        if store::tasks::remove_assignee(&txn, task_id, assignee).await? == 0 {
            return Err(BoardError::UserNotFound.into());
        }
        txn.commit().await?;
        Ok(())
    }

    /// Puts a tag of the task's own organization on the task.
    pub async fn add_tag(
        &self,
        user_id: i64,
        task_id: i64,
        tag_id: Option<i64>,
    ) -> KanbanResult<()> {
        let tag_id = tag_id.ok_or(BoardError::invalid(Field::TagId, Rule::Required))?;
        let txn = self.begin().await?;
        let (board, _) = self.editable_task(&txn, user_id, task_id).await?;
        store::boards::tag(&txn, tag_id)
            .await?
            .filter(|tag| tag.organization_id == board.organization_id())
            .ok_or(BoardError::TagNotFound)?;
        store::tasks::add_tag(&txn, task_id, tag_id).await?;
        store::tasks::touch(&txn, task_id, Utc::now()).await?;
        txn.commit().await?;
        Ok(())
    }

    pub async fn remove_tag(&self, user_id: i64, task_id: i64, tag_id: i64) -> KanbanResult<()> {
        let txn = self.begin().await?;
        self.editable_task(&txn, user_id, task_id).await?;
        if store::tasks::remove_tag(&txn, task_id, tag_id).await? == 0 {
            return Err(BoardError::TagNotFound.into());
        }
        txn.commit().await?;
        Ok(())
    }
}
