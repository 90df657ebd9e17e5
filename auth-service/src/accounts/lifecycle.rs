//! How an account's standing changes: the user disables it, reactivates it
//! or changes its password; an admin bans, unbans, disables or changes its
//! role; sessions are listed and ended. Every change that takes rights away
//! or changes what tokens say ends the account's sessions in the same
//! transaction, so every verifier refuses its old tokens on the next request.
//!
//! The rules come first ([`plan`]); the use cases against storage follow.

use chrono::{DateTime, Utc};
use sea_orm::TransactionTrait;
use shared::Role;

use super::service::Accounts;
use super::{Account, AccountError, AccountStatus, new_password, standing};
use crate::audit::{Event, EventKind};
use crate::entity::user::StoredRole;
use crate::store::{self, account_tokens::TokenPurpose, users::Standing};
use crate::tokens::sessions::{ClientInfo, SessionInfo, TokenGrant};

type Result<T> = std::result::Result<T, AccountError>;

/// The longest ban reason kept.
pub const MAX_BAN_REASON_CHARS: usize = 500;
/// The most accounts one search answers.
pub const MAX_PAGE: u64 = 100;

/// Why an admin's change was refused before anything changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeError {
    /// `bannedUntil` or `reason` for an account that is not (being) banned.
    BanDetailsWithoutBan,
    /// A ban that would end before it starts.
    BanEndsInPast,
    ReasonTooLong,
}

/// What an admin asks to change; absent fields stay as they are.
#[derive(Debug, Clone, Default)]
pub struct StandingChange {
    pub role: Option<Role>,
    pub status: Option<AccountStatus>,
    pub banned_until: Option<DateTime<Utc>>,
    pub reason: Option<String>,
}

/// An account's standing after a change, and what the change implies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewStanding {
    pub role: Role,
    pub status: AccountStatus,
    pub banned_until: Option<DateTime<Utc>>,
    pub ban_reason: Option<String>,
    /// The change takes rights away or changes what tokens say: every
    /// session of the account ends.
    pub ends_sessions: bool,
    /// The account stops being an active admin: another one must remain.
    pub leaves_admins: bool,
}

/// The standing `change` gives `account` at `now`, or why it may not.
/// A new ban without `bannedUntil` lasts until lifted; changing an existing
/// ban keeps what the change does not name.
pub fn plan(
    account: &Account,
    change: StandingChange,
    now: DateTime<Utc>,
) -> std::result::Result<NewStanding, ChangeError> {
    let status = change.status.unwrap_or(account.status);
    // The limit counts the reason as sent, spaces included.
    if change
        .reason
        .as_ref()
        .is_some_and(|reason| reason.chars().count() > MAX_BAN_REASON_CHARS)
    {
        return Err(ChangeError::ReasonTooLong);
    }
    let reason = change
        .reason
        .map(|reason| reason.trim().to_owned())
        .filter(|reason| !reason.is_empty());
    let (banned_until, ban_reason) = if status == AccountStatus::Banned {
        if change.banned_until.is_some_and(|until| until <= now) {
            return Err(ChangeError::BanEndsInPast);
        }
        if account.status == AccountStatus::Banned {
            (
                change.banned_until.or(account.banned_until),
                reason.or_else(|| account.ban_reason.clone()),
            )
        } else {
            (change.banned_until, reason)
        }
    } else {
        if change.banned_until.is_some() || reason.is_some() {
            return Err(ChangeError::BanDetailsWithoutBan);
        }
        (None, None)
    };
    let role = change.role.unwrap_or(account.role);
    let takes_rights = status != account.status && status != AccountStatus::Active;
    Ok(NewStanding {
        ends_sessions: role != account.role || takes_rights,
        leaves_admins: account.is_active_admin()
            && !(role == Role::Admin && status == AccountStatus::Active),
        role,
        status,
        banned_until,
        ban_reason,
    })
}

/// Which accounts an admin looks for, and which page of them.
#[derive(Debug, Clone, Default)]
pub struct AccountQuery {
    pub text: Option<String>,
    pub status: Option<AccountStatus>,
    pub role: Option<Role>,
    pub limit: u64,
    pub offset: u64,
}

/// One page of accounts and how many match in all.
#[derive(Debug, Clone)]
pub struct AccountPage {
    pub accounts: Vec<Account>,
    pub total: u64,
}

fn stored_role(role: Role) -> StoredRole {
    match role {
        Role::Admin => StoredRole::Admin,
        Role::User => StoredRole::User,
    }
}

