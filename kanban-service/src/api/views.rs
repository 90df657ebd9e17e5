//! The JSON shapes of seed 000.

use std::collections::HashMap;

use chrono::{DateTime, SecondsFormat, Utc};
use poem_openapi::Object;
use serde::Serialize;

use crate::avatars::Avatars;
use crate::boards::{
    Category, CategoryKind, Invitation, Member, Organization, OrganizationBoard, OrganizationRole,
    ReceivedInvitation, Tag, Task, TaskCard, User, shown_name,
};

/// `2020-11-04T16:48:39.650Z`, as seed 000 writes instants.
pub fn instant(at: DateTime<Utc>) -> String {
    // The same text as the format `%Y-%m-%dT%H:%M:%S%.3fZ`, written without
    // parsing a format string for every instant of a list.
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

#[derive(Object, Serialize, Debug)]
pub struct Message {
    pub msg: String,
}

impl Message {
    pub fn new(msg: impl Into<String>) -> Self {
        Self { msg: msg.into() }
    }
}

#[derive(Object, Serialize, Debug)]
pub struct CategoryView {
    pub id: i64,
    pub name: String,
    /// `Default` or `Custom`.
    #[oai(rename = "type")]
    #[serde(rename = "type")]
    pub kind: String,
    #[oai(rename = "OrganizationId")]
    #[serde(rename = "OrganizationId")]
    pub organization_id: i64,
    pub position: i32,
    #[oai(rename = "createdAt")]
    #[serde(rename = "createdAt")]
    pub created_at: String,
    #[oai(rename = "updatedAt")]
    #[serde(rename = "updatedAt")]
    pub updated_at: String,
}

/// The category's kind as seed 000 writes it.
fn kind_label(kind: CategoryKind) -> &'static str {
    match kind {
        CategoryKind::Default => "Default",
        CategoryKind::Custom => "Custom",
    }
}

/// The role as the seed-000 client shows it: the owner (the creator, until
/// a transfer) is `Owner`.
fn role_label(role: OrganizationRole, is_owner: bool) -> &'static str {
    match (is_owner, role) {
        (true, _) => "Owner",
        (false, OrganizationRole::Admin) => "Admin",
        (false, OrganizationRole::Member) => "Member",
    }
}

impl From<Category> for CategoryView {
    fn from(c: Category) -> Self {
        Self {
            id: c.id,
            name: c.name,
            kind: kind_label(c.kind).to_owned(),
            organization_id: c.organization_id,
            position: c.position,
            created_at: instant(c.created_at),
            updated_at: instant(c.updated_at),
        }
    }
}

#[derive(Object, Serialize, Debug)]
pub struct TagView {
    pub id: i64,
    pub name: String,
    /// `#RRGGBB`.
    pub color: String,
    #[oai(rename = "OrganizationId")]
    #[serde(rename = "OrganizationId")]
    pub organization_id: i64,
    #[oai(rename = "createdAt")]
    #[serde(rename = "createdAt")]
    pub created_at: String,
    #[oai(rename = "updatedAt")]
    #[serde(rename = "updatedAt")]
    pub updated_at: String,
}

impl From<Tag> for TagView {
    fn from(t: Tag) -> Self {
        Self {
            id: t.id,
            name: t.name,
            color: t.color,
            organization_id: t.organization_id,
            created_at: instant(t.created_at),
            updated_at: instant(t.updated_at),
        }
    }
}

#[derive(Object, Serialize, Debug)]
pub struct OrganizationView {
    pub id: i64,
    pub name: String,
    pub description: String,
    /// The owner: the creator, until they transfer ownership.
    #[oai(rename = "UserId")]
    #[serde(rename = "UserId")]
    pub user_id: i64,
    #[oai(rename = "createdAt")]
    #[serde(rename = "createdAt")]
    pub created_at: String,
    #[oai(rename = "updatedAt")]
    #[serde(rename = "updatedAt")]
    pub updated_at: String,
    /// Ordered by position.
    #[oai(rename = "Categories", skip_serializing_if_is_none)]
    #[serde(rename = "Categories", skip_serializing_if = "Option::is_none")]
    pub categories: Option<Vec<CategoryView>>,
    #[oai(rename = "Tags", skip_serializing_if_is_none)]
    #[serde(rename = "Tags", skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<TagView>>,
}

impl From<Organization> for OrganizationView {
    fn from(o: Organization) -> Self {
        Self {
            id: o.id,
            name: o.name,
            description: o.description,
            user_id: o.user_id,
            created_at: instant(o.created_at),
            updated_at: instant(o.updated_at),
            categories: None,
            tags: None,
        }
    }
}

