//! Members: list, add by email (looked up at the account manager), change
//! a role, remove.

use std::collections::HashMap;

use chrono::Utc;

use super::Boards;
use super::error::{BoardError, Field, Rule};
use super::guard::BoardGuard;
use super::model::{Member, OrganizationRole, User};
use super::rules::{ensure_admin, ensure_admin_remains};
use crate::accounts::AccountManager;
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
                is_creator: membership.user_id == organization.user_id,
            })
            .collect())
    }

    /// Adds the account manager's user with this email (admins). Only an
    /// admin may learn whether an email has an account, so the role is
    /// checked before the look-up; the look-up is a remote call and holds
    /// no lock, so the decision to add is taken again under the board's
    /// lock afterwards.
    pub async fn add_member_by_email(
        &self,
        actor: i64,
        organization_id: i64,
        email: Option<&str>,
        role: OrganizationRole,
        accounts: &AccountManager,
    ) -> KanbanResult<()> {
        let email = email
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .ok_or(BoardError::invalid(Field::UserEmail, Rule::Required))?;
        let hidden = BoardError::OrganizationHidden;
        ensure_admin(
            self.visible_role(organization_id, actor, hidden.clone())
                .await?,
        )?;
        let account = accounts
            .user_by_email(email)
            .await?
            .ok_or(BoardError::UserNotFound)?;

        let txn = self.begin().await?;
        let board = self
            .lock_board(&txn, organization_id, actor, hidden)
            .await?;
        board.require_admin()?;
        if store::boards::role(&txn, organization_id, account.id)
            .await?
            .is_some()
        {
            return Err(BoardError::AlreadyMember.into());
        }
        let now = Utc::now();
        let name = account.name();
        let email = account.email.map(|e| e.to_lowercase());
        store::users::remember(&txn, account.id, email, name, now).await?;
        store::boards::insert_membership(&txn, organization_id, account.id, role, now).await?;
        txn.commit().await?;
        Ok(())
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

    /// Changes a member's role (admins); the last admin stays one.
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
        ensure_admin_remains(
            admins,
            current == OrganizationRole::Admin && role != OrganizationRole::Admin,
        )?;
        store::boards::set_role(&txn, organization_id, member, role).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Removes a member (admins remove anyone; members may leave); the
    /// last admin stays.
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
        store::boards::delete_membership(&txn, organization_id, member).await?;
        txn.commit().await?;
        Ok(())
    }
}
