//! Changing tasks: members create them; only a task's owner and its
//! assignees edit, move and delete one. Tasks are ordered in their category
//! by sparse ranks: a creation or a move writes the one task's row (a rank
//! between its new neighbours'), a deletion nothing else; the dense 1-based
//! positions clients see are computed when read. Each category keeps its
//! number of tasks (`task_count`, changed in the same transaction as the
//! tasks, under the same locks), so a creation or a move answers its
//! position without counting the column: a creation is the last of its
//! category (its position: the count), a move lands at the index it asked
//! for when that is within the other tasks, else last. Each category also
//! keeps a `top_rank` at or above its ranks, which a creation ranks past
//! and every placement past it raises (see `store::tasks::create_last`).

use chrono::Utc;

use super::Boards;
use super::error::{BoardError, Field, Rule};
use super::guard::BoardGuard;
use super::model::{Actor, Task, TaskChanges, TaskDraft, TaskRef};
use super::rules::{MAX_DESCRIPTION_CHARS, MAX_TITLE_CHARS, due_date};
use super::rules::{RankWindow, landing_index, lock_order, neighbours, rank_between, rank_window};
use super::rules::{landed_position, last_position, shown_position};
use super::rules::{optional_text, required_text};
use crate::error::{KanbanError, KanbanResult};
use crate::store::tasks::{BoardCreation, NewTaskRow, TaskFields};
use crate::store::{self, Transaction};

impl Boards {
    /// Creates a task at the end of its category (members); the creator
    /// (remembered as their token describes them) owns it. Creators share
    /// the board's lock (see [`Self::share_board`]) and queue only on the
    /// category they append to, from the statement that locks it, counts
    /// the task and inserts it ([`store::tasks::create_last`]) to the
    /// commit: creations in other columns run side by side. That statement
    /// answers the row and the category's count: the new task's position
    /// (the last), with no column counted. A creator this process recorded
    /// already, with a valid task, first tries one statement outside any
    /// transaction that also takes the board's lock
    /// ([`store::tasks::create_on_board`]); what that leaves undecided goes
    /// this way.
    pub async fn create_task(&self, actor: &Actor, draft: TaskDraft) -> KanbanResult<Task> {
        let required = |field| BoardError::invalid(field, Rule::Required);
        let organization_id = draft
            .organization_id
            .ok_or_else(|| required(Field::OrganizationId))?;
        let category_id = draft
            .category_id
            .ok_or_else(|| required(Field::CategoryId))?;
        let row = new_task_row(actor, organization_id, category_id, &draft);
        let now = Utc::now();
        // A valid task of a creator recorded as their token describes them:
        // one statement takes the board's lock and the column's and
        // inserts, where the database can (see
        // `store::tasks::create_on_board`). What it leaves undecided, and
        // every refusal but a stranger's, goes the transaction's way.
        if let Ok(row) = &row
            && self.remembered.knows(actor)
        {
            match store::tasks::create_on_board(&self.db, actor.id, row, now).await? {
                BoardCreation::Created(task, count) => return Ok(task.at(last_position(count))),
                BoardCreation::NotMember => return Err(BoardError::NotMember.into()),
                BoardCreation::Undecided => {}
            }
        }
        let txn = self.begin().await?;
        self.share_board(&txn, organization_id, actor.id, BoardError::NotMember)
            .await?;
        let row = row?;
        self.remember_actor(&txn, actor).await?;
        // Counted and ranked after the column's last in the statement that
        // locks the column; where no rank is left past it, the column is
        // renumbered first. A refusal rolls the count back with the
        // transaction.
        let (task, count) = match store::tasks::create_last(&txn, &row, now).await? {
            Some(created) => created,
            None => {
                store::boards::lock_category(&txn, category_id)
                    .await?
                    .filter(|c| c.organization_id == organization_id)
                    .ok_or(BoardError::CategoryNotFound)?;
                tracing::debug!(category_id, "no rank left past the last: renumbering");
                store::tasks::renumber(&txn, category_id).await?;
                store::tasks::create_last(&txn, &row, now)
                    .await?
                    .ok_or_else(|| {
                        KanbanError::Internal(anyhow::anyhow!(
                            "no rank past the last in category {category_id} after renumbering"
                        ))
                    })?
            }
        };
        txn.commit().await?;
        self.remembered(actor);
        Ok(task.at(last_position(count)))
    }

