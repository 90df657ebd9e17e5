//! The audit log: security events (sign-ins, sign-in failures, session
//! ends, password and standing changes, key changes, tripped rate limits),
//! each appended to the `audit_events` table and written as one structured
//! log line. An event names who did it (the actor), whose account it
//! concerns (the subject), where the request came from and its request id,
//! and a short detail; never a password, token or link.
//!
//! Use cases record an event inside the transaction of the change it
//! describes when they have one, so an event exists exactly when its change
//! happened.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr};

use crate::store::{self, audit::EventFilter, audit::NewEvent};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    Registered,
    LoginSucceeded,
    LoginFailed,
    RefreshTokenReused,
    Logout,
    LogoutAll,
    SessionEnded,
    PasswordChanged,
    PasswordResetRequested,
    PasswordReset,
    AccountDisabled,
    AccountReactivated,
    AccountBanned,
    AccountUnbanned,
    RoleChanged,
    SigningKeyRotated,
    SigningKeyRevoked,
    RateLimited,
}

impl EventKind {
    pub const ALL: [EventKind; 18] = [
        EventKind::Registered,
        EventKind::LoginSucceeded,
        EventKind::LoginFailed,
        EventKind::RefreshTokenReused,
        EventKind::Logout,
        EventKind::LogoutAll,
        EventKind::SessionEnded,
        EventKind::PasswordChanged,
        EventKind::PasswordResetRequested,
        EventKind::PasswordReset,
        EventKind::AccountDisabled,
        EventKind::AccountReactivated,
        EventKind::AccountBanned,
        EventKind::AccountUnbanned,
        EventKind::RoleChanged,
        EventKind::SigningKeyRotated,
        EventKind::SigningKeyRevoked,
        EventKind::RateLimited,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Registered => "registered",
            EventKind::LoginSucceeded => "login_succeeded",
            EventKind::LoginFailed => "login_failed",
            EventKind::RefreshTokenReused => "refresh_token_reused",
            EventKind::Logout => "logout",
            EventKind::LogoutAll => "logout_all",
            EventKind::SessionEnded => "session_ended",
            EventKind::PasswordChanged => "password_changed",
            EventKind::PasswordResetRequested => "password_reset_requested",
            EventKind::PasswordReset => "password_reset",
            EventKind::AccountDisabled => "account_disabled",
            EventKind::AccountReactivated => "account_reactivated",
            EventKind::AccountBanned => "account_banned",
            EventKind::AccountUnbanned => "account_unbanned",
            EventKind::RoleChanged => "role_changed",
            EventKind::SigningKeyRotated => "signing_key_rotated",
            EventKind::SigningKeyRevoked => "signing_key_revoked",
            EventKind::RateLimited => "rate_limited",
        }
    }

    pub fn parse(text: &str) -> Option<EventKind> {
        EventKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == text)
    }
}

/// Where a request came from: the client's address (behind trusted
/// proxies), its user agent, and the request's id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
}

/// One event, before it is recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub kind: EventKind,
    pub actor: Option<i64>,
    pub subject: Option<i64>,
    pub detail: Option<String>,
}

/// The longest detail kept.
const MAX_DETAIL_CHARS: usize = 200;

impl Event {
    pub fn new(kind: EventKind) -> Self {
        Event {
            kind,
            actor: None,
            subject: None,
            detail: None,
        }
    }

    /// Done by a user to their own account.
    pub fn own(kind: EventKind, user: i64) -> Self {
        Event::new(kind).by(Some(user)).on(Some(user))
    }

    pub fn by(mut self, actor: Option<i64>) -> Self {
        self.actor = actor;
        self
    }

    pub fn on(mut self, subject: Option<i64>) -> Self {
        self.subject = subject;
        self
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        let detail: String = detail.into();
        self.detail = Some(detail.chars().take(MAX_DETAIL_CHARS).collect());
        self
    }
}

/// A page of recorded events, newest first.
#[derive(Debug, Clone)]
pub struct RecordedEvent {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub kind: String,
    pub actor: Option<i64>,
    pub subject: Option<i64>,
    pub origin: Origin,
    pub detail: Option<String>,
}

#[derive(Debug, Clone)]
pub struct EventPage {
    pub events: Vec<RecordedEvent>,
    pub total: u64,
}

/// Which events to read.
#[derive(Debug, Clone, Default)]
pub struct EventQuery {
    /// Events this user did or that concern them.
    pub user: Option<i64>,
    /// Only events concerning this user.
    pub subject: Option<i64>,
    pub kind: Option<EventKind>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub limit: u64,
    pub offset: u64,
}

/// The most events one read answers.
pub const MAX_PAGE: u64 = 100;
/// How many tripped limits are remembered, so a flood of refused requests
/// records one event per client and window, not one per request.
const MAX_REMEMBERED_TRIPS: usize = 10_000;

