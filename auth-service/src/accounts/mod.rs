//! The rules of accounts: what a valid registration is, who may log in and
//! who their tokens speak for. No HTTP and no SQL here.

pub mod google;
pub mod kept;
pub mod lifecycle;
pub mod passwords;
pub mod recovery;
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
    /// The limit counts the text as sent (spaces included), as the
    /// OpenAPI document's `maxLength` does; the address kept is trimmed.
    pub fn parse(raw: &str) -> Result<Email, EmailError> {
        if raw.chars().count() > MAX_EMAIL_CHARS {
            return Err(EmailError::TooLong);
        }
        let email = raw.trim();
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

/// Longest username accepted (as Django's default user model).
pub const MAX_USERNAME_CHARS: usize = 150;

/// A username as given (trimmed): letters, digits and `@ . + - _`, compared
/// without regard to case. Usernames and email addresses share one
/// namespace: a sign-in name finds at most one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsernameError {
    TooLong,
    Invalid,
}

impl Username {
    pub fn parse(raw: &str) -> Result<Username, UsernameError> {
        if raw.chars().count() > MAX_USERNAME_CHARS {
            return Err(UsernameError::TooLong);
        }
        let name = raw.trim();
        let allowed = |c: char| c.is_alphanumeric() || "@.+-_".contains(c);
        if name.is_empty() || !name.chars().all(allowed) {
            return Err(UsernameError::Invalid);
        }
        Ok(Username(name.to_owned()))
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
    /// A username that is too long, or holds other characters than
    /// letters, digits and `@ . + - _`.
    UsernameTooLong,
    UsernameInvalid,
    PasswordMissing,
    ConfirmationMissing,
    EmailTooLong,
    EmailInvalid,
    PasswordTooShort,
    PasswordTooLong,
    /// Only whitespace, or control characters.
    PasswordUnprintable,
    /// Among the passwords guessed first (common passwords, keyboard walks,
    /// repeats, simple words and dates).
    PasswordTooCommon,
    PasswordsDiffer,
    NameTooLong,
    EmailTaken,
    /// Another account has this username, or this username as its email.
    UsernameTaken,
}

/// What a registration form says, before validation.
#[derive(Debug, Default, Clone)]
pub struct RegistrationForm {
    pub email: Option<String>,
    /// Optional; with a username, the email is optional too.
    pub username: Option<String>,
    pub password: Option<String>,
    pub password2: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
}

/// A registration that passed validation.
#[derive(Debug, Clone)]
pub struct Registration {
    pub email: Option<Email>,
    pub username: Option<Username>,
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
        let username = present(&form.username).filter(|u| !u.trim().is_empty());
        if email.is_none() && username.is_none() {
            return Err(RegistrationError::EmailMissing);
        }
        let password = present(&form.password).ok_or(RegistrationError::PasswordMissing)?;
        let confirmation =
            present(&form.password2).ok_or(RegistrationError::ConfirmationMissing)?;
        let email = email
            .map(|email| {
                Email::parse(email).map_err(|err| match err {
                    EmailError::TooLong => RegistrationError::EmailTooLong,
                    EmailError::Invalid => RegistrationError::EmailInvalid,
                })
            })
            .transpose()?;
        let username = username
            .map(|name| {
                Username::parse(name).map_err(|err| match err {
                    UsernameError::TooLong => RegistrationError::UsernameTooLong,
                    UsernameError::Invalid => RegistrationError::UsernameInvalid,
                })
            })
            .transpose()?;
        check_new_password(password, confirmation)?;
        let name = |value: &Option<String>| parse_name(value.as_deref().unwrap_or_default());
        Ok(Registration {
            first_name: name(&form.first_name)?,
            last_name: name(&form.last_name)?,
            email,
            username,
            password: password.to_owned(),
        })
    }
}

