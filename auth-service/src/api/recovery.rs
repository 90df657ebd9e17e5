//! Forgotten passwords and email verification, by mailed link.

use shared::required::{Required, Text};
use std::sync::Arc;

use poem::web::Data;
use poem_openapi::param::Query;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::ApiTags;
use super::error::{ApiError, Recovery, Refusal};
use crate::state::AppState;
use crate::throttle::Rule;

#[derive(Object, Debug)]
pub struct EmailRequest {
    pub email: Required<String>,
}

/// A reset link's token and the new password, twice.
#[derive(Object, Debug)]
pub struct ResetRequest {
    pub token: Required<String>,
    pub password: Required<String>,
    pub password2: Required<String>,
}

/// Either a verification link's token (verifies), or an email address
/// (sends a new link).
#[derive(Object, Debug)]
pub struct VerifyRequest {
    pub token: Required<String>,
    #[oai(nullable)]
    pub email: Option<Text>,
}

/// What a request about mail answers: the same whatever the address.
#[derive(Object, Debug)]
#[oai(rename_all = "camelCase")]
pub struct MailNotice {
    pub msg: String,
    pub human_msg: String,
}

#[derive(ApiResponse)]
pub enum MailAccepted {
    /// Taken: if the address has an account, a mail is on its way.
    #[oai(status = 202)]
    Accepted(Json<MailNotice>),
}

#[derive(ApiResponse)]
pub enum Done {
    /// Done.
    #[oai(status = 204)]
    Done,
}

#[derive(ApiResponse)]
pub enum Verified {
    /// The address is verified.
    #[oai(status = 200)]
    Verified(Json<MailNotice>),
    /// Taken: if the address has an unverified account, a link is on its way.
    #[oai(status = 202)]
    Accepted(Json<MailNotice>),
}

fn link_sent() -> MailNotice {
    MailNotice {
        msg: "Accepted: If the address has an account, a mail is on its way.".to_owned(),
        human_msg: "Check your inbox for a link.".to_owned(),
    }
}

fn verified() -> Verified {
    Verified::Verified(Json(MailNotice {
        msg: "OK: Email address verified.".to_owned(),
        human_msg: "Thank you, your email address is verified.".to_owned(),
    }))
}

pub struct RecoveryApi;

#[OpenApi(tag = "ApiTags::Accounts")]
impl RecoveryApi {
    /// Ask for a password-reset link
    ///
    /// Answers 202 whether or not the address has an account; when it has
    /// one, a single-use link (valid 30 minutes by default) is mailed. A
    /// newer request voids older links.
    #[oai(path = "/api/v1/auth/forgot-password", method = "post")]
    async fn forgot_password(
        &self,
        state: Data<&Arc<AppState>>,
        req: &poem::Request,
        body: Json<EmailRequest>,
    ) -> Result<MailAccepted, Refusal<Recovery>> {
        super::limit(&state, req, Rule::Recovery).await?;
        let client = super::client_info(&state, req);
        state
            .accounts()
            .forgot_password(body.0.email.into(), &client)
            .await?;
        Ok(MailAccepted::Accepted(Json(link_sent())))
    }

    /// Set a new password with a reset link's token
    ///
    /// The token works once. Every session of the account ends.
    #[oai(path = "/api/v1/auth/reset-password", method = "post")]
    async fn reset_password(
        &self,
        state: Data<&Arc<AppState>>,
        req: &poem::Request,
        body: Json<ResetRequest>,
    ) -> Result<Done, Refusal<Recovery>> {
        let reset = body.0;
        let client = super::client_info(&state, req);
        let accounts = state.accounts();
        let done = accounts.reset_password(
            reset.token.into(),
            reset.password.into(),
            reset.password2.into(),
            &client,
        );
        shared::connections::while_connected(req, done)
            .await
            .ok_or(ApiError::ClientGone)??;
        Ok(Done::Done)
    }

    /// Verify an email address (the link of a verification mail)
    #[oai(path = "/api/v1/auth/verify-email", method = "get")]
    async fn verify_email_link(
        &self,
        state: Data<&Arc<AppState>>,
        token: Query<Option<String>>,
    ) -> Result<Verified, Refusal<Recovery>> {
        state.accounts().verify_email(token.0).await?;
        Ok(verified())
    }

    /// Verify an email address, or ask for a new link
    ///
    /// With `token`: verifies. With `email` only: mails a new link when the
    /// address has an unverified account, answering 202 either way.
    #[oai(path = "/api/v1/auth/verify-email", method = "post")]
    async fn verify_email(
        &self,
        state: Data<&Arc<AppState>>,
        req: &poem::Request,
        body: Json<VerifyRequest>,
    ) -> Result<Verified, Refusal<Recovery>> {
        let request = body.0;
        if request.token.is_none() && request.email.is_some() {
            super::limit(&state, req, Rule::Recovery).await?;
            state
                .accounts()
                .resend_verification(request.email.map(String::from))
                .await?;
            return Ok(Verified::Accepted(Json(link_sent())));
        }
        state.accounts().verify_email(request.token.into()).await?;
        Ok(verified())
    }
}