    /// Locks the task's board for a change by the user: unknown tasks and
    /// those of a board the user is not a member of are not found; members
    /// who are neither owner nor assignee are refused. Every change of
    /// ranks takes this lock (or shares it and locks the categories, see
    /// [`Self::movable_task`]) before touching any row, so concurrent moves
    /// queue instead of deadlocking, and never pick the same rank.
    pub(super) async fn editable_task(
        &self,
        txn: &Transaction,
        user_id: i64,
        task_id: i64,
    ) -> KanbanResult<(BoardGuard, TaskRef)> {
        let (board, task) = self
            .lock_board_of(txn, user_id, BoardError::TaskNotFound, || {
                store::tasks::find(txn, task_id)
            })
            .await?;
        let assignees: Vec<i64> = store::tasks::assignees(txn, &[task_id])
            .await?
            .iter()
            .map(|a| a.user_id)
            .collect();
        board.require_task_editor(&task, &assignees)?;
        Ok((board, task))
    }

    /// Locks the task's board for a move by the user to `target` (its own
    /// category when `None`): the board's lock in share mode, read with the
    /// task and its assignees (see [`Self::share_board_of_task`]), then the
    /// categories the move changes, in id order ([`lock_order`]), then the
    /// task is read again, with the ranks where its neighbours at the
    /// 0-based `index` are first looked for (one statement: [`RanksRead`],
    /// for [`Self::relocate`]). Movers and creators of other columns run
    /// side by side; those of one column take turns; every change that
    /// takes the board's lock exclusively waits for them all. `Ok(None)`:
    /// the task changed category between the first read and the locks (a
    /// concurrent move), so the locks held are not the ones it needs; the
    /// caller rolls back and tries again ([`Self::move_task`]). Refusals as
    /// [`Self::editable_task`].
    async fn movable_task(
        &self,
        txn: &Transaction,
        user_id: i64,
        task_id: i64,
        target: Option<i64>,
        index: Option<u64>,
    ) -> KanbanResult<Option<(BoardGuard, TaskRef, RanksRead)>> {
        let not_found = || BoardError::TaskNotFound;
        let (board, seen, assignees) = self
            .share_board_of_task(txn, task_id, user_id, not_found())
            .await?;
        // Categories never change board, and deleting one takes the board's
        // lock exclusively: what this finds holds until the commit. A
        // foreign or unknown target is refused after the editor check, as
        // under the exclusive lock.
        let target = match target.filter(|t| *t != seen.category_id) {
            Some(target) => store::boards::category(txn, target)
                .await?
                .filter(|c| c.organization_id == seen.organization_id)
                .map(|c| c.id),
            None => Some(seen.category_id),
        };
        let landing = target.unwrap_or(seen.category_id);
        for category_id in lock_order(seen.category_id, landing) {
            store::boards::lock_category(txn, category_id).await?;
        }
        // Read again under the locks, with the ranks the move's first look
        // for neighbours reads, in the same statement.
        let window = rank_window(index, landing == seen.category_id);
        let (task, ranks) = store::tasks::find_with_ranks(txn, task_id, landing, window)
            .await?
            .ok_or_else(not_found)?;
        if task.category_id != seen.category_id {
            return Ok(None);
        }
        board.require_task_editor(&task, &assignees)?;
        target.ok_or(BoardError::CategoryNotFound)?;
        let read = RanksRead {
            category_id: landing,
            window,
            ranks,
        };
        Ok(Some((board, task, read)))
    }

    /// The ranks of the neighbours a task gets at the 0-based `index` (the
    /// end when `None`, as past it) among the category's tasks other than
    /// itself (`moving`: its own rank, when it is in the category already):
    /// one read of a few ranks ([`rank_window`], [`neighbours`]), none when
    /// `read` holds those ranks already, one more when the index is past
    /// the end. The flag: the task lands at `index`,
    /// within the other tasks (not past their end, nor at the end for want
    /// of an index).
    async fn neighbours_at(
        txn: &Transaction,
        category_id: i64,
        moving: Option<i64>,
        index: Option<u64>,
        read: Option<RanksRead>,
    ) -> KanbanResult<(Option<i64>, Option<i64>, bool)> {
        let window = rank_window(index, moving.is_some());
        let ranks = match read.filter(|read| read.is(category_id, window)) {
            Some(read) => read.ranks,
            None => store::tasks::ranks(txn, category_id, window).await?,
        };
        if let Some((before, after)) = neighbours(index, &ranks, moving) {
            return Ok((before, after, index.is_some()));
        }
        let window = rank_window(None, moving.is_some());
        let ranks = store::tasks::ranks(txn, category_id, window).await?;
        let (before, after) = neighbours(None, &ranks, moving).unwrap_or_default();
        Ok((before, after, false))
    }

