//! What a change sees once it holds its board's lock: the board as the
//! changes it waited for left it.

use std::time::Duration;

use chrono::Utc;
use sea_orm::{
    ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement, TransactionTrait,
};
use sea_orm_migration::MigratorTrait;

use kanban_service::boards::{CategoryKind, Organization, OrganizationRole, RankWindow};
use kanban_service::migration::Migrator;
use kanban_service::store::tasks::BoardCreation;
use kanban_service::store::{boards, tasks};

/// Both of the board's locks answer the caller's role as of the lock: the
/// shared one (creations and moves) and the exclusive one (every other
/// change). A member removed by a change that held the board's lock while
/// the lock waited for it is no member once it is held, though the
/// statement that waited began before the removal was committed. A member
/// promoted meanwhile is an admin.
#[tokio::test]
async fn the_boards_locks_read_the_role_a_change_they_waited_for_left() {
    let (_dir, db, board) = board_of_three("locks").await;
    let now = Utc::now();

    let role = |exclusive: bool, organization: i64, user: i64| {
        let db = db.clone();
        async move {
            let txn = db.begin().await.unwrap();
            let locked = match exclusive {
                true => boards::lock_organization_for(&txn, organization, user).await,
                false => boards::share_organization(&txn, organization, user).await,
            };
            txn.commit().await.unwrap();
            locked
                .unwrap()
                .map(|(organization, role)| (organization.id, role))
        }
    };
    let (admin, member) = (
        Some(OrganizationRole::Admin),
        Some(OrganizationRole::Member),
    );
    for exclusive in [false, true] {
        assert_eq!(role(exclusive, board.id, 1).await, Some((board.id, admin)));
        assert_eq!(role(exclusive, board.id, 2).await, Some((board.id, member)));
        let stranger = role(exclusive, board.id, 4).await;
        assert_eq!(stranger, Some((board.id, None)), "not a member");
        let unknown = role(exclusive, board.id + 1, 1).await;
        assert_eq!(unknown, None, "no such organization");
    }

    // SQLite serialises transactions: nothing can come between.
    if db.get_database_backend() != DbBackend::Postgres {
        return;
    }
    for exclusive in [false, true] {
        let (removed, promoted) = match exclusive {
            false => (2, 3),
            true => (3, 2),
        };
        let changer = db.begin().await.unwrap();
        boards::lock_organization(&changer, board.id)
            .await
            .unwrap()
            .unwrap();
        boards::delete_membership(&changer, board.id, removed)
            .await
            .unwrap();
        boards::set_role(&changer, board.id, promoted, OrganizationRole::Admin)
            .await
            .unwrap();
        let waiters = [
            tokio::spawn(role(exclusive, board.id, removed)),
            tokio::spawn(role(exclusive, board.id, promoted)),
        ];
        waiting_for_locks(&db, 2).await;
        changer.commit().await.unwrap();
        let [removed_role, promoted_role] = waiters;
        let removed_role = removed_role.await.unwrap();
        assert_eq!(
            removed_role,
            Some((board.id, None)),
            "removed while waiting"
        );
        let promoted_role = promoted_role.await.unwrap();
        assert_eq!(
            promoted_role,
            Some((board.id, admin)),
            "promoted while waiting"
        );
        // Put back as they were.
        let txn = db.begin().await.unwrap();
        boards::lock_organization(&txn, board.id).await.unwrap();
        boards::insert_membership(&txn, board.id, removed, OrganizationRole::Member, now)
            .await
            .unwrap();
        boards::set_role(&txn, board.id, promoted, OrganizationRole::Member)
            .await
            .unwrap();
        txn.commit().await.unwrap();
    }
}

