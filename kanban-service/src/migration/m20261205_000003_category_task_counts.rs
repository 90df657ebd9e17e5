//! Every category keeps its number of tasks, `task_count`, so a creation or
//! a move answers the task's position without counting the column: a
//! creation adds one (and is at the end: its position is the new count), a
//! deletion takes one away, a move to another category takes one from the
//! source and adds one to the target. Existing categories get the number
//! of their tasks.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Categories {
    Table,
    TaskCount,
}

/// Every category's number of tasks (one statement, on both databases).
const FILL: &str = "UPDATE categories SET task_count = \
     (SELECT COUNT(*) FROM tasks WHERE tasks.category_id = categories.id)";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds a NOT NULL column only with a default.
        manager
            .alter_table(
                Table::alter()
                    .table(Categories::Table)
                    .add_column(
                        ColumnDef::new(Categories::TaskCount)
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
                    .drop_column(Categories::TaskCount)
                    .to_owned(),
            )
            .await
    }
}
