//! The rules of accounts: what a valid registration is, who may log in and
//! who their tokens speak for. No HTTP and no SQL here.

pub mod passwords;
pub mod service;

use chrono::{DateTime, Utc};
use shared::Role;

pub use crate::entity::user::AccountStatus;
use crate::tokens::{RefreshError, TokenSubject};

/// Longest email accepted (seed 004: "255 character limit").
pub const MAX_EMAIL_CHARS: usize = 255;
pub const MIN_PASSWORD_CHARS: usize = 6;
/// Longer passwords are refused before hashing, so no request can make the
/// hasher chew on megabytes.
pub const MAX_PASSWORD_CHARS: usize = 1024;
pub const MAX_NAME_CHARS: usize = 100;

/// An email address as stored: trimmed and lower-cased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailError {
    TooLong,
    Invalid,
}

impl Email {
    pub fn parse(raw: &str) -> Result<Email, EmailError> {
        let email = raw.trim();
        if email.chars().count() > MAX_EMAIL_CHARS {
            return Err(EmailError::TooLong);
        }
        let Some((local, domain)) = email.rsplit_once('@') else {
            return Err(EmailError::Invalid);
        };
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain
                .chars()
                .all(|c| c.is_alphanumeric() || c == '-' || c == '.');
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.contains('@')
            && !local.chars().any(|c| c.is_whitespace() || c.is_control());
        if !(domain_ok && local_ok) {
            return Err(EmailError::Invalid);
        }
        Ok(Email(email.to_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// Why a registration was refused, in the order the checks run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistrationError {
    EmailMissing,
    PasswordMissing,
    ConfirmationMissing,
    EmailTooLong,
    EmailInvalid,
    PasswordTooShort,
    PasswordTooLong,
    PasswordsDiffer,
    NameTooLong,
    EmailTaken,
}

/// What a registration form says, before validation.
#[derive(Debug, Default, Clone)]
pub struct RegistrationForm {
    pub email: Option<String>,
    pub password: Option<String>,
    pub password2: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
}

/// A registration that passed validation.
#[derive(Debug, Clone)]
pub struct Registration {
    pub email: Email,
    pub password: String,
    pub first_name: String,
    pub last_name: String,
}

fn present(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|v| !v.is_empty())
}

impl Registration {
    pub fn parse(form: RegistrationForm) -> Result<Registration, RegistrationError> {
        let email = present(&form.email).filter(|e| !e.trim().is_empty());
        let email = email.ok_or(RegistrationError::EmailMissing)?;
        let password = present(&form.password).ok_or(RegistrationError::PasswordMissing)?;
        let confirmation =
            present(&form.password2).ok_or(RegistrationError::ConfirmationMissing)?;
        let email = Email::parse(email).map_err(|err| match err {
            EmailError::TooLong => RegistrationError::EmailTooLong,
            EmailError::Invalid => RegistrationError::EmailInvalid,
        })?;
        let length = password.chars().count();
        if length < MIN_PASSWORD_CHARS {
            return Err(RegistrationError::PasswordTooShort);
        }
        if length > MAX_PASSWORD_CHARS {
            return Err(RegistrationError::PasswordTooLong);
        }
        if password != confirmation {
            return Err(RegistrationError::PasswordsDiffer);
        }
        let name = |value: &Option<String>| parse_name(value.as_deref().unwrap_or_default());
        Ok(Registration {
            first_name: name(&form.first_name)?,
            last_name: name(&form.last_name)?,
            email,
            password: password.to_owned(),
        })
    }
}

/// A name as stored: trimmed, at most [`MAX_NAME_CHARS`] characters.
pub fn parse_name(value: &str) -> Result<String, RegistrationError> {
    let value = value.trim();
    if value.chars().count() > MAX_NAME_CHARS {
        return Err(RegistrationError::NameTooLong);
    }
    Ok(value.to_owned())
}

/// Why a login (or a refresh) was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginError {
    /// Email or password missing.
    CredentialsMissing,
    /// Unknown email or wrong password; the answer never says which.
    BadCredentials,
    Disabled,
    Banned,
}

/// Whether an account in this standing may hold a session.
fn ensure_may_log_in(status: AccountStatus) -> Result<(), LoginError> {
    match status {
        AccountStatus::Active => Ok(()),
        AccountStatus::Disabled => Err(LoginError::Disabled),
        AccountStatus::Banned => Err(LoginError::Banned),
    }
}

/// The display name put in tokens: "First Last", or nothing.
pub fn display_name(first: &str, last: &str) -> Option<String> {
    let name = shared::wire::full_name(first, last);
    (!name.is_empty()).then_some(name)
}

/// An account as the rest of the service sees it (never its password).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: i64,
    pub email: Option<String>,
    pub username: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub role: Role,
    pub status: AccountStatus,
    pub created_at: DateTime<Utc>,
}

