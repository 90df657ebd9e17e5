//! Rows into `boards` values and back: the one place that knows both shapes
//! (but for tasks, whose position is computed: see `tasks`).
//! The stored enums are decoded by sea-orm, so an unknown role or kind in
//! the database is a decode error, never a silent default.

use crate::boards::{
    Assignment, Category, CategoryKind, Invitation, Membership, Organization, OrganizationRole,
    Tag, User,
};
use crate::entity::{category, invitation, membership, organization, tag, task_assignee, user};

impl From<membership::OrganizationRole> for OrganizationRole {
    fn from(role: membership::OrganizationRole) -> Self {
        match role {
            membership::OrganizationRole::Admin => OrganizationRole::Admin,
            membership::OrganizationRole::Member => OrganizationRole::Member,
        }
    }
}

impl From<OrganizationRole> for membership::OrganizationRole {
    fn from(role: OrganizationRole) -> Self {
        match role {
            OrganizationRole::Admin => membership::OrganizationRole::Admin,
            OrganizationRole::Member => membership::OrganizationRole::Member,
        }
    }
}

impl From<category::CategoryKind> for CategoryKind {
    fn from(kind: category::CategoryKind) -> Self {
        match kind {
            category::CategoryKind::Default => CategoryKind::Default,
            category::CategoryKind::Custom => CategoryKind::Custom,
        }
    }
}

impl From<CategoryKind> for category::CategoryKind {
    fn from(kind: CategoryKind) -> Self {
        match kind {
            CategoryKind::Default => category::CategoryKind::Default,
            CategoryKind::Custom => category::CategoryKind::Custom,
        }
    }
}

impl From<organization::Model> for Organization {
    fn from(o: organization::Model) -> Self {
        Self {
            id: o.id,
            name: o.name,
            description: o.description,
            user_id: o.user_id,
            created_at: o.created_at,
            updated_at: o.updated_at,
        }
    }
}

impl From<category::Model> for Category {
    fn from(c: category::Model) -> Self {
        Self {
            id: c.id,
            name: c.name,
            kind: c.kind.into(),
            organization_id: c.organization_id,
            position: c.position,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

impl From<tag::Model> for Tag {
    fn from(t: tag::Model) -> Self {
        Self {
            id: t.id,
            name: t.name,
            color: t.color,
            organization_id: t.organization_id,
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

impl From<user::Model> for User {
    fn from(u: user::Model) -> Self {
        Self {
            id: u.id,
            email: u.email,
            name: u.name,
            updated_at: u.updated_at,
        }
    }
}

impl From<membership::Model> for Membership {
    fn from(m: membership::Model) -> Self {
        Self {
            organization_id: m.organization_id,
            user_id: m.user_id,
            role: m.role.into(),
            created_at: m.created_at,
        }
    }
}

impl From<invitation::Model> for Invitation {
    fn from(i: invitation::Model) -> Self {
        Self {
            id: i.id,
            organization_id: i.organization_id,
            email: i.email,
            role: i.role.into(),
            invited_by: i.invited_by,
            created_at: i.created_at,
            expires_at: i.expires_at,
        }
    }
}

impl From<task_assignee::Model> for Assignment {
    fn from(a: task_assignee::Model) -> Self {
        Self {
            task_id: a.task_id,
            user_id: a.user_id,
        }
    }
}

/// Converts every row of a list.
pub(super) fn all<R, T: From<R>>(rows: Vec<R>) -> Vec<T> {
    rows.into_iter().map(T::from).collect()
}
