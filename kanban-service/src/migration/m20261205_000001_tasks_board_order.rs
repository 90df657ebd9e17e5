//! Tasks are listed in board order (category, position, id) within an
//! organization: an index in that order lets a page of an organization's
//! cards be found by walking the index to its offset, instead of reading
//! and sorting every card of the board. It starts with the organization,
//! so it also serves what `idx_tasks_organization` served (which goes:
//! one index fewer to keep up on every write).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tasks {
    Table,
    OrganizationId,
    CategoryId,
    Position,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("idx_tasks_board_order")
                    .table(Tasks::Table)
                    .if_not_exists()
                    .col(Tasks::OrganizationId)
                    .col(Tasks::CategoryId)
                    .col(Tasks::Position)
                    .col(Tasks::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_tasks_organization")
                    .table(Tasks::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("idx_tasks_organization")
                    .table(Tasks::Table)
                    .if_not_exists()
                    .col(Tasks::OrganizationId)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_tasks_board_order")
                    .table(Tasks::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}