impl From<OrganizationBoard> for OrganizationView {
    fn from(board: OrganizationBoard) -> Self {
        let mut view = OrganizationView::from(board.organization);
        view.categories = Some(board.categories.into_iter().map(Into::into).collect());
        view.tags = Some(board.tags.into_iter().map(Into::into).collect());
        view
    }
}

/// A person as seed-000 cards show them.
#[derive(Object, Serialize, Debug, Clone)]
pub struct PersonView {
    pub id: i64,
    pub name: String,
    #[oai(nullable)]
    pub email: Option<String>,
    /// The avatar's absolute URL: kanban's `/avatars/…` (or the configured
    /// external service's).
    pub profile_picture: String,
}

impl PersonView {
    pub fn new(u: User, avatars: &Avatars) -> Self {
        let name = shown_name(&u.name, u.email.as_deref());
        Self {
            id: u.id,
            profile_picture: avatars.url(&name),
            name,
            email: u.email,
        }
    }
}

#[derive(Object, Serialize, Debug)]
pub struct MemberView {
    pub id: i64,
    pub name: String,
    #[oai(nullable)]
    pub email: Option<String>,
    /// The avatar's absolute URL: kanban's `/avatars/…` (or the configured
    /// external service's).
    pub profile_picture: String,
    /// `Owner` (the creator, until a transfer), `Admin` or `Member`.
    pub role: String,
}

impl MemberView {
    pub fn new(m: Member, avatars: &Avatars) -> Self {
        let person = PersonView::new(m.user, avatars);
        Self {
            id: person.id,
            name: person.name,
            email: person.email,
            profile_picture: person.profile_picture,
            role: role_label(m.role, m.is_owner).to_owned(),
        }
    }
}

/// A pending invitation, as the organization's admins see it: the email
/// the inviter typed, nothing of any account it may belong to.
#[derive(Object, Serialize, Debug)]
pub struct PendingInvitationView {
    pub id: i64,
    /// As the inviter typed it (lower case).
    pub email: String,
    /// `Admin` or `Member`: the role on accepting.
    pub role: String,
    /// Always `Pending`: accepted, declined and revoked invitations are gone.
    pub status: String,
    /// The admin who invited.
    #[oai(rename = "InvitedById")]
    #[serde(rename = "InvitedById")]
    pub invited_by_id: i64,
    #[oai(rename = "createdAt")]
    #[serde(rename = "createdAt")]
    pub created_at: String,
    #[oai(rename = "expiresAt")]
    #[serde(rename = "expiresAt")]
    pub expires_at: String,
}

impl From<Invitation> for PendingInvitationView {
    fn from(i: Invitation) -> Self {
        Self {
            id: i.id,
            email: i.email,
            role: role_label(i.role, false).to_owned(),
            status: "Pending".to_owned(),
            invited_by_id: i.invited_by,
            created_at: instant(i.created_at),
            expires_at: instant(i.expires_at),
        }
    }
}

/// Who invited, as the invitee sees them.
#[derive(Object, Serialize, Debug)]
pub struct InviterView {
    pub id: i64,
    pub name: String,
    /// The avatar's absolute URL: kanban's `/avatars/…` (or the configured
    /// external service's).
    pub profile_picture: String,
}

/// An invitation, as its invitee sees it.
#[derive(Object, Serialize, Debug)]
pub struct InvitationView {
    pub id: i64,
    #[oai(rename = "OrganizationId")]
    #[serde(rename = "OrganizationId")]
    pub organization_id: i64,
    /// The organization's name.
    pub organization: String,
    /// `Admin` or `Member`: the role on accepting.
    pub role: String,
    /// Absent when the board no longer knows the inviter.
    #[oai(rename = "invitedBy", skip_serializing_if_is_none)]
    #[serde(rename = "invitedBy", skip_serializing_if = "Option::is_none")]
    pub invited_by: Option<InviterView>,
    #[oai(rename = "createdAt")]
    #[serde(rename = "createdAt")]
    pub created_at: String,
    #[oai(rename = "expiresAt")]
    #[serde(rename = "expiresAt")]
    pub expires_at: String,
}

