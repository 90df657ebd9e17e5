//! The board guard: every change of a board starts with
//! [`Boards::lock_board`], which locks the organization's row inside the
//! transaction and only then reads the caller's role. A demotion or removal
//! takes the same lock, so it is either committed before (and seen) or
//! waits until the change is done; a role read before the lock is never
//! acted on. Reads of a board take no lock.

use super::Boards;
use super::error::{BoardError, BoardResult};
use super::model::{Category, Organization, OrganizationRole, Tag, TaskRef};
use super::rules::{ensure_admin, ensure_task_editor};
use crate::error::{KanbanError, KanbanResult};
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
    pub fn require_task_editor(&self, task: &TaskRef, assignees: &[i64]) -> BoardResult<()> {
        ensure_task_editor(self.user_id, task.owner_id, assignees)
    }
}

/// A row that lives on one board.
pub(super) trait OnBoard {
    fn organization_id(&self) -> i64;
}

impl OnBoard for Category {
    fn organization_id(&self) -> i64 {
        self.organization_id
    }
}

impl OnBoard for Tag {
    fn organization_id(&self) -> i64 {
        self.organization_id
    }
}

impl OnBoard for TaskRef {
    fn organization_id(&self) -> i64 {
        self.organization_id
    }
}

impl Boards {
    /// Locks the board of the row `read` finds, then reads the row again
    /// under the lock, so a change that finished meanwhile shows. An
    /// unknown row and a row of a board the user is not a member of look
    /// the same: `not_found`.
    pub(super) async fn lock_board_of<T, E, Fut>(
        &self,
        txn: &Transaction,
        user_id: i64,
        not_found: BoardError,
        read: impl Fn() -> Fut,
    ) -> KanbanResult<(BoardGuard, T)>
    where
        T: OnBoard,
        E: Into<KanbanError>,
        Fut: Future<Output = Result<Option<T>, E>>,
    {
        let row = read().await.map_err(Into::into)?;
        let organization_id = row.ok_or_else(|| not_found.clone())?.organization_id();
        let board = self
            .lock_board(txn, organization_id, user_id, not_found.clone())
            .await?;
        let row = read().await.map_err(Into::into)?.ok_or(not_found)?;
        Ok((board, row))
    }

    /// Locks the organization until `txn` ends and reads `user_id`'s role
    /// as of the lock, in the same statement when nothing came between
    /// ([`store::boards::lock_organization_for`]). Fails with
    /// `not_visible` when the organization does not exist or the user is
    /// not a member: each route answers that case in its own (seed-000)
    /// way, and never says which of the two it was.
    pub(super) async fn lock_board(
        &self,
        txn: &Transaction,
        organization_id: i64,
        user_id: i64,
        not_visible: BoardError,
    ) -> KanbanResult<BoardGuard> {
        let locked = store::boards::lock_organization_for(txn, organization_id, user_id).await?;
        guard_of(locked, user_id, not_visible)
    }

    /// [`Self::lock_board`] for a change that only writes in columns under
    /// their own locks (a task appended to a column, a move): the
    /// organization's row is locked in share mode, so such changes run side
    /// by side, while every change that takes the lock exclusively
    /// (demotions, removals, edits, deletions) waits for them or is waited
    /// for, exactly as with [`Self::lock_board`]. What the change writes in
    /// needs its own lock (see `create_task`, `movable_task`).
    pub(super) async fn share_board(
        &self,
        txn: &Transaction,
        organization_id: i64,
        user_id: i64,
        not_visible: BoardError,
    ) -> KanbanResult<BoardGuard> {
        let locked = store::boards::share_organization(txn, organization_id, user_id).await?;
        guard_of(locked, user_id, not_visible)
    }

    /// [`Self::share_board`] for a change of one task (a move): the board
    /// is the task's, locked as that locks it, and read with the task and
    /// its assignees' ids, as of the lock (see
    /// [`store::boards::share_board_of_task`]). The task's category and
    /// rank are as they were before the lock: they change under the locks
    /// of the task's columns. Unknown tasks are `not_visible` as the
    /// boards the user is not a member of are.
    pub(super) async fn share_board_of_task(
        &self,
        txn: &Transaction,
        task_id: i64,
        user_id: i64,
        not_visible: BoardError,
    ) -> KanbanResult<(BoardGuard, TaskRef, Vec<i64>)> {
        let Some(shared) = store::boards::share_board_of_task(txn, task_id, user_id).await? else {
            return Err(not_visible.into());
        };
        let locked = Some((shared.organization, shared.role));
        let board = guard_of(locked, user_id, not_visible)?;
        Ok((board, shared.task, shared.assignees))
    }

    /// [`Self::lock_board`], for a change only the board's admins make.
    pub(super) async fn lock_board_as_admin(
        &self,
        txn: &Transaction,
        organization_id: i64,
        user_id: i64,
        not_visible: BoardError,
    ) -> KanbanResult<BoardGuard> {
        let board = self
            .lock_board(txn, organization_id, user_id, not_visible)
            .await?;
        board.require_admin()?;
        Ok(board)
    }

    /// The organization, when the user is one of its members (read without
    /// a lock); hidden otherwise.
    pub(super) async fn visible_organization(
        &self,
        organization_id: i64,
        user_id: i64,
    ) -> KanbanResult<Organization> {
        let hidden = || BoardError::OrganizationHidden;
        self.visible_role(organization_id, user_id, hidden())
            .await?;
        Ok(store::boards::organization(&self.db, organization_id)
            .await?
            .ok_or_else(hidden)?)
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

/// The guard of `user_id` on the organization a lock read with the user's
/// role there, or `not_visible` when there is no such organization or the
/// user is not a member.
fn guard_of(
    locked: Option<(Organization, Option<OrganizationRole>)>,
    user_id: i64,
    not_visible: BoardError,
) -> KanbanResult<BoardGuard> {
    match locked {
        Some((organization, Some(role))) => Ok(BoardGuard {
            organization,
            user_id,
            role,
        }),
        _ => Err(not_visible.into()),
    }
}