/// A password an attacker would guess in fewer tries than this (10^4) is
/// refused, as estimated by zxcvbn: its frequency lists of common passwords
/// and words, plus keyboard walks, repeats, sequences and dates.
pub const MIN_PASSWORD_GUESSES_LOG10: f64 = 4.0;
/// Longer passwords are not estimated (no list holds them, and the
/// estimate's cost grows with length).
const ESTIMATED_CHARS: usize = 64;

/// Whether an attacker would guess the password among the first tries.
pub fn is_too_common(password: &str) -> bool {
    if password.chars().count() > ESTIMATED_CHARS {
        return false;
    }
    zxcvbn::zxcvbn(password, &[]).guesses_log10() < MIN_PASSWORD_GUESSES_LOG10
}

/// The rules every new password follows (registration, change, reset): its
/// length, printable and not blank, not among the first guesses, and that
/// the confirmation repeats it.
pub fn check_new_password(password: &str, confirmation: &str) -> Result<(), RegistrationError> {
    let length = password.chars().count();
    if length < MIN_PASSWORD_CHARS {
        return Err(RegistrationError::PasswordTooShort);
    }
    if length > MAX_PASSWORD_CHARS {
        return Err(RegistrationError::PasswordTooLong);
    }
    if password.chars().all(char::is_whitespace) || password.chars().any(char::is_control) {
        return Err(RegistrationError::PasswordUnprintable);
    }
    if is_too_common(password) {
        return Err(RegistrationError::PasswordTooCommon);
    }
    if password != confirmation {
        return Err(RegistrationError::PasswordsDiffer);
    }
    Ok(())
}

/// A new password from a form: present, confirmed, within the rules.
pub fn new_password(
    password: Option<String>,
    confirmation: Option<String>,
) -> Result<String, RegistrationError> {
    let password = password
        .filter(|p| !p.is_empty())
        .ok_or(RegistrationError::PasswordMissing)?;
    let confirmation = confirmation
        .filter(|p| !p.is_empty())
        .ok_or(RegistrationError::ConfirmationMissing)?;
    check_new_password(&password, &confirmation)?;
    Ok(password)
}

/// A name as stored: trimmed, at most [`MAX_NAME_CHARS`] characters.
pub fn parse_name(value: &str) -> Result<String, RegistrationError> {
    if value.chars().count() > MAX_NAME_CHARS {
        return Err(RegistrationError::NameTooLong);
    }
    Ok(value.trim().to_owned())
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
    /// Email verification is required and this account's email is not
    /// verified yet.
    EmailUnverified,
}

/// Whether accounts must verify their email before they may log in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EmailVerification {
    #[default]
    Optional,
    Required,
}

/// The account rules an operator configures.
#[derive(Debug, Clone)]
pub struct AccountPolicy {
    pub verification: EmailVerification,
    /// How long a password-reset link works.
    pub reset_ttl: std::time::Duration,
    /// Where a password-reset link leads (a page of the frontend); the
    /// token is added as `?token=`.
    pub reset_url: String,
    /// Where an email-verification link leads; the token is added as `?token=`.
    pub verify_url: String,
}

/// Whether an account in this standing may hold a session.
fn ensure_may_log_in(account: &Account, verification: EmailVerification) -> Result<(), LoginError> {
    match account.status {
        AccountStatus::Active => {}
        AccountStatus::Disabled => return Err(LoginError::Disabled),
        AccountStatus::Banned => return Err(LoginError::Banned),
    }
    if verification == EmailVerification::Required && !account.email_verified {
        return Err(LoginError::EmailUnverified);
    }
    Ok(())
}