/// Records and reads the audit log.
pub struct AuditLog {
    retention: Option<Duration>,
    trips: Mutex<HashMap<String, Instant>>,
}

impl AuditLog {
    /// `retention`: how long events are kept (none: for ever).
    pub fn new(retention: Option<Duration>) -> Self {
        AuditLog {
            retention,
            trips: Mutex::new(HashMap::new()),
        }
    }

    /// Appends the event (in `conn`'s transaction when it is one) and logs it.
    pub async fn record(
        &self,
        conn: &impl ConnectionTrait,
        event: Event,
        origin: &Origin,
    ) -> Result<(), DbErr> {
        let kind = event.kind.as_str();
        store::audit::append(
            conn,
            NewEvent {
                at: Utc::now(),
                kind,
                actor_id: event.actor,
                subject_id: event.subject,
                ip_address: origin.ip_address.clone(),
                user_agent: origin.user_agent.clone(),
                request_id: origin.request_id.clone(),
                detail: event.detail.clone(),
            },
        )
        .await?;
        tracing::info!(
            target: "audit",
            event = kind,
            actor = event.actor,
            subject = event.subject,
            ip = origin.ip_address.as_deref(),
            user_agent = origin.user_agent.as_deref(),
            request_id = origin.request_id.as_deref(),
            detail = event.detail.as_deref(),
            "audit event"
        );
        Ok(())
    }

    /// Records an event that has no transaction to join; a failure is
    /// logged, never passed on (the action it describes already happened).
    pub async fn record_now(&self, conn: &impl ConnectionTrait, event: Event, origin: &Origin) {
        let kind = event.kind;
        if let Err(err) = self.record(conn, event, origin).await {
            tracing::error!(event = kind.as_str(), error = %err, "recording an audit event failed");
        }
    }

    /// Whether a tripped limit for `key` is news: true once per `window`.
    pub fn first_trip(&self, key: &str, window: Duration) -> bool {
        let now = Instant::now();
        let mut trips = self.trips.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(at) = trips.get(key)
            && now.duration_since(*at) < window
        {
            return false;
        }
        if trips.len() >= MAX_REMEMBERED_TRIPS {
            trips.retain(|_, at| now.duration_since(*at) < window);
            if trips.len() >= MAX_REMEMBERED_TRIPS {
                trips.clear();
            }
        }
        trips.insert(key.to_owned(), now);
        true
    }

    /// One page of events, newest first.
    pub async fn search(
        &self,
        conn: &impl ConnectionTrait,
        query: EventQuery,
    ) -> Result<EventPage, DbErr> {
        let filter = EventFilter {
            user_id: query.user,
            subject_id: query.subject,
            kind: query.kind.map(EventKind::as_str),
            since: query.since,
            until: query.until,
        };
        let limit = query.limit.clamp(1, MAX_PAGE);
        let (rows, total) = store::audit::search(conn, &filter, limit, query.offset).await?;
        let events = rows
            .into_iter()
            .map(|row| RecordedEvent {
                id: row.id,
                at: row.at,
                kind: row.kind,
                actor: row.actor_id,
                subject: row.subject_id,
                origin: Origin {
                    ip_address: row.ip_address,
                    user_agent: row.user_agent,
                    request_id: row.request_id,
                },
                detail: row.detail,
            })
            .collect();
        Ok(EventPage { events, total })
    }

    /// Removes the events older than the retention period.
    pub async fn purge(&self, conn: &impl ConnectionTrait) -> Result<u64, DbErr> {
        let Some(retention) = self.retention else {
            return Ok(0);
        };
        let Ok(retention) = chrono::Duration::from_std(retention) else {
            return Ok(0);
        };
        let before = Utc::now() - retention;
        let removed = store::audit::purge(conn, before).await?;
        if removed > 0 {
            tracing::info!(removed, "audit events past their retention removed");
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_reads_back_from_its_name() {
        for kind in EventKind::ALL {
            assert_eq!(EventKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(EventKind::parse("nonsense"), None);
    }

    #[test]
    fn a_tripped_limit_is_news_once_per_window() {
        let log = AuditLog::new(None);
        let window = Duration::from_secs(60);
        assert!(log.first_trip("login|10.0.0.1", window));
        assert!(!log.first_trip("login|10.0.0.1", window));
        assert!(log.first_trip("login|10.0.0.2", window));
        assert!(log.first_trip("login|10.0.0.1", Duration::ZERO));
    }

    #[test]
    fn details_are_bounded() {
        let event = Event::new(EventKind::LoginFailed).detail("x".repeat(1000));
        assert_eq!(event.detail.map(|d| d.len()), Some(MAX_DETAIL_CHARS));
    }
}
