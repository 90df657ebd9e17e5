//! The owner (the creator, until a transfer) is protected (issue 12,
//! finding 5): no other admin demotes or removes them or deletes the
//! organization, and ownership moves only by the owner's transfer.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{Stack, User, expect, expect_msg, id, spawn_stack};

const PROTECTED: &str = "The owner cannot be demoted or removed; the owner may transfer ownership to another member first";
const NOT_OWNER: &str = "Authorization failed, you are not owner of this organization";
const HIDDEN: &str = "Organization not found or you are not authorized to see this organization";

/// The members' (id, role), oldest first.
async fn roles(stack: &Stack, org: i64, asker: &User) -> Vec<(i64, String)> {
    let path = format!("/organizations/{org}/members");
    let listed = expect(stack.get(&path, asker).await, StatusCode::OK).await;
    listed
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (id(m), m["role"].as_str().unwrap().to_owned()))
        .collect()
}

/// The attack: an ordinary admin demotes the creator, removes them, or
/// deletes the organization. All three are refused and the owner keeps
/// everything; the owner cannot step down or leave by mistake either.
#[tokio::test]
async fn another_admin_neither_demotes_nor_removes_the_owner() {
    let stack = spawn_stack().await;
    let olga = stack.user("Olga", "Owner", "olga@mail.com").await;
    let ada = stack.user("Ada", "Admin", "ada@mail.com").await;
    let org = id(&stack.organization(&olga, "Board").await);
    stack.add_member(&olga, org, &ada, "admin").await;
    let owner_path = format!("/organizations/{org}/members/{}", olga.id);

    let demote = stack
        .patch(&owner_path, &ada, json!({"role": "member"}))
        .await;
    expect_msg(demote, StatusCode::BAD_REQUEST, PROTECTED).await;
    expect_msg(
        stack.delete(&owner_path, &ada).await,
        StatusCode::BAD_REQUEST,
        PROTECTED,
    )
    .await;
    expect_msg(
        stack.delete(&format!("/organizations/{org}"), &ada).await,
        StatusCode::UNAUTHORIZED,
        NOT_OWNER,
    )
    .await;
    // Nor does the admin make themselves the owner.
    let grab = stack
        .post(
            &format!("/organizations/{org}/transfer"),
            &ada,
            json!({"UserId": ada.id}),
        )
        .await;
    expect_msg(grab, StatusCode::UNAUTHORIZED, NOT_OWNER).await;

    // The owner cannot step down or leave without a transfer (there is
    // another admin, so this is not the last-admin rule).
    let step_down = stack
        .patch(&owner_path, &olga, json!({"role": "member"}))
        .await;
    expect_msg(step_down, StatusCode::BAD_REQUEST, PROTECTED).await;
    expect_msg(
        stack.delete(&owner_path, &olga).await,
        StatusCode::BAD_REQUEST,
        PROTECTED,
    )
    .await;
    // Confirming the owner's admin role changes nothing and is fine.
    expect(
        stack
            .patch(&owner_path, &ada, json!({"role": "admin"}))
            .await,
        StatusCode::OK,
    )
    .await;

    assert_eq!(
        roles(&stack, org, &olga).await,
        [(olga.id, "Owner".into()), (ada.id, "Admin".into())]
    );
    let organization = expect(
        stack.get(&format!("/organizations/{org}"), &olga).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(organization["UserId"].as_i64(), Some(olga.id));
    // Other admins still manage everyone else.
    let max = stack.user("Max", "Member", "max@mail.com").await;
    stack.add_member(&ada, org, &max, "member").await;
    let max_path = format!("/organizations/{org}/members/{}", max.id);
    expect(
        stack.patch(&max_path, &ada, json!({"role": "admin"})).await,
        StatusCode::OK,
    )
    .await;
    expect(stack.delete(&max_path, &ada).await, StatusCode::OK).await;
}

/// The owner hands ownership to a member, who becomes the owner (and an
/// admin); the old owner is then an admin like any other.
#[tokio::test]
async fn ownership_moves_only_by_the_owners_transfer() {
    let stack = spawn_stack().await;
    let olga = stack.user("Olga", "Owner", "olga@mail.com").await;
    let max = stack.user("Max", "Member", "max@mail.com").await;
    let otto = stack.user("Otto", "Outsider", "otto@mail.com").await;
    let org = id(&stack.organization(&olga, "Board").await);
    stack.add_member(&olga, org, &max, "member").await;
    let transfer = format!("/organizations/{org}/transfer");

    // Refusals: outsiders see nothing; a member is not the owner; the
    // recipient must be a member; the recipient is required.
    expect_msg(
        stack
            .post(&transfer, &otto, json!({"UserId": otto.id}))
            .await,
        StatusCode::UNAUTHORIZED,
        HIDDEN,
    )
    .await;
    expect_msg(
        stack.post(&transfer, &max, json!({"UserId": max.id})).await,
        StatusCode::UNAUTHORIZED,
        NOT_OWNER,
    )
    .await;
    expect_msg(
        stack
            .post(&transfer, &olga, json!({"UserId": otto.id}))
            .await,
        StatusCode::NOT_FOUND,
        "Member not found",
    )
    .await;
    expect_msg(
        stack.post(&transfer, &olga, json!({})).await,
        StatusCode::BAD_REQUEST,
        "UserId is required",
    )
    .await;
    assert_eq!(
        roles(&stack, org, &olga).await,
        [(olga.id, "Owner".into()), (max.id, "Member".into())]
    );

    expect_msg(
        stack
            .post(&transfer, &olga, json!({"UserId": max.id}))
            .await,
        StatusCode::OK,
        "Ownership has been transferred",
    )
    .await;
    assert_eq!(
        roles(&stack, org, &max).await,
        [(olga.id, "Admin".into()), (max.id, "Owner".into())]
    );
    let organization = expect(
        stack.get(&format!("/organizations/{org}"), &max).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(organization["UserId"].as_i64(), Some(max.id));

    // Olga is now an ordinary admin: she no longer transfers or deletes,
    // nor touches the new owner; the new owner may demote or remove her.
    expect_msg(
        stack
            .post(&transfer, &olga, json!({"UserId": olga.id}))
            .await,
        StatusCode::UNAUTHORIZED,
        NOT_OWNER,
    )
    .await;
    expect_msg(
        stack
            .patch(
                &format!("/organizations/{org}/members/{}", max.id),
                &olga,
                json!({"role": "member"}),
            )
            .await,
        StatusCode::BAD_REQUEST,
        PROTECTED,
    )
    .await;
    let olga_path = format!("/organizations/{org}/members/{}", olga.id);
    expect(
        stack
            .patch(&olga_path, &max, json!({"role": "member"}))
            .await,
        StatusCode::OK,
    )
    .await;
    // Olga, a member now, may leave; then the owner deletes the board.
    expect(
        stack
            .send(Method::DELETE, &olga_path, Some(&olga.token), None)
            .await,
        StatusCode::OK,
    )
    .await;
    expect(
        stack.delete(&format!("/organizations/{org}"), &max).await,
        StatusCode::OK,
    )
    .await;
}

/// Boards from before the owner was protected: an owner another admin
/// demoted is an admin again, and a board whose owner was removed is owned
/// by its longest-standing admin; intact boards are left as they were.
#[tokio::test]
async fn the_migration_repairs_owners_demoted_or_removed_before() {
    use kanban_service::migration::Migrator;
    use sea_orm::{ConnectionTrait, Database, Statement};
    use sea_orm_migration::MigratorTrait;

    let dir = tempfile::TempDir::new().unwrap();
    let url = shared::testing::fresh_database(dir.path(), "legacy").await;
    let db = Database::connect(&url).await.unwrap();
    Migrator::up(&db, Some(1)).await.unwrap();
    let at = |day: u32| format!("'2026-01-{day:02}T00:00:00Z'");
    let mut legacy = Vec::new();
    // (organization, owner): 1 had its owner demoted, 2 its owner removed, 3 is intact.
    for (org, owner) in [(1, 10), (2, 20), (3, 30)] {
        legacy.push(format!(
            "INSERT INTO organizations (id, name, description, user_id, created_at, updated_at) \
             VALUES ({org}, 'Board {org}', '', {owner}, {}, {})",
            at(1),
            at(1)
        ));
    }
    for (org, user, role, day) in [
        (1, 10, "member", 1),
        (1, 11, "admin", 2),
        (2, 21, "admin", 5),
        (2, 22, "admin", 3),
        (2, 23, "member", 2),
        (3, 30, "admin", 1),
        (3, 31, "member", 2),
    ] {
        legacy.push(format!(
            "INSERT INTO memberships (organization_id, user_id, role, created_at) \
             VALUES ({org}, {user}, '{role}', {})",
            at(day)
        ));
    }
    for statement in legacy {
        db.execute_unprepared(&statement).await.unwrap();
    }

    Migrator::up(&db, None).await.unwrap();

    let backend = db.get_database_backend();
    let rows = db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT id, user_id FROM organizations ORDER BY id",
        ))
        .await
        .unwrap();
    let owners: Vec<(i64, i64)> = rows
        .iter()
        .map(|r| {
            (
                r.try_get("", "id").unwrap(),
                r.try_get("", "user_id").unwrap(),
            )
        })
        .collect();
    assert_eq!(owners, [(1, 10), (2, 22), (3, 30)]);
    let rows = db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT organization_id, user_id, role FROM memberships \
             ORDER BY organization_id, user_id",
        ))
        .await
        .unwrap();
    let roles: Vec<(i64, i64, String)> = rows
        .iter()
        .map(|r| {
            (
                r.try_get("", "organization_id").unwrap(),
                r.try_get("", "user_id").unwrap(),
                r.try_get("", "role").unwrap(),
            )
        })
        .collect();
    let expected: Vec<(i64, i64, String)> = [
        (1, 10, "admin"),
        (1, 11, "admin"),
        (2, 21, "admin"),
        (2, 22, "admin"),
        (2, 23, "member"),
        (3, 30, "admin"),
        (3, 31, "member"),
    ]
    .into_iter()
    .map(|(o, u, r)| (o, u, r.to_owned()))
    .collect();
    assert_eq!(roles, expected);
}
