//! Getting back into an account by mail: forgotten passwords are reset
//! through a single-use link, and email addresses are verified the same
//! way. Link tokens are random, stored only as a SHA-256 hash, voided by a
//! newer one, by a password change and by use. Whether an address has an
//! account is never revealed: the answers are the same either way, and
//! mail leaves in the background so the answer takes as long.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, TransactionTrait};

use super::service::Accounts;
use super::{Account, AccountError, Email, RegistrationError, new_password};
use crate::audit::{Event, EventKind};
use crate::mail::{Mail, templates};
use crate::store::{self, account_tokens::TokenPurpose};
use crate::tokens::refresh;
use crate::tokens::sessions::ClientInfo;

type Result<T> = std::result::Result<T, AccountError>;

/// How long an email-verification link works.
pub const VERIFICATION_TTL: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

fn link(base: &str, token: &str) -> String {
    let separator = if base.contains('?') { '&' } else { '?' };
    format!("{base}{separator}token={token}")
}

fn ttl(duration: std::time::Duration) -> chrono::Duration {
    chrono::Duration::from_std(duration).unwrap_or(chrono::Duration::MAX)
}

impl Accounts<'_> {
    /// The account of a mail address, if it has one.
    async fn by_address(&self, email: Option<String>) -> Result<Option<Account>> {
        let email = email
            .filter(|e| !e.trim().is_empty())
            .ok_or(RegistrationError::EmailMissing)?;
        let Ok(email) = Email::parse(&email) else {
            return Ok(None);
        };
        Ok(store::users::by_email(self.db, email.as_str())
            .await?
            .map(Account::from))
    }

    /// Stores a fresh link token for the account (voiding older ones) and
    /// answers it in clear, for the mail only.
    async fn link_token(
        &self,
        conn: &impl ConnectionTrait,
        account: &Account,
        purpose: TokenPurpose,
        lifetime: std::time::Duration,
        now: DateTime<Utc>,
    ) -> Result<String> {
        let token = refresh::generate()?;
        let expires_at = now + ttl(lifetime);
        store::account_tokens::issue(
            conn,
            refresh::hash(&token),
            account.id,
            purpose,
            now,
            expires_at,
        )
        .await?;
        Ok(token)
    }

    /// Starts a password reset: when the address has an account, a link
    /// goes out by mail. The answer is the same when it has none.
    pub async fn forgot_password(&self, email: Option<String>, client: &ClientInfo) -> Result<()> {
        let Some(account) = self.by_address(email).await? else {
            return Ok(());
        };
        let Some(address) = account.email.clone() else {
            return Ok(());
        };
        let now = Utc::now();
        let token = self
            .link_token(
                self.db,
                &account,
                TokenPurpose::PasswordReset,
                self.policy.reset_ttl,
                now,
            )
            .await?;
        let minutes = (self.policy.reset_ttl.as_secs() / 60).max(1);
        let content = templates::password_reset(
            &super::display_name(&account.first_name, &account.last_name),
            &link(&self.policy.reset_url, &token),
            minutes,
        );
        self.mailer.send_later(Mail::new(address, content));
        let event = Event::new(EventKind::PasswordResetRequested).on(Some(account.id));
        self.audit
            .record_now(self.db, event, &client.origin())
            .await;
        tracing::info!(user = account.id, "password reset requested");
        Ok(())
    }

    /// Sets a new password with a reset link's token: the token is used up,
    /// every session of the account ends, and its address counts as
    /// verified (the link reached it).
    pub async fn reset_password(
        &self,
        token: Option<String>,
        password: Option<String>,
        confirmation: Option<String>,
        client: &ClientInfo,
    ) -> Result<()> {
        let token = token
            .filter(|t| !t.is_empty())
            .ok_or(AccountError::InvalidAccountToken)?;
        let password = new_password(password, confirmation)?;
        let hash = self.passwords.hash(password).await?;
        let now = Utc::now();
        let txn = self.db.begin().await?;
        let user_id = store::account_tokens::redeem(
            &txn,
            &refresh::hash(&token),
            TokenPurpose::PasswordReset,
            now,
        )
        .await?
        .ok_or(AccountError::InvalidAccountToken)?;
        store::users::set_password_hash(&txn, user_id, hash, now).await?;
        store::account_tokens::void(&txn, user_id, TokenPurpose::PasswordReset, now).await?;
        store::users::set_email_verified(&txn, user_id, now).await?;
        let change = self.record_change(&txn, user_id).await?;
        let revoked = self
            .sessions
            .end_all_in(&txn, user_id, Vec::new(), now)
            .await?;
        let event = Event::own(EventKind::PasswordReset, user_id);
        self.audit.record(&txn, event, &client.origin()).await?;
        txn.commit().await?;
        self.changed(change).await;
        self.sessions.spread(revoked).await?;
        tracing::info!(user = user_id, "password reset; every session ended");
        Ok(())
    }

    /// The verification mail of an account whose address is not verified
    /// yet (its token stored in `conn`'s transaction); none otherwise.
    pub(super) async fn verification_mail(
        &self,
        conn: &impl ConnectionTrait,
        account: &Account,
        now: DateTime<Utc>,
    ) -> Result<Option<Mail>> {
        let Some(address) = account.email.clone().filter(|_| !account.email_verified) else {
            return Ok(None);
        };
        let token = self
            .link_token(
                conn,
                account,
                TokenPurpose::EmailVerification,
                VERIFICATION_TTL,
                now,
            )
            .await?;
        let content = templates::email_verification(
            &super::display_name(&account.first_name, &account.last_name),
            &link(&self.policy.verify_url, &token),
        );
        Ok(Some(Mail::new(address, content)))
    }

    /// Sends a new verification link to an address whose account is not
    /// verified yet. The answer is the same for any address.
    pub async fn resend_verification(&self, email: Option<String>) -> Result<()> {
        let Some(account) = self.by_address(email).await? else {
            return Ok(());
        };
        if let Some(mail) = self
            .verification_mail(self.db, &account, Utc::now())
            .await?
        {
            self.mailer.send_later(mail);
        }
        Ok(())
    }

    /// Marks an address verified with a verification link's token.
    pub async fn verify_email(&self, token: Option<String>) -> Result<()> {
        let token = token
            .filter(|t| !t.is_empty())
            .ok_or(AccountError::InvalidAccountToken)?;
        let now = Utc::now();
        let txn = self.db.begin().await?;
        let user_id = store::account_tokens::redeem(
            &txn,
            &refresh::hash(&token),
            TokenPurpose::EmailVerification,
            now,
        )
        .await?
        .ok_or(AccountError::InvalidAccountToken)?;
        store::users::set_email_verified(&txn, user_id, now).await?;
        let change = self.record_change(&txn, user_id).await?;
        txn.commit().await?;
        self.changed(change).await;
        tracing::info!(user = user_id, "email address verified");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::link;

    #[test]
    fn links_carry_the_token_as_a_query_parameter() {
        assert_eq!(
            link("https://app/reset", "abc"),
            "https://app/reset?token=abc"
        );
        assert_eq!(
            link("https://app/#/reset?lang=en", "abc"),
            "https://app/#/reset?lang=en&token=abc"
        );
    }
}
