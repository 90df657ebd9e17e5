//! The board rules applied against storage. Every function takes the
//! acting user's id and checks what that user may do before acting.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, DatabaseTransaction, TransactionTrait};

use super::{
    DEFAULT_CATEGORIES, KIND_CUSTOM, KIND_DEFAULT, MAX_DESCRIPTION_CHARS, MAX_NAME_CHARS,
    MAX_TITLE_CHARS, OrganizationRole, ensure_admin, ensure_admin_remains, ensure_member,
    ensure_task_editor, optional_text, parse_color, parse_due_date, place, required_text,
};
use crate::entity::{category, organization, tag, task, user};
use crate::error::{KanbanError, KanbanResult};
use crate::store::tasks::{NewTaskRow, TaskQuery};
use crate::store::{self, Page};

/// An organization with its categories (by position) and tags.
#[derive(Debug, Clone)]
pub struct OrganizationBoard {
    pub organization: organization::Model,
    pub categories: Vec<category::Model>,
    pub tags: Vec<tag::Model>,
}

#[derive(Debug, Clone)]
pub struct Member {
    pub user: user::Model,
    pub role: OrganizationRole,
    pub is_creator: bool,
}

/// A task with everything a board shows of it.
#[derive(Debug, Clone)]
pub struct TaskCard {
    pub task: task::Model,
    pub category: String,
    pub owner: Option<user::Model>,
    pub assignees: Vec<user::Model>,
    pub tags: Vec<tag::Model>,
}

/// A new task, as asked for.
#[derive(Debug, Clone, Default)]
pub struct TaskDraft {
    pub title: Option<String>,
    pub description: Option<String>,
    pub due_date: Option<String>,
    pub organization_id: Option<i64>,
    pub category_id: Option<i64>,
}

/// Changes to a task; absent fields stay as they are.
#[derive(Debug, Clone, Default)]
pub struct TaskChanges {
    pub title: Option<String>,
    pub description: Option<String>,
    pub due_date: Option<String>,
    pub category_id: Option<i64>,
}

pub struct Boards {
    db: DatabaseConnection,
}

fn parse_role(value: Option<String>) -> Option<OrganizationRole> {
    value.as_deref().and_then(OrganizationRole::parse)
}

fn due_date(value: Option<&str>) -> KanbanResult<Option<DateTime<Utc>>> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(value) => parse_due_date(value).map(Some),
    }
}

impl Boards {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    async fn begin(&self) -> KanbanResult<DatabaseTransaction> {
        Ok(self.db.begin().await?)
    }

    /// Records what a token or the account manager says of a user.
    pub async fn remember_user(
        &self,
        id: i64,
        email: Option<String>,
        name: String,
        as_of: DateTime<Utc>,
    ) -> KanbanResult<()> {
        store::users::remember(&self.db, id, email.map(|e| e.to_lowercase()), name, as_of).await?;
        Ok(())
    }

    pub async fn user(&self, id: i64) -> KanbanResult<Option<user::Model>> {
        Ok(store::users::by_id(&self.db, id).await?)
    }

    async fn role(
        &self,
        organization_id: i64,
        user_id: i64,
    ) -> KanbanResult<Option<OrganizationRole>> {
        Ok(parse_role(
            store::boards::role(&self.db, organization_id, user_id).await?,
        ))
    }

    /// Fails with [`KanbanError::OrganizationHidden`] unless the user is a member.
    async fn visible_role(
        &self,
        organization_id: i64,
        user_id: i64,
    ) -> KanbanResult<OrganizationRole> {
        self.role(organization_id, user_id)
            .await?
            .ok_or(KanbanError::OrganizationHidden)
    }

    /// Fails unless the user is an admin of the organization (hidden when not a member).
    pub async fn ensure_admin_of(&self, user_id: i64, organization_id: i64) -> KanbanResult<()> {
        ensure_admin(Some(self.visible_role(organization_id, user_id).await?))
    }

