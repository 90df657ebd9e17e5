//! Token signing keys, shared by every replica through the database.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "signing_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub kid: String,
    /// `EdDSA`.
    pub algorithm: String,
    /// PKCS#8 DER, base64.
    pub private_key: String,
    /// The raw public key, base64url (the JWK `x`).
    pub public_key: String,
    pub created_at: DateTimeUtc,
    /// When the key started signing; `None` while it is the next key,
    /// published ahead so every verifier knows it before its first token.
    pub activated_at: Option<DateTimeUtc>,
    /// When the key stopped signing; it stays published until its last token expires.
    pub retired_at: Option<DateTimeUtc>,
    /// When the key was revoked (compromised): never published again.
    pub revoked_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