/// An account's standing at `now`: a ban whose end has passed is over,
/// without anyone lifting it.
pub fn effective_status(
    status: AccountStatus,
    banned_until: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> AccountStatus {
    match (status, banned_until) {
        (AccountStatus::Banned, Some(until)) if until <= now => AccountStatus::Active,
        _ => status,
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
    /// Its standing now (see [`effective_status`]).
    pub status: AccountStatus,
    /// While banned: when the ban ends by itself, and why it was made.
    pub banned_until: Option<DateTime<Utc>>,
    pub ban_reason: Option<String>,
    pub email_verified: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Account {
    /// An admin in good standing: one of those who must never all be gone.
    pub fn is_active_admin(&self) -> bool {
        self.role == Role::Admin && self.status == AccountStatus::Active
    }
}

/// Whether the account may hold a session (log in, refresh) and, if so,
/// who its tokens speak for.
pub fn standing(
    account: &Account,
    verification: EmailVerification,
) -> Result<TokenSubject, LoginError> {
    ensure_may_log_in(account, verification)?;
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
    /// A Google sign-in was refused (token, configuration or link).
    #[error("Google sign-in refused: {0:?}")]
    Google(google::GoogleError),
    /// The password given to confirm a change is not the account's.
    #[error("wrong password")]
    WrongPassword,
    /// A reset or verification token that is unknown, used, voided or expired.
    #[error("invalid account token")]
    InvalidAccountToken,
    /// An admin change that would leave no active admin.
    #[error("last active admin")]
    LastAdmin,
    #[error("admin change refused: {0:?}")]
    Change(lifecycle::ChangeError),
    #[error("no such user")]
    UserNotFound,
    #[error("no such session")]
    SessionNotFound,
    /// Revocations were recorded but cannot reach every verifier yet.
    #[error("revocation state unavailable")]
    Unavailable,
    /// Password hashing is saturated (see [`passwords::Busy`]): try again.
    #[error("password hashing is saturated")]
    Busy,
    #[error(transparent)]
    Internal(anyhow::Error),
}

impl From<anyhow::Error> for AccountError {
    fn from(err: anyhow::Error) -> Self {
        if err.is::<passwords::Busy>() {
            AccountError::Busy
        } else {
            AccountError::Internal(err)
        }
    }
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

impl From<lifecycle::ChangeError> for AccountError {
    fn from(err: lifecycle::ChangeError) -> Self {
        AccountError::Change(err)
    }
}

impl From<shared::RevocationError> for AccountError {
    fn from(err: shared::RevocationError) -> Self {
        match err {
            shared::RevocationError::Unavailable => AccountError::Unavailable,
            shared::RevocationError::Revoked => {
                AccountError::Internal(anyhow::anyhow!("spreading a revocation answered `revoked`"))
            }
        }
    }
}

impl From<crate::tokens::revocation::RevocationOutcome> for AccountError {
    fn from(err: crate::tokens::revocation::RevocationOutcome) -> Self {
        use crate::tokens::revocation::RevocationOutcome;
        match err {
            RevocationOutcome::Database(err) => err.into(),
            RevocationOutcome::Spread(err) => err.into(),
        }
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
    fn usernames_keep_their_case_and_allow_few_symbols() {
        assert_eq!(
            Username::parse("  Ann.B+1_x-y@z ").unwrap().as_str(),
            "Ann.B+1_x-y@z"
        );
        assert_eq!(Username::parse("Zoë").unwrap().as_str(), "Zoë");
        for bad in ["", "   ", "ann b", "ann!", "a/b", "tab\there"] {
            assert_eq!(Username::parse(bad), Err(UsernameError::Invalid), "{bad}");
        }
        let long = "a".repeat(MAX_USERNAME_CHARS + 1);
        assert_eq!(Username::parse(&long), Err(UsernameError::TooLong));
    }

    #[test]
    fn a_username_alone_is_enough_to_register() {
        let form = RegistrationForm {
            username: Some("ann".into()),
            password: Some("correct horse".into()),
            password2: Some("correct horse".into()),
            ..Default::default()
        };
        let registration = Registration::parse(form).unwrap();
        assert_eq!(registration.email, None);
        assert_eq!(registration.username.unwrap().as_str(), "ann");
        let bad = RegistrationForm {
            username: Some("ann b".into()),
            password: Some("correct horse".into()),
            password2: Some("correct horse".into()),
            ..Default::default()
        };
        assert_eq!(
            Registration::parse(bad).unwrap_err(),
            RegistrationError::UsernameInvalid
        );
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
            Registration::parse(form("a@b.co", "tulip-orbit-93", "tulip-orbit-94")).unwrap_err(),
            RegistrationError::PasswordsDiffer
        );
        assert_eq!(
            Registration::parse(form("nope", "tulip-orbit-93", "tulip-orbit-93")).unwrap_err(),
            RegistrationError::EmailInvalid
        );
        let long = "x".repeat(MAX_PASSWORD_CHARS + 1);
        assert_eq!(
            Registration::parse(form("a@b.co", &long, &long)).unwrap_err(),
            RegistrationError::PasswordTooLong
        );
        assert!(Registration::parse(form("a@b.co", "tulip-orbit-93", "tulip-orbit-93")).is_ok());
    }

    #[test]
    fn weak_passwords_are_refused() {
        for common in [
            "123456",
            "password",
            "qwerty",
            "111111",
            "abc123",
            "letmein",
            "iloveyou",
            "Password1",
            "aaaaaaaa",
        ] {
            assert_eq!(
                check_new_password(common, common),
                Err(RegistrationError::PasswordTooCommon),
                "{common}"
            );
        }
        for unprintable in ["      ", "\0\0\0\0\0\0", "\t\n \t\n ", "good pass\u{7}word"] {
            assert_eq!(
                check_new_password(unprintable, unprintable),
                Err(RegistrationError::PasswordUnprintable),
                "{unprintable:?}"
            );
        }
        // What the tests and the benchmark use, and passphrases, pass.
        for fine in [
            "correct horse battery",
            "johndoe-secret",
            "bench-password-123",
            "a new passphrase",
            "tulip-orbit-93",
        ] {
            assert_eq!(check_new_password(fine, fine), Ok(()), "{fine}");
        }
        let long = "x".repeat(200);
        assert_eq!(
            check_new_password(&long, &long),
            Ok(()),
            "long passwords are not estimated"
        );
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
            banned_until: None,
            ban_reason: None,
            email_verified: false,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    #[test]
    fn only_active_accounts_hold_sessions() {
        let optional = EmailVerification::Optional;
        assert_eq!(
            standing(&account(AccountStatus::Active), optional),
            Ok(TokenSubject {
                user_id: 7,
                role: Role::Admin,
                email: Some("ann@example.com".into()),
                name: Some("Ann Lee".into()),
            })
        );
        assert_eq!(
            standing(&account(AccountStatus::Disabled), optional),
            Err(LoginError::Disabled)
        );
        assert_eq!(
            standing(&account(AccountStatus::Banned), optional),
            Err(LoginError::Banned)
        );
        let required = EmailVerification::Required;
        let mut ann = account(AccountStatus::Active);
        assert_eq!(standing(&ann, required), Err(LoginError::EmailUnverified));
        ann.email_verified = true;
        assert!(standing(&ann, required).is_ok());
    }

    #[test]
    fn bans_end_by_themselves() {
        let now = Utc::now();
        let later = now + chrono::Duration::minutes(5);
        let banned = AccountStatus::Banned;
        assert_eq!(effective_status(banned, None, now), banned);
        assert_eq!(effective_status(banned, Some(later), now), banned);
        assert_eq!(
            effective_status(banned, Some(now), now),
            AccountStatus::Active
        );
        let disabled = AccountStatus::Disabled;
        assert_eq!(effective_status(disabled, Some(now), later), disabled);
    }

    #[test]
    fn display_names() {
        assert_eq!(display_name("Ann", "Lee").as_deref(), Some("Ann Lee"));
        assert_eq!(display_name("", "Lee").as_deref(), Some("Lee"));
        assert_eq!(display_name(" ", ""), None);
    }
}
