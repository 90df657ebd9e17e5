//! What the board rules work on: plain values. `store` reads and writes
//! them; the API turns them into seed 000's JSON.

use chrono::{DateTime, Utc};

/// A member's role in an organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrganizationRole {
    Admin,
    Member,
}

/// How a category came to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CategoryKind {
    /// One of the categories every organization starts with.
    Default,
    /// Added by an admin.
    Custom,
}

/// Who acts, as their (verified) access token describes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub id: i64,
    pub email: Option<String>,
    /// Display name ("First Last"); may be empty.
    pub name: String,
    /// When the token was issued: what it says is true as of then.
    pub as_of: DateTime<Utc>,
}

/// A page of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Page {
    pub limit: u64,
    pub offset: u64,
}

/// Which tasks to list; every given criterion must hold.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct TaskQuery {
    pub organization_id: Option<i64>,
    pub category_id: Option<i64>,
    pub tag_id: Option<i64>,
}

/// What a board's task lists show, as of one moment: two reads with the
/// same version show the same cards.
/// - `board` grows with every change under the board's exclusive lock
///   (its tasks' fields, tags and assignees, deletions, its columns and
///   tags).
/// - `columns`, the sum of its columns' versions, grows with every
///   creation and every move to another column (each under the board's
///   shared lock, writing the columns' rows for their counts). It may fall
///   only when a column is deleted, while `board` grows.
/// - `placements`, the sum of its columns' latest placements (see
///   `entity::task::Model::placement`), grows with every move within a
///   column, which writes no column's row. It may fall only with a change
///   that grows `board` or `columns`.
/// - `people` grows with every change of a known user's name or email.
///
/// So between two moments with the same `board`, `columns` and `people`
/// only moves within columns happened, each growing `placements`: no two
/// moments of a board have the same version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BoardVersion {
    pub board: i64,
    pub columns: i64,
    pub placements: i64,
    pub people: i64,
}

/// A task list a member may read: the board its criteria name, as of the
/// version read when they were checked. Made only by
/// [`super::Boards::task_listing`], which checks the caller is a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TaskListing {
    pub(super) query: TaskQuery,
    /// `None`: the criteria name different boards, so no task matches.
    pub(super) version: Option<BoardVersion>,
}

impl TaskListing {
    pub fn query(&self) -> TaskQuery {
        self.query
    }

    pub fn version(&self) -> Option<BoardVersion> {
        self.version
    }
}

/// A user's organization list as of now: each of their organizations,
/// newest first, at its board's version. Two users with the same
/// organizations see the same list. Made only by
/// [`super::Boards::organization_listing`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OrganizationListing {
    /// (organization id, `organizations.board_version`).
    pub(super) boards: Vec<(i64, i64)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organization {
    pub id: i64,
    pub name: String,
    pub description: String,
    /// The owner: the creator, until they transfer ownership. Always an
    /// admin member of the organization.
    pub user_id: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A column of the board.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Category {
    pub id: i64,
    pub name: String,
    pub kind: CategoryKind,
    pub organization_id: i64,
    /// 1-based, dense within the organization.
    pub position: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    pub id: i64,
    pub name: String,
    /// `#RRGGBB`.
    pub color: String,
    pub organization_id: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A card on the board.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    pub id: i64,
    pub title: String,
    pub description: Option<String>,
    pub due_date: Option<DateTime<Utc>>,
    /// 1-based, dense within the category: not stored, counted from the
    /// task's rank when read.
    pub position: i32,
    pub owner_id: i64,
    pub category_id: i64,
    pub organization_id: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Where a task is and whose it is: what changing one needs. Its position
/// is counted only for answers ([`Task`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskRef {
    pub id: i64,
    pub owner_id: i64,
    pub category_id: i64,
    pub organization_id: i64,
    /// Its ordering key within the category (see `rules::RANK_GAP`).
    pub rank: i64,
}

/// What the board knows of a user of the account manager.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub email: Option<String>,
    /// Display name ("First Last"); may be empty.
    pub name: String,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub organization_id: i64,
    pub user_id: i64,
    pub role: OrganizationRole,
    pub created_at: DateTime<Utc>,
}

/// A user assigned to a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Assignment {
    pub task_id: i64,
    pub user_id: i64,
}

/// An organization with its categories (by position) and tags.
#[derive(Debug, Clone)]
pub struct OrganizationBoard {
    pub organization: Organization,
    pub categories: Vec<Category>,
    pub tags: Vec<Tag>,
}

#[derive(Debug, Clone)]
pub struct Member {
    pub user: User,
    pub role: OrganizationRole,
    /// The organization's owner (see [`Organization::user_id`]).
    pub is_owner: bool,
}

/// An invitation to join an organization, addressed to an email (which may
/// have no account yet). It makes a membership only once the account with
/// that email accepts it; until then the organization shows nothing of the
/// invitee and the invitee sees nothing of the organization but this.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    pub id: i64,
    pub organization_id: i64,
    /// Trimmed and lower case, as the inviter typed it.
    pub email: String,
    /// The role the invitee gets on accepting.
    pub role: OrganizationRole,
    /// The admin who invited (last).
    pub invited_by: i64,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// An invitation as its invitee sees it: which organization, and who invited.
#[derive(Debug, Clone)]
pub struct ReceivedInvitation {
    pub invitation: Invitation,
    pub organization_name: String,
    pub inviter: Option<User>,
}

/// A task with everything a board shows of it.
#[derive(Debug, Clone)]
pub struct TaskCard {
    pub task: Task,
    /// The category's name.
    pub category: String,
    pub owner: Option<User>,
    pub assignees: Vec<User>,
    pub tags: Vec<Tag>,
}

/// A new task, as asked for.
#[derive(Debug, Clone, Default)]
pub struct TaskDraft {
    pub title: Option<String>,
    pub description: Option<String>,
    pub due_date: Option<String>,
    pub organization_id: Option<i64>,
    pub category_id: Option<i64>,
}

/// Changes to a task; absent fields stay as they are.
#[derive(Debug, Clone, Default)]
pub struct TaskChanges {
    pub title: Option<String>,
    pub description: Option<String>,
    pub due_date: Option<String>,
    pub category_id: Option<i64>,
}
