//! The board guard: every change of a board starts with
//! [`Boards::lock_board`], which locks the organization's row inside the
//! transaction and only then reads the caller's role. A demotion or removal
//! takes the same lock, so it is either committed before (and seen) or
//! waits until the change is done; a role read before the lock is never
//! acted on. Reads of a board take no lock.

use super::Boards;
use super::error::{BoardError, BoardResult};
use super::model::{Organization, OrganizationRole, Task};
use super::rules::{ensure_admin, ensure_task_editor};
use crate::error::KanbanResult;
use crate::store::{self, Transaction};

/// A locked board and the caller's role in it, valid until the transaction ends.
#[derive(Debug)]
pub struct BoardGuard {
    organization: Organization,
    user_id: i64,
    role: OrganizationRole,
}

impl BoardGuard {
    pub fn organization(&self) -> &Organization {
        &self.organization
    }

    pub fn organization_id(&self) -> i64 {
        self.organization.id
    }

    pub fn user_id(&self) -> i64 {
        self.user_id
    }

    pub fn role(&self) -> OrganizationRole {
        self.role
    }

    pub fn require_admin(&self) -> BoardResult<()> {
        ensure_admin(self.role)
    }

    /// Only the task's owner and its assignees (`assignees`) change it.
    pub fn require_task_editor(&self, task: &Task, assignees: &[i64]) -> BoardResult<()> {
        ensure_task_editor(self.user_id, task.owner_id, assignees)
    }
}

impl Boards {
    /// Locks the organization until `txn` ends and reads `user_id`'s role
    /// under the lock. Fails with `not_visible` when the organization does
    /// not exist or the user is not a member: each route answers that case
    /// in its own (seed-000) way, and never says which of the two it was.
    pub(super) async fn lock_board(
        &self,
        txn: &Transaction,
        organization_id: i64,
        user_id: i64,
        not_visible: BoardError,
    ) -> KanbanResult<BoardGuard> {
        let Some(organization) = store::boards::lock_organization(txn, organization_id).await?
        else {
            return Err(not_visible.into());
        };
        let Some(role) = store::boards::role(txn, organization_id, user_id).await? else {
            return Err(not_visible.into());
        };
        Ok(BoardGuard {
            organization,
            user_id,
            role,
        })
    }

    /// The user's role, read without a lock: for reads only.
    pub(super) async fn role_in(
        &self,
        organization_id: i64,
        user_id: i64,
    ) -> KanbanResult<Option<OrganizationRole>> {
        Ok(store::boards::role(&self.db, organization_id, user_id).await?)
    }

    /// The user's role (read without a lock), or `not_visible`.
    pub(super) async fn visible_role(
        &self,
        organization_id: i64,
        user_id: i64,
        not_visible: BoardError,
    ) -> KanbanResult<OrganizationRole> {
        self.role_in(organization_id, user_id)
            .await?
            .ok_or(not_visible.into())
    }
}