impl InvitationView {
    pub fn new(received: ReceivedInvitation, avatars: &Avatars) -> Self {
        let i = received.invitation;
        Self {
            id: i.id,
            organization_id: i.organization_id,
            organization: received.organization_name,
            role: role_label(i.role, false).to_owned(),
            invited_by: received.inviter.map(|inviter| {
                let person = PersonView::new(inviter, avatars);
                InviterView {
                    id: person.id,
                    name: person.name,
                    profile_picture: person.profile_picture,
                }
            }),
            created_at: instant(i.created_at),
            expires_at: instant(i.expires_at),
        }
    }
}

/// A task as created, edited or moved.
#[derive(Object, Serialize, Debug)]
pub struct TaskView {
    pub id: i64,
    pub title: String,
    #[oai(nullable)]
    pub description: Option<String>,
    #[oai(nullable)]
    pub due_date: Option<String>,
    #[oai(rename = "OrganizationId")]
    #[serde(rename = "OrganizationId")]
    pub organization_id: i64,
    #[oai(rename = "CategoryId")]
    #[serde(rename = "CategoryId")]
    pub category_id: i64,
    #[oai(rename = "OwnerId")]
    #[serde(rename = "OwnerId")]
    pub owner_id: i64,
    /// The owner, as the seed also calls it.
    #[oai(rename = "UserId")]
    #[serde(rename = "UserId")]
    pub user_id: i64,
    /// 1-based position within the category.
    pub position: i32,
    #[oai(rename = "createdAt")]
    #[serde(rename = "createdAt")]
    pub created_at: String,
    #[oai(rename = "updatedAt")]
    #[serde(rename = "updatedAt")]
    pub updated_at: String,
}

impl From<Task> for TaskView {
    fn from(t: Task) -> Self {
        Self {
            id: t.id,
            title: t.title,
            description: t.description,
            due_date: t.due_date.map(instant),
            organization_id: t.organization_id,
            category_id: t.category_id,
            owner_id: t.owner_id,
            user_id: t.owner_id,
            position: t.position,
            created_at: instant(t.created_at),
            updated_at: instant(t.updated_at),
        }
    }
}

#[derive(Object, Serialize, Debug)]
pub struct CardUser {
    pub name: String,
    #[oai(nullable)]
    pub email: Option<String>,
    /// The avatar's absolute URL: kanban's `/avatars/…` (or the configured
    /// external service's).
    pub profile_picture: String,
}

#[derive(Object, Serialize, Debug)]
pub struct CardTag {
    pub id: i64,
    pub name: String,
    pub color: String,
}

/// A task as the task list shows it.
#[derive(Object, Serialize, Debug)]
pub struct TaskCardView {
    pub id: i64,
    pub title: String,
    #[oai(nullable)]
    pub description: Option<String>,
    #[oai(nullable)]
    pub due_date: Option<String>,
    /// The owner.
    #[oai(nullable)]
    pub user: Option<CardUser>,
    /// The category's name.
    pub category: String,
    pub tags: Vec<CardTag>,
    pub assignees: Vec<PersonView>,
    #[oai(rename = "OwnerId")]
    #[serde(rename = "OwnerId")]
    pub owner_id: i64,
    #[oai(rename = "CategoryId")]
    #[serde(rename = "CategoryId")]
    pub category_id: i64,
    #[oai(rename = "OrganizationId")]
    #[serde(rename = "OrganizationId")]
    pub organization_id: i64,
    pub position: i32,
    #[oai(rename = "createdAt")]
    #[serde(rename = "createdAt")]
    pub created_at: String,
    #[oai(rename = "updatedAt")]
    #[serde(rename = "updatedAt")]
    pub updated_at: String,
}

/// The people of one answer, each drawn once (name and avatar URL) however
/// many of its cards show them.
struct People<'a> {
    avatars: &'a Avatars,
    drawn: HashMap<i64, PersonView>,
}

impl<'a> People<'a> {
    fn new(avatars: &'a Avatars) -> Self {
        Self {
            avatars,
            drawn: HashMap::new(),
        }
    }

    fn person(&mut self, user: User) -> PersonView {
        let avatars = self.avatars;
        self.drawn
            .entry(user.id)
            .or_insert_with(|| PersonView::new(user, avatars))
            .clone()
    }
}

impl TaskCardView {
    pub fn new(card: TaskCard, avatars: &Avatars) -> Self {
        Self::drawn(card, &mut People::new(avatars))
    }

    /// The views of a list of cards.
    pub fn list(cards: Vec<TaskCard>, avatars: &Avatars) -> Vec<Self> {
        let mut people = People::new(avatars);
        cards
            .into_iter()
            .map(|card| Self::drawn(card, &mut people))
            .collect()
    }