/// Whether the account may hold a session (log in, refresh) and, if so,
/// who its tokens speak for.
pub fn standing(account: &Account) -> Result<TokenSubject, LoginError> {
    ensure_may_log_in(account.status)?;
    Ok(TokenSubject {
        user_id: account.id,
        role: account.role,
        email: account.email.clone(),
        name: display_name(&account.first_name, &account.last_name),
    })
}

/// Why an account use case did not happen: a rule refused it, or something
/// failed on our side (logged, never shown).
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("registration refused: {0:?}")]
    Registration(RegistrationError),
    #[error("login refused: {0:?}")]
    Login(LoginError),
    /// The refresh token was refused (the account's standing is `Login`).
    #[error(transparent)]
    Refresh(RefreshError),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<RegistrationError> for AccountError {
    fn from(err: RegistrationError) -> Self {
        AccountError::Registration(err)
    }
}

impl From<LoginError> for AccountError {
    fn from(err: LoginError) -> Self {
        AccountError::Login(err)
    }
}

impl From<RefreshError> for AccountError {
    fn from(err: RefreshError) -> Self {
        AccountError::Refresh(err)
    }
}

impl From<sea_orm::DbErr> for AccountError {
    fn from(err: sea_orm::DbErr) -> Self {
        AccountError::Internal(err.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(email: &str, password: &str, password2: &str) -> RegistrationForm {
        RegistrationForm {
            email: Some(email.into()),
            password: Some(password.into()),
            password2: Some(password2.into()),
            ..Default::default()
        }
    }

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            Email::parse("  Ann@Example.COM ").unwrap().as_str(),
            "ann@example.com"
        );
        for bad in [
            "",
            "plain",
            "@example.com",
            "a@b",
            "a@.com",
            "a@b..com",
            "a b@c.com",
            "a@exa mple.com",
        ] {
            assert_eq!(Email::parse(bad), Err(EmailError::Invalid), "{bad}");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert_eq!(Email::parse(&long), Err(EmailError::TooLong));
    }

    #[test]
    fn registration_checks_run_in_the_documented_order() {
        assert_eq!(
            Registration::parse(RegistrationForm::default()).unwrap_err(),
            RegistrationError::EmailMissing
        );
        let no_password = RegistrationForm {
            email: Some("a@b.co".into()),
            ..Default::default()
        };
        assert_eq!(
            Registration::parse(no_password).unwrap_err(),
            RegistrationError::PasswordMissing
        );
        let no_confirmation = RegistrationForm {
            email: Some("a@b.co".into()),
            password: Some("secret1".into()),
            ..Default::default()
        };
        assert_eq!(
            Registration::parse(no_confirmation).unwrap_err(),
            RegistrationError::ConfirmationMissing
        );
        assert_eq!(
            Registration::parse(form("a@b.co", "12345", "12345")).unwrap_err(),
            RegistrationError::PasswordTooShort
        );
        assert_eq!(
            Registration::parse(form("a@b.co", "123456", "1234567")).unwrap_err(),
            RegistrationError::PasswordsDiffer
        );
        assert_eq!(
            Registration::parse(form("nope", "123456", "123456")).unwrap_err(),
            RegistrationError::EmailInvalid
        );
        let long = "x".repeat(MAX_PASSWORD_CHARS + 1);
        assert_eq!(
            Registration::parse(form("a@b.co", &long, &long)).unwrap_err(),
            RegistrationError::PasswordTooLong
        );
        assert!(Registration::parse(form("a@b.co", "123456", "123456")).is_ok());
    }

    fn account(status: AccountStatus) -> Account {
        Account {
            id: 7,
            email: Some("ann@example.com".into()),
            username: None,
            first_name: "Ann".into(),
            last_name: "Lee".into(),
            role: Role::Admin,
            status,
            created_at: Utc::now(),
        }
    }

    #[test]
    fn only_active_accounts_hold_sessions() {
        assert_eq!(
            standing(&account(AccountStatus::Active)),
            Ok(TokenSubject {
                user_id: 7,
                role: Role::Admin,
                email: Some("ann@example.com".into()),
                name: Some("Ann Lee".into()),
            })
        );
        assert_eq!(
            standing(&account(AccountStatus::Disabled)),
            Err(LoginError::Disabled)
        );
        assert_eq!(
            standing(&account(AccountStatus::Banned)),
            Err(LoginError::Banned)
        );
    }

    #[test]
    fn display_names() {
        assert_eq!(display_name("Ann", "Lee").as_deref(), Some("Ann Lee"));
        assert_eq!(display_name("", "Lee").as_deref(), Some("Lee"));
        assert_eq!(display_name(" ", ""), None);
    }
}
