//! The audit log's rows: appended, read newest first, purged when old.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};

use crate::entity::audit_event;

/// An event about to be appended.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub at: DateTime<Utc>,
    pub kind: &'static str,
    pub actor_id: Option<i64>,
    pub subject_id: Option<i64>,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
    pub detail: Option<String>,
}

pub async fn append(conn: &impl ConnectionTrait, event: NewEvent) -> Result<(), DbErr> {
    audit_event::ActiveModel {
        at: Set(event.at),
        kind: Set(event.kind.to_owned()),
        actor_id: Set(event.actor_id),
        subject_id: Set(event.subject_id),
        ip_address: Set(event.ip_address),
        user_agent: Set(event.user_agent),
        request_id: Set(event.request_id),
        detail: Set(event.detail),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// Which events to read; absent fields do not filter.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    /// Events this user did or that concern them.
    pub user_id: Option<i64>,
    /// Only events concerning this user.
    pub subject_id: Option<i64>,
    pub kind: Option<&'static str>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

/// One page of matching events, newest first, and how many match in all.
pub async fn search(
    conn: &impl ConnectionTrait,
    filter: &EventFilter,
    limit: u64,
    offset: u64,
) -> Result<(Vec<audit_event::Model>, u64), DbErr> {
    let mut condition = Condition::all();
    if let Some(user) = filter.user_id {
        condition = condition.add(
            Condition::any()
                .add(audit_event::Column::ActorId.eq(user))
                .add(audit_event::Column::SubjectId.eq(user)),
        );
    }
    if let Some(subject) = filter.subject_id {
        condition = condition.add(audit_event::Column::SubjectId.eq(subject));
    }
    if let Some(kind) = filter.kind {
        condition = condition.add(audit_event::Column::Kind.eq(kind));
    }
    if let Some(since) = filter.since {
        condition = condition.add(audit_event::Column::At.gte(since));
    }
    if let Some(until) = filter.until {
        condition = condition.add(audit_event::Column::At.lt(until));
    }
    let query = audit_event::Entity::find().filter(condition);
    let total = query.clone().count(conn).await?;
    let events = query
        .order_by_desc(audit_event::Column::At)
        .order_by_desc(audit_event::Column::Id)
        .limit(limit)
        .offset(offset)
        .all(conn)
        .await?;
    Ok((events, total))
}

/// Removes the events older than `before`; how many went.
pub async fn purge(conn: &impl ConnectionTrait, before: DateTime<Utc>) -> Result<u64, DbErr> {
    let result = audit_event::Entity::delete_many()
        .filter(audit_event::Column::At.lt(before))
        .exec(conn)
        .await?;
    Ok(result.rows_affected)
}
