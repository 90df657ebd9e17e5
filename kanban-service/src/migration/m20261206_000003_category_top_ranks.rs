//! Every category keeps `top_rank`, a rank at or above every rank in it:
//! a creation ranks its task one gap past it (or past the highest rank it
//! reads, if that is higher) and raises it to that rank, in the statement
//! that locks the category's row; a move that places a task past it raises
//! it too. A creator that waited for the column's lock reads the row as the
//! lock's holder left it, where a read of the column's tasks in the same
//! statement would not see a move the holder made (a statement reads
//! through the snapshot taken when it started). Existing categories get
//! their highest rank (0 when they have no task). During a rolling
//! upgrade, replicas of the build before do not raise `top_rank` when they
//! move a task to a column's end: a creation at a new replica that waited
//! for such a move can meet the unique `(category_id, rank)` index (an
//! error answer, nothing written) until the old replicas are gone.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Categories {
    Table,
    TopRank,
}

/// Every category's highest rank (one statement, on both databases).
const FILL: &str = "UPDATE categories SET top_rank = \
     COALESCE((SELECT MAX(\"rank\") FROM tasks WHERE tasks.category_id = categories.id), 0)";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds a NOT NULL column only with a default.
        manager
            .alter_table(
                Table::alter()
                    .table(Categories::Table)
                    .add_column(
                        ColumnDef::new(Categories::TopRank)
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .to_owned(),
            )
            .await?;
        manager.get_connection().execute_unprepared(FILL).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Categories::Table)
                    .drop_column(Categories::TopRank)
                    .to_owned(),
            )
            .await
    }
}
