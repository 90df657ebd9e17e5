use sea_orm::entity::prelude::*;
use shared::Role;

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
    pub role: StoredRole,
    pub status: AccountStatus,
    /// A ban ends by itself at this instant; none: until lifted.
    pub banned_until: Option<DateTimeUtc>,
    /// Why the account was banned, as the admin wrote it.
    pub ban_reason: Option<String>,
    /// When the user proved they read mail at `email`.
    pub email_verified_at: Option<DateTimeUtc>,
    /// Tokens issued before this instant (unix seconds) are dead.
    pub not_before: Option<i64>,
    /// The Google account (its `sub`) this account signs in with; unique.
    #[sea_orm(unique)]
    pub google_subject: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// A user's role as the `role` column holds it (`admin` or `user`); any
/// other value fails to load instead of being guessed at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum StoredRole {
    #[sea_orm(string_value = "admin")]
    Admin,
    #[sea_orm(string_value = "user")]
    User,
}

impl From<StoredRole> for Role {
    fn from(role: StoredRole) -> Role {
        match role {
            StoredRole::Admin => Role::Admin,
            StoredRole::User => Role::User,
        }
    }
}

/// An account's standing, as the `status` column holds it; any other value
/// fails to load instead of being guessed at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum AccountStatus {
    #[sea_orm(string_value = "active")]
    Active,
    #[sea_orm(string_value = "disabled")]
    Disabled,
    #[sea_orm(string_value = "banned")]
    Banned,
}

impl AccountStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountStatus::Active => "active",
            AccountStatus::Disabled => "disabled",
            AccountStatus::Banned => "banned",
        }
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

#[cfg(test)]
mod tests {
    use sea_orm::{ActiveEnum, Iterable};

    use super::*;

    #[test]
    fn statuses_read_as_they_are_stored() {
        for status in AccountStatus::iter() {
            assert_eq!(status.as_str(), status.to_value());
        }
        assert!(AccountStatus::try_from_value(&"frozen".to_owned()).is_err());
        assert!(StoredRole::try_from_value(&"root".to_owned()).is_err());
    }
}
