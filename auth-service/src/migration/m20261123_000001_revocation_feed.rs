//! The durable revocation feed, and signing keys that are published before
//! they sign and can be revoked.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RevocationFacts {
    Table,
    Id,
    Kind,
    Subject,
    At,
    ExpiresAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum RevokedTokens {
    Table,
}

#[derive(DeriveIden)]
enum SigningKeys {
    Table,
    CreatedAt,
    ActivatedAt,
    RevokedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RevocationFacts::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(RevocationFacts::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(RevocationFacts::Kind).string().not_null())
                    .col(ColumnDef::new(RevocationFacts::Subject).string().not_null())
                    .col(ColumnDef::new(RevocationFacts::At).big_integer().null())
                    .col(
                        ColumnDef::new(RevocationFacts::ExpiresAt)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(RevocationFacts::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_revocation_facts_expires_at")
                    .table(RevocationFacts::Table)
                    .col(RevocationFacts::ExpiresAt)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        // Revoked access tokens are revocation facts now.
        manager
            .drop_table(
                Table::drop()
                    .table(RevokedTokens::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await?;
        // One column per statement: SQLite alters one at a time.
        for column in [SigningKeys::ActivatedAt, SigningKeys::RevokedAt] {
            manager
                .alter_table(
                    Table::alter()
                        .table(SigningKeys::Table)
                        .add_column(ColumnDef::new(column).timestamp_with_time_zone().null())
                        .to_owned(),
                )
                .await?;
        }
        // Every key that existed before signed from its creation.
        manager
            .exec_stmt(
                Query::update()
                    .table(SigningKeys::Table)
                    .value(SigningKeys::ActivatedAt, Expr::col(SigningKeys::CreatedAt))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(RevocationFacts::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}
