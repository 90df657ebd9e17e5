//! What kanban records of the account manager's users, from the tokens it
//! sees: newer information wins, whatever order it arrives in.

use chrono::{DateTime, Utc};
use sea_orm::Database;
use sea_orm_migration::MigratorTrait;

use kanban_service::migration::Migrator;
use kanban_service::store::users;

fn at(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap()
}

/// A token issued later that says what is stored already still makes the
/// copy as new as itself, so the claims of a token issued before it (an
/// older name, presented at another replica after) do not overwrite it;
/// newer claims still do.
#[tokio::test]
async fn older_claims_never_overwrite_what_newer_ones_confirmed() {
    let dir = tempfile::TempDir::new().unwrap();
    let url = shared::testing::fresh_database(dir.path(), "people").await;
    let db = Database::connect(&url).await.unwrap();
    Migrator::up(&db, None).await.unwrap();
    let email = || Some("ann@mail.com".to_owned());
    let name = |db, id| async move { users::by_id(db, id).await.unwrap().unwrap().name };

    users::remember(&db, 7, email(), "Ann".into(), at(0))
        .await
        .unwrap();
    users::remember(&db, 7, email(), "Ann".into(), at(20))
        .await
        .unwrap();
    users::remember(&db, 7, email(), "Old name".into(), at(10))
        .await
        .unwrap();
    assert_eq!(name(&db, 7).await, "Ann", "claims older than the copy");

    users::remember(&db, 7, email(), "Anna".into(), at(30))
        .await
        .unwrap();
    assert_eq!(name(&db, 7).await, "Anna", "newer claims");
    users::remember(&db, 7, email(), "Ann".into(), at(30))
        .await
        .unwrap();
    assert_eq!(name(&db, 7).await, "Anna", "claims of the same time");
}
