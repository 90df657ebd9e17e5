//! The revocation feed over Redis Sentinel and Redis Cluster: real
//! `redis-server` processes of each test's own (a master, its replica and
//! sentinels; three cluster masters), started whatever `TEST_REDIS_URL`
//! says, the account manager publishing and kanban following through them.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use shared::testing::{RedisCluster, RedisSentinels, feed_entries_at};

use crate::helpers::{Stack, spawn_stack_with};
use crate::revocation::{every_cause_reaches_kanban, refused_everywhere_within};

#[tokio::test]
async fn every_revocation_cause_reaches_kanban_over_redis_sentinel() {
    let sentinels = RedisSentinels::start(3).await;
    let stack = spawn_stack_with(Some(sentinels.url.clone())).await;
    every_cause_reaches_kanban(&stack).await;
    // Everything went to the master the sentinels name.
    assert!(feed_entries_at(sentinels.master_port().await).await >= 4);
}

#[tokio::test]
async fn every_revocation_cause_reaches_kanban_over_redis_cluster() {
    let cluster = RedisCluster::start().await;
    let stack = spawn_stack_with(Some(cluster.url.clone())).await;
    every_cause_reaches_kanban(&stack).await;
    // The feed's keys (stream, generation, published) share one node.
    let mut holding = Vec::new();
    for port in &cluster.ports {
        if feed_entries_at(*port).await > 0 {
            holding.push(*port);
        }
    }
    assert_eq!(holding.len(), 1, "one node holds the feed: {holding:?}");
}

async fn logout(stack: &Stack, token: &str) {
    let answer = stack.auth_post("/api/v1/auth/logout", token).await;
    assert_eq!(answer.status(), StatusCode::NO_CONTENT);
}

/// `SENTINEL FAILOVER` while both services run: the account manager's
/// writes and kanban's reads move to the new master (the old one still
/// runs, as a master, until the sentinels demote it), then survive the old
/// master's death.
#[tokio::test]
async fn revocations_keep_flowing_through_a_sentinel_failover() {
    let mut sentinels = RedisSentinels::start(1).await;
    let stack = spawn_stack_with(Some(sentinels.url.clone())).await;
    let before = stack.user("Ann", "Before", "ann@mail.com").await;
    let kept = stack.user("Kim", "Kept", "kim@mail.com").await;
    logout(&stack, &before.token).await;
    refused_everywhere_within(&stack, &before.token, Duration::from_secs(1), "before").await;

    let old = sentinels.master_port().await;
    let started = Instant::now();
    let new = sentinels.failover().await;
    assert_ne!(old, new);
    let failover = started.elapsed();
    // The clients ask the sentinels every half second; the feed's readers
    // notice the new master when their blocking read returns, and reload.
    tokio::time::sleep(
        shared::revocation::redis::BLOCK
            + shared::revocation::topology::WATCH_EVERY
            + Duration::from_millis(300),
    )
    .await;
    // The short error window of a failover (the revocation feed's readers
    // reconnect and reload; until then a token cannot be checked and the
    // services answer 503) ends: both report ready again. On a loaded
    // machine it can outlast the sleep above.
    for url in [&stack.auth_url, &stack.kanban_url] {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let ready = stack
                .client
                .get(format!("{url}/readyz"))
                .send()
                .await
                .is_ok_and(|answer| answer.status() == StatusCode::OK);
            if ready {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{url} not ready after the failover"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let on_old = feed_entries_at(old).await;
    let on_new = feed_entries_at(new).await;
    let after = stack.user("Bea", "After", "bea@mail.com").await;
    logout(&stack, &after.token).await;
    refused_everywhere_within(&stack, &after.token, Duration::from_secs(3), "after").await;
    // Logout revokes the token and its session: two facts.
    assert_eq!(
        feed_entries_at(new).await,
        on_new + 2,
        "written to the new master"
    );
    assert_eq!(
        feed_entries_at(old).await,
        on_old,
        "nothing written to the old one"
    );

    // The old master dies: nothing depends on it.
    sentinels.kill(old);
    let last = stack.user("Cid", "Last", "cid@mail.com").await;
    logout(&stack, &last.token).await;
    refused_everywhere_within(
        &stack,
        &last.token,
        Duration::from_secs(3),
        "old master gone",
    )
    .await;
    for (user, status) in [(&before, StatusCode::UNAUTHORIZED), (&kept, StatusCode::OK)] {
        assert_eq!(
            stack.user_status_at(&stack.kanban_url, &user.token).await,
            status,
            "{}",
            user.email
        );
    }
    assert!(
        failover < Duration::from_secs(15),
        "failover took {failover:?}"
    );
}
