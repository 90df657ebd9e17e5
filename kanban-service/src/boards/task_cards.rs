//! Reading tasks: lists by organization, category or tag, and one card.

use std::collections::HashMap;

use super::Boards;
use super::error::{BoardError, Field};
use super::model::{Page, Tag, Task, TaskCard, TaskQuery, User};
use super::rules::ensure_member;
use crate::error::KanbanResult;
use crate::store;

impl Boards {
    /// Tasks by organization, category and/or tag (at least one), for members.
    pub async fn tasks(
        &self,
        user_id: i64,
        query: TaskQuery,
        page: Page,
    ) -> KanbanResult<(Vec<TaskCard>, u64)> {
        let mut organizations = Vec::new();
        if let Some(id) = query.organization_id {
            organizations.push(id);
        }
        if let Some(id) = query.category_id {
            let category = store::boards::category(&self.db, id).await?;
            organizations.push(category.ok_or(BoardError::NotMember)?.organization_id);
        }
        if let Some(id) = query.tag_id {
            let tag = store::boards::tag(&self.db, id).await?;
            organizations.push(tag.ok_or(BoardError::NotMember)?.organization_id);
        }
        let Some(&organization_id) = organizations.first() else {
            let filters = &[Field::OrganizationId, Field::CategoryId, Field::TagId];
            return Err(BoardError::OneOfRequired(filters).into());
        };
        for id in &organizations {
            ensure_member(self.role_in(*id, user_id).await?)?;
        }
        if organizations.iter().any(|id| *id != organization_id) {
            return Ok((vec![], 0));
        }
        let (tasks, total) = store::tasks::list(&self.db, query, page).await?;
        Ok((self.cards(tasks).await?, total))
    }

    /// The tasks with their category's name, owner, assignees and tags.
    async fn cards(&self, tasks: Vec<Task>) -> KanbanResult<Vec<TaskCard>> {
        let db = &self.db;
        let ids: Vec<i64> = tasks.iter().map(|t| t.id).collect();
        let mut organizations: Vec<i64> = tasks.iter().map(|t| t.organization_id).collect();
        organizations.sort_unstable();
        organizations.dedup();
        let categories: HashMap<i64, String> = store::boards::categories_of(db, &organizations)
            .await?
            .into_iter()
            .map(|c| (c.id, c.name))
            .collect();
        let tags: HashMap<i64, Tag> = store::boards::tags_of(db, &organizations)
            .await?
            .into_iter()
            .map(|t| (t.id, t))
            .collect();
        let assignees = store::tasks::assignees(db, &ids).await?;
        let labels = store::tasks::tag_links(db, &ids).await?;
        let user_ids = tasks
            .iter()
            .map(|t| t.owner_id)
            .chain(assignees.iter().map(|a| a.user_id));
        let users: HashMap<i64, User> = store::users::by_ids(db, user_ids)
            .await?
            .into_iter()
            .map(|u| (u.id, u))
            .collect();
        Ok(tasks
            .into_iter()
            .map(|task| TaskCard {
                category: categories
                    .get(&task.category_id)
                    .cloned()
                    .unwrap_or_default(),
                owner: users.get(&task.owner_id).cloned(),
                assignees: assignees
                    .iter()
                    .filter(|a| a.task_id == task.id)
                    .filter_map(|a| users.get(&a.user_id).cloned())
                    .collect(),
                tags: labels
                    .iter()
                    .filter(|l| l.task_id == task.id)
                    .filter_map(|l| tags.get(&l.tag_id).cloned())
                    .collect(),
                task,
            })
            .collect())
    }

    pub async fn task_card(&self, user_id: i64, task_id: i64) -> KanbanResult<TaskCard> {
        let not_found = || BoardError::TaskNotFound;
        let task = store::tasks::by_id(&self.db, task_id)
            .await?
            .ok_or_else(not_found)?;
        self.visible_role(task.organization_id, user_id, not_found())
            .await?;
        let mut cards = self.cards(vec![task]).await?;
        Ok(cards.pop().ok_or_else(not_found)?)
    }
}