    async fn boards_of(
        &self,
        organizations: Vec<organization::Model>,
    ) -> KanbanResult<Vec<OrganizationBoard>> {
        let ids: Vec<i64> = organizations.iter().map(|o| o.id).collect();
        let mut categories: HashMap<i64, Vec<category::Model>> = HashMap::new();
        for category in store::boards::categories_of(&self.db, &ids).await? {
            categories
                .entry(category.organization_id)
                .or_default()
                .push(category);
        }
        let mut tags: HashMap<i64, Vec<tag::Model>> = HashMap::new();
        for tag in store::boards::tags_of(&self.db, &ids).await? {
            tags.entry(tag.organization_id).or_default().push(tag);
        }
        Ok(organizations
            .into_iter()
            .map(|organization| OrganizationBoard {
                categories: categories.remove(&organization.id).unwrap_or_default(),
                tags: tags.remove(&organization.id).unwrap_or_default(),
                organization,
            })
            .collect())
    }

    // Organizations

    pub async fn organizations(
        &self,
        user_id: i64,
        page: Page,
    ) -> KanbanResult<(Vec<OrganizationBoard>, u64)> {
        let (organizations, total) =
            store::boards::organizations_of(&self.db, user_id, page).await?;
        Ok((self.boards_of(organizations).await?, total))
    }

    pub async fn organization(
        &self,
        user_id: i64,
        organization_id: i64,
    ) -> KanbanResult<OrganizationBoard> {
        self.visible_role(organization_id, user_id).await?;
        let organization = store::boards::organization(&self.db, organization_id)
            .await?
            .ok_or(KanbanError::OrganizationHidden)?;
        let mut boards = self.boards_of(vec![organization]).await?;
        boards.pop().ok_or(KanbanError::OrganizationHidden)
    }

    /// Creates the organization with its default categories; the creator is its admin.
    pub async fn create_organization(
        &self,
        user_id: i64,
        name: Option<&str>,
        description: Option<&str>,
    ) -> KanbanResult<OrganizationBoard> {
        let name = required_text("Name", name, MAX_NAME_CHARS)?;
        let description =
            optional_text("Description", description, MAX_DESCRIPTION_CHARS)?.unwrap_or_default();
        let now = Utc::now();
        let txn = self.begin().await?;
        let organization =
            store::boards::insert_organization(&txn, name, description, user_id, now).await?;
        store::boards::insert_membership(
            &txn,
            organization.id,
            user_id,
            OrganizationRole::Admin.as_str(),
            now,
        )
        .await?;
        let mut categories = Vec::new();
        for (index, name) in DEFAULT_CATEGORIES.iter().enumerate() {
            let position = index as i32 + 1;
            categories.push(
                store::boards::insert_category(
                    &txn,
                    organization.id,
                    name,
                    KIND_DEFAULT,
                    position,
                    now,
                )
                .await?,
            );
        }
        txn.commit().await?;
        Ok(OrganizationBoard {
            organization,
            categories,
            tags: vec![],
        })
    }

    pub async fn update_organization(
        &self,
        user_id: i64,
        organization_id: i64,
        name: Option<&str>,
        description: Option<&str>,
    ) -> KanbanResult<organization::Model> {
        self.ensure_admin_of(user_id, organization_id).await?;
        let name = match name {
            Some(name) => Some(required_text("Name", Some(name), MAX_NAME_CHARS)?),
            None => None,
        };
        let description = optional_text("Description", description, MAX_DESCRIPTION_CHARS)?;
        let txn = self.begin().await?;
        let current = store::boards::lock_organization(&txn, organization_id)
            .await?
            .ok_or(KanbanError::OrganizationHidden)?;
        let updated =
            store::boards::update_organization(&txn, current, name, description, Utc::now())
                .await?;
        txn.commit().await?;
        Ok(updated)
    }

    /// Deletes the organization and all its data, in one transaction.
    pub async fn delete_organization(
        &self,
        user_id: i64,
        organization_id: i64,
    ) -> KanbanResult<()> {
        self.ensure_admin_of(user_id, organization_id).await?;
        let txn = self.begin().await?;
        store::boards::lock_organization(&txn, organization_id)
            .await?
            .ok_or(KanbanError::OrganizationHidden)?;
        store::boards::delete_organization(&txn, organization_id).await?;
        txn.commit().await?;
        Ok(())
    }

    // Members

