//! Sign-in with Google. A frontend gets an ID token from Google's sign-in
//! and hands it over; it is verified here (RS256 against Google's JWKS,
//! `iss`, `aud` among the configured client ids, `exp`, a verified email and
//! a subject), then the account it speaks for signs in: the one linked to
//! the Google account (its `sub`, stable even when the Google email
//! changes), else the one with the token's email (which gets linked), else
//! a new account without a password (the first account ever is admin, as
//! with registration). The account's standing is checked as for a password
//! login. No HTTP here.

use std::sync::Arc;

use chrono::Utc;
use jsonwebtoken::{Algorithm, Validation};
use sea_orm::{ConnectionTrait, TransactionTrait};
use serde::Deserialize;
use shared::{JwksKeySource, KeySource, VerifyError, verify_jwt};

use super::service::{Accounts, create_account};
use super::{Account, AccountError, Email, MAX_NAME_CHARS, standing};
use crate::audit::{Event, EventKind};
use crate::store::{self, users::NewUser};
use crate::tokens::sessions::{ClientInfo, TokenGrant};

type Result<T> = std::result::Result<T, AccountError>;

/// Seconds of clock skew allowed on `exp`.
pub const LEEWAY_SECONDS: u64 = 10;

/// Why a Google sign-in was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GoogleError {
    /// No client ids are configured: Google sign-in is off.
    NotConfigured,
    /// Not a JWT, not RS256, no `kid`, or claims missing or of the wrong
    /// type (`sub` and `email` are required).
    Malformed,
    /// Signed with a key Google does not publish (under that `kid`).
    UnknownKey,
    BadSignature,
    Expired,
    WrongIssuer,
    /// Meant for a client id that is not configured here.
    WrongAudience,
    /// Google does not vouch for the email address.
    EmailUnverified,
    /// Google's keys could not be fetched: the token could not be checked.
    KeysUnavailable,
    /// The account with the token's email is linked to another Google
    /// account.
    AccountConflict,
}

impl GoogleError {
    fn from_verify(err: VerifyError) -> Self {
        match err {
            VerifyError::UnknownKey => GoogleError::UnknownKey,
            VerifyError::Signature => GoogleError::BadSignature,
            VerifyError::Expired | VerifyError::IssuedInFuture => GoogleError::Expired,
            VerifyError::WrongIssuer => GoogleError::WrongIssuer,
            VerifyError::WrongAudience => GoogleError::WrongAudience,
            VerifyError::KeysUnavailable => GoogleError::KeysUnavailable,
            VerifyError::Malformed
            | VerifyError::Algorithm
            | VerifyError::MissingKeyId
            | VerifyError::WrongType => GoogleError::Malformed,
        }
    }
}

impl From<GoogleError> for AccountError {
    fn from(err: GoogleError) -> Self {
        AccountError::Google(err)
    }
}

/// The claims of a Google ID token this service reads.
#[derive(Debug, Clone, Deserialize)]
pub struct IdTokenClaims {
    pub sub: String,
    pub email: Option<String>,
    /// A boolean (older tokens had the string `"true"`).
    pub email_verified: Option<serde_json::Value>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub name: Option<String>,
}

/// Who a verified ID token speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoogleIdentity {
    /// Google's stable id of the account (`sub`).
    pub subject: String,
    pub email: Email,
    pub first_name: String,
    pub last_name: String,
}

/// A name from Google, as stored: trimmed, cut at [`MAX_NAME_CHARS`].
fn google_name(value: Option<&str>) -> String {
    value
        .unwrap_or_default()
        .trim()
        .chars()
        .take(MAX_NAME_CHARS)
        .collect::<String>()
        .trim()
        .to_owned()
}

impl GoogleIdentity {
    /// The identity of claims whose signature and parties were checked:
    /// a subject, a verified and valid email; names from `given_name` and
    /// `family_name`, else `name` as the first name.
    pub fn from_claims(claims: IdTokenClaims) -> std::result::Result<Self, GoogleError> {
        let subject = claims.sub.trim();
        if subject.is_empty() {
            return Err(GoogleError::Malformed);
        }
        let verified = matches!(&claims.email_verified, Some(serde_json::Value::Bool(true)))
            || matches!(&claims.email_verified, Some(serde_json::Value::String(s)) if s == "true");
        let email = claims.email.as_deref().ok_or(GoogleError::Malformed)?;
        if !verified {
            return Err(GoogleError::EmailUnverified);
        }
        let email = Email::parse(email).map_err(|_| GoogleError::Malformed)?;
        let mut first_name = google_name(claims.given_name.as_deref());
        let last_name = google_name(claims.family_name.as_deref());
        if first_name.is_empty() && last_name.is_empty() {
            first_name = google_name(claims.name.as_deref());
        }
        Ok(GoogleIdentity {
            subject: subject.to_owned(),
            email,
            first_name,
            last_name,
        })
    }
}

