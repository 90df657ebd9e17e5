//! The account lifecycle: ban reasons, verified emails, what a session was
//! opened from and last used at, which client rotated a refresh token, and
//! single-use account tokens (password reset, email verification), stored
//! as hashes only.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    BanReason,
    EmailVerifiedAt,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    UserAgent,
    IpAddress,
    LastUsedAt,
}

#[derive(DeriveIden)]
enum RefreshTokens {
    Table,
    RotatedBy,
}

#[derive(DeriveIden)]
enum AccountTokens {
    Table,
    TokenHash,
    UserId,
    Purpose,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one at a time.
        let columns = [
            (
                Users::Table.into_iden(),
                ColumnDef::new(Users::BanReason).string().null().to_owned(),
            ),
            (
                Users::Table.into_iden(),
                ColumnDef::new(Users::EmailVerifiedAt)
                    .timestamp_with_time_zone()
                    .null()
                    .to_owned(),
            ),
            (
                RefreshTokens::Table.into_iden(),
                ColumnDef::new(RefreshTokens::RotatedBy)
                    .string()
                    .null()
                    .to_owned(),
            ),
            (
                Sessions::Table.into_iden(),
                ColumnDef::new(Sessions::UserAgent)
                    .string()
                    .null()
                    .to_owned(),
            ),
            (
                Sessions::Table.into_iden(),
                ColumnDef::new(Sessions::IpAddress)
                    .string()
                    .null()
                    .to_owned(),
            ),
            (
                Sessions::Table.into_iden(),
                ColumnDef::new(Sessions::LastUsedAt)
                    .timestamp_with_time_zone()
                    .null()
                    .to_owned(),
            ),
        ];
        for (table, mut column) in columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(AccountTokens::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(AccountTokens::TokenHash)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(AccountTokens::UserId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(AccountTokens::Purpose).string().not_null())
                    .col(
                        ColumnDef::new(AccountTokens::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AccountTokens::ExpiresAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AccountTokens::UsedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(AccountTokens::Table, AccountTokens::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_account_tokens_user_purpose")
                    .table(AccountTokens::Table)
                    .col(AccountTokens::UserId)
                    .col(AccountTokens::Purpose)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(AccountTokens::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}
