//! Seeds the board over HTTP: users, organizations with members and tags,
//! tasks with a tag and an assignee each.

use std::future::Future;
use std::time::Instant;

use anyhow::{Context, bail};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::PASSWORD;
use crate::options::Scale;

/// A seeded user.
#[derive(Clone)]
pub(crate) struct User {
    pub(crate) email: String,
    pub(crate) token: String,
    pub(crate) refresh_token: String,
}

/// A seeded organization.
#[derive(Clone)]
pub(crate) struct Board {
    pub(crate) id: i64,
    pub(crate) owner: usize,
    pub(crate) categories: Vec<i64>,
    /// Tasks owned by the owner, by category index.
    pub(crate) tasks: Vec<Vec<i64>>,
}

pub(crate) struct World {
    pub(crate) client: Client,
    pub(crate) auth: String,
    pub(crate) kanban: String,
    pub(crate) users: Vec<User>,
    pub(crate) boards: Vec<Board>,
    /// An organization of exactly `Scale::organization_cards` cards, each
    /// with a tag and an assignee: the one whose whole task list the
    /// "list tasks of an organization" scenario reads.
    pub(crate) full_board: Board,
}

/// Runs `jobs` with at most `parallel` at once; fails on the first error.
pub(crate) async fn in_parallel<T, Fut>(parallel: usize, jobs: Vec<Fut>) -> anyhow::Result<Vec<T>>
where
    Fut: Future<Output = anyhow::Result<T>>,
{
    use futures::StreamExt;
    let results: Vec<anyhow::Result<T>> = futures::stream::iter(jobs)
        .buffered(parallel)
        .collect()
        .await;
    results.into_iter().collect()
}