/// Through a task (a move), the shared lock reads the task with its
/// assignees, and the caller's role, as of the lock: an assignee and a
/// member removed by a change the lock waited for are gone once it is held.
#[tokio::test]
async fn the_shared_lock_of_a_tasks_board_reads_its_assignees_as_of_the_lock() {
    let (_dir, db, board) = board_of_three("task_locks").await;
    let now = Utc::now();
    let column = boards::insert_category(&db, board.id, "To do", CategoryKind::Default, 1, now)
        .await
        .unwrap();
    let new_task = |title: &str| tasks::NewTaskRow {
        title: title.to_owned(),
        description: None,
        due_date: None,
        owner_id: 1,
        category_id: column.id,
        organization_id: board.id,
    };
    let task = tasks::insert(&db, new_task("Assigned"), 7, now)
        .await
        .unwrap()
        .at(1)
        .id;
    let bare = tasks::insert(&db, new_task("Unassigned"), 9, now)
        .await
        .unwrap()
        .at(2)
        .id;
    for user in [3, 2] {
        tasks::add_assignee(&db, task, user).await.unwrap();
    }

    let read = |task, user| {
        let db = db.clone();
        async move {
            let txn = db.begin().await.unwrap();
            let shared = boards::share_board_of_task(&txn, task, user).await.unwrap();
            txn.commit().await.unwrap();
            shared.map(|shared| {
                let seen = shared.task;
                assert_eq!(shared.organization.id, board.id);
                assert_eq!(seen.organization_id, board.id);
                (
                    seen.id,
                    seen.category_id,
                    seen.rank,
                    shared.role,
                    shared.assignees,
                )
            })
        }
    };
    let member = Some(OrganizationRole::Member);
    assert_eq!(
        read(task, 2).await,
        Some((task, column.id, 7, member, vec![2, 3]))
    );
    assert_eq!(
        read(bare, 2).await,
        Some((bare, column.id, 9, member, vec![]))
    );
    assert_eq!(
        read(task, 4).await,
        Some((task, column.id, 7, None, vec![2, 3]))
    );
    assert_eq!(read(bare + 1, 1).await, None, "no such task");

    if db.get_database_backend() != DbBackend::Postgres {
        return;
    }
    let remover = db.begin().await.unwrap();
    boards::lock_organization(&remover, board.id)
        .await
        .unwrap()
        .unwrap();
    tasks::remove_assignee(&remover, task, 3).await.unwrap();
    boards::delete_membership(&remover, board.id, 2)
        .await
        .unwrap();
    let waiters = [tokio::spawn(read(task, 2)), tokio::spawn(read(task, 1))];
    waiting_for_locks(&db, 2).await;
    remover.commit().await.unwrap();
    let [removed, admin] = waiters;
    assert_eq!(
        removed.await.unwrap(),
        Some((task, column.id, 7, None, vec![])),
        "member and assignee removed while waiting"
    );
    let admin_role = Some(OrganizationRole::Admin);
    assert_eq!(
        admin.await.unwrap(),
        Some((task, column.id, 7, admin_role, vec![]))
    );
}

/// A move reads the task again under its columns' locks, with the first
/// ranks it looks at for the task's neighbours, in one statement: the same
/// ranks, in the same order, as reading them alone.
#[tokio::test]
async fn a_task_is_read_with_a_window_of_ranks_as_ranks_alone_read_it() {
    let dir = tempfile::TempDir::new().unwrap();
    let url = shared::testing::fresh_database(dir.path(), "ranked").await;
    let db = Database::connect(&url).await.unwrap();
    Migrator::up(&db, None).await.unwrap();
    let now = Utc::now();
    let board = boards::insert_organization(&db, "Board".into(), String::new(), 1, now)
        .await
        .unwrap();
    let column = |name, position| {
        boards::insert_category(&db, board.id, name, CategoryKind::Default, position, now)
    };
    let full = column("Full", 1).await.unwrap();
    let empty = column("Empty", 2).await.unwrap();
    let mut ids = Vec::new();
    for rank in [50, 10, 40, 20, 30] {
        let row = tasks::NewTaskRow {
            title: format!("Rank {rank}"),
            description: None,
            due_date: None,
            owner_id: 1,
            category_id: full.id,
            organization_id: board.id,
        };
        ids.push(tasks::insert(&db, row, rank, now).await.unwrap().at(1).id);
    }
    let task = ids[2];
    let window = |descending, offset, limit| RankWindow {
        descending,
        offset,
        limit,
    };
    for window in [
        window(false, 0, 2),
        window(false, 1, 3),
        window(false, 4, 3),
        window(false, 5, 2),
        window(true, 0, 1),
        window(true, 0, 2),
        window(true, 1, 3),
    ] {
        let (found, ranks) = tasks::find_with_ranks(&db, task, full.id, window)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (found.id, found.category_id, found.rank),
            (task, full.id, 40)
        );
        let alone = tasks::ranks(&db, full.id, window).await.unwrap();
        assert_eq!(ranks, alone, "{window:?}");
    }
    let expected = [(false, vec![10, 20]), (true, vec![50, 40, 30])];
    for (descending, expected) in expected {
        let limit = expected.len() as u64;
        let read = tasks::find_with_ranks(&db, task, full.id, window(descending, 0, limit));
        assert_eq!(read.await.unwrap().unwrap().1, expected);
    }
    let (found, ranks) = tasks::find_with_ranks(&db, task, empty.id, window(true, 0, 2))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((found.id, ranks), (task, vec![]), "a column without tasks");
    let unknown = tasks::find_with_ranks(
        &db,
        ids.iter().max().unwrap() + 1,
        full.id,
        window(false, 0, 2),
    );
    assert!(unknown.await.unwrap().is_none(), "no such task");
}

