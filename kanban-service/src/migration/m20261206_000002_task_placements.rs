//! A move within a column changes its task lists without writing the
//! column's row: every task keeps its `placement`, one more than the
//! highest of its column when it was last put there, so a column's latest
//! placement grows with every move within it, and a board's version sums
//! them (see `boards::BoardVersion`). Before, each move added one to the
//! column's `version`, an update of the row every mover of the column
//! waits on, which lengthened the tail of moves in a busy column (a waiter
//! on an updated row must find its newest version; on a locked one it
//! takes it as it is). The index finds a column's latest placement in one
//! step. Existing tasks start at 0.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tasks {
    Table,
    CategoryId,
    Placement,
}

const INDEX: &str = "idx_tasks_category_placement";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds a NOT NULL column only with a default.
        manager
            .alter_table(
                Table::alter()
                    .table(Tasks::Table)
                    .add_column(
                        ColumnDef::new(Tasks::Placement)
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(INDEX)
                    .table(Tasks::Table)
                    .col(Tasks::CategoryId)
                    .col(Tasks::Placement)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite drops no indexed column: the index goes first.
        manager
            .drop_index(
                Index::drop()
                    .name(INDEX)
                    .table(Tasks::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Tasks::Table)
                    .drop_column(Tasks::Placement)
                    .to_owned(),
            )
            .await
    }
}
