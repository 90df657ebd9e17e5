//! Schema migrations, run at every start (idempotent) on SQLite and PostgreSQL.

use sea_orm_migration::prelude::*;

mod m20261122_000001_boards;
mod m20261124_000001_invitations;
mod m20261124_000002_owner_stays_admin;
mod m20261205_000001_tasks_board_order;
mod m20261205_000002_task_ranks;
mod m20261205_000003_category_task_counts;
mod m20261206_000001_board_versions;
mod m20261206_000002_task_placements;
mod m20261206_000003_category_top_ranks;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_boards::Migration),
            Box::new(m20261124_000001_invitations::Migration),
            Box::new(m20261124_000002_owner_stays_admin::Migration),
            Box::new(m20261205_000001_tasks_board_order::Migration),
            Box::new(m20261205_000002_task_ranks::Migration),
            Box::new(m20261205_000003_category_task_counts::Migration),
            Box::new(m20261206_000001_board_versions::Migration),
            Box::new(m20261206_000002_task_placements::Migration),
            Box::new(m20261206_000003_category_top_ranks::Migration),
        ]
    }
}