    /// Where a task placed at the 0-based `index` lands (as
    /// [`Self::neighbours_at`]; `moving`: the task, when it moves within
    /// its category): its rank, between its neighbours'
    /// ([`rank_between`]); when no integer is free there, the category is
    /// renumbered and the neighbours read again. The caller holds the
    /// category's lock (or the board's exclusively): no other writer of
    /// the column picks a rank meanwhile. With the rank, whether the task
    /// lands within the other tasks at `index` (as [`Self::neighbours_at`],
    /// `read` for its first look) and whether it lands after all of them.
    async fn rank_at(
        txn: &Transaction,
        category_id: i64,
        moving: Option<&TaskRef>,
        index: Option<u64>,
        read: Option<RanksRead>,
    ) -> KanbanResult<Landing> {
        let own = moving.map(|task| task.rank);
        let (before, after, within) =
            Self::neighbours_at(txn, category_id, own, index, read).await?;
        if let Some(rank) = rank_between(before, after) {
            let last = after.is_none();
            return Ok(Landing { rank, within, last });
        }
        tracing::debug!(category_id, "no rank left between neighbours: renumbering");
        store::tasks::renumber(txn, category_id).await?;
        // The moving task's own rank changed with the others'.
        let own = match moving {
            Some(task) => store::tasks::find(txn, task.id).await?.map(|t| t.rank),
            None => None,
        };
        let (before, after, within) =
            Self::neighbours_at(txn, category_id, own, index, None).await?;
        let rank = rank_between(before, after).ok_or_else(|| {
            KanbanError::Internal(anyhow::anyhow!(
                "no rank between {before:?} and {after:?} in category {category_id} after renumbering"
            ))
        })?;
        let last = after.is_none();
        Ok(Landing { rank, within, last })
    }

    /// Moves the task to `category_id` at `position` (the end by default):
    /// one row written, the task's, with a rank between its new neighbours'
    /// ([`Self::rank_at`]; `read`: ranks read under the locks already).
    /// The caller holds the board's lock exclusively, or shares it and
    /// holds the locks of both categories
    /// ([`Self::movable_task`]): either keeps other writers of the columns
    /// out between reading the neighbours and writing the rank. A move to
    /// another category takes the task from the source's count and adds it
    /// to the target's, in one statement. Answers the task as written, at
    /// the position it lands on, without counting the column: the
    /// requested one when that is within the other tasks
    /// ([`landed_position`]), else the last (the target's count: answered
    /// by the change of the counts, or read, for a move within a column).
    async fn relocate(
        txn: &Transaction,
        task: &TaskRef,
        category_id: i64,
        position: Option<i64>,
        read: Option<RanksRead>,
    ) -> KanbanResult<Task> {
        let within = category_id == task.category_id;
        if !within {
            store::boards::category(txn, category_id)
                .await?
                .filter(|c| c.organization_id == task.organization_id)
                .ok_or(BoardError::CategoryNotFound)?;
        }
        let moving = within.then_some(task);
        let index = landing_index(position);
        let landing = Self::rank_at(txn, category_id, moving, index, read).await?;
        let rank = landing.rank;
        let written = store::tasks::put(txn, task.id, category_id, rank, Utc::now())
            .await?
            .ok_or(BoardError::TaskNotFound)?;
        // The category's `top_rank` stays at or above every rank in it, for
        // its creators (see `store::tasks::create_last`).
        let count = match within {
            false => Some(
                store::boards::move_task_count(txn, task.category_id, category_id, rank).await?,
            ),
            true => {
                if landing.last {
                    store::boards::raise_top_rank(txn, category_id, rank).await?;
                }
                None
            }
        };
        let position = match (landed_position(index, landing.within), count) {
            (Some(position), _) => shown_position(position),
            (None, Some(count)) => last_position(count),
            (None, None) => last_position(store::boards::task_count(txn, category_id).await?),
        };
        Ok(written.at(position))
    }

    /// Edits a task (its owner and assignees); a new category puts it at
    /// that category's end.
    pub async fn update_task(
        &self,
        user_id: i64,
        task_id: i64,
        changes: TaskChanges,
    ) -> KanbanResult<Task> {
        let title = changes
            .title
            .as_deref()
            .map(|title| required_text(Field::Title, Some(title), MAX_TITLE_CHARS))
            .transpose()?;
        let description = optional_text(
            Field::Description,
            changes.description.as_deref(),
            MAX_DESCRIPTION_CHARS,
        )?;
        let due = due_date(changes.due_date.as_deref())?;
        let txn = self.begin().await?;
        let (_, task) = self.editable_task(&txn, user_id, task_id).await?;
        let moved = match changes.category_id.filter(|id| *id != task.category_id) {
            Some(category_id) => Some(Self::relocate(&txn, &task, category_id, None, None).await?),
            None => None,
        };
        let fields = TaskFields {
            title,
            description,
            due_date: changes.due_date.is_some().then_some(due),
        };
        let written = store::tasks::update_fields(&txn, task_id, fields, Utc::now()).await?;
        // A move knows the position it landed on; an edit in place counts
        // it (a rare path).
        let updated = match moved {
            Some(moved) => written.at(moved.position),
            None => store::tasks::by_id(&txn, task_id)
                .await?
                .ok_or(BoardError::TaskNotFound)?,
        };
        txn.commit().await?;
        Ok(updated)
    }

