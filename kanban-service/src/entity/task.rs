//! A card on the board.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tasks")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub title: String,
    pub description: Option<String>,
    pub due_date: Option<DateTimeUtc>,
    /// The task's ordering key within its category: unique there, sparse
    /// (see `boards::RANK_GAP`); its 1-based position is computed when read.
    pub rank: i64,
    /// One more than the highest placement in its category when it was
    /// last moved there (0: not moved since it was created): a category's
    /// highest grows with every move within it (see `boards::BoardVersion`).
    pub placement: i64,
    pub owner_id: i64,
    pub category_id: i64,
    pub organization_id: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