    pub async fn members(&self, user_id: i64, organization_id: i64) -> KanbanResult<Vec<Member>> {
        self.visible_role(organization_id, user_id).await?;
        let organization = store::boards::organization(&self.db, organization_id)
            .await?
            .ok_or(KanbanError::OrganizationHidden)?;
        let memberships = store::boards::members(&self.db, organization_id).await?;
        let users = store::users::by_ids(&self.db, memberships.iter().map(|m| m.user_id)).await?;
        let users: HashMap<i64, user::Model> = users.into_iter().map(|u| (u.id, u)).collect();
        Ok(memberships
            .into_iter()
            .map(|membership| Member {
                user: users
                    .get(&membership.user_id)
                    .cloned()
                    .unwrap_or(user::Model {
                        id: membership.user_id,
                        email: None,
                        name: String::new(),
                        updated_at: membership.created_at,
                    }),
                role: OrganizationRole::parse(&membership.role).unwrap_or(OrganizationRole::Member),
                is_creator: membership.user_id == organization.user_id,
            })
            .collect())
    }

    /// Adds a known user (see [`Boards::remember_user`]) to the organization.
    pub async fn add_member(
        &self,
        actor: i64,
        organization_id: i64,
        member: i64,
        role: OrganizationRole,
    ) -> KanbanResult<()> {
        self.ensure_admin_of(actor, organization_id).await?;
        let txn = self.begin().await?;
        store::boards::lock_organization(&txn, organization_id)
            .await?
            .ok_or(KanbanError::OrganizationHidden)?;
        if store::boards::role(&txn, organization_id, member)
            .await?
            .is_some()
        {
            return Err(KanbanError::AlreadyMember);
        }
        store::boards::insert_membership(&txn, organization_id, member, role.as_str(), Utc::now())
            .await?;
        txn.commit().await?;
        Ok(())
    }

    /// Admin count and the target's role, read under the organization's lock.
    async fn admins_and_role(
        txn: &DatabaseTransaction,
        organization_id: i64,
        member: i64,
    ) -> KanbanResult<(usize, OrganizationRole)> {
        store::boards::lock_organization(txn, organization_id)
            .await?
            .ok_or(KanbanError::OrganizationHidden)?;
        let memberships = store::boards::members(txn, organization_id).await?;
        let admins = memberships
            .iter()
            .filter(|m| parse_role(Some(m.role.clone())) == Some(OrganizationRole::Admin))
            .count();
        let role = memberships
            .iter()
            .find(|m| m.user_id == member)
            .and_then(|m| OrganizationRole::parse(&m.role))
            .ok_or(KanbanError::MemberNotFound)?;
        Ok((admins, role))
    }

