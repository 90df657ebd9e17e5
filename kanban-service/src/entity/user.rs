//! What the board knows of a user of the account manager, kept current
//! from token claims and account-manager look-ups.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    /// The account manager's user id.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i64,
    pub email: Option<String>,
    /// Display name ("First Last"); may be empty.
    pub name: String,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