    fn drawn(card: TaskCard, people: &mut People) -> Self {
        let t = card.task;
        Self {
            id: t.id,
            title: t.title,
            description: t.description,
            due_date: t.due_date.map(instant),
            user: card.owner.map(|owner| {
                let person = people.person(owner);
                CardUser {
                    name: person.name,
                    email: person.email,
                    profile_picture: person.profile_picture,
                }
            }),
            category: card.category,
            tags: card
                .tags
                .into_iter()
                .map(|tag| CardTag {
                    id: tag.id,
                    name: tag.name,
                    color: tag.color,
                })
                .collect(),
            assignees: card
                .assignees
                .into_iter()
                .map(|assignee| people.person(assignee))
                .collect(),
            owner_id: t.owner_id,
            category_id: t.category_id,
            organization_id: t.organization_id,
            position: t.position,
            created_at: instant(t.created_at),
            updated_at: instant(t.updated_at),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_and_kinds_read_as_seed_000_wrote_them() {
        assert_eq!(role_label(OrganizationRole::Member, true), "Owner");
        assert_eq!(role_label(OrganizationRole::Admin, false), "Admin");
        assert_eq!(role_label(OrganizationRole::Member, false), "Member");
        assert_eq!(kind_label(CategoryKind::Default), "Default");
        assert_eq!(kind_label(CategoryKind::Custom), "Custom");
        assert_eq!(
            instant(DateTime::from_timestamp(1_604_508_519, 650_000_000).unwrap()),
            "2020-11-04T16:48:39.650Z"
        );
        for (seconds, nanos) in [
            (0, 0),
            (1_604_508_519, 5_000_000),
            (253_402_300_799, 999_999_999),
        ] {
            let at = DateTime::from_timestamp(seconds, nanos).unwrap();
            assert_eq!(instant(at), at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string());
        }
    }

    fn at() -> DateTime<Utc> {
        DateTime::from_timestamp(1_604_508_519, 650_000_000).unwrap()
    }

    fn user(id: i64, email: Option<&str>) -> User {
        User {
            id,
            email: email.map(str::to_owned),
            name: "Jo Doe".to_owned(),
            updated_at: at(),
        }
    }

    fn task(description: Option<&str>, due: Option<DateTime<Utc>>) -> Task {
        Task {
            id: 7,
            title: "Write".to_owned(),
            description: description.map(str::to_owned),
            due_date: due,
            position: 3,
            owner_id: 1,
            category_id: 2,
            organization_id: 4,
            created_at: at(),
            updated_at: at(),
        }
    }

    /// Answers are written with serde (`shared::payload::Serialized`) and
    /// documented from the `Object` derive: every view, with its optional
    /// parts present and absent, must read the same both ways.
    #[test]
    fn every_view_serialises_as_its_document_says() {
        use shared::payload::check_agreement;
        let avatars = Avatars::new("http://kanban.test", None);
        let tag = Tag {
            id: 5,
            name: "bug".to_owned(),
            color: "#FF0000".to_owned(),
            organization_id: 4,
            created_at: at(),
            updated_at: at(),
        };
        for (owner, description, due) in [
            (
                Some(user(1, Some("jo@example.com"))),
                Some("text"),
                Some(at()),
            ),
            (None, None, None),
        ] {
            let card = TaskCard {
                task: task(description, due),
                category: "Todo".to_owned(),
                owner,
                assignees: vec![user(2, None), user(3, Some("a@example.com"))],
                tags: vec![tag.clone()],
            };
            check_agreement(&vec![TaskCardView::new(card, &avatars)]);
            check_agreement(&TaskView::from(task(description, due)));
        }
        let organization = Organization {
            id: 4,
            name: "Board".to_owned(),
            description: String::new(),
            user_id: 1,
            created_at: at(),
            updated_at: at(),
        };
        let category = Category {
            id: 2,
            name: "Todo".to_owned(),
            kind: CategoryKind::Default,
            organization_id: 4,
            position: 1,
            created_at: at(),
            updated_at: at(),
        };
        check_agreement(&OrganizationView::from(organization.clone()));
        check_agreement(&vec![OrganizationView::from(OrganizationBoard {
            organization,
            categories: vec![category],
            tags: vec![tag],
        })]);
        check_agreement(&MemberView::new(
            Member {
                user: user(1, None),
                role: OrganizationRole::Admin,
                is_owner: false,
            },
            &avatars,
        ));
    }
}
