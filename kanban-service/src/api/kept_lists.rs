//! Lists kept as written, per version of what they show.
//!
//! A board's lists are read far more often than the board changes (every
//! client polls them, every member's browser reloads them), and writing
//! one is the service's dearest answer: a task list is two statements
//! over every card, then ~600 bytes of JSON a card. So each list is kept
//! as its written bytes, under the version of what it shows and the page,
//! and asked again with the same version it is answered with those bytes.
//!
//! - A task list's version is its board's (`BoardVersion`), read with the
//!   caller's membership on every request (`Boards::task_listing`, one
//!   statement).
//! - An organization list's version is the caller's organizations with
//!   each one's board version (`Boards::organization_listing`, one
//!   statement); it shows nothing of the caller, so members of the same
//!   organizations share it.
//!
//! Every change of what a list shows gives its board a new version in the
//! change's own transaction, so a change committed at any replica shows in
//! the next list read anywhere; a kept list is never older than the
//! version it is kept under (the version is read before the list). Askers
//! of one list not kept yet wait for the first to write it rather than all
//! writing it. Old versions' lists are never asked for again and go first
//! when the keep is full (`KANBAN_TASK_LIST_CACHE_BYTES`,
//! `KANBAN_ORGANIZATION_LIST_CACHE_BYTES`; 0 keeps none).

use std::future::Future;
use std::hash::Hash;

use quick_cache::Weighter;
use quick_cache::sync::Cache;
use shared::payload::Written;

use crate::boards::Page;

/// A list as answered: its body and its `X-Total-Count`.
pub struct ListAnswer<T> {
    pub body: Written<Vec<T>>,
    pub total: u64,
}

impl<T> Clone for ListAnswer<T> {
    fn clone(&self) -> Self {
        Self {
            body: self.body.clone(),
            total: self.total,
        }
    }
}

/// What a kept list weighs: its bytes and about what the keep spends on it.
#[derive(Clone)]
struct ByBytes;

/// The keep's own bytes per list (key, value and index).
const ENTRY_BYTES: u64 = 128;

impl<K, T> Weighter<(K, Page), ListAnswer<T>> for ByBytes {
    fn weight(&self, _key: &(K, Page), answer: &ListAnswer<T>) -> u64 {
        answer.body.size() as u64 + ENTRY_BYTES
    }
}

/// The written lists of one kind, of the process: `K` names a list and the
/// version of what it shows.
pub struct KeptLists<K, T> {
    /// `None`: nothing is kept (a budget of 0).
    kept: Option<Cache<(K, Page), ListAnswer<T>, ByBytes>>,
    /// The counter of answers kept and written.
    metric: &'static str,
}

impl<K, T> KeptLists<K, T>
where
    K: Eq + Hash + Clone + Send + Sync + 'static,
    T: Send + Sync + 'static,
{
    /// A keep of at most about `bytes` of written lists (0: none kept),
    /// most of them about `typical_bytes`; `metric` counts the answers.
    pub fn new(bytes: u64, typical_bytes: u64, metric: &'static str) -> Self {
        let kept = (bytes > 0).then(|| {
            let lists = (bytes / typical_bytes).max(16);
            Cache::with_weighter(lists as usize, bytes, ByBytes)
        });
        Self { kept, metric }
    }

    /// The `page` of the list `key` names, as kept, or as `write` writes
    /// it now (then kept). A list with no key is written each time.
    pub async fn answer<E, Fut>(
        &self,
        key: Option<K>,
        page: Page,
        write: impl FnOnce() -> Fut,
    ) -> Result<ListAnswer<T>, E>
    where
        Fut: Future<Output = Result<ListAnswer<T>, E>>,
    {
        let (Some(kept), Some(key)) = (self.kept.as_ref(), key) else {
            return write().await;
        };
        match kept.get_value_or_guard_async(&(key, page)).await {
            Ok(answer) => {
                metrics::counter!(self.metric, "answer" => "kept").increment(1);
                Ok(answer)
            }
            Err(placeholder) => {
                // On an error the placeholder goes with no value, and the
                // next asker waiting for it writes the list instead.
                let answer = write().await?;
                metrics::counter!(self.metric, "answer" => "written").increment(1);
                if answer.body.is_written() {
                    let _ = placeholder.insert(answer.clone());
                }
                Ok(answer)
            }
        }
    }
}
