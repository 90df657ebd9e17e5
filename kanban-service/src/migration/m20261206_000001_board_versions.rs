//! Versions of what a board's task lists show, so a written list can be
//! answered again while nothing it shows has changed (`api::kept_lists`):
//! - `organizations.board_version`: one more with every change that takes
//!   the board's lock exclusively (the lock is that update);
//! - `categories.version`: one more with every creation or move in the
//!   column under the shared lock (the statement that locks the column);
//! - `people_versions`, one row: one more with every change of a known
//!   user's name or email, which cards of every board show.
//!
//! Versions only grow; existing rows start at 0.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Organizations {
    Table,
    BoardVersion,
}

#[derive(DeriveIden)]
enum Categories {
    Table,
    Version,
}

#[derive(DeriveIden)]
enum PeopleVersions {
    Table,
    Id,
    Version,
}

/// A `version` column: a count from 0 (SQLite adds a NOT NULL column only
/// with a default).
fn version_column(column: impl IntoIden) -> ColumnDef {
    ColumnDef::new(column)
        .big_integer()
        .not_null()
        .default(0)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Organizations::Table)
                    .add_column(version_column(Organizations::BoardVersion))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Categories::Table)
                    .add_column(version_column(Categories::Version))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PeopleVersions::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(PeopleVersions::Id)
                            .big_integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(version_column(PeopleVersions::Version))
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::insert()
                    .into_table(PeopleVersions::Table)
                    .columns([PeopleVersions::Id, PeopleVersions::Version])
                    .values_panic([1.into(), 0.into()])
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PeopleVersions::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Categories::Table)
                    .drop_column(Categories::Version)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Organizations::Table)
                    .drop_column(Organizations::BoardVersion)
                    .to_owned(),
            )
            .await
    }
}
