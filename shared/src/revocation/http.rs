//! The revocation feed over HTTP, straight from the account manager, for
//! deployments without Redis: `GET /api/v1/revocations/feed` with a service
//! token of scope `revocations:read`. Without `generation`/`after` it
//! answers a snapshot; with them it waits up to `waitMs` milliseconds for later
//! facts (a long poll), so every answer is also a heartbeat.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use reqwest::StatusCode;

use super::{FeedBatch, FeedCursor, FeedError, FeedSource};
use crate::client::{ClientCredentials, CredentialsError};
use crate::wire::RevocationFeedPage;

/// The route, relative to the account manager's base URL.
pub const FEED_PATH: &str = "/api/v1/revocations/feed";

/// How long one long poll waits for new facts.
pub const LONG_POLL: Duration = Duration::from_millis(1500);

/// A verifier's reader of the account manager's HTTP feed.
pub struct HttpFeed {
    url: String,
    http: reqwest::Client,
    credentials: Arc<ClientCredentials>,
}

impl HttpFeed {
    pub fn new(auth_url: &str, http: reqwest::Client, credentials: Arc<ClientCredentials>) -> Self {
        Self {
            url: format!("{}{FEED_PATH}", auth_url.trim_end_matches('/')),
            http,
            credentials,
        }
    }

    async fn get(
        &self,
        cursor: Option<&FeedCursor>,
        renew: bool,
    ) -> Result<reqwest::Response, FeedError> {
        let token = self
            .credentials
            .token(renew)
            .await
            .map_err(|err: CredentialsError| FeedError::Unreachable(err.to_string()))?;
        let mut request = self
            .http
            .get(&self.url)
            .bearer_auth(token)
            .timeout(LONG_POLL + Duration::from_secs(5));
        if let Some(cursor) = cursor {
            request = request.query(&[
                ("generation", cursor.generation.as_str()),
                ("after", cursor.position.as_str()),
                ("waitMs", &LONG_POLL.as_millis().to_string()),
            ]);
        }
        request
            .send()
            .await
            .map_err(|err| FeedError::Unreachable(err.to_string()))
    }
}

#[async_trait]
impl FeedSource for HttpFeed {
    async fn next(&self, cursor: Option<&FeedCursor>) -> Result<FeedBatch, FeedError> {
        let mut response = self.get(cursor, false).await?;
        if response.status() == StatusCode::UNAUTHORIZED {
            // The cached service token died (a key rotation, say): once more.
            response = self.get(cursor, true).await?;
        }
        if !response.status().is_success() {
            return Err(FeedError::Unreachable(format!(
                "status {}",
                response.status()
            )));
        }
        let page: RevocationFeedPage = response
            .json()
            .await
            .map_err(|err| FeedError::Unreachable(err.to_string()))?;
        Ok(FeedBatch {
            cursor: FeedCursor {
                generation: page.generation,
                position: page.cursor,
            },
            reset: page.reset,
            facts: page.facts,
        })
    }
}