/// Verifies Google ID tokens against Google's JWKS (RSA keys only, fetched
/// and cached by [`JwksKeySource`], refetched on an unknown `kid` at most
/// once per its minimum interval).
pub struct GoogleVerifier {
    keys: Arc<JwksKeySource>,
    validation: Validation,
}

impl GoogleVerifier {
    /// Accepts RS256 tokens from one of `issuers` for one of `client_ids`.
    pub fn new(keys: Arc<JwksKeySource>, client_ids: &[String], issuers: &[String]) -> Self {
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(issuers);
        validation.set_audience(client_ids);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = LEEWAY_SECONDS;
        Self { keys, validation }
    }

    /// The identity an ID token speaks for, or why it is refused.
    pub async fn verify(&self, id_token: &str) -> std::result::Result<GoogleIdentity, GoogleError> {
        let keys = self.keys.as_ref() as &dyn KeySource;
        let (_, claims) = verify_jwt::<IdTokenClaims>(keys, &self.validation, id_token.trim())
            .await
            .map_err(GoogleError::from_verify)?;
        GoogleIdentity::from_claims(claims)
    }

    /// Fetches Google's keys again (keys Google dropped stop verifying).
    pub async fn refresh_keys(&self) {
        if let Err(err) = self.keys.refresh().await {
            tracing::warn!(error = %err, "Google JWKS refresh failed");
        }
    }
}

