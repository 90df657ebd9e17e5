//! One security event of the audit log. Rows are only ever added (an
//! update is refused by a trigger) and removed by the retention purge.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub at: DateTimeUtc,
    /// What happened: `login_failed`, `account_banned`, ...
    pub kind: String,
    /// Who did it (absent: someone not signed in, or the system).
    pub actor_id: Option<i64>,
    /// Whose account it concerns.
    pub subject_id: Option<i64>,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
    /// A short, secret-free detail: a failure's reason, a new role, a key id.
    pub detail: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