    pub async fn change_role(
        &self,
        actor: i64,
        organization_id: i64,
        member: i64,
        role: OrganizationRole,
    ) -> KanbanResult<()> {
        self.ensure_admin_of(actor, organization_id).await?;
        let txn = self.begin().await?;
        let (admins, current) = Self::admins_and_role(&txn, organization_id, member).await?;
        ensure_admin_remains(
            admins,
            current == OrganizationRole::Admin && role != OrganizationRole::Admin,
        )?;
        store::boards::set_role(&txn, organization_id, member, role.as_str()).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Removes a member (admins remove anyone; members may leave).
    pub async fn remove_member(
        &self,
        actor: i64,
        organization_id: i64,
        member: i64,
    ) -> KanbanResult<()> {
        if actor != member {
            self.ensure_admin_of(actor, organization_id).await?;
        } else {
            self.visible_role(organization_id, actor).await?;
        }
        let txn = self.begin().await?;
        let (admins, current) = Self::admins_and_role(&txn, organization_id, member).await?;
        ensure_admin_remains(admins, current == OrganizationRole::Admin)?;
        store::boards::delete_membership(&txn, organization_id, member).await?;
        txn.commit().await?;
        Ok(())
    }

    // Categories

    pub async fn categories(
        &self,
        user_id: i64,
        organization_id: i64,
    ) -> KanbanResult<Vec<category::Model>> {
        ensure_member(self.role(organization_id, user_id).await?)?;
        Ok(store::boards::categories_of(&self.db, &[organization_id]).await?)
    }

    /// A category the user may see, with the user's role in its organization.
    /// Unknown and foreign categories look the same: not found.
    async fn visible_category(
        &self,
        user_id: i64,
        category_id: i64,
    ) -> KanbanResult<(category::Model, OrganizationRole)> {
        let category = store::boards::category(&self.db, category_id)
            .await?
            .ok_or(KanbanError::CategoryNotFound)?;
        let role = self
            .role(category.organization_id, user_id)
            .await?
            .ok_or(KanbanError::CategoryNotFound)?;
        Ok((category, role))
    }

    pub async fn create_category(
        &self,
        user_id: i64,
        organization_id: i64,
        name: Option<&str>,
    ) -> KanbanResult<category::Model> {
        ensure_admin(self.role(organization_id, user_id).await?)?;
        let name = required_text("Name", name, MAX_NAME_CHARS)?;
        let txn = self.begin().await?;
        store::boards::lock_organization(&txn, organization_id)
            .await?
            .ok_or(KanbanError::NotMember)?;
        let count = store::boards::categories_of(&txn, &[organization_id])
            .await?
            .len();
        let category = store::boards::insert_category(
            &txn,
            organization_id,
            &name,
            KIND_CUSTOM,
            count as i32 + 1,
            Utc::now(),
        )
        .await?;
        txn.commit().await?;
        Ok(category)
    }

    /// Renames and/or moves a category; positions stay dense.
    pub async fn update_category(
        &self,
        user_id: i64,
        category_id: i64,
        name: Option<&str>,
        position: Option<i64>,
    ) -> KanbanResult<category::Model> {
        let (category, role) = self.visible_category(user_id, category_id).await?;
        ensure_admin(Some(role))?;
        let name = match name {
            Some(name) => Some(required_text("Name", Some(name), MAX_NAME_CHARS)?),
            None => None,
        };
        let now = Utc::now();
        let txn = self.begin().await?;
        store::boards::lock_organization(&txn, category.organization_id)
            .await?
            .ok_or(KanbanError::CategoryNotFound)?;
        if let Some(name) = &name {
            store::boards::rename_category(&txn, category_id, name, now).await?;
        }
        if position.is_some() {
            let current = store::boards::categories_of(&txn, &[category.organization_id]).await?;
            let order: Vec<i64> = current.iter().map(|c| c.id).collect();
            store::boards::set_category_positions(
                &txn,
                &current,
                &place(&order, category_id, position),
                now,
            )
            .await?;
        }
        let updated = store::boards::category(&txn, category_id)
            .await?
            .ok_or(KanbanError::CategoryNotFound)?;
        txn.commit().await?;
        Ok(updated)
    }

    /// Deletes an empty category; a category that still holds tasks is kept.
    pub async fn delete_category(&self, user_id: i64, category_id: i64) -> KanbanResult<()> {
        let (category, role) = self.visible_category(user_id, category_id).await?;
        ensure_admin(Some(role))?;
        let txn = self.begin().await?;
        store::boards::lock_organization(&txn, category.organization_id)
            .await?
            .ok_or(KanbanError::CategoryNotFound)?;
        if store::tasks::count_in(&txn, category_id).await? > 0 {
            return Err(KanbanError::CategoryNotEmpty);
        }
        store::boards::delete_category(&txn, category_id).await?;
        let rest = store::boards::categories_of(&txn, &[category.organization_id]).await?;
        let order: Vec<i64> = rest.iter().map(|c| c.id).collect();
        store::boards::set_category_positions(&txn, &rest, &order, Utc::now()).await?;
        txn.commit().await?;
        Ok(())
    }

    // Tags

    pub async fn tags(&self, user_id: i64, organization_id: i64) -> KanbanResult<Vec<tag::Model>> {
        ensure_member(self.role(organization_id, user_id).await?)?;
        Ok(store::boards::tags_of(&self.db, &[organization_id]).await?)
    }

    async fn visible_tag(
        &self,
        user_id: i64,
        tag_id: i64,
    ) -> KanbanResult<(tag::Model, OrganizationRole)> {
        let tag = store::boards::tag(&self.db, tag_id)
            .await?
            .ok_or(KanbanError::TagNotFound)?;
        let role = self
            .role(tag.organization_id, user_id)
            .await?
            .ok_or(KanbanError::TagNotFound)?;
        Ok((tag, role))
    }

    pub async fn create_tag(
        &self,
        user_id: i64,
        organization_id: i64,
        name: Option<&str>,
        color: Option<&str>,
    ) -> KanbanResult<tag::Model> {
        ensure_admin(self.role(organization_id, user_id).await?)?;
        let name = required_text("Name", name, MAX_NAME_CHARS)?;
        let color = parse_color(color)?;
        Ok(store::boards::insert_tag(&self.db, organization_id, name, color, Utc::now()).await?)
    }

    pub async fn update_tag(
        &self,
        user_id: i64,
        tag_id: i64,
        name: Option<&str>,
        color: Option<&str>,
    ) -> KanbanResult<tag::Model> {
        let (tag, role) = self.visible_tag(user_id, tag_id).await?;
        ensure_admin(Some(role))?;
        let name = match name {
            Some(name) => Some(required_text("Name", Some(name), MAX_NAME_CHARS)?),
            None => None,
        };
        let color = match color {
            Some(color) => Some(parse_color(Some(color))?),
            None => None,
        };
        Ok(store::boards::update_tag(&self.db, tag, name, color, Utc::now()).await?)
    }

    pub async fn delete_tag(&self, user_id: i64, tag_id: i64) -> KanbanResult<()> {
        let (_, role) = self.visible_tag(user_id, tag_id).await?;
        ensure_admin(Some(role))?;
        let txn = self.begin().await?;
        store::boards::delete_tag(&txn, tag_id).await?;
        txn.commit().await?;
        Ok(())
    }

    // Tasks

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
            organizations.push(
                store::boards::category(&self.db, id)
                    .await?
                    .ok_or(KanbanError::NotMember)?
                    .organization_id,
            );
        }
        if let Some(id) = query.tag_id {
            organizations.push(
                store::boards::tag(&self.db, id)
                    .await?
                    .ok_or(KanbanError::NotMember)?
                    .organization_id,
            );
        }
        let Some(&organization_id) = organizations.first() else {
            return Err(KanbanError::Invalid(
                "OrganizationId, CategoryId or TagId is required".into(),
            ));
        };
        for id in &organizations {
            ensure_member(self.role(*id, user_id).await?)?;
        }
        if organizations.iter().any(|id| *id != organization_id) {
            return Ok((vec![], 0));
        }
        let (tasks, total) = store::tasks::list(&self.db, query, page).await?;
        Ok((self.cards(tasks).await?, total))
    }

    async fn cards(&self, tasks: Vec<task::Model>) -> KanbanResult<Vec<TaskCard>> {
        let ids: Vec<i64> = tasks.iter().map(|t| t.id).collect();
        let organizations: Vec<i64> = {
            let mut ids: Vec<i64> = tasks.iter().map(|t| t.organization_id).collect();
            ids.sort_unstable();
            ids.dedup();
            ids
        };
        let categories: HashMap<i64, String> =
            store::boards::categories_of(&self.db, &organizations)
                .await?
                .into_iter()
                .map(|c| (c.id, c.name))
                .collect();
        let tags: HashMap<i64, tag::Model> = store::boards::tags_of(&self.db, &organizations)
            .await?
            .into_iter()
            .map(|t| (t.id, t))
            .collect();
        let assignees = store::tasks::assignees(&self.db, &ids).await?;
        let tag_links = store::tasks::tag_links(&self.db, &ids).await?;
        let user_ids = tasks
            .iter()
            .map(|t| t.owner_id)
            .chain(assignees.iter().map(|a| a.user_id));
        let users: HashMap<i64, user::Model> = store::users::by_ids(&self.db, user_ids)
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
                tags: tag_links
                    .iter()
                    .filter(|l| l.task_id == task.id)
                    .filter_map(|l| tags.get(&l.tag_id).cloned())
                    .collect(),
                task,
            })
            .collect())
    }

    pub async fn task_card(&self, user_id: i64, task_id: i64) -> KanbanResult<TaskCard> {
        let task = store::tasks::by_id(&self.db, task_id)
            .await?
            .ok_or(KanbanError::TaskNotFound)?;
        self.role(task.organization_id, user_id)
            .await?
            .ok_or(KanbanError::TaskNotFound)?;
        self.cards(vec![task])
            .await?
            .pop()
            .ok_or(KanbanError::TaskNotFound)
    }

    pub async fn create_task(&self, user_id: i64, draft: TaskDraft) -> KanbanResult<task::Model> {
        let organization_id = draft
            .organization_id
            .ok_or_else(|| KanbanError::Invalid("OrganizationId is required".into()))?;
        let category_id = draft
            .category_id
            .ok_or_else(|| KanbanError::Invalid("CategoryId is required".into()))?;
        ensure_member(self.role(organization_id, user_id).await?)?;
        let title = required_text("Title", draft.title.as_deref(), MAX_TITLE_CHARS)?;
        let description = optional_text(
            "Description",
            draft.description.as_deref(),
            MAX_DESCRIPTION_CHARS,
        )?;
        let due_date = due_date(draft.due_date.as_deref())?;
        let txn = self.begin().await?;
        store::boards::lock_organization(&txn, organization_id)
            .await?
            .ok_or(KanbanError::NotMember)?;
        let category = store::boards::category(&txn, category_id)
            .await?
            .filter(|c| c.organization_id == organization_id)
            .ok_or(KanbanError::CategoryNotFound)?;
        let position = store::tasks::count_in(&txn, category.id).await? as i32 + 1;
        let row = NewTaskRow {
            title,
            description,
            due_date,
            position,
            owner_id: user_id,
            category_id,
            organization_id,
        };
        let task = store::tasks::insert(&txn, row, Utc::now()).await?;
        txn.commit().await?;
        Ok(task)
    }

    /// A task the user may edit: unknown and foreign tasks are not found;
    /// members who are neither owner nor assignee are refused. With
    /// `lock_board`, the task's organization is locked first: every change
    /// of positions takes that one lock before touching any row, so
    /// concurrent moves queue instead of deadlocking, and positions stay dense.
    async fn editable_task(
        &self,
        conn: &DatabaseTransaction,
        user_id: i64,
        task_id: i64,
        lock_board: bool,
    ) -> KanbanResult<task::Model> {
        let mut task = store::tasks::by_id(conn, task_id)
            .await?
            .ok_or(KanbanError::TaskNotFound)?;
        store::boards::role(conn, task.organization_id, user_id)
            .await?
            .ok_or(KanbanError::TaskNotFound)?;
        if lock_board {
            store::boards::lock_organization(conn, task.organization_id)
                .await?
                .ok_or(KanbanError::TaskNotFound)?;
            // Read again under the lock: a move that finished meanwhile shows.
            task = store::tasks::by_id(conn, task_id)
                .await?
                .ok_or(KanbanError::TaskNotFound)?;
        }
        let assignees: Vec<i64> = store::tasks::assignees(conn, &[task_id])
            .await?
            .iter()
            .map(|a| a.user_id)
            .collect();
        ensure_task_editor(user_id, task.owner_id, &assignees)?;
        Ok(task)
    }

    /// Moves the task to `category_id` at `position` (the end by default),
    /// keeping both categories' positions dense. The caller holds the
    /// organization's lock.
    async fn relocate(
        txn: &DatabaseTransaction,
        task: &task::Model,
        category_id: i64,
        position: Option<i64>,
    ) -> KanbanResult<()> {
        let target = store::boards::category(txn, category_id)
            .await?
            .filter(|c| c.organization_id == task.organization_id)
            .ok_or(KanbanError::CategoryNotFound)?;
        if target.id != task.category_id {
            let source = store::tasks::order_in(txn, task.category_id).await?;
            let rest: Vec<i64> = source
                .iter()
                .map(|(id, _)| *id)
                .filter(|id| *id != task.id)
                .collect();
            store::tasks::set_order(txn, task.category_id, &source, &rest).await?;
        }
        let current = store::tasks::order_in(txn, target.id).await?;
        let order: Vec<i64> = current.iter().map(|(id, _)| *id).collect();
        store::tasks::set_order(txn, target.id, &current, &place(&order, task.id, position))
            .await?;
        Ok(())
    }

    pub async fn update_task(
        &self,
        user_id: i64,
        task_id: i64,
        changes: TaskChanges,
    ) -> KanbanResult<task::Model> {
        let title = match changes.title.as_deref() {
            Some(title) => Some(required_text("Title", Some(title), MAX_TITLE_CHARS)?),
            None => None,
        };
        let description = optional_text(
            "Description",
            changes.description.as_deref(),
            MAX_DESCRIPTION_CHARS,
        )?;
        let due = due_date(changes.due_date.as_deref())?;
        let txn = self.begin().await?;
        let task = self
            .editable_task(&txn, user_id, task_id, changes.category_id.is_some())
            .await?;
        if let Some(category_id) = changes.category_id.filter(|id| *id != task.category_id) {
            Self::relocate(&txn, &task, category_id, None).await?;
        }
        let current = store::tasks::by_id(&txn, task_id)
            .await?
            .ok_or(KanbanError::TaskNotFound)?;
        let mut row: task::ActiveModel = current.into();
        if let Some(title) = title {
            row.title = sea_orm::Set(title);
        }
        if let Some(description) = description {
            row.description = sea_orm::Set(Some(description));
        }
        if changes.due_date.is_some() {
            row.due_date = sea_orm::Set(due);
        }
        row.updated_at = sea_orm::Set(Utc::now());
        let updated = store::tasks::update(&txn, row).await?;
        txn.commit().await?;
        Ok(updated)
    }

    pub async fn move_task(
        &self,
        user_id: i64,
        task_id: i64,
        category_id: Option<i64>,
        position: Option<i64>,
    ) -> KanbanResult<task::Model> {
        let txn = self.begin().await?;
        let task = self.editable_task(&txn, user_id, task_id, true).await?;
        let category_id = category_id.unwrap_or(task.category_id);
        if category_id == task.category_id && position.is_none() {
            return Err(KanbanError::Invalid(
                "CategoryId or position is required".into(),
            ));
        }
        Self::relocate(&txn, &task, category_id, position).await?;
        store::tasks::touch(&txn, task_id, Utc::now()).await?;
        let moved = store::tasks::by_id(&txn, task_id)
            .await?
            .ok_or(KanbanError::TaskNotFound)?;
        txn.commit().await?;
        Ok(moved)
    }

    pub async fn delete_task(&self, user_id: i64, task_id: i64) -> KanbanResult<()> {
        let txn = self.begin().await?;
        let task = self.editable_task(&txn, user_id, task_id, true).await?;
        store::tasks::delete(&txn, task_id).await?;
        let rest = store::tasks::order_in(&txn, task.category_id).await?;
        let order: Vec<i64> = rest.iter().map(|(id, _)| *id).collect();
        store::tasks::set_order(&txn, task.category_id, &rest, &order).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Assigns a member of the task's organization, found by email.
    pub async fn add_assignee(
        &self,
        user_id: i64,
        task_id: i64,
        email: Option<&str>,
    ) -> KanbanResult<()> {
        let email = required_text("UserEmail", email, 255)?;
        let txn = self.begin().await?;
        let task = self.editable_task(&txn, user_id, task_id, false).await?;
        let person = store::users::by_email(&txn, &email).await?;
        let member = match person {
            Some(person)
                if store::boards::role(&txn, task.organization_id, person.id)
                    .await?
                    .is_some() =>
            {
                person
            }
            _ => {
                return Err(KanbanError::Invalid(
                    "User is not a member of this organization".into(),
                ));
            }
        };
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
        self.editable_task(&txn, user_id, task_id, false).await?;
        if store::tasks::remove_assignee(&txn, task_id, assignee).await? == 0 {
            return Err(KanbanError::UserNotFound);
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
        let tag_id = tag_id.ok_or_else(|| KanbanError::Invalid("TagId is required".into()))?;
        let txn = self.begin().await?;
        let task = self.editable_task(&txn, user_id, task_id, false).await?;
        store::boards::tag(&txn, tag_id)
            .await?
            .filter(|tag| tag.organization_id == task.organization_id)
            .ok_or(KanbanError::TagNotFound)?;
        store::tasks::add_tag(&txn, task_id, tag_id).await?;
        store::tasks::touch(&txn, task_id, Utc::now()).await?;
        txn.commit().await?;
        Ok(())
    }

    pub async fn remove_tag(&self, user_id: i64, task_id: i64, tag_id: i64) -> KanbanResult<()> {
        let txn = self.begin().await?;
        self.editable_task(&txn, user_id, task_id, false).await?;
        if store::tasks::remove_tag(&txn, task_id, tag_id).await? == 0 {
            return Err(KanbanError::TagNotFound);
        }
        txn.commit().await?;
        Ok(())
    }
}
