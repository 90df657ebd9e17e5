//! A column of the board.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "categories")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    pub kind: CategoryKind,
    pub organization_id: i64,
    /// 1-based, dense within the organization.
    pub position: i32,
    /// How many tasks the category has: kept by every creation, deletion
    /// and move of a task, under the locks that change the column, so a
    /// write answers its position without counting the column.
    pub task_count: i64,
    /// One more with every change of `task_count` under the board's shared
    /// lock (a creation in the column, a move to or from it): part of the
    /// version a written task list is kept under (a move within the column
    /// shows in its tasks' `placement`).
    pub version: i64,
    /// At or above every rank in the category: a creation ranks its task
    /// one gap past it (or past the highest rank, if that is higher) and
    /// raises it to that rank; a move that places a task past it raises it;
    /// a renumbering sets it to the highest rank.
    pub top_rank: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// Stored as `Default` (created with the organization) or `Custom`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum CategoryKind {
    #[sea_orm(string_value = "Default")]
    Default,
    #[sea_orm(string_value = "Custom")]
    Custom,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