/// A creation counts its task and ranks it last in the statement that locks
/// its column. A creator that waited for that lock ranks its task past
/// every task the lock's holder placed, though the statement began before
/// the holder committed: past a task another creator added, and past one a
/// mover placed last (a move within the column, which does not count).
#[tokio::test]
async fn a_creation_that_waited_for_its_column_ranks_past_what_the_holder_placed() {
    let (_dir, db, board) = board_of_three("creations").await;
    let now = Utc::now();
    let column = boards::insert_category(&db, board.id, "To do", CategoryKind::Default, 1, now)
        .await
        .unwrap();
    let elsewhere = boards::insert_organization(&db, "Other".into(), String::new(), 1, now)
        .await
        .unwrap();
    let row = |title: &str, organization_id| tasks::NewTaskRow {
        title: title.to_owned(),
        description: None,
        due_date: None,
        owner_id: 1,
        category_id: column.id,
        organization_id,
    };
    let create = |title: &'static str| {
        let (db, row) = (db.clone(), row(title, board.id));
        async move {
            let txn = db.begin().await.unwrap();
            let (task, count) = tasks::create_last(&txn, &row, now).await.unwrap().unwrap();
            txn.commit().await.unwrap();
            let task = task.at(i32::try_from(count).unwrap());
            (task.id, task.position)
        }
    };
    let mut ids = Vec::new();
    for (title, position) in [("First", 1), ("Second", 2), ("Third", 3)] {
        let (id, at) = create(title).await;
        assert_eq!(at, position, "{title}: the count is its position");
        ids.push(id);
    }
    let gap = kanban_service::boards::RANK_GAP;
    let first_ten = RankWindow {
        descending: false,
        offset: 0,
        limit: 10,
    };
    let column_ranks = || tasks::ranks(&db, column.id, first_ten);
    assert_eq!(column_ranks().await.unwrap(), vec![gap, 2 * gap, 3 * gap]);
    let foreign = row("Foreign", elsewhere.id);
    let foreign = tasks::create_last(&db, &foreign, now).await.unwrap();
    assert!(foreign.is_none(), "another board's column");
    let unknown = tasks::NewTaskRow {
        category_id: column.id + 1,
        ..row("Unknown", board.id)
    };
    let unknown = tasks::create_last(&db, &unknown, now).await.unwrap();
    assert!(unknown.is_none(), "no such column");

    // SQLite serialises transactions: nothing can come between.
    if db.get_database_backend() != DbBackend::Postgres {
        return;
    }
    // A mover holds the column's lock and puts the first task last, as a
    // move within the column does.
    let mover = db.begin().await.unwrap();
    boards::lock_category(&mover, column.id).await.unwrap();
    tasks::put(&mover, ids[0], column.id, 4 * gap, now)
        .await
        .unwrap()
        .unwrap();
    boards::raise_top_rank(&mover, column.id, 4 * gap)
        .await
        .unwrap();
    let waiter = tokio::spawn(create("Fourth"));
    waiting_for_locks(&db, 1).await;
    mover.commit().await.unwrap();
    let (fourth, at) = waiter.await.unwrap();
    assert_eq!(at, 4, "the fourth task of the column");
    // A creator holds the lock, another waits for it.
    let creator = db.begin().await.unwrap();
    let (fifth, count) = tasks::create_last(&creator, &row("Fifth", board.id), now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(count, 5);
    let waiter = tokio::spawn(create("Sixth"));
    waiting_for_locks(&db, 1).await;
    creator.commit().await.unwrap();
    let (sixth, at) = waiter.await.unwrap();
    assert_eq!(at, 6, "the sixth task of the column");
    assert_eq!(
        column_ranks().await.unwrap(),
        (2..=7).map(|n| n * gap).collect::<Vec<_>>(),
        "every task past the one placed last before it"
    );
    let placed_last = [ids[0], fourth, fifth.at(5).id, sixth];
    for (n, task) in (4..).zip(placed_last) {
        let rank = tasks::find(&db, task).await.unwrap().unwrap().rank;
        assert_eq!(rank, n * gap, "task {task}: after the one placed before it");
    }

    // A mover holds both columns' locks and moves a task of another column
    // in, last; a creation in one statement (the board's lock with it)
    // waits for it.
    let doing = boards::insert_category(&db, board.id, "Doing", CategoryKind::Default, 2, now)
        .await
        .unwrap();
    let elsewhere = tasks::NewTaskRow {
        category_id: doing.id,
        ..row("Moved", board.id)
    };
    let (moved, _) = tasks::create_last(&db, &elsewhere, now)
        .await
        .unwrap()
        .unwrap();
    let moved = moved.at(1).id;
    let mover = db.begin().await.unwrap();
    for category in [column.id, doing.id] {
        boards::lock_category(&mover, category).await.unwrap();
    }
    tasks::put(&mover, moved, column.id, 8 * gap, now)
        .await
        .unwrap()
        .unwrap();
    let count = boards::move_task_count(&mover, doing.id, column.id, 8 * gap);
    assert_eq!(count.await.unwrap(), 7);
    let waiter = tokio::spawn({
        let (db, row) = (db.clone(), row("Eighth", board.id));
        async move { tasks::create_on_board(&db, 1, &row, now).await.unwrap() }
    });
    waiting_for_locks(&db, 1).await;
    mover.commit().await.unwrap();
    let BoardCreation::Created(eighth, count) = waiter.await.unwrap() else {
        panic!("the creation in one statement was left undecided");
    };
    assert_eq!(count, 8, "the eighth task of the column");
    let eighth = eighth.at(8).id;
    let rank = tasks::find(&db, eighth).await.unwrap().unwrap().rank;
    assert_eq!(rank, 9 * gap, "past the task moved in last");
}

