//! Revocation facts, in the order they were recorded: the durable source of
//! the revocation feed.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "revocation_facts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// `token`, `session`, `notBefore`, `keyRevoked` or `keysChanged`.
    pub kind: String,
    pub subject: String,
    pub at: Option<i64>,
    /// Unix seconds.
    pub expires_at: i64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
