//! The account use cases against storage: registration, login, refresh,
//! name changes and look-ups. Each checks the account first, then opens or
//! continues a session.

use async_trait::async_trait;
use chrono::Utc;
use sea_orm::{DatabaseConnection, TransactionTrait};
use shared::Role;

use super::passwords::PasswordHasher;
use super::{
    Account, AccountError, Email, LoginError, MAX_PASSWORD_CHARS, Registration, RegistrationError,
    RegistrationForm, standing,
};
use crate::entity::user;
use crate::store::{self, users::NewUser};
use crate::tokens::RefreshError;
use crate::tokens::sessions::{SessionHolders, Sessions, TokenGrant};

type Result<T> = std::result::Result<T, AccountError>;

pub struct Accounts<'a> {
    pub db: &'a DatabaseConnection,
    pub passwords: &'a PasswordHasher,
    pub sessions: &'a Sessions,
}

impl From<user::Model> for Account {
    fn from(user: user::Model) -> Self {
        Account {
            id: user.id,
            email: user.email,
            username: user.username,
            first_name: user.first_name,
            last_name: user.last_name,
            role: user.role.into(),
            status: user.status,
            created_at: user.created_at,
        }
    }
}

impl Accounts<'_> {
    /// Registers a user and opens their first session. The first user ever
    /// registered becomes admin.
    pub async fn register(&self, form: RegistrationForm) -> Result<TokenGrant> {
        let registration = Registration::parse(form)?;
        // Spare the hashing work for an email that is plainly taken; the
        // unique constraint below still decides races.
        if store::users::by_email(self.db, registration.email.as_str())
            .await?
            .is_some()
        {
            return Err(RegistrationError::EmailTaken.into());
        }
        let password_hash = self.passwords.hash(registration.password).await?;
        let now = Utc::now();
        let new_user = NewUser {
            email: Some(registration.email.into_string()),
            username: None,
            first_name: registration.first_name,
            last_name: registration.last_name,
            password_hash: Some(password_hash),
        };
        let txn = self.db.begin().await?;
        let mut account = match store::users::insert(&txn, new_user, now).await {
            Ok(user) => Account::from(user),
            Err(err) if store::is_unique_violation(&err) => {
                return Err(RegistrationError::EmailTaken.into());
            }
            Err(err) => return Err(err.into()),
        };
        if store::users::claim_first_admin(&txn, account.id, now).await? {
            tracing::info!(user = account.id, "first registered user made admin");
            account.role = Role::Admin;
        }
        let subject = standing(&account)?;
        let grant = self.sessions.start(&txn, &subject, now).await?;
        txn.commit().await?;
        Ok(grant)
    }

    /// Checks the credentials and the account's standing, then opens a
    /// session. Unknown emails cost the same hashing work as wrong
    /// passwords, and get the same answer.
    pub async fn login(
        &self,
        email: Option<String>,
        password: Option<String>,
    ) -> Result<TokenGrant> {
        let email = email.filter(|e| !e.trim().is_empty());
        let password = password.filter(|p| !p.is_empty());
        let (Some(email), Some(password)) = (email, password) else {
            return Err(LoginError::CredentialsMissing.into());
        };
        if password.chars().count() > MAX_PASSWORD_CHARS {
            return Err(LoginError::BadCredentials.into());
        }
        let user = match Email::parse(&email) {
            Ok(email) => store::users::by_email(self.db, email.as_str()).await?,
            Err(_) => None,
        };
        let stored = user.as_ref().and_then(|user| user.password_hash.clone());
        let verification = self.passwords.verify(password.clone(), stored).await?;
        let user = user
            .filter(|_| verification.matches)
            .ok_or(LoginError::BadCredentials)?;
        let id = user.id;
        let subject = standing(&Account::from(user))?;
        if verification.needs_rehash {
            self.rehash(id, password).await;
        }
        let now = Utc::now();
        let txn = self.db.begin().await?;
        let grant = self.sessions.start(&txn, &subject, now).await?;
        txn.commit().await?;
        Ok(grant)
    }

    /// Exchanges a refresh token for a new pair, while the session's
    /// account may still hold one; the tokens carry its current role and name.
    pub async fn refresh(&self, presented: &str) -> Result<TokenGrant> {
        let token = self.sessions.redeemable(presented).await?;
        let account = self
            .by_id(token.user_id())
            .await?
            .ok_or(RefreshError::Invalid)?;
        let subject = standing(&account)?;
        Ok(self.sessions.refresh(token, &subject).await?)
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
        store::users::set_names(self.db, id, first_name, last_name, Utc::now()).await?;
        self.by_id(id).await
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

#[async_trait]
impl SessionHolders for Accounts<'_> {
    async fn may_hold_session(&self, user_id: i64) -> anyhow::Result<bool> {
        let account = self.by_id(user_id).await?;
        Ok(account.is_some_and(|account| standing(&account).is_ok()))
    }
}
