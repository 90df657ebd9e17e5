//! The boards: organizations, their members and invitations, categories,
//! tags and tasks.
//!
//! `model`, `rules` and `error` are pure: values, the rules of boards and
//! why a rule refuses. The use-cases are `impl Boards` blocks, one file per
//! resource; they apply the rules against `store` and never see SQL. Every
//! change of a board goes through one guard (`guard`): it locks the
//! organization's row inside the transaction, then reads the caller's role
//! under that lock, so a concurrent demotion is either seen or waited for.

mod categories;
mod error;
mod guard;
mod invitations;
mod members;
mod model;
mod organizations;
mod remembered;
mod rules;
mod tags;
mod task_cards;
mod task_links;
mod tasks;

pub use error::{BoardError, BoardResult, Field, Rule, Violation};
pub use guard::BoardGuard;
pub use model::{
    Actor, Assignment, BoardVersion, Category, CategoryKind, Invitation, Member, Membership,
    Organization, OrganizationBoard, OrganizationListing, OrganizationRole, Page,
    ReceivedInvitation, Tag, Task, TaskCard, TaskChanges, TaskDraft, TaskListing, TaskQuery,
    TaskRef, User,
};
pub use rules::{
    DEFAULT_CATEGORIES, INVITATION_DAYS, MAX_DESCRIPTION_CHARS, MAX_EMAIL_CHARS, MAX_NAME_CHARS,
    MAX_TITLE_CHARS, MIN_PASSWORD_CHARS, RANK_GAP, RankWindow, check_registration, place,
    shown_name,
};

use chrono::{DateTime, Utc};

use crate::error::KanbanResult;
use crate::store::{self, Database, Transaction};

/// The board use-cases over one database.
pub struct Boards {
    db: Database,
    /// The actors' claims this process recorded ([`Self::remember_actor`]).
    remembered: remembered::Remembered,
}

impl Boards {
    pub fn new(db: Database) -> Self {
        Self {
            db,
            remembered: remembered::Remembered::default(),
        }
    }

    /// Whether the database answers (for the readiness probe).
    pub async fn database_ready(&self) -> bool {
        store::ping(&self.db).await
    }

    /// The database pool's open and idle connections (for the metrics).
    pub fn pool_size(&self) -> Option<(u32, usize)> {
        store::pool_size(&self.db)
    }

    async fn begin(&self) -> KanbanResult<Transaction> {
        Ok(store::begin(&self.db).await?)
    }

    /// Records what a token or the account manager says of a user (at
    /// registration, login and a change of names), in a transaction of its
    /// own: a changed name and the new version of the people's names that
    /// task lists are kept under commit together.
    pub async fn remember_user(
        &self,
        id: i64,
        email: Option<String>,
        name: String,
        as_of: DateTime<Utc>,
    ) -> KanbanResult<()> {
        let txn = self.begin().await?;
        store::users::remember(&txn, id, email.map(|e| e.to_lowercase()), name, as_of).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Records what the actor's token says of them, inside `txn`: for the
    /// use-cases that show the actor to others (creator, owner). Skipped
    /// when this process recorded the very same before (it would change
    /// nothing). Once `txn` commits, [`Self::remembered`] lets the
    /// actor's next change skip it.
    async fn remember_actor(&self, txn: &Transaction, actor: &Actor) -> KanbanResult<()> {
        if self.remembered.knows(actor) {
            return Ok(());
        }
        let email = actor.email.as_ref().map(|e| e.to_lowercase());
        store::users::remember(txn, actor.id, email, actor.name.clone(), actor.as_of).await?;
        Ok(())
    }

    /// The transaction that recorded the actor ([`Self::remember_actor`])
    /// has committed.
    fn remembered(&self, actor: &Actor) {
        self.remembered.learn(actor);
    }

    pub async fn user(&self, id: i64) -> KanbanResult<Option<User>> {
        Ok(store::users::by_id(&self.db, id).await?)
    }
}
