//! Tasks, their assignees and tags.

use shared::required::{NonBlank, Required, Text};
use std::sync::Arc;

use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use shared::AnyAccessToken;
use shared::payload::{Serialized, Written};

use super::error::{Board, Refusal};
use super::kept_lists::ListAnswer;
use super::views::{Message, TaskCardView, TaskView};
use super::{ApiTags, acting_user, caller, page};
use crate::boards::{TaskChanges, TaskDraft, TaskQuery};
use crate::state::AppState;

#[derive(Object)]
pub struct TaskBody {
    #[oai(nullable)]
    pub title: Option<NonBlank>,
    #[oai(nullable)]
    pub description: Option<Text>,
    /// `2020-10-10` or an RFC 3339 instant; empty clears it.
    #[oai(nullable)]
    pub due_date: Option<Text>,
    #[oai(rename = "OrganizationId")]
    #[oai(nullable)]
    pub organization_id: Option<i64>,
    #[oai(rename = "CategoryId")]
    #[oai(nullable)]
    pub category_id: Option<i64>,
}

/// A new task, at the end of its category.
#[derive(Object)]
#[oai(example)]
pub struct NewTask {
    pub title: Required<String>,
    #[oai(nullable)]
    pub description: Option<Text>,
    /// `2020-10-10` or an RFC 3339 instant; empty for none.
    #[oai(nullable)]
    pub due_date: Option<Text>,
    #[oai(rename = "OrganizationId")]
    pub organization_id: Required<i64>,
    #[oai(rename = "CategoryId")]
    pub category_id: Required<i64>,
}

impl poem_openapi::types::Example for NewTask {
    fn example() -> Self {
        Self {
            title: Required(Some("Write the release notes".to_owned())),
            description: Some(Text("For version 1.0".to_owned())),
            due_date: Some(Text("2020-10-10".to_owned())),
            organization_id: Required(Some(1)),
            category_id: Required(Some(1)),
        }
    }
}

#[derive(Object)]
pub struct MoveBody {
    #[oai(rename = "CategoryId")]
    #[oai(nullable)]
    pub category_id: Option<i64>,
    /// 1-based position in the category (default: the end).
    #[oai(nullable)]
    pub position: Option<i64>,
}

#[derive(Object)]
pub struct AssigneeBody {
    #[oai(rename = "UserEmail")]
    pub user_email: Required<String>,
}

#[derive(Object)]
pub struct TagLink {
    #[oai(rename = "TagId")]
    pub tag_id: Required<i64>,
}

#[derive(ApiResponse)]
pub enum TaskList {
    #[oai(status = 200)]
    Ok(
        Written<Vec<TaskCardView>>,
        #[oai(header = "X-Total-Count")] u64,
    ),
}

#[derive(ApiResponse)]
pub enum TaskCreated {
    /// Created at the end of its category; the caller owns it.
    #[oai(status = 201)]
    Created(Serialized<TaskView>),
}

#[derive(ApiResponse)]
pub enum Linked {
    #[oai(status = 201)]
    Created(Json<Message>),
}

pub struct TasksApi;

#[OpenApi(tag = "ApiTags::Tasks")]
impl TasksApi {
    /// Tasks by organization, category and/or tag
    #[oai(path = "/tasks", method = "get")]
    #[allow(clippy::too_many_arguments)]
    async fn list(
        &self,
        state: Data<&Arc<AppState>>,
        auth: AnyAccessToken,
        #[oai(name = "OrganizationId")] organization_id: Query<Option<i64>>,
        #[oai(name = "CategoryId")] category_id: Query<Option<i64>>,
        #[oai(name = "TagId")] tag_id: Query<Option<i64>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "1000")))] limit: Query<Option<u64>>,
        #[oai(validator(maximum(value = "1000000")))] offset: Query<Option<u64>>,
    ) -> Result<TaskList, Refusal<Board>> {
        let user = caller(&auth.0)?;
        let query = TaskQuery {
            organization_id: organization_id.0,
            category_id: category_id.0,
            tag_id: tag_id.0,
        };
        let page = page(limit.0, offset.0);
        let listing = state.boards.task_listing(user, query).await?;
        let answer = state
            .task_lists
            .answer(listing.version().map(|_| listing), page, || async {
                let mut room = state.card_budget.reserve(page.limit).await;
                let (cards, total) = state.boards.task_page(&listing, page).await?;
                room.keep(cards.len());
                let body = Written::of(&TaskCardView::list(cards, &state.avatars));
                drop(room);
                Ok::<_, Refusal<Board>>(ListAnswer { body, total })
            })
            .await?;
        Ok(TaskList::Ok(answer.body, answer.total))
    }

    /// One task
    #[oai(path = "/tasks/:id", method = "get")]
    async fn get(
        &self,
        state: Data<&Arc<AppState>>,
        auth: AnyAccessToken,
        id: Path<i64>,
    ) -> Result<Serialized<TaskCardView>, Refusal<Board>> {
        let user = caller(&auth.0)?;
        let card = state.boards.task_card(user, id.0).await?;
        Ok(Serialized(TaskCardView::new(card, &state.avatars)))
    }

