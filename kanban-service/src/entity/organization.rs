//! An organization: a board's owner and its members' shared space.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "organizations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    pub description: String,
    /// The owner (`UserId`): the creator, until a transfer.
    pub user_id: i64,
    /// One more with every change that takes the board's lock exclusively
    /// (see `store::boards::lock_organization`): part of the version a
    /// written task list is kept under.
    pub board_version: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
