//! A login session: one refresh-token family.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sessions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub user_id: i64,
    pub created_at: DateTimeUtc,
    /// When the newest refresh token of the session expires.
    pub expires_at: DateTimeUtc,
    pub revoked_at: Option<DateTimeUtc>,
    /// What the session was opened from, as the client said.
    pub user_agent: Option<String>,
    pub ip_address: Option<String>,
    /// When its refresh token was last exchanged.
    pub last_used_at: Option<DateTimeUtc>,
    /// The session keeps one refresh token for its whole life (no
    /// rotation): opened by a client that never receives a new one.
    pub fixed_refresh: bool,
    /// Its access tokens live for the extended lifetime.
    pub extended_access: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::UserId",
        to = "super::user::Column::Id"
    )]
    User,
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
