//! The owner (`organizations.user_id`) is an admin member from now on, and
//! only the owner's transfer changes that. Before, another admin could
//! demote or remove the creator; this repairs what that left: an owner who
//! is still a member is an admin again, and an organization whose owner is
//! gone is owned by its longest-standing admin.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const OWNERS_ARE_ADMINS: &str = "\
UPDATE memberships SET role = 'admin' \
WHERE role <> 'admin' AND EXISTS (\
  SELECT 1 FROM organizations o \
  WHERE o.id = memberships.organization_id AND o.user_id = memberships.user_id)";

const ORPHANS_GET_AN_OWNER: &str = "\
UPDATE organizations SET user_id = (\
  SELECT m.user_id FROM memberships m \
  WHERE m.organization_id = organizations.id AND m.role = 'admin' \
  ORDER BY m.created_at, m.user_id LIMIT 1) \
WHERE NOT EXISTS (\
  SELECT 1 FROM memberships m \
  WHERE m.organization_id = organizations.id AND m.user_id = organizations.user_id) \
AND EXISTS (\
  SELECT 1 FROM memberships m \
  WHERE m.organization_id = organizations.id AND m.role = 'admin')";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared(OWNERS_ARE_ADMINS).await?;
        db.execute_unprepared(ORPHANS_GET_AN_OWNER).await?;
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        // A repair of data: nothing to undo.
        Ok(())
    }
}