/// The audit events of a standing change, with their details: a status
/// change (a ban with its end and reason) and a role change.
pub fn standing_events(old: &Account, new: &NewStanding) -> Vec<(EventKind, Option<String>)> {
    let mut events = Vec::new();
    let ban_changed = new.banned_until != old.banned_until || new.ban_reason != old.ban_reason;
    match (old.status, new.status) {
        (from, AccountStatus::Banned) if from != AccountStatus::Banned || ban_changed => {
            let until = new.banned_until.map_or_else(
                || "until lifted".to_owned(),
                |at| format!("until {}", at.to_rfc3339()),
            );
            let detail = match &new.ban_reason {
                Some(reason) => format!("{until}: {reason}"),
                None => until,
            };
            events.push((EventKind::AccountBanned, Some(detail)));
        }
        (AccountStatus::Banned, to) if to != AccountStatus::Banned => {
            events.push((EventKind::AccountUnbanned, None));
            if to == AccountStatus::Disabled {
                events.push((EventKind::AccountDisabled, None));
            }
        }
        (from, AccountStatus::Disabled) if from != AccountStatus::Disabled => {
            events.push((EventKind::AccountDisabled, None));
        }
        (AccountStatus::Disabled, AccountStatus::Active) => {
            events.push((EventKind::AccountReactivated, None));
        }
        _ => {}
    }
    if new.role != old.role {
        let detail = format!("{} -> {}", old.role.as_str(), new.role.as_str());
        events.push((EventKind::RoleChanged, Some(detail)));
    }
    events
}

