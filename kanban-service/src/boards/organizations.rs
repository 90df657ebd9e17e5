//! Organizations: list, read, create, edit, delete.

use std::collections::HashMap;

use chrono::Utc;

use super::Boards;
use super::error::{BoardError, Field};
use super::model::{
    Actor, Category, CategoryKind, Organization, OrganizationBoard, OrganizationListing,
    OrganizationRole, Page, Tag,
};
use super::rules::{DEFAULT_CATEGORIES, MAX_DESCRIPTION_CHARS, MAX_NAME_CHARS};
use super::rules::{ensure_owner, optional_text, required_text};
use crate::error::KanbanResult;
use crate::store;

impl Boards {
    /// The organizations with their categories and tags.
    async fn boards_of(
        &self,
        organizations: Vec<Organization>,
    ) -> KanbanResult<Vec<OrganizationBoard>> {
        let ids: Vec<i64> = organizations.iter().map(|o| o.id).collect();
        let (categories, tags) = store::boards::parts_of(&self.db, &ids).await?;
        Ok(assemble(organizations, categories, tags))
    }

    /// What the user's organization list shows as of now: which
    /// organizations, each at its version (read before the list itself).
    pub async fn organization_listing(&self, user_id: i64) -> KanbanResult<OrganizationListing> {
        let boards = store::boards::member_board_versions(&self.db, user_id).await?;
        Ok(OrganizationListing { boards })
    }

    /// The user's organizations, newest first, and how many there are.
    pub async fn organizations(
        &self,
        user_id: i64,
        page: Page,
    ) -> KanbanResult<(Vec<OrganizationBoard>, u64)> {
        let (parts, total) = store::boards::boards_of_member(&self.db, user_id, page).await?;
        Ok((
            assemble(parts.organizations, parts.categories, parts.tags),
            total,
        ))
    }

    pub async fn organization(
        &self,
        user_id: i64,
        organization_id: i64,
    ) -> KanbanResult<OrganizationBoard> {
        let organization = self.visible_organization(organization_id, user_id).await?;
        let mut boards = self.boards_of(vec![organization]).await?;
        Ok(boards.pop().ok_or(BoardError::OrganizationHidden)?)
    }

    /// Creates the organization with its default categories; the creator
    /// (remembered as their token describes them) is its owner and admin.
    pub async fn create_organization(
        &self,
        actor: &Actor,
        name: Option<&str>,
        description: Option<&str>,
    ) -> KanbanResult<OrganizationBoard> {
        let name = required_text(Field::Name, name, MAX_NAME_CHARS)?;
        let description = optional_text(Field::Description, description, MAX_DESCRIPTION_CHARS)?
            .unwrap_or_default();
        let now = Utc::now();
        let txn = self.begin().await?;
        self.remember_actor(&txn, actor).await?;
        let organization =
            store::boards::insert_organization(&txn, name, description, actor.id, now).await?;
        store::boards::insert_membership(
            &txn,
            organization.id,
            actor.id,
            OrganizationRole::Admin,
            now,
        )
        .await?;
        let mut categories = Vec::new();
        for (index, name) in DEFAULT_CATEGORIES.iter().enumerate() {
            let position = index as i32 + 1;
            let kind = CategoryKind::Default;
            categories.push(
                store::boards::insert_category(&txn, organization.id, name, kind, position, now)
                    .await?,
            );
        }
        txn.commit().await?;
        self.remembered(actor);
        Ok(OrganizationBoard {
            organization,
            categories,
            tags: vec![],
        })
    }

    /// Changes the name and/or description (admins).
    pub async fn update_organization(
        &self,
        user_id: i64,
        organization_id: i64,
        name: Option<&str>,
        description: Option<&str>,
    ) -> KanbanResult<Organization> {
        let txn = self.begin().await?;
        self.lock_board_as_admin(
            &txn,
            organization_id,
            user_id,
            BoardError::OrganizationHidden,
        )
        .await?;
        let name = name
            .map(|name| required_text(Field::Name, Some(name), MAX_NAME_CHARS))
            .transpose()?;
        let description = optional_text(Field::Description, description, MAX_DESCRIPTION_CHARS)?;
        let updated = store::boards::update_organization(
            &txn,
            organization_id,
            name,
            description,
            Utc::now(),
        )
        .await?;
        txn.commit().await?;
        Ok(updated)
    }

    /// Deletes the organization and all its data (its invitations too), in
    /// one transaction (the owner: another admin would leave the owner with
    /// nothing as surely as by removing them).
    pub async fn delete_organization(
        &self,
        user_id: i64,
        organization_id: i64,
    ) -> KanbanResult<()> {
        let txn = self.begin().await?;
        let board = self
            .lock_board_as_admin(
                &txn,
                organization_id,
                user_id,
                BoardError::OrganizationHidden,
            )
            .await?;
        ensure_owner(user_id, board.organization().user_id)?;
        store::boards::delete_organization(&txn, organization_id).await?;
        txn.commit().await?;
        Ok(())
    }
}

/// Each organization with its categories and tags (kept in their order).
fn assemble(
    organizations: Vec<Organization>,
    all_categories: Vec<Category>,
    all_tags: Vec<Tag>,
) -> Vec<OrganizationBoard> {
    let mut categories: HashMap<i64, Vec<Category>> = HashMap::new();
    for category in all_categories {
        categories
            .entry(category.organization_id)
            .or_default()
            .push(category);
    }
    let mut tags: HashMap<i64, Vec<Tag>> = HashMap::new();
    for tag in all_tags {
        tags.entry(tag.organization_id).or_default().push(tag);
    }
    organizations
        .into_iter()
        .map(|organization| OrganizationBoard {
            categories: categories.remove(&organization.id).unwrap_or_default(),
            tags: tags.remove(&organization.id).unwrap_or_default(),
            organization,
        })
        .collect()
}
