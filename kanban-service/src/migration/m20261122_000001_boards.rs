use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Email,
    Name,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Organizations {
    Table,
    Id,
    Name,
    Description,
    UserId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Memberships {
    Table,
    OrganizationId,
    UserId,
    Role,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Categories {
    Table,
    Id,
    Name,
    Kind,
    OrganizationId,
    Position,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Tags {
    Table,
    Id,
    Name,
    Color,
    OrganizationId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Tasks {
    Table,
    Id,
    Title,
    Description,
    DueDate,
    Position,
    OwnerId,
    CategoryId,
    OrganizationId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum TaskAssignees {
    Table,
    TaskId,
    UserId,
}

#[derive(DeriveIden)]
enum TaskTags {
    Table,
    TaskId,
    TagId,
}

fn id(name: impl IntoIden) -> ColumnDef {
    ColumnDef::new(name)
        .big_integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .to_owned()
}

fn reference(name: impl IntoIden) -> ColumnDef {
    ColumnDef::new(name).big_integer().not_null().to_owned()
}

fn timestamp(name: impl IntoIden) -> ColumnDef {
    ColumnDef::new(name)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

fn text(name: impl IntoIden) -> ColumnDef {
    ColumnDef::new(name).string().not_null().to_owned()
}

fn cascade(
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

async fn index(
    manager: &SchemaManager<'_>,
    name: &str,
    table: impl IntoIden,
    columns: Vec<DynIden>,
) -> Result<(), DbErr> {
    let mut statement = Index::create()
        .name(name)
        .table(table)
        .if_not_exists()
        .to_owned();
    for column in columns {
        statement.col(column);
    }
    manager.create_index(statement).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(Users::Id)
                            .big_integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Users::Email).string().null())
                    .col(text(Users::Name))
                    .col(timestamp(Users::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_users_email",
            Users::Table,
            vec![Users::Email.into_iden()],
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(Organizations::Table)
                    .if_not_exists()
                    .col(id(Organizations::Id))
                    .col(text(Organizations::Name))
                    .col(text(Organizations::Description))
                    .col(reference(Organizations::UserId))
                    .col(timestamp(Organizations::CreatedAt))
                    .col(timestamp(Organizations::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Memberships::Table)
                    .if_not_exists()
                    .col(reference(Memberships::OrganizationId))
                    .col(reference(Memberships::UserId))
                    .col(text(Memberships::Role))
                    .col(timestamp(Memberships::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(Memberships::OrganizationId)
                            .col(Memberships::UserId),
                    )
                    .foreign_key(&mut cascade(
                        (Memberships::Table, Memberships::OrganizationId),
                        (Organizations::Table, Organizations::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_memberships_user",
            Memberships::Table,
            vec![Memberships::UserId.into_iden()],
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(Categories::Table)
                    .if_not_exists()
                    .col(id(Categories::Id))
                    .col(text(Categories::Name))
                    .col(text(Categories::Kind))
                    .col(reference(Categories::OrganizationId))
                    .col(ColumnDef::new(Categories::Position).integer().not_null())
                    .col(timestamp(Categories::CreatedAt))
                    .col(timestamp(Categories::UpdatedAt))
                    .foreign_key(&mut cascade(
                        (Categories::Table, Categories::OrganizationId),
                        (Organizations::Table, Organizations::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_categories_organization",
            Categories::Table,
            vec![Categories::OrganizationId.into_iden()],
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(Tags::Table)
                    .if_not_exists()
                    .col(id(Tags::Id))
                    .col(text(Tags::Name))
                    .col(text(Tags::Color))
                    .col(reference(Tags::OrganizationId))
                    .col(timestamp(Tags::CreatedAt))
                    .col(timestamp(Tags::UpdatedAt))
                    .foreign_key(&mut cascade(
                        (Tags::Table, Tags::OrganizationId),
                        (Organizations::Table, Organizations::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_tags_organization",
            Tags::Table,
            vec![Tags::OrganizationId.into_iden()],
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(Tasks::Table)
                    .if_not_exists()
                    .col(id(Tasks::Id))
                    .col(text(Tasks::Title))
                    .col(ColumnDef::new(Tasks::Description).text().null())
                    .col(
                        ColumnDef::new(Tasks::DueDate)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(ColumnDef::new(Tasks::Position).integer().not_null())
                    .col(reference(Tasks::OwnerId))
                    .col(reference(Tasks::CategoryId))
                    .col(reference(Tasks::OrganizationId))
                    .col(timestamp(Tasks::CreatedAt))
                    .col(timestamp(Tasks::UpdatedAt))
                    .foreign_key(&mut cascade(
                        (Tasks::Table, Tasks::CategoryId),
                        (Categories::Table, Categories::Id),
                    ))
                    .foreign_key(&mut cascade(
                        (Tasks::Table, Tasks::OrganizationId),
                        (Organizations::Table, Organizations::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_tasks_category",
            Tasks::Table,
            vec![Tasks::CategoryId.into_iden(), Tasks::Position.into_iden()],
        )
        .await?;
        index(
            manager,
            "idx_tasks_organization",
            Tasks::Table,
            vec![Tasks::OrganizationId.into_iden()],
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(TaskAssignees::Table)
                    .if_not_exists()
                    .col(reference(TaskAssignees::TaskId))
                    .col(reference(TaskAssignees::UserId))
                    .primary_key(
                        Index::create()
                            .col(TaskAssignees::TaskId)
                            .col(TaskAssignees::UserId),
                    )
                    .foreign_key(&mut cascade(
                        (TaskAssignees::Table, TaskAssignees::TaskId),
                        (Tasks::Table, Tasks::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_task_assignees_user",
            TaskAssignees::Table,
            vec![TaskAssignees::UserId.into_iden()],
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(TaskTags::Table)
                    .if_not_exists()
                    .col(reference(TaskTags::TaskId))
                    .col(reference(TaskTags::TagId))
                    .primary_key(Index::create().col(TaskTags::TaskId).col(TaskTags::TagId))
                    .foreign_key(&mut cascade(
                        (TaskTags::Table, TaskTags::TaskId),
                        (Tasks::Table, Tasks::Id),
                    ))
                    .foreign_key(&mut cascade(
                        (TaskTags::Table, TaskTags::TagId),
                        (Tags::Table, Tags::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_task_tags_tag",
            TaskTags::Table,
            vec![TaskTags::TagId.into_iden()],
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            TaskTags::Table.into_iden(),
            TaskAssignees::Table.into_iden(),
            Tasks::Table.into_iden(),
            Tags::Table.into_iden(),
            Categories::Table.into_iden(),
            Memberships::Table.into_iden(),
            Organizations::Table.into_iden(),
            Users::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
