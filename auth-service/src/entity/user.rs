use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Lower-cased; unique.
    #[sea_orm(unique)]
    pub email: Option<String>,
    #[sea_orm(unique)]
    pub username: Option<String>,
    pub first_name: String,
    pub last_name: String,
    /// argon2id PHC string; absent for accounts that only log in with Google.
    pub password_hash: Option<String>,
    /// `admin` or `user`.
    pub role: String,
    /// `active`, `disabled` or `banned`.
    pub status: String,
    pub banned_until: Option<DateTimeUtc>,
    /// Tokens issued before this instant (unix seconds) are dead.
    pub not_before: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