impl Accounts<'_> {
    /// Checks the account's own password (to confirm a change).
    async fn confirm_password(&self, user_id: i64, password: Option<String>) -> Result<Account> {
        let password = password
            .filter(|p| !p.is_empty() && p.chars().count() <= super::MAX_PASSWORD_CHARS)
            .ok_or(AccountError::WrongPassword)?;
        let user = store::users::by_id(self.db, user_id)
            .await?
            .ok_or(AccountError::UserNotFound)?;
        let verification = self
            .passwords
            .verify(password, user.password_hash.clone())
            .await?;
        if !verification.matches {
            return Err(AccountError::WrongPassword);
        }
        Ok(Account::from(user))
    }

    /// The user disables their own account (confirming with the password):
    /// every session and token dies; reactivating needs the password again.
    pub async fn disable(
        &self,
        user_id: i64,
        password: Option<String>,
        client: &ClientInfo,
    ) -> Result<()> {
        let account = self.confirm_password(user_id, password).await?;
        let change = StandingChange {
            status: Some(AccountStatus::Disabled),
            ..Default::default()
        };
        self.change_standing(&account, change, user_id, client)
            .await?;
        Ok(())
    }

    /// Admin `actor` changes an account's role or standing.
    pub async fn update_standing(
        &self,
        user_id: i64,
        change: StandingChange,
        actor: i64,
        client: &ClientInfo,
    ) -> Result<Account> {
        let account = self
            .by_id(user_id)
            .await?
            .ok_or(AccountError::UserNotFound)?;
        self.change_standing(&account, change, actor, client)
            .await?;
        self.by_id(user_id).await?.ok_or(AccountError::UserNotFound)
    }

    /// Applies a change under the admin lock, so that concurrent changes
    /// never leave no active admin; ends the sessions when the change says
    /// so; audits what changed.
    async fn change_standing(
        &self,
        account: &Account,
        change: StandingChange,
        actor: i64,
        client: &ClientInfo,
    ) -> Result<()> {
        let now = Utc::now();
        let txn = self.db.begin().await?;
        store::users::lock_admins(&txn).await?;
        // Read again under the lock: a concurrent change may have won.
        let account = store::users::by_id(&txn, account.id)
            .await?
            .map(Account::from)
            .ok_or(AccountError::UserNotFound)?;
        let new = plan(&account, change, now)?;
        if new.leaves_admins && store::users::other_active_admins(&txn, account.id, now).await? == 0
        {
            return Err(AccountError::LastAdmin);
        }
        let events = standing_events(&account, &new);
        let standing = Standing {
            role: stored_role(new.role),
            status: new.status,
            banned_until: new.banned_until,
            ban_reason: new.ban_reason,
        };
        store::users::set_standing(&txn, account.id, standing, now).await?;
        let change = self.record_change(&txn, account.id).await?;
        let origin = client.origin();
        for (kind, detail) in events {
            let event = Event::new(kind).by(Some(actor)).on(Some(account.id));
            let event = match detail {
                Some(detail) => event.detail(detail),
                None => event,
            };
            self.audit.record(&txn, event, &origin).await?;
        }
        let revoked = if new.ends_sessions {
            Some(
                self.sessions
                    .end_all_in(&txn, account.id, Vec::new(), now)
                    .await?,
            )
        } else {
            None
        };
        txn.commit().await?;
        self.changed(change).await;
        if let Some(revoked) = revoked {
            self.sessions.spread(revoked).await?;
        }
        tracing::info!(
            user = account.id,
            role = new.role.as_str(),
            status = new.status.as_str(),
            "account standing changed"
        );
        Ok(())
    }

    /// The user changes their password (confirming the current one): every
    /// session ends, and the caller gets a fresh one.
    pub async fn change_password(
        &self,
        user_id: i64,
        current: Option<String>,
        password: Option<String>,
        confirmation: Option<String>,
        client: &ClientInfo,
    ) -> Result<TokenGrant> {
        let password = new_password(password, confirmation)?;
        let account = self.confirm_password(user_id, current).await?;
        let subject = standing(&account, self.policy.verification)?;
        let hash = self.passwords.hash(password).await?;
        let now = Utc::now();
        let txn = self.db.begin().await?;
        store::users::set_password_hash(&txn, user_id, hash, now).await?;
        store::account_tokens::void(&txn, user_id, TokenPurpose::PasswordReset, now).await?;
        let revoked = self
            .sessions
            .end_all_in(&txn, user_id, Vec::new(), now)
            .await?;
        let grant = self.sessions.start(&txn, &subject, client, now).await?;
        let event = Event::own(EventKind::PasswordChanged, user_id);
        self.audit.record(&txn, event, &client.origin()).await?;
        txn.commit().await?;
        self.sessions.spread(revoked).await?;
        tracing::info!(user = user_id, "password changed; other sessions ended");
        Ok(grant)
    }

    /// Accounts matching the query, by id, one page of them.
    pub async fn search(&self, query: AccountQuery) -> Result<AccountPage> {
        let filter = store::users::UserFilter {
            text: query.text.filter(|text| !text.trim().is_empty()),
            status: query.status,
            role: query.role.map(stored_role),
        };
        let limit = query.limit.clamp(1, MAX_PAGE);
        let (users, total) =
            store::users::search(self.db, &filter, limit, query.offset, Utc::now()).await?;
        Ok(AccountPage {
            accounts: users.into_iter().map(Account::from).collect(),
            total,
        })
    }

    /// The live sessions of an existing account.
    pub async fn sessions_of(&self, user_id: i64) -> Result<Vec<SessionInfo>> {
        self.by_id(user_id)
            .await?
            .ok_or(AccountError::UserNotFound)?;
        Ok(self.sessions.live(user_id).await?)
    }

    /// `actor` (the user, or an admin) ends one live session of the account.
    pub async fn end_session_of(
        &self,
        user_id: i64,
        session_id: &str,
        actor: i64,
        client: &ClientInfo,
    ) -> Result<()> {
        if !self.sessions.end_one(user_id, session_id).await? {
            return Err(AccountError::SessionNotFound);
        }
        let event = Event::new(EventKind::SessionEnded)
            .by(Some(actor))
            .on(Some(user_id))
            .detail(format!("session {session_id}"));
        self.audit
            .record_now(self.db, event, &client.origin())
            .await;
        Ok(())
    }

    /// `actor` ends every live session of an existing account but `keep`.
    pub async fn end_sessions_of(
        &self,
        user_id: i64,
        keep: Option<&str>,
        actor: i64,
        client: &ClientInfo,
    ) -> Result<()> {
        self.by_id(user_id)
            .await?
            .ok_or(AccountError::UserNotFound)?;
        self.sessions.end_others(user_id, keep).await?;
        let which = if keep.is_some() {
            "every other session"
        } else {
            "every session"
        };
        let event = Event::new(EventKind::SessionEnded)
            .by(Some(actor))
            .on(Some(user_id))
            .detail(which);
        self.audit
            .record_now(self.db, event, &client.origin())
            .await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    fn account(role: Role, status: AccountStatus) -> Account {
        Account {
            id: 3,
            email: Some("ann@example.com".into()),
            username: None,
            first_name: String::new(),
            last_name: String::new(),
            role,
            status,
            banned_until: None,
            ban_reason: None,
            email_verified: true,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    #[test]
    fn standing_changes_name_their_audit_events() {
        let now = Utc::now();
        let ann = account(Role::User, AccountStatus::Active);
        let events = |from: &Account, change: StandingChange| {
            standing_events(from, &plan(from, change, now).unwrap())
        };
        let ban = StandingChange {
            status: Some(AccountStatus::Banned),
            reason: Some("spam".into()),
            ..Default::default()
        };
        assert_eq!(
            events(&ann, ban),
            [(EventKind::AccountBanned, Some("until lifted: spam".into()))]
        );
        let mut banned = account(Role::User, AccountStatus::Banned);
        banned.ban_reason = Some("spam".into());
        let lift = StandingChange {
            status: Some(AccountStatus::Active),
            ..Default::default()
        };
        assert_eq!(events(&banned, lift), [(EventKind::AccountUnbanned, None)]);
        let disable = StandingChange {
            status: Some(AccountStatus::Disabled),
            ..Default::default()
        };
        assert_eq!(events(&ann, disable), [(EventKind::AccountDisabled, None)]);
        let promote = StandingChange {
            role: Some(Role::Admin),
            ..Default::default()
        };
        assert_eq!(
            events(&ann, promote),
            [(EventKind::RoleChanged, Some("user -> admin".into()))]
        );
        assert_eq!(events(&ann, StandingChange::default()), []);
    }

    #[test]
    fn bans_take_their_details_and_end_sessions() {
        let now = Utc::now();
        let until = now + Duration::hours(1);
        let ann = account(Role::User, AccountStatus::Active);
        let ban = StandingChange {
            status: Some(AccountStatus::Banned),
            banned_until: Some(until),
            reason: Some("  spam  ".into()),
            ..Default::default()
        };
        let new = plan(&ann, ban, now).unwrap();
        assert_eq!(new.status, AccountStatus::Banned);
        assert_eq!(new.banned_until, Some(until));
        assert_eq!(new.ban_reason.as_deref(), Some("spam"));
        assert!(new.ends_sessions);
        assert!(!new.leaves_admins);
        let past = StandingChange {
            status: Some(AccountStatus::Banned),
            banned_until: Some(now - Duration::seconds(1)),
            ..Default::default()
        };
        assert_eq!(plan(&ann, past, now), Err(ChangeError::BanEndsInPast));
        let long = StandingChange {
            status: Some(AccountStatus::Banned),
            reason: Some("x".repeat(MAX_BAN_REASON_CHARS + 1)),
            ..Default::default()
        };
        assert_eq!(plan(&ann, long, now), Err(ChangeError::ReasonTooLong));
    }

    #[test]
    fn unbans_clear_the_details_and_keep_sessions() {
        let now = Utc::now();
        let mut ann = account(Role::User, AccountStatus::Banned);
        ann.ban_reason = Some("spam".into());
        let unban = StandingChange {
            status: Some(AccountStatus::Active),
            ..Default::default()
        };
        let new = plan(&ann, unban, now).unwrap();
        assert_eq!((new.banned_until, new.ban_reason), (None, None));
        assert!(!new.ends_sessions);
        let details = StandingChange {
            status: Some(AccountStatus::Active),
            reason: Some("why".into()),
            ..Default::default()
        };
        assert_eq!(
            plan(&ann, details, now),
            Err(ChangeError::BanDetailsWithoutBan)
        );
    }

    #[test]
    fn role_changes_end_sessions_and_demotions_leave_the_admins() {
        let now = Utc::now();
        let admin = account(Role::Admin, AccountStatus::Active);
        let demote = StandingChange {
            role: Some(Role::User),
            ..Default::default()
        };
        let new = plan(&admin, demote, now).unwrap();
        assert!(new.ends_sessions && new.leaves_admins);
        let disable = StandingChange {
            status: Some(AccountStatus::Disabled),
            ..Default::default()
        };
        assert!(plan(&admin, disable, now).unwrap().leaves_admins);
        let same = StandingChange {
            role: Some(Role::Admin),
            ..Default::default()
        };
        let new = plan(&admin, same, now).unwrap();
        assert!(!new.ends_sessions && !new.leaves_admins);
        let user = account(Role::User, AccountStatus::Active);
        let promote = StandingChange {
            role: Some(Role::Admin),
            ..Default::default()
        };
        let new = plan(&user, promote, now).unwrap();
        assert!(new.ends_sessions && !new.leaves_admins);
    }
}