pub(crate) async fn post_json(
    client: &Client,
    url: String,
    token: Option<&str>,
    body: Value,
    expected: StatusCode,
) -> anyhow::Result<Value> {
    let mut request = client.post(&url).json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await?;
    let status = response.status();
    let text = response.text().await?;
    if status != expected {
        bail!("POST {url}: {status} {text}");
    }
    Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// The `m`-th member of organization `o`: never an organization's owner
/// (the first `organizations` users own one board each).
pub(crate) fn member_of(scale: Scale, o: usize, m: usize) -> usize {
    let others = (scale.users - scale.organizations).max(1);
    scale.organizations + (o * scale.members_per_organization + m) % others
}

pub(crate) async fn seed(
    client: &Client,
    auth: &str,
    kanban: &str,
    scale: Scale,
) -> anyhow::Result<World> {
    let started = Instant::now();
    let registrations = (0..scale.users)
        .map(|i| {
            let email = format!("bench{i}@example.com");
            let body = json!({"email": email, "password": PASSWORD, "password2": PASSWORD, "firstName": "Bench", "lastName": format!("User{i}")});
            let request = post_json(client, format!("{auth}/api/v1/auth/register/email"), None, body, StatusCode::CREATED);
            async move {
                let answer = request.await?;
                Ok(User {
                    email,
                    token: answer["token"].as_str().context("token")?.to_owned(),
                    refresh_token: answer["refreshToken"].as_str().context("refreshToken")?.to_owned(),
                })
            }
        })
        .collect();
    let users: Vec<User> = in_parallel(8, registrations).await?;

    let mut boards = Vec::new();
    for (o, owner) in users.iter().enumerate().take(scale.organizations) {
        let body = json!({"name": format!("Board {o}"), "description": "benchmark board"});
        let created = post_json(
            client,
            format!("{kanban}/organizations"),
            Some(&owner.token),
            body,
            StatusCode::CREATED,
        )
        .await?;
        let categories = created["Categories"]
            .as_array()
            .context("Categories")?
            .iter()
            .filter_map(|c| c["id"].as_i64())
            .collect::<Vec<_>>();
        boards.push(Board {
            id: created["id"].as_i64().context("id")?,
            owner: o,
            tasks: vec![vec![]; categories.len()],
            categories,
        });
    }

    let mut jobs = Vec::new();
    for (o, board) in boards.iter().enumerate() {
        for m in 0..scale.members_per_organization {
            let member = member_of(scale, o, m);
            let body = json!({"UserEmail": users[member].email});
            jobs.push(post_json(
                client,
                format!("{kanban}/organizations/{}/members", board.id),
                Some(&users[board.owner].token),
                body,
                StatusCode::CREATED,
            ));
        }
        for t in 0..5 {
            let body =
                json!({"name": format!("Tag {t}"), "color": "#3366FF", "OrganizationId": board.id});
            jobs.push(post_json(
                client,
                format!("{kanban}/tags"),
                Some(&users[board.owner].token),
                body,
                StatusCode::CREATED,
            ));
        }
    }
    in_parallel(8, jobs).await?;
    // Adding a member invites them; each invitee accepts.
    let mut invitees: Vec<usize> = (0..boards.len())
        .flat_map(|o| (0..scale.members_per_organization).map(move |m| member_of(scale, o, m)))
        .collect();
    invitees.sort_unstable();
    invitees.dedup();
    let acceptances = invitees
        .into_iter()
        .map(|member| {
            let token = users[member].token.clone();
            async move {
                let pending: Value = client
                    .get(format!("{kanban}/invitations"))
                    .bearer_auth(&token)
                    .send()
                    .await?
                    .json()
                    .await?;
                for invitation in pending.as_array().context("invitations")? {
                    let id = invitation["id"].as_i64().context("invitation id")?;
                    post_json(
                        client,
                        format!("{kanban}/invitations/{id}/accept"),
                        Some(&token),
                        json!({}),
                        StatusCode::OK,
                    )
                    .await?;
                }
                Ok(())
            }
        })
        .collect();
    in_parallel(8, acceptances).await?;
    let mut tags = Vec::new();
    for board in &boards {
        let list: Value = client
            .get(format!("{kanban}/tags?OrganizationId={}", board.id))
            .bearer_auth(&users[board.owner].token)
            .send()
            .await?
            .json()
            .await?;
        tags.push(
            list.as_array()
                .context("tags")?
                .iter()
                .filter_map(|t| t["id"].as_i64())
                .collect::<Vec<_>>(),
        );
    }

    let per_board = scale.tasks / scale.organizations.max(1);
    let mut creations = Vec::new();
    for (o, board) in boards.iter().enumerate() {
        for t in 0..per_board {
            let category = t % board.categories.len();
            let body = json!({"title": format!("Task {t}"), "description": "seeded", "OrganizationId": board.id, "CategoryId": board.categories[category]});
            let request = post_json(
                client,
                format!("{kanban}/tasks"),
                Some(&users[board.owner].token),
                body,
                StatusCode::CREATED,
            );
            creations.push(async move {
                Ok((
                    o,
                    category,
                    request.await?["id"].as_i64().context("task id")?,
                ))
            });
        }
    }
    let created: Vec<(usize, usize, i64)> = in_parallel(16, creations).await?;
    let mut links = Vec::new();
    for (n, (o, category, task)) in created.iter().enumerate() {
        boards[*o].tasks[*category].push(*task);
        let owner = &users[boards[*o].owner].token;
        let tag = tags[*o][n % tags[*o].len()];
        links.push(post_json(
            client,
            format!("{kanban}/tasks/{task}/addTag"),
            Some(owner),
            json!({"TagId": tag}),
            StatusCode::CREATED,
        ));
        let member = member_of(scale, *o, n % scale.members_per_organization);
        let body = json!({"UserEmail": users[member].email});
        links.push(post_json(
            client,
            format!("{kanban}/tasks/{task}/assignee"),
            Some(owner),
            body,
            StatusCode::CREATED,
        ));
    }
    in_parallel(16, links).await?;
    let members: Vec<usize> = (0..scale.members_per_organization.min(5))
        .map(|m| member_of(scale, 0, m))
        .collect();
    let full_board = seed_board(
        client,
        kanban,
        &users,
        0,
        &members,
        scale.organization_cards,
    )
    .await?;
    eprintln!(
        "seeded {} users, {} organizations, {} tasks (with tags and assignees) and a board of {} cards in {:.1} s",
        users.len(),
        boards.len(),
        created.len(),
        scale.organization_cards,
        started.elapsed().as_secs_f64()
    );
    Ok(World {
        client: client.clone(),
        auth: auth.to_owned(),
        kanban: kanban.to_owned(),
        users,
        boards,
        full_board,
    })
}

/// Seeds one more organization of `users[owner]`, with `members` (who
/// accept their invitations), five tags and `cards` tasks spread over its
/// categories, each with a tag and an assignee.
pub(crate) async fn seed_board(
    client: &Client,
    kanban: &str,
    users: &[User],
    owner: usize,
    members: &[usize],
    cards: usize,
) -> anyhow::Result<Board> {
    let token = users[owner].token.as_str();
    let body = json!({"name": format!("Board of {cards} cards"), "description": "benchmark board"});
    let created = post_json(
        client,
        format!("{kanban}/organizations"),
        Some(token),
        body,
        StatusCode::CREATED,
    )
    .await?;
    let id = created["id"].as_i64().context("id")?;
    let categories: Vec<i64> = created["Categories"]
        .as_array()
        .context("Categories")?
        .iter()
        .filter_map(|c| c["id"].as_i64())
        .collect();
    for &member in members {
        let body = json!({"UserEmail": users[member].email});
        let path = format!("{kanban}/organizations/{id}/members");
        post_json(client, path, Some(token), body, StatusCode::CREATED).await?;
        let pending: Value = client
            .get(format!("{kanban}/invitations"))
            .bearer_auth(&users[member].token)
            .send()
            .await?
            .json()
            .await?;
        let invitation = pending
            .as_array()
            .context("invitations")?
            .iter()
            .find(|i| i["OrganizationId"].as_i64() == Some(id))
            .context("the invitation to the board")?;
        let path = format!(
            "{kanban}/invitations/{}/accept",
            invitation["id"].as_i64().context("invitation id")?
        );
        let member_token = Some(users[member].token.as_str());
        post_json(client, path, member_token, json!({}), StatusCode::OK).await?;
    }
    let mut tags = Vec::new();
    for t in 0..5 {
        let body = json!({"name": format!("Tag {t}"), "color": "#3366FF", "OrganizationId": id});
        let tag = post_json(
            client,
            format!("{kanban}/tags"),
            Some(token),
            body,
            StatusCode::CREATED,
        )
        .await?;
        tags.push(tag["id"].as_i64().context("tag id")?);
    }
    let creations = (0..cards)
        .map(|t| {
            let category = t % categories.len();
            let body = json!({"title": format!("Task {t}"), "description": "seeded", "OrganizationId": id, "CategoryId": categories[category]});
            let request = post_json(client, format!("{kanban}/tasks"), Some(token), body, StatusCode::CREATED);
            async move { Ok((category, request.await?["id"].as_i64().context("task id")?)) }
        })
        .collect();
    let created: Vec<(usize, i64)> = in_parallel(16, creations).await?;
    let mut tasks = vec![vec![]; categories.len()];
    let mut links = Vec::new();
    for (n, (category, task)) in created.into_iter().enumerate() {
        tasks[category].push(task);
        let body = json!({"TagId": tags[n % tags.len()]});
        let path = format!("{kanban}/tasks/{task}/addTag");
        links.push(post_json(
            client,
            path,
            Some(token),
            body,
            StatusCode::CREATED,
        ));
        if !members.is_empty() {
            let body = json!({"UserEmail": users[members[n % members.len()]].email});
            let path = format!("{kanban}/tasks/{task}/assignee");
            links.push(post_json(
                client,
                path,
                Some(token),
                body,
                StatusCode::CREATED,
            ));
        }
    }
    in_parallel(16, links).await?;
    Ok(Board {
        id,
        owner,
        categories,
        tasks,
    })
}
