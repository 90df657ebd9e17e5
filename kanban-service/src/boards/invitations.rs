//! Invitations: adding a member by email invites them. The invitation
//! names the email the admin typed and nothing else; whether that email has
//! an account is never looked up, so the answer is the same either way. The
//! account with that email (now or registered later; matched by the email
//! its token carries, in any case) lists its invitations and accepts or
//! declines them; only accepting makes a membership. Until then the
//! organization is as hidden from the invitee as from anyone outside it.

use std::collections::HashMap;

use chrono::Utc;

use super::Boards;
use super::error::BoardError;
use super::model::{Actor, Invitation, OrganizationBoard, OrganizationRole, ReceivedInvitation};
use super::rules::{invitation_email, invitation_expiry, invitation_for};
use crate::error::KanbanResult;
use crate::store::{self, Transaction};

impl Boards {
    /// Invites `email` to the organization with `role` (admins); inviting
    /// the same email again renews its invitation. An email of a current
    /// member is refused: the admin sees the members' emails already.
    pub async fn invite(
        &self,
        actor: i64,
        organization_id: i64,
        email: Option<&str>,
        role: OrganizationRole,
    ) -> KanbanResult<Invitation> {
        let txn = self.begin().await?;
        let board = self
            .lock_board_as_admin(&txn, organization_id, actor, BoardError::OrganizationHidden)
            .await?;
        let email = invitation_email(email)?;
        for user in store::users::ids_by_email(&txn, &email).await? {
            if store::boards::role(&txn, board.organization_id(), user)
                .await?
                .is_some()
            {
                return Err(BoardError::AlreadyMember.into());
            }
        }
        let now = Utc::now();
        let invitation = store::invitations::upsert(
            &txn,
            organization_id,
            &email,
            role,
            actor,
            now,
            invitation_expiry(now),
        )
        .await?;
        txn.commit().await?;
        Ok(invitation)
    }

    /// The organization's open invitations (admins), newest first.
    pub async fn invitations_of(
        &self,
        actor: i64,
        organization_id: i64,
    ) -> KanbanResult<Vec<Invitation>> {
        let role = self
            .visible_role(organization_id, actor, BoardError::OrganizationHidden)
            .await?;
        super::rules::ensure_admin(role)?;
        Ok(store::invitations::open_of_organization(&self.db, organization_id, Utc::now()).await?)
    }

    /// Withdraws one of the organization's invitations (admins).
    pub async fn revoke_invitation(
        &self,
        actor: i64,
        organization_id: i64,
        invitation_id: i64,
    ) -> KanbanResult<()> {
        let txn = self.begin().await?;
        self.lock_board_as_admin(&txn, organization_id, actor, BoardError::OrganizationHidden)
            .await?;
        let invitation = store::invitations::by_id(&txn, invitation_id)
            .await?
            .filter(|i| i.organization_id == organization_id)
            .ok_or(BoardError::InvitationNotFound)?;
        store::invitations::delete(&txn, invitation.id).await?;
        txn.commit().await?;
        Ok(())
    }

    /// The caller's email: what their token says, else what the boards
    /// last learnt of them.
    async fn email_of(&self, actor: &Actor) -> KanbanResult<Option<String>> {
        match &actor.email {
            Some(email) if !email.trim().is_empty() => Ok(Some(email.trim().to_lowercase())),
            _ => Ok(self.user(actor.id).await?.and_then(|user| user.email)),
        }
    }

    /// The caller's open invitations, newest first, with the organization's
    /// name and who invited.
    pub async fn received_invitations(
        &self,
        actor: &Actor,
    ) -> KanbanResult<Vec<ReceivedInvitation>> {
        let Some(email) = self.email_of(actor).await? else {
            return Ok(Vec::new());
        };
        let now = Utc::now();
        let invitations = store::invitations::open_for_email(&self.db, &email, now).await?;
        let organizations: HashMap<i64, String> =
            store::boards::organizations(&self.db, invitations.iter().map(|i| i.organization_id))
                .await?
                .into_iter()
                .map(|o| (o.id, o.name))
                .collect();
        let inviters: HashMap<i64, _> =
            store::users::by_ids(&self.db, invitations.iter().map(|i| i.invited_by))
                .await?
                .into_iter()
                .map(|u| (u.id, u))
                .collect();
        Ok(invitations
            .into_iter()
            .filter(|i| invitation_for(&i.email, i.expires_at, Some(&email), now))
            .filter_map(|invitation| {
                Some(ReceivedInvitation {
                    organization_name: organizations.get(&invitation.organization_id)?.clone(),
                    inviter: inviters.get(&invitation.invited_by).cloned(),
                    invitation,
                })
            })
            .collect())
    }

    /// The caller's open invitation `id`, read inside `txn`: anyone else's,
    /// an expired or an unknown one are all "not found".
    async fn own_invitation(
        txn: &Transaction,
        id: i64,
        email: Option<&str>,
    ) -> KanbanResult<Invitation> {
        let now = Utc::now();
        Ok(store::invitations::by_id(txn, id)
            .await?
            .filter(|i| invitation_for(&i.email, i.expires_at, email, now))
            .ok_or(BoardError::InvitationNotFound)?)
    }

    /// Accepts the caller's invitation: they become a member with its role
    /// (a member already keeps their role) and the invitation is used up.
    /// The organization's row is locked first, as every change of a board
    /// does, and the invitation read again under the lock, so a revocation
    /// or the organization's deletion is either seen or waits.
    pub async fn accept_invitation(
        &self,
        actor: &Actor,
        id: i64,
    ) -> KanbanResult<OrganizationBoard> {
        let email = self.email_of(actor).await?;
        let txn = self.begin().await?;
        let invitation = Self::own_invitation(&txn, id, email.as_deref()).await?;
        store::boards::lock_organization(&txn, invitation.organization_id)
            .await?
            .ok_or(BoardError::InvitationNotFound)?;
        let invitation = Self::own_invitation(&txn, id, email.as_deref()).await?;
        let organization_id = invitation.organization_id;
        if store::boards::role(&txn, organization_id, actor.id)
            .await?
            .is_none()
        {
            self.remember_actor(&txn, actor).await?;
            store::boards::insert_membership(
                &txn,
                organization_id,
                actor.id,
                invitation.role,
                Utc::now(),
            )
            .await?;
        }
        store::invitations::delete(&txn, invitation.id).await?;
        txn.commit().await?;
        self.organization(actor.id, organization_id).await
    }

    /// Declines the caller's invitation; the organization learns only that
    /// it is no longer pending.
    pub async fn decline_invitation(&self, actor: &Actor, id: i64) -> KanbanResult<()> {
        let email = self.email_of(actor).await?;
        let txn = self.begin().await?;
        let invitation = Self::own_invitation(&txn, id, email.as_deref()).await?;
        store::boards::lock_organization(&txn, invitation.organization_id).await?;
        let invitation = Self::own_invitation(&txn, id, email.as_deref()).await?;
        store::invitations::delete(&txn, invitation.id).await?;
        txn.commit().await?;
        Ok(())
    }
}
