//! Task lists kept as written, per board version.
//!
//! A board's list is read far more often than the board changes (every
//! client polls it, every member's browser reloads it), and writing one is
//! the service's dearest answer: two statements over every card, then
//! ~600 bytes of JSON a card. So each list is kept as its written bytes,
//! under the board's version (`BoardVersion`) and the list's criteria and
//! page, and asked again with the same version it is answered with those
//! bytes. The version is read with the caller's membership on every
//! request (`Boards::task_listing`, one statement), and every change of
//! what a list shows gives the board a new one in the change's own
//! transaction, so a change committed at any replica shows in the next
//! list read anywhere; a kept list is never older than the version it is
//! kept under (the version is read before the cards). Askers of one list
//! not kept yet wait for the first to write it rather than all writing it.
//! Old versions' lists are never asked for again and go first when the
//! keep is full (`KANBAN_TASK_LIST_CACHE_BYTES`; 0 keeps none).

use std::future::Future;

use quick_cache::Weighter;
use quick_cache::sync::Cache;
use shared::payload::Written;

use super::views::TaskCardView;
use crate::boards::{Page, TaskListing};

/// A list as answered: its body and its `X-Total-Count`.
#[derive(Clone)]
pub struct TaskListAnswer {
    pub body: Written<Vec<TaskCardView>>,
    pub total: u64,
}

/// Which list, of which version of its board.
#[derive(Clone, PartialEq, Eq, Hash)]
struct ListKey {
    listing: TaskListing,
    page: Page,
}

/// What a kept list weighs: its bytes and about what the keep spends on it.
#[derive(Clone)]
struct ByBytes;

/// The keep's own bytes per list (key, value and index).
const ENTRY_BYTES: u64 = 128;

/// The typical written list (a board of ~200 cards), to size the index.
const TYPICAL_LIST_BYTES: u64 = 64 * 1024;

impl Weighter<ListKey, TaskListAnswer> for ByBytes {
    fn weight(&self, _key: &ListKey, answer: &TaskListAnswer) -> u64 {
        answer.body.size() as u64 + ENTRY_BYTES
    }
}

/// The written lists of the process.
pub struct TaskLists {
    /// `None`: nothing is kept (a budget of 0).
    kept: Option<Cache<ListKey, TaskListAnswer, ByBytes>>,
}

impl TaskLists {
    /// A keep of at most about `bytes` of written lists (0: none kept).
    pub fn new(bytes: u64) -> Self {
        let kept = (bytes > 0).then(|| {
            let lists = (bytes / TYPICAL_LIST_BYTES).max(16);
            Cache::with_weighter(lists as usize, bytes, ByBytes)
        });
        Self { kept }
    }

    /// The `listing`'s `page` as kept for its board's version, or as
    /// `write` writes it now (then kept). Lists of no board (criteria on
    /// different boards) are written each time: they are empty.
    pub async fn answer<E, Fut>(
        &self,
        listing: TaskListing,
        page: Page,
        write: impl FnOnce() -> Fut,
    ) -> Result<TaskListAnswer, E>
    where
        Fut: Future<Output = Result<TaskListAnswer, E>>,
    {
        let Some(kept) = self.kept.as_ref().filter(|_| listing.version().is_some()) else {
            return write().await;
        };
        let key = ListKey { listing, page };
        match kept.get_value_or_guard_async(&key).await {
            Ok(answer) => {
                metrics::counter!(shared::metrics::TASK_LISTS, "answer" => "kept").increment(1);
                Ok(answer)
            }
            Err(placeholder) => {
                // On an error the placeholder goes with no value, and the
                // next asker waiting for it writes the list instead.
                let answer = write().await?;
                metrics::counter!(shared::metrics::TASK_LISTS, "answer" => "written").increment(1);
                if answer.body.is_written() {
                    let _ = placeholder.insert(answer.clone());
                }
                Ok(answer)
            }
        }
    }
}
