//! Registration and login: the account rules applied against storage.

use chrono::Utc;
use sea_orm::{DatabaseConnection, TransactionTrait};

use super::passwords::PasswordHasher;
use super::{
    AccountStatus, Email, LoginError, MAX_PASSWORD_CHARS, Registration, RegistrationError,
    RegistrationForm, ensure_may_log_in,
};
use crate::entity::user;
use crate::error::{AppError, AppResult};
use crate::store::{self, users::NewUser};
use crate::tokens::sessions::{Sessions, TokenGrant};

pub struct Accounts<'a> {
    pub db: &'a DatabaseConnection,
    pub passwords: &'a PasswordHasher,
    pub sessions: &'a Sessions,
}

impl Accounts<'_> {
    /// Registers a user and opens their first session. The first user ever
    /// registered becomes admin.
    pub async fn register(&self, form: RegistrationForm) -> AppResult<TokenGrant> {
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
        let mut user = match store::users::insert(&txn, new_user, now).await {
            Ok(user) => user,
            Err(err) if store::is_unique_violation(&err) => {
                return Err(RegistrationError::EmailTaken.into());
            }
            Err(err) => return Err(err.into()),
        };
        if store::users::claim_first_admin(&txn, user.id, now).await? {
            tracing::info!(user = user.id, "first registered user made admin");
            user.role = "admin".to_owned();
        }
        let grant = self.sessions.start(&txn, &user, now).await?;
        txn.commit().await?;
        Ok(grant)
    }

    /// Checks the credentials and opens a session. Unknown emails cost the
    /// same hashing work as wrong passwords, and get the same answer.
    pub async fn login(
        &self,
        email: Option<String>,
        password: Option<String>,
    ) -> AppResult<TokenGrant> {
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
        ensure_may_log_in(AccountStatus::parse(&user.status))?;
        if verification.needs_rehash {
            self.rehash(&user, password).await;
        }
        let now = Utc::now();
        let txn = self.db.begin().await?;
        let grant = self.sessions.start(&txn, &user, now).await?;
        txn.commit().await?;
        Ok(grant)
    }

    /// Upgrades a hash made with old parameters; a failure only costs the upgrade.
    async fn rehash(&self, user: &user::Model, password: String) {
        let result = async {
            let hash = self.passwords.hash(password).await?;
            store::users::set_password_hash(self.db, user.id, hash, Utc::now()).await?;
            Ok::<_, AppError>(())
        }
        .await;
        if let Err(err) = result {
            tracing::warn!(user = user.id, error = %err, "password rehash failed");
        }
    }

    /// Changes the user's names (those given); later tokens carry the new name.
    pub async fn update_names(
        &self,
        id: i64,
        first_name: Option<String>,
        last_name: Option<String>,
    ) -> AppResult<user::Model> {
        let first_name = first_name.as_deref().map(super::parse_name).transpose()?;
        let last_name = last_name.as_deref().map(super::parse_name).transpose()?;
        store::users::set_names(self.db, id, first_name, last_name, Utc::now()).await?;
        store::users::by_id(self.db, id)
            .await?
            .ok_or(AppError::Unauthenticated)
    }

    pub async fn users(&self, ids: &[i64]) -> AppResult<Vec<user::Model>> {
        Ok(store::users::by_ids(self.db, ids).await?)
    }

    pub async fn user_by_email(&self, email: &str) -> AppResult<Option<user::Model>> {
        match Email::parse(email) {
            Ok(email) => Ok(store::users::by_email(self.db, email.as_str()).await?),
            Err(_) => Ok(None),
        }
    }

    pub async fn user(&self, id: i64) -> AppResult<Option<user::Model>> {
        Ok(store::users::by_id(self.db, id).await?)
    }
}
