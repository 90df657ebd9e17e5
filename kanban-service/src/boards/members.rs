//! Members: list, change a role, remove, and the owner's transfer of
//! ownership. New members come by invitation (`invitations`).
//!
//! The owner (`Organization::user_id`, the creator until a transfer) is
//! always an admin member: no admin demotes or removes them, and they
//! cannot step down or leave themselves; only their transfer to another
//! member moves ownership.

use std::collections::HashMap;

use chrono::Utc;

use super::Boards;
use super::error::{BoardError, Field, Rule};
use super::guard::BoardGuard;
use super::model::{Member, OrganizationRole, User};
use super::rules::{check_transfer, ensure_admin_remains, ensure_owner, ensure_owner_stays};
use crate::error::KanbanResult;
use crate::store::{self, Transaction};

impl Boards {
    pub async fn members(&self, user_id: i64, organization_id: i64) -> KanbanResult<Vec<Member>> {
        let organization = self.visible_organization(organization_id, user_id).await?;
        let memberships = store::boards::members(&self.db, organization_id).await?;
        let users = store::users::by_ids(&self.db, memberships.iter().map(|m| m.user_id)).await?;
        let users: HashMap<i64, User> = users.into_iter().map(|u| (u.id, u)).collect();
        Ok(memberships
            .into_iter()
            .map(|membership| Member {
                user: users.get(&membership.user_id).cloned().unwrap_or(User {
                    id: membership.user_id,
                    email: None,
                    name: String::new(),
                    updated_at: membership.created_at,
                }),
                role: membership.role,
                is_owner: membership.user_id == organization.user_id,
            })
            .collect())
    }

    /// Admin count and the member's role, read under the board's lock.
    async fn admins_and_role(
        txn: &Transaction,
        board: &BoardGuard,
        member: i64,
    ) -> KanbanResult<(usize, OrganizationRole)> {
        let memberships = store::boards::members(txn, board.organization_id()).await?;
        let admins = memberships
            .iter()
            .filter(|m| m.role == OrganizationRole::Admin)
            .count();
        let role = memberships
            .iter()
            .find(|m| m.user_id == member)
            .map(|m| m.role)
            .ok_or(BoardError::MemberNotFound)?;
        Ok((admins, role))
    }

    /// Changes a member's role (admins); the last admin stays one, and the
    /// owner stays an admin.
    pub async fn change_role(
        &self,
        actor: i64,
        organization_id: i64,
        member: i64,
        role: OrganizationRole,
    ) -> KanbanResult<()> {
        let txn = self.begin().await?;
        let board = self
            .lock_board_as_admin(&txn, organization_id, actor, BoardError::OrganizationHidden)
            .await?;
        let (admins, current) = Self::admins_and_role(&txn, &board, member).await?;
        let losing_admin = current == OrganizationRole::Admin && role != OrganizationRole::Admin;
        ensure_admin_remains(admins, losing_admin)?;
        ensure_owner_stays(board.organization().user_id, member, losing_admin)?;
        store::boards::set_role(&txn, organization_id, member, role).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Removes a member (admins remove anyone but the owner; members may
    /// leave, the owner only after a transfer); the last admin stays.
    pub async fn remove_member(
        &self,
        actor: i64,
        organization_id: i64,
        member: i64,
    ) -> KanbanResult<()> {
        let txn = self.begin().await?;
        let board = self
            .lock_board(&txn, organization_id, actor, BoardError::OrganizationHidden)
            .await?;
        if actor != member {
            board.require_admin()?;
        }
        let (admins, current) = Self::admins_and_role(&txn, &board, member).await?;
        ensure_admin_remains(admins, current == OrganizationRole::Admin)?;
        ensure_owner_stays(board.organization().user_id, member, true)?;
        store::boards::delete_membership(&txn, organization_id, member).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Hands ownership to another member (the owner only): they become the
    /// owner, and an admin if they were not; the old owner stays an admin.
    pub async fn transfer_ownership(
        &self,
        actor: i64,
        organization_id: i64,
        to: Option<i64>,
    ) -> KanbanResult<()> {
        let txn = self.begin().await?;
        let board = self
            .lock_board(&txn, organization_id, actor, BoardError::OrganizationHidden)
            .await?;
        let owner = board.organization().user_id;
        ensure_owner(actor, owner)?;
        let to = to.ok_or(BoardError::invalid(Field::UserId, Rule::Required))?;
        let to_role = store::boards::role(&txn, organization_id, to).await?;
        check_transfer(actor, owner, to_role)?;
        if to != owner {
            if to_role != Some(OrganizationRole::Admin) {
                store::boards::set_role(&txn, organization_id, to, OrganizationRole::Admin).await?;
            }
            store::boards::set_owner(&txn, organization_id, to, Utc::now()).await?;
        }
        txn.commit().await?;
        Ok(())
    }
}
