//! The account use cases against storage: registration, login, refresh,
//! name changes and look-ups. Each checks the account first, then opens or
//! continues a session.

use async_trait::async_trait;
use chrono::Utc;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, TransactionTrait};
use shared::{Fact, Role};

use super::kept::KeptAccounts;
use super::passwords::PasswordHasher;
use super::{
    Account, AccountError, AccountPolicy, AccountStatus, Email, LoginError, MAX_EMAIL_CHARS,
    MAX_PASSWORD_CHARS, Registration, RegistrationError, RegistrationForm, Username,
    effective_status, standing,
};
use crate::audit::{AuditLog, Event, EventKind};
use crate::entity::user;
use crate::mail::Mailer;
use crate::store::{self, users::NewUser};
use crate::tokens::RefreshError;
use crate::tokens::revocation::Revocations;
use crate::tokens::sessions::{ClientInfo, SessionHolders, Sessions, TokenGrant};

type Result<T> = std::result::Result<T, AccountError>;

pub struct Accounts<'a> {
    pub db: &'a DatabaseConnection,
    pub passwords: &'a PasswordHasher,
    pub sessions: &'a Sessions,
    pub mailer: &'a Mailer,
    pub policy: &'a AccountPolicy,
    pub audit: &'a AuditLog,
    /// Google sign-in, when configured.
    pub google: Option<&'a super::google::GoogleVerifier>,
    /// Where an account's change is told to every replica.
    pub revocations: &'a Revocations,
    /// The copies `me` answers from.
    pub kept: &'a KeptAccounts,
}

/// A change of what `me` shows, recorded in the change's transaction: see
/// [`Accounts::record_change`].
#[must_use = "a recorded change must be told once its transaction commits"]
pub(super) struct AccountChange {
    id: i64,
    fact: Fact,
    last_id: i64,
}

/// Creates an account (registration or Google sign-up); the first account
/// ever created becomes admin, exactly once even under racing creations.
/// A taken email (or Google account) is the unique violation it answers.
pub(super) async fn create_account(
    txn: &impl ConnectionTrait,
    new_user: NewUser,
    now: chrono::DateTime<Utc>,
) -> std::result::Result<Account, DbErr> {
    let mut account = Account::from(store::users::insert(txn, new_user, now).await?);
    if store::users::claim_first_admin(txn, account.id, now).await? {
        tracing::info!(user = account.id, "first registered user made admin");
        account.role = Role::Admin;
    }
    Ok(account)
}

impl From<user::Model> for Account {
    fn from(user: user::Model) -> Self {
        let status = effective_status(user.status, user.banned_until, Utc::now());
        let banned = status == AccountStatus::Banned;
        Account {
            id: user.id,
            email: user.email,
            username: user.username,
            first_name: user.first_name,
            last_name: user.last_name,
            role: user.role.into(),
            status,
            banned_until: user.banned_until.filter(|_| banned),
            ban_reason: user.ban_reason.filter(|_| banned),
            email_verified: user.email_verified_at.is_some(),
            created_at: user.created_at,
            updated_at: user.updated_at,
        }
    }
}

/// What a registration gives: a first session, or (when emails must be
/// verified first) a verification mail on its way.
#[derive(Debug)]
pub enum Registered {
    SignedIn(TokenGrant),
    VerificationSent { user_id: i64 },
}

/// Whether a login may also bring a disabled account back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginPurpose {
    LogIn,
    Reactivate,
}

