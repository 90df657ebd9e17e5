//! Tasks are ordered within their category by a sparse key, `rank`, instead
//! of a stored dense `position`: a move or a creation writes one row (a new
//! rank between its neighbours'), a deletion none besides its own, and the
//! 1-based position a client sees is computed when read. Existing tasks get
//! `rank` = their place in the category × `RANK_GAP`, which keeps their
//! order; `(category_id, rank)` is unique; the board-order index is rebuilt
//! on rank, and `position` goes with its index.

use sea_orm_migration::prelude::*;

/// The gap between the ranks this migration gives (`rules::RANK_GAP` when
/// it was written; a migration keeps its own copy, so later changes of the
/// rule do not change what it did).
const RANK_GAP: i64 = 1 << 20;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tasks {
    Table,
    OrganizationId,
    CategoryId,
    Position,
    Rank,
    Id,
}

/// Every task's place in its category (by the old position, then id),
/// as `{column}` = place × `{gap}` (in one statement, on both databases).
fn number_by(column: &str, key: &str, gap: i64) -> String {
    format!(
        "UPDATE tasks SET \"{column}\" = r.n * {gap} FROM (\
           SELECT id, ROW_NUMBER() OVER (PARTITION BY category_id ORDER BY \"{key}\", id) AS n \
           FROM tasks) AS r \
         WHERE tasks.id = r.id"
    )
}

async fn index(
    manager: &SchemaManager<'_>,
    name: &str,
    unique: bool,
    columns: Vec<Tasks>,
) -> Result<(), DbErr> {
    let mut statement = Index::create()
        .name(name)
        .table(Tasks::Table)
        .if_not_exists()
        .to_owned();
    if unique {
        statement.unique();
    }
    for column in columns {
        statement.col(column);
    }
    manager.create_index(statement).await
}

async fn drop_index(manager: &SchemaManager<'_>, name: &str) -> Result<(), DbErr> {
    manager
        .drop_index(
            Index::drop()
                .name(name)
                .table(Tasks::Table)
                .if_exists()
                .to_owned(),
        )
        .await
}

/// Adds an integer column to tasks (SQLite adds a NOT NULL column only
/// with a default).
async fn add_column(manager: &SchemaManager<'_>, column: ColumnDef) -> Result<(), DbErr> {
    manager
        .alter_table(
            Table::alter()
                .table(Tasks::Table)
                .add_column(column)
                .to_owned(),
        )
        .await
}

async fn drop_column(manager: &SchemaManager<'_>, column: Tasks) -> Result<(), DbErr> {
    manager
        .alter_table(
            Table::alter()
                .table(Tasks::Table)
                .drop_column(column)
                .to_owned(),
        )
        .await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_column(
            manager,
            ColumnDef::new(Tasks::Rank)
                .big_integer()
                .not_null()
                .default(0)
                .to_owned(),
        )
        .await?;
        let db = manager.get_connection();
        db.execute_unprepared(&number_by("rank", "position", RANK_GAP))
            .await?;
        // SQLite drops no indexed column: the indexes on position go first.
        drop_index(manager, "idx_tasks_board_order").await?;
        drop_index(manager, "idx_tasks_category").await?;
        drop_column(manager, Tasks::Position).await?;
        index(
            manager,
            "idx_tasks_category_rank",
            true,
            vec![Tasks::CategoryId, Tasks::Rank],
        )
        .await?;
        index(
            manager,
            "idx_tasks_board_order",
            false,
            vec![
                Tasks::OrganizationId,
                Tasks::CategoryId,
                Tasks::Rank,
                Tasks::Id,
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_column(
            manager,
            ColumnDef::new(Tasks::Position)
                .integer()
                .not_null()
                .default(0)
                .to_owned(),
        )
        .await?;
        let db = manager.get_connection();
        db.execute_unprepared(&number_by("position", "rank", 1))
            .await?;
        drop_index(manager, "idx_tasks_board_order").await?;
        drop_index(manager, "idx_tasks_category_rank").await?;
        drop_column(manager, Tasks::Rank).await?;
        index(
            manager,
            "idx_tasks_category",
            false,
            vec![Tasks::CategoryId, Tasks::Position],
        )
        .await?;
        index(
            manager,
            "idx_tasks_board_order",
            false,
            vec![
                Tasks::OrganizationId,
                Tasks::CategoryId,
                Tasks::Position,
                Tasks::Id,
            ],
        )
        .await
    }
}