impl Accounts<'_> {
    /// Audits a Google sign-in's events (in its transaction).
    async fn audit_google(
        &self,
        txn: &impl ConnectionTrait,
        kinds: &[EventKind],
        user: i64,
        client: &ClientInfo,
    ) -> Result<()> {
        for kind in kinds {
            let event = Event::own(*kind, user).detail("google");
            self.audit.record(txn, event, &client.origin()).await?;
        }
        Ok(())
    }

    /// Signs in with a Google ID token: the account linked to the Google
    /// account, else the one with its email (linked now), else a new one.
    pub async fn google_login(&self, id_token: &str, client: &ClientInfo) -> Result<TokenGrant> {
        let verifier = self.google.ok_or(GoogleError::NotConfigured)?;
        let identity = verifier.verify(id_token).await?;
        // A concurrent sign-in of the same person, or a registration of the
        // same email, may take the row first: then look again, once.
        for _ in 0..2 {
            match self.google_attempt(&identity, client).await {
                Ok(Some(grant)) => return Ok(grant),
                Ok(None) => {}
                Err(err) => {
                    if let Some(reason) = super::service::failure_reason(&err, true) {
                        let account = store::users::by_google_subject(self.db, &identity.subject)
                            .await
                            .ok()
                            .flatten()
                            .map(|user| user.id);
                        let event = Event::new(EventKind::LoginFailed)
                            .on(account)
                            .detail(format!("google: {reason}"));
                        self.audit
                            .record_now(self.db, event, &client.origin())
                            .await;
                    }
                    return Err(err);
                }
            }
        }
        Err(anyhow::anyhow!("Google sign-in lost two races for the same account").into())
    }

    /// One try; `None` when a concurrent change took the row first.
    async fn google_attempt(
        &self,
        identity: &GoogleIdentity,
        client: &ClientInfo,
    ) -> Result<Option<TokenGrant>> {
        let now = Utc::now();
        if let Some(user) = store::users::by_google_subject(self.db, &identity.subject).await? {
            let subject = standing(&Account::from(user), self.policy.verification)?;
            let txn = self.db.begin().await?;
            let grant = self.sessions.start(&txn, &subject, client, now).await?;
            self.audit_google(&txn, &[EventKind::LoginSucceeded], subject.user_id, client)
                .await?;
            txn.commit().await?;
            return Ok(Some(grant));
        }
        if let Some(user) = store::users::by_email(self.db, identity.email.as_str()).await? {
            match &user.google_subject {
                // Linked a moment ago, by a concurrent sign-in: look again.
                Some(linked) if *linked == identity.subject => return Ok(None),
                Some(_) => return Err(GoogleError::AccountConflict.into()),
                None => {}
            }
            let mut account = Account::from(user);
            // Google vouches for the address: it counts as verified.
            account.email_verified = true;
            let subject = standing(&account, self.policy.verification)?;
            let txn = self.db.begin().await?;
            match store::users::link_google(&txn, account.id, &identity.subject, now).await {
                Ok(true) => {}
                Ok(false) => return Ok(None),
                Err(err) if store::is_unique_violation(&err) => return Ok(None),
                Err(err) => return Err(err.into()),
            }
            store::users::set_email_verified(&txn, account.id, now).await?;
            let change = self.record_change(&txn, account.id).await?;
            let grant = self.sessions.start(&txn, &subject, client, now).await?;
            self.audit_google(&txn, &[EventKind::LoginSucceeded], account.id, client)
                .await?;
            txn.commit().await?;
            self.changed(change).await;
            tracing::info!(user = account.id, "Google account linked");
            return Ok(Some(grant));
        }
        let new_user = NewUser {
            email: Some(identity.email.as_str().to_owned()),
            username: None,
            first_name: identity.first_name.clone(),
            last_name: identity.last_name.clone(),
            password_hash: None,
            google_subject: Some(identity.subject.clone()),
            email_verified_at: Some(now),
        };
        let txn = self.db.begin().await?;
        let account = match create_account(&txn, new_user, now).await {
            Ok(account) => account,
            Err(err) if store::is_unique_violation(&err) => return Ok(None),
            Err(err) => return Err(err.into()),
        };
        let subject = standing(&account, self.policy.verification)?;
        let grant = self.sessions.start(&txn, &subject, client, now).await?;
        let events = [EventKind::Registered, EventKind::LoginSucceeded];
        self.audit_google(&txn, &events, account.id, client).await?;
        txn.commit().await?;
        tracing::info!(user = account.id, "account created with Google");
        Ok(Some(grant))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(json: serde_json::Value) -> IdTokenClaims {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn identities_need_a_subject_and_a_verified_email() {
        let ann = GoogleIdentity::from_claims(claims(serde_json::json!({
            "sub": "1067", "email": "Ann@Example.com", "email_verified": true,
            "given_name": " Ann ", "family_name": "Lee", "name": "Ann Lee",
        })))
        .unwrap();
        assert_eq!(ann.subject, "1067");
        assert_eq!(ann.email.as_str(), "ann@example.com");
        assert_eq!(
            (ann.first_name.as_str(), ann.last_name.as_str()),
            ("Ann", "Lee")
        );
        let unverified =
            serde_json::json!({"sub": "1", "email": "a@b.co", "email_verified": false});
        assert_eq!(
            GoogleIdentity::from_claims(claims(unverified)),
            Err(GoogleError::EmailUnverified)
        );
        let absent = serde_json::json!({"sub": "1", "email": "a@b.co"});
        assert_eq!(
            GoogleIdentity::from_claims(claims(absent)),
            Err(GoogleError::EmailUnverified)
        );
        let as_text = serde_json::json!({"sub": "1", "email": "a@b.co", "email_verified": "true"});
        assert!(GoogleIdentity::from_claims(claims(as_text)).is_ok());
        let no_email = serde_json::json!({"sub": "1", "email_verified": true});
        assert_eq!(
            GoogleIdentity::from_claims(claims(no_email)),
            Err(GoogleError::Malformed)
        );
        let blank_sub = serde_json::json!({"sub": " ", "email": "a@b.co", "email_verified": true});
        assert_eq!(
            GoogleIdentity::from_claims(claims(blank_sub)),
            Err(GoogleError::Malformed)
        );
    }

    #[test]
    fn names_fall_back_to_the_full_name_and_are_cut() {
        let only_name = GoogleIdentity::from_claims(claims(serde_json::json!({
            "sub": "1", "email": "a@b.co", "email_verified": true, "name": "Yosia Elnino",
        })))
        .unwrap();
        assert_eq!(only_name.first_name, "Yosia Elnino");
        assert_eq!(only_name.last_name, "");
        let long = "x".repeat(MAX_NAME_CHARS + 20);
        let cut = GoogleIdentity::from_claims(claims(serde_json::json!({
            "sub": "1", "email": "a@b.co", "email_verified": true, "given_name": long,
        })))
        .unwrap();
        assert_eq!(cut.first_name.chars().count(), MAX_NAME_CHARS);
        let none = GoogleIdentity::from_claims(claims(serde_json::json!({
            "sub": "1", "email": "a@b.co", "email_verified": true,
        })))
        .unwrap();
        assert_eq!(
            (none.first_name, none.last_name),
            (String::new(), String::new())
        );
    }
}