/// A creation in one statement (the board's lock, the column's and the
/// insert) decides only as of the board's lock: a member creates; a
/// stranger and an unknown board are refused; an unknown column, another
/// board's, and a role the lock waited for a change of (a member removed
/// or added meanwhile) leave it undecided, with nothing written, for the
/// transaction's way to decide.
#[tokio::test]
async fn a_creation_in_one_statement_decides_only_as_of_the_boards_lock() {
    let (_dir, db, board) = board_of_three("one_statement").await;
    let now = Utc::now();
    let column = boards::insert_category(&db, board.id, "To do", CategoryKind::Default, 1, now)
        .await
        .unwrap();
    let other = boards::insert_organization(&db, "Other".into(), String::new(), 1, now)
        .await
        .unwrap();
    let foreign = boards::insert_category(&db, other.id, "Other", CategoryKind::Default, 1, now)
        .await
        .unwrap();
    let row = |organization_id, category_id| tasks::NewTaskRow {
        title: "Task".into(),
        description: Some("Described".into()),
        due_date: Some(now),
        owner_id: 2,
        category_id,
        organization_id,
    };
    let create = |user: i64, organization: i64, category: i64| {
        let (db, row) = (db.clone(), row(organization, category));
        async move {
            match tasks::create_on_board(&db, user, &row, now).await.unwrap() {
                BoardCreation::Created(task, count) => {
                    let task = task.at(i32::try_from(count).unwrap());
                    assert_eq!(task.description.as_deref(), Some("Described"));
                    Some(Some(task.position))
                }
                BoardCreation::NotMember => Some(None),
                BoardCreation::Undecided => None,
            }
        }
    };
    let postgres = db.get_database_backend() == DbBackend::Postgres;
    if !postgres {
        // No writes in a `WITH`: always the transaction's way.
        assert!(create(2, board.id, column.id).await.is_none());
        return;
    }
    assert_eq!(create(2, board.id, column.id).await, Some(Some(1)));
    assert_eq!(create(1, board.id, column.id).await, Some(Some(2)));
    assert_eq!(
        create(4, board.id, column.id).await,
        Some(None),
        "a stranger"
    );
    let unknown = other.id + 1;
    assert_eq!(create(2, unknown, column.id).await, Some(None), "no board");
    assert_eq!(create(2, board.id, foreign.id + 1).await, None, "no column");
    assert_eq!(
        create(2, board.id, foreign.id).await,
        None,
        "another board's"
    );

    for (user, role) in [(2, None), (4, Some(OrganizationRole::Member))] {
        let changer = db.begin().await.unwrap();
        boards::lock_organization(&changer, board.id)
            .await
            .unwrap()
            .unwrap();
        match role {
            None => boards::delete_membership(&changer, board.id, user).await,
            Some(role) => boards::insert_membership(&changer, board.id, user, role, now).await,
        }
        .unwrap();
        let waiter = tokio::spawn(create(user, board.id, column.id));
        waiting_for_locks(&db, 1).await;
        changer.commit().await.unwrap();
        assert_eq!(waiter.await.unwrap(), None, "user {user}: undecided");
    }
    let count = tasks::ranks(
        &db,
        column.id,
        RankWindow {
            descending: false,
            offset: 0,
            limit: 10,
        },
    );
    assert_eq!(count.await.unwrap().len(), 2, "nothing written but the two");
    assert_eq!(create(4, board.id, column.id).await, Some(Some(3)), "added");
    assert_eq!(create(2, board.id, column.id).await, Some(None), "removed");
}