impl Accounts<'_> {
    /// Registers a user and opens their first session. The first user ever
    /// registered becomes admin.
    pub async fn register(
        &self,
        form: RegistrationForm,
        client: &ClientInfo,
    ) -> Result<Registered> {
        let registration = Registration::parse(form)?;
        // Spare the hashing work for a name that is plainly taken (emails
        // and usernames are one namespace); the unique constraints below
        // still decide races.
        self.ensure_free(&registration).await?;
        let password_hash = self.passwords.hash(registration.password).await?;
        let now = Utc::now();
        let new_user = NewUser {
            email: registration.email.map(Email::into_string),
            username: registration.username.map(Username::into_string),
            first_name: registration.first_name,
            last_name: registration.last_name,
            password_hash: Some(password_hash),
            google_subject: None,
            email_verified_at: None,
        };
        let new_user_email = new_user.email.clone();
        let txn = self.db.begin().await?;
        let account = match create_account(&txn, new_user, now).await {
            Ok(account) => account,
            Err(err) if store::is_unique_violation(&err) => {
                // A concurrent registration won: say which name it took
                // (asked outside the failed transaction).
                txn.rollback().await?;
                let email_taken = match &new_user_email {
                    Some(email) => store::users::by_sign_in_name(self.db, email)
                        .await?
                        .is_some(),
                    None => false,
                };
                return Err(if email_taken {
                    RegistrationError::EmailTaken
                } else {
                    RegistrationError::UsernameTaken
                }
                .into());
            }
            Err(err) => return Err(err.into()),
        };
        self.audit
            .record(
                &txn,
                Event::own(EventKind::Registered, account.id).detail("password"),
                &client.origin(),
            )
            .await?;
        if self.policy.verification == super::EmailVerification::Required {
            let mail = self.verification_mail(&txn, &account, now).await?;
            txn.commit().await?;
            if let Some(mail) = mail {
                self.mailer.send_later(mail);
            }
            return Ok(Registered::VerificationSent {
                user_id: account.id,
            });
        }
        let subject = standing(&account, self.policy.verification)?;
        let grant = self.sessions.start(&txn, &subject, client, now).await?;
        txn.commit().await?;
        Ok(Registered::SignedIn(grant))
    }

    /// Refuses a registration whose email or username already names an
    /// account (as an email or as a username).
    async fn ensure_free(&self, registration: &Registration) -> Result<()> {
        if let Some(email) = &registration.email
            && store::users::by_sign_in_name(self.db, email.as_str())
                .await?
                .is_some()
        {
            return Err(RegistrationError::EmailTaken.into());
        }
        if let Some(username) = &registration.username
            && store::users::by_sign_in_name(self.db, username.as_str())
                .await?
                .is_some()
        {
            return Err(RegistrationError::UsernameTaken.into());
        }
        Ok(())
    }

    /// Checks the credentials and the account's standing, then opens a
    /// session. `name` is the account's email or its username. Unknown
    /// names cost the same hashing work as wrong passwords, and get the
    /// same answer. Success and refusal are both
    /// audited (a refusal with its reason, and the account when it exists).
    pub async fn login(
        &self,
        name: Option<String>,
        password: Option<String>,
        client: &ClientInfo,
        purpose: LoginPurpose,
    ) -> Result<TokenGrant> {
        let mut account_id = None;
        let result = self
            .sign_in(name, password, client, purpose, &mut account_id)
            .await;
        if let Err(err) = &result
            && let Some(reason) = failure_reason(err, account_id.is_some())
        {
            let event = Event::new(EventKind::LoginFailed)
                .on(account_id)
                .detail(reason);
            self.audit
                .record_now(self.db, event, &client.origin())
                .await;
        }
        result
    }

    async fn sign_in(
        &self,
        name: Option<String>,
        password: Option<String>,
        client: &ClientInfo,
        purpose: LoginPurpose,
        account_id: &mut Option<i64>,
    ) -> Result<TokenGrant> {
        let name = name.filter(|e| !e.trim().is_empty());
        let password = password.filter(|p| !p.is_empty());
        let (Some(name), Some(password)) = (name, password) else {
            return Err(LoginError::CredentialsMissing.into());
        };
        // The account's email or its username, whichever the name is.
        let user = if name.trim().chars().count() <= MAX_EMAIL_CHARS {
            store::users::by_sign_in_name(self.db, name.trim()).await?
        } else {
            None
        };
        *account_id = user.as_ref().map(|user| user.id);
        if password.chars().count() > MAX_PASSWORD_CHARS {
            return Err(LoginError::BadCredentials.into());
        }
        let stored = user.as_ref().and_then(|user| user.password_hash.clone());
        let verification = self.passwords.verify(password.clone(), stored).await?;
        let user = user
            .filter(|_| verification.matches)
            .ok_or(LoginError::BadCredentials)?;
        let id = user.id;
        let mut account = Account::from(user);
        let reactivates =
            purpose == LoginPurpose::Reactivate && account.status == AccountStatus::Disabled;
        if reactivates {
            account.status = AccountStatus::Active;
        }
        let subject = standing(&account, self.policy.verification)?;
        if verification.needs_rehash {
            self.rehash(id, password).await;
        }
        let now = Utc::now();
        let origin = client.origin();
        let txn = self.db.begin().await?;
        let mut change = None;
        if reactivates {
            if store::users::reactivate(&txn, id, now).await? {
                change = Some(self.record_change(&txn, id).await?);
            } else {
                // Its standing changed meanwhile (an admin banned it): say so.
                let account = store::users::by_id(&txn, id).await?.map(Account::from);
                let account = account.ok_or(LoginError::BadCredentials)?;
                standing(&account, self.policy.verification)?;
            }
            let event = Event::own(EventKind::AccountReactivated, id);
            self.audit.record(&txn, event, &origin).await?;
        }
        let grant = self.sessions.start(&txn, &subject, client, now).await?;
        let event = Event::own(EventKind::LoginSucceeded, id).detail("password");
        self.audit.record(&txn, event, &origin).await?;
        txn.commit().await?;
        if let Some(change) = change {
            self.changed(change).await;
            tracing::info!(user = id, "account reactivated");
        }
        Ok(grant)
    }

    /// Exchanges a refresh token for a new pair, while the session's
    /// account may still hold one; the tokens carry its current role and name.
    /// The refresh token of a session that was ended answers why when its
    /// account is disabled or banned, so that a client shows that, not a
    /// plain "log in again".
    pub async fn refresh(&self, presented: &str, client: &ClientInfo) -> Result<TokenGrant> {
        let mut token = match self.sessions.redeemable(presented).await {
            Ok(token) => token,
            Err(RefreshError::Ended { user_id }) => {
                if let Some(account) = self.by_id(user_id).await? {
                    standing(&account, self.policy.verification)?;
                }
                return Err(RefreshError::Invalid.into());
            }
            Err(err) => return Err(err.into()),
        };
        // The account as read with the token, in the same statement.
        let account = token
            .take_holder()
            .map(Account::from)
            .ok_or(RefreshError::Invalid)?;
        let subject = standing(&account, self.policy.verification)?;
        match self.sessions.refresh(token, &subject, client).await {
            Err(RefreshError::Reused { user_id }) => {
                let event = Event::new(EventKind::RefreshTokenReused)
                    .on(Some(user_id))
                    .detail("session ended");
                self.audit
                    .record_now(self.db, event, &client.origin())
                    .await;
                // Answered as any invalid refresh token (the edge counts it apart).
                Err(RefreshError::Reused { user_id }.into())
            }
            grant => Ok(grant?),
        }
    }

    /// Upgrades a hash made with old parameters; a failure only costs the upgrade.
    async fn rehash(&self, id: i64, password: String) {
        let result = async {
            let hash = self.passwords.hash(password).await?;
            store::users::set_password_hash(self.db, id, hash, Utc::now()).await?;
            Ok::<_, anyhow::Error>(())
        }
        .await;
        if let Err(err) = result {
            tracing::warn!(user = id, error = %err, "password rehash failed");
        }
    }

    /// Changes the account's names (those given); later tokens carry the
    /// new name. `None` when there is no such account.
    pub async fn update_names(
        &self,
        id: i64,
        first_name: Option<String>,
        last_name: Option<String>,
    ) -> Result<Option<Account>> {
        let first_name = first_name.as_deref().map(super::parse_name).transpose()?;
        let last_name = last_name.as_deref().map(super::parse_name).transpose()?;
        let txn = self.db.begin().await?;
        if !store::users::set_names(&txn, id, first_name, last_name, Utc::now()).await? {
            return Ok(None);
        }
        let change = self.record_change(&txn, id).await?;
        txn.commit().await?;
        self.changed(change).await;
        self.by_id(id).await
    }

    /// The account as `me` shows it: the copy kept of it, or else read
    /// (and kept). See [`super::kept`].
    pub async fn current(&self, id: i64) -> Result<Option<Account>> {
        if let Some(user) = self.kept.get(id) {
            return Ok(Some(Account::from(user)));
        }
        let start = self.kept.read_start();
        let user = store::users::by_id(self.db, id).await?;
        if let Some(user) = &user {
            self.kept.keep(start, user);
        }
        Ok(user.map(Account::from))
    }

    /// Records, in the transaction that changes what `me` shows of the
    /// account (after its row was written, so that the feed's lock comes
    /// last as in every transaction), that it changed.
    pub(super) async fn record_change(
        &self,
        txn: &impl ConnectionTrait,
        id: i64,
    ) -> std::result::Result<AccountChange, DbErr> {
        let fact = self.revocations.account_changed(id);
        let last_id = self
            .revocations
            .record(txn, std::slice::from_ref(&fact))
            .await?;
        Ok(AccountChange { id, fact, last_id })
    }

    /// Once the change committed: this replica forgets its copy at once,
    /// and the others when the feed brings them the fact. The change is
    /// made either way, so a feed that cannot take the fact now is only
    /// logged: it is published when the feed is back, and until then the
    /// other replicas, hearing nothing, refuse every token.
    pub(super) async fn changed(&self, change: AccountChange) {
        self.kept.forget(change.id);
        let told = self
            .revocations
            .committed(std::slice::from_ref(&change.fact), change.last_id)
            .await;
        if let Err(err) = told {
            tracing::warn!(user = change.id, error = %err, "account change not published yet");
        }
    }

    /// The accounts of these ids that exist, by id.
    pub async fn by_ids(&self, ids: &[i64]) -> Result<Vec<Account>> {
        let users = store::users::by_ids(self.db, ids).await?;
        Ok(users.into_iter().map(Account::from).collect())
    }

    pub async fn by_email(&self, email: &str) -> Result<Option<Account>> {
        let Ok(email) = Email::parse(email) else {
            return Ok(None);
        };
        let user = store::users::by_email(self.db, email.as_str()).await?;
        Ok(user.map(Account::from))
    }

    pub async fn by_id(&self, id: i64) -> Result<Option<Account>> {
        Ok(store::users::by_id(self.db, id).await?.map(Account::from))
    }
}

/// Why a login was refused, as the audit log records it; none for
/// refusals that say nothing of the account (a malformed request, a
/// failure on our side).
pub(super) fn failure_reason(err: &AccountError, account_exists: bool) -> Option<&'static str> {
    match err {
        AccountError::Login(LoginError::BadCredentials) if account_exists => Some("wrong_password"),
        AccountError::Login(LoginError::BadCredentials) => Some("unknown_account"),
        AccountError::Login(LoginError::Disabled) => Some("account_disabled"),
        AccountError::Login(LoginError::Banned) => Some("account_banned"),
        AccountError::Login(LoginError::EmailUnverified) => Some("email_unverified"),
        _ => None,
    }
}

#[async_trait]
impl SessionHolders for Accounts<'_> {
    async fn may_hold_session(&self, user_id: i64) -> anyhow::Result<bool> {
        let account = self.by_id(user_id).await?;
        Ok(account.is_some_and(|account| standing(&account, self.policy.verification).is_ok()))
    }
}