    /// Create a task (members)
    #[oai(path = "/tasks", method = "post")]
    async fn create(
        &self,
        state: Data<&Arc<AppState>>,
        auth: AnyAccessToken,
        body: Json<NewTask>,
    ) -> Result<TaskCreated, Refusal<Board>> {
        let actor = acting_user(&auth.0)?;
        let NewTask {
            title,
            description,
            due_date,
            organization_id,
            category_id,
        } = body.0;
        let draft = TaskDraft {
            title: title.into_inner(),
            description: description.map(String::from),
            due_date: due_date.map(String::from),
            organization_id: organization_id.into_inner(),
            category_id: category_id.into_inner(),
        };
        Ok(TaskCreated::Created(Serialized(
            state.boards.create_task(&actor, draft).await?.into(),
        )))
    }

    /// Edit a task (its owner and assignees)
    #[oai(path = "/tasks/:id", method = "put")]
    async fn edit(
        &self,
        state: Data<&Arc<AppState>>,
        auth: AnyAccessToken,
        id: Path<i64>,
        body: Json<TaskBody>,
    ) -> Result<Serialized<TaskView>, Refusal<Board>> {
        let user = caller(&auth.0)?;
        let TaskBody {
            title,
            description,
            due_date,
            category_id,
            ..
        } = body.0;
        let changes = TaskChanges {
            title: title.map(String::from),
            description: description.map(String::from),
            due_date: due_date.map(String::from),
            category_id,
        };
        Ok(Serialized(
            state.boards.update_task(user, id.0, changes).await?.into(),
        ))
    }

    /// Move a task to another category and/or position (its owner and assignees)
    #[oai(path = "/tasks/:id", method = "patch")]
    async fn move_task(
        &self,
        state: Data<&Arc<AppState>>,
        auth: AnyAccessToken,
        id: Path<i64>,
        body: Json<MoveBody>,
    ) -> Result<Serialized<TaskView>, Refusal<Board>> {
        let user = caller(&auth.0)?;
        Ok(Serialized(
            state
                .boards
                .move_task(user, id.0, body.0.category_id, body.0.position)
                .await?
                .into(),
        ))
    }

    /// Delete a task (its owner and assignees)
    #[oai(path = "/tasks/:id", method = "delete")]
    async fn delete(
        &self,
        state: Data<&Arc<AppState>>,
        auth: AnyAccessToken,
        id: Path<i64>,
    ) -> Result<Json<Message>, Refusal<Board>> {
        let user = caller(&auth.0)?;
        state.boards.delete_task(user, id.0).await?;
        Ok(Json(Message::new("Task has been deleted")))
    }

    /// Assign a member of the organization, by email
    #[oai(path = "/tasks/:id/assignee", method = "post")]
    async fn add_assignee(
        &self,
        state: Data<&Arc<AppState>>,
        auth: AnyAccessToken,
        id: Path<i64>,
        body: Json<AssigneeBody>,
    ) -> Result<Linked, Refusal<Board>> {
        let user = caller(&auth.0)?;
        state
            .boards
            .add_assignee(user, id.0, body.0.user_email.as_deref())
            .await?;
        Ok(Linked::Created(Json(Message::new(
            "Assignee has been added",
        ))))
    }

    /// Unassign a user
    #[oai(path = "/tasks/:id/assignee/:user_id", method = "delete")]
    async fn remove_assignee(
        &self,
        state: Data<&Arc<AppState>>,
        auth: AnyAccessToken,
        id: Path<i64>,
        user_id: Path<i64>,
    ) -> Result<Json<Message>, Refusal<Board>> {
        let user = caller(&auth.0)?;
        state.boards.remove_assignee(user, id.0, user_id.0).await?;
        Ok(Json(Message::new("Assignee has been removed")))
    }

    /// Put a tag of the organization on the task
    #[oai(path = "/tasks/:id/addTag", method = "post")]
    async fn add_tag(
        &self,
        state: Data<&Arc<AppState>>,
        auth: AnyAccessToken,
        id: Path<i64>,
        body: Json<TagLink>,
    ) -> Result<Linked, Refusal<Board>> {
        let user = caller(&auth.0)?;
        state
            .boards
            .add_tag(user, id.0, body.0.tag_id.into())
            .await?;
        Ok(Linked::Created(Json(Message::new("Tag has been added"))))
    }

    /// Take a tag off the task
    #[oai(path = "/tasks/:id/removeTag/:tag_id", method = "delete")]
    async fn remove_tag(
        &self,
        state: Data<&Arc<AppState>>,
        auth: AnyAccessToken,
        id: Path<i64>,
        tag_id: Path<i64>,
    ) -> Result<Json<Message>, Refusal<Board>> {
        let user = caller(&auth.0)?;
        state.boards.remove_tag(user, id.0, tag_id.0).await?;
        Ok(Json(Message::new("Tag has been removed")))
    }
}