/// A fresh migrated database (kept while the directory lives) with one
/// board: user 1 its admin, users 2 and 3 its members.
async fn board_of_three(name: &str) -> (tempfile::TempDir, DatabaseConnection, Organization) {
    let dir = tempfile::TempDir::new().unwrap();
    let url = shared::testing::fresh_database(dir.path(), name).await;
    let db = Database::connect(&url).await.unwrap();
    Migrator::up(&db, None).await.unwrap();
    let now = Utc::now();
    let board = boards::insert_organization(&db, "Board".into(), String::new(), 1, now)
        .await
        .unwrap();
    for (user, role) in [
        (1, OrganizationRole::Admin),
        (2, OrganizationRole::Member),
        (3, OrganizationRole::Member),
    ] {
        boards::insert_membership(&db, board.id, user, role, now)
            .await
            .unwrap();
    }
    (dir, db, board)
}

/// Returns once `sessions` sessions of the database wait for a lock
/// (PostgreSQL).
async fn waiting_for_locks(db: &DatabaseConnection, sessions: i64) {
    let waiting = Statement::from_string(
        DbBackend::Postgres,
        "SELECT COUNT(*) AS n FROM pg_stat_activity \
         WHERE wait_event_type = 'Lock' AND datname = current_database()",
    );
    for _ in 0..500 {
        let row = db.query_one_raw(waiting.clone()).await.unwrap().unwrap();
        if row.try_get::<i64>("", "n").unwrap() >= sessions {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{sessions} sessions did not wait for a lock within 5 s");
}