    /// Moves a task to another category and/or position (its owner and
    /// assignees), under the locks of [`Self::movable_task`]; when the task
    /// changed category meanwhile (a concurrent move took it across), again
    /// from the start, up to [`SHARED_MOVE_TRIES`] times in all, then under
    /// the board's exclusive lock, which no concurrent move can slip past.
    /// Tries under the shared lock leave the board's other writers at work,
    /// where the exclusive lock waits for all of them and holds up all
    /// that come after.
    pub async fn move_task(
        &self,
        user_id: i64,
        task_id: i64,
        category_id: Option<i64>,
        position: Option<i64>,
    ) -> KanbanResult<Task> {
        let index = landing_index(position);
        let mut tries = 0;
        let (txn, task, read) = loop {
            let txn = self.begin().await?;
            if tries == SHARED_MOVE_TRIES {
                let (_, task) = self.editable_task(&txn, user_id, task_id).await?;
                break (txn, task, None);
            }
            match self
                .movable_task(&txn, user_id, task_id, category_id, index)
                .await?
            {
                Some((_, task, read)) => break (txn, task, Some(read)),
                None => {
                    txn.rollback().await?;
                    tries += 1;
                }
            }
        };
        let category_id = category_id.unwrap_or(task.category_id);
        if category_id == task.category_id && position.is_none() {
            let what = &[Field::CategoryId, Field::Position];
            return Err(BoardError::OneOfRequired(what).into());
        }
        // The task as it now is, with the dense position it has there.
        let moved = Self::relocate(&txn, &task, category_id, position, read).await?;
        txn.commit().await?;
        Ok(moved)
    }

    /// Deletes a task (its owner and assignees): the others keep their
    /// ranks, and their positions close up when read; its category counts
    /// one task less (under the board's exclusive lock).
    pub async fn delete_task(&self, user_id: i64, task_id: i64) -> KanbanResult<()> {
        let txn = self.begin().await?;
        let (_, task) = self.editable_task(&txn, user_id, task_id).await?;
        if store::tasks::delete(&txn, task_id).await? {
            store::boards::uncount_task_in(&txn, task.category_id).await?;
        }
        txn.commit().await?;
        Ok(())
    }
}

/// How many times a move takes the board's lock in share mode, each time
/// finding its task moved to another category before it held the locks it
/// needed, before it takes the lock exclusively ([`Boards::move_task`]).
const SHARED_MOVE_TRIES: u32 = 3;

/// The row of a task the actor creates from `draft`, its fields checked.
fn new_task_row(
    actor: &Actor,
    organization_id: i64,
    category_id: i64,
    draft: &TaskDraft,
) -> Result<NewTaskRow, BoardError> {
    Ok(NewTaskRow {
        title: required_text(Field::Title, draft.title.as_deref(), MAX_TITLE_CHARS)?,
        description: optional_text(
            Field::Description,
            draft.description.as_deref(),
            MAX_DESCRIPTION_CHARS,
        )?,
        due_date: due_date(draft.due_date.as_deref())?,
        owner_id: actor.id,
        category_id,
        organization_id,
    })
}

/// Where a task lands in a category ([`Boards::rank_at`]).
#[derive(Debug, Clone, Copy)]
struct Landing {
    rank: i64,
    /// At the index asked for, within the category's other tasks.
    within: bool,
    /// After all of the category's other tasks.
    last: bool,
}

/// Ranks of a category read with the task a move locked
/// ([`Boards::movable_task`]): the first read of its neighbours, when it
/// looks there ([`Self::is`]).
#[derive(Debug)]
struct RanksRead {
    category_id: i64,
    window: RankWindow,
    ranks: Vec<i64>,
}

impl RanksRead {
    /// These are the ranks of `window` in `category_id`.
    fn is(&self, category_id: i64, window: RankWindow) -> bool {
        self.category_id == category_id && self.window == window
    }
}
