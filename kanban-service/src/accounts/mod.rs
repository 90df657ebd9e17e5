//! People, as kanban sees them: seed-000 registration and login forwarded to
//! the account manager (the one owner of accounts), the current user's
//! profile, and name changes made there so every frontend sees them. The
//! users kanban shows on boards are remembered as a side effect.

pub mod client;

use chrono::{DateTime, Utc};

pub use client::{AccountManager, AccountUser, Client, Tokens};

use crate::boards::{BoardError, Boards, Field, Rule, check_registration, shown_name};
use crate::error::KanbanResult;

/// A successful login: the tokens and who they belong to.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub tokens: Tokens,
    pub account: AccountUser,
    /// The account's username, or the local part of its email.
    pub username: String,
    /// The name boards show (the email when the account has no name).
    pub shown_name: String,
}

/// The current user as boards show them.
#[derive(Debug, Clone)]
pub struct Profile {
    pub id: i64,
    pub shown_name: String,
    pub email: Option<String>,
}

/// What a token says of its bearer, for a profile kanban has not seen yet.
#[derive(Debug, Clone)]
pub struct Bearer<'a> {
    pub id: i64,
    pub name: Option<&'a str>,
    pub email: Option<&'a str>,
    /// The raw access token, for calls on the bearer's behalf.
    pub token: &'a str,
}

/// The use-cases over the account manager and the boards' user records.
pub struct Accounts<'a> {
    pub manager: &'a AccountManager,
    pub boards: &'a Boards,
}

impl Accounts<'_> {
    /// Registers at the account manager; answers the new id and the email
    /// as stored (trimmed, lower case).
    pub async fn register(
        &self,
        first: &str,
        last: &str,
        email: &str,
        password: &str,
        client: &Client,
    ) -> KanbanResult<(i64, String)> {
        check_registration(first, last, email, password)?;
        let (first, last, email) = (first.trim(), last.trim(), email.trim().to_lowercase());
        let id = self
            .manager
            .register(first, last, &email, password, client)
            .await?;
        let name = format!("{first} {last}");
        self.boards
            .remember_user(id, Some(email.clone()), name, Utc::now())
            .await?;
        Ok((id, email))
    }

    /// Logs in at the account manager and remembers who logged in.
    pub async fn login(
        &self,
        email: &str,
        password: &str,
        client: &Client,
    ) -> KanbanResult<SignedIn> {
        let tokens = self.manager.login(email, password, client).await?;
        self.signed_in(tokens, client).await
    }

    /// Signs in at the account manager with a Google ID token and
    /// remembers who signed in.
    pub async fn google_login(&self, id_token: &str, client: &Client) -> KanbanResult<SignedIn> {
        if id_token.trim().is_empty() {
            return Err(BoardError::invalid(Field::GoogleAccessToken, Rule::Required).into());
        }
        let tokens = self.manager.google_login(id_token.trim(), client).await?;
        self.signed_in(tokens, client).await
    }

    /// Who the tokens of a sign-in belong to, remembered for the boards.
    async fn signed_in(&self, tokens: Tokens, client: &Client) -> KanbanResult<SignedIn> {
        let account = self.manager.me(&tokens.token, client).await?;
        let name = account.name();
        self.boards
            .remember_user(account.id, account.email.clone(), name.clone(), Utc::now())
            .await?;
        let username = account.username.clone().unwrap_or_else(|| {
            let email = account.email.as_deref().unwrap_or_default();
            email.split('@').next().unwrap_or_default().to_owned()
        });
        Ok(SignedIn {
            shown_name: shown_name(&name, account.email.as_deref()),
            tokens,
            account,
            username,
        })
    }

    /// The bearer's profile: as boards know them, else as the token says.
    pub async fn profile(&self, bearer: &Bearer<'_>) -> KanbanResult<Profile> {
        let (name, email) = match self.boards.user(bearer.id).await? {
            Some(user) => (user.name, user.email),
            None => (
                bearer.name.unwrap_or_default().to_owned(),
                bearer.email.map(str::to_owned),
            ),
        };
        Ok(Profile {
            id: bearer.id,
            shown_name: shown_name(&name, email.as_deref()),
            email,
        })
    }

    /// Changes the bearer's names at the account manager.
    pub async fn rename(
        &self,
        bearer: &Bearer<'_>,
        first: Option<&str>,
        last: Option<&str>,
        client: &Client,
    ) -> KanbanResult<Profile> {
        for (field, value) in [(Field::FirstName, first), (Field::SecondName, last)] {
            if value.is_some_and(|v| v.trim().is_empty()) {
                return Err(crate::boards::BoardError::invalid(field, Rule::Required).into());
            }
        }
        let account = self
            .manager
            .update_names(bearer.token, first, last, client)
            .await?;
        let name = account.name();
        let as_of: DateTime<Utc> = Utc::now();
        self.boards
            .remember_user(bearer.id, account.email.clone(), name.clone(), as_of)
            .await?;
        Ok(Profile {
            id: bearer.id,
            shown_name: shown_name(&name, account.email.as_deref()),
            email: account.email,
        })
    }
}
