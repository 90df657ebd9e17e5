//! Accounts kept in memory for `me`.
//!
//! Every frontend asks for the current user on every page it loads, and
//! the account changes rarely: its names, its standing, its role, its
//! verified address. So `me` answers from a copy of the account's row kept
//! here, read from the database when there is none. Every change of what
//! `me` shows records an `accountChanged` fact on the revocation feed in
//! its own transaction; the replica that made it forgets its copy once
//! the change commits, and every other replica when its feed follower
//! hears the fact (a new snapshot of the feed forgets every copy, as
//! changes may have gone unheard). A replica whose feed is late beyond the
//! staleness bound refuses every token, so no copy older than that bound
//! is ever answered. Copies also live at most `AUTH_ACCOUNT_CACHE_TTL`,
//! for changes made to the database by hand.
//!
//! A read that races a change cannot keep what it read before the change:
//! each forgetting moves a generation on, and a read keeps its copy only
//! if the generation it started under is still the current one once its
//! copy is in (otherwise it takes it out again).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use quick_cache::sync::Cache;
use shared::revocation::AccountEvents;

use crate::entity::user;

/// Where a read of an account started: see [`KeptAccounts::keep`].
#[derive(Debug, Clone, Copy)]
pub struct ReadStart(u64);

pub struct KeptAccounts {
    /// `None` when nothing is kept (`AUTH_ACCOUNT_CACHE_ENTRIES=0`).
    copies: Option<Cache<i64, Copy>>,
    ttl: Duration,
    /// Moves on with every forgetting.
    generation: AtomicU64,
}

#[derive(Clone)]
struct Copy {
    user: user::Model,
    read_at: Instant,
}

impl KeptAccounts {
    /// Keeps up to `entries` accounts (none when 0 or when `ttl` is zero),
    /// each for at most `ttl`.
    pub fn new(entries: usize, ttl: Duration) -> Self {
        let copies = (entries > 0 && !ttl.is_zero()).then(|| Cache::new(entries));
        Self {
            copies,
            ttl,
            generation: AtomicU64::new(0),
        }
    }

    /// The kept copy of the account, if there is one young enough.
    pub fn get(&self, id: i64) -> Option<user::Model> {
        let copy = self.copies.as_ref()?.get(&id)?;
        (copy.read_at.elapsed() < self.ttl).then_some(copy.user)
    }

    /// Call before reading an account that may be kept.
    pub fn read_start(&self) -> ReadStart {
        ReadStart(self.generation.load(Ordering::SeqCst))
    }

    /// Keeps what a read begun at `start` found, unless something was
    /// forgotten since it began.
    pub fn keep(&self, start: ReadStart, user: &user::Model) {
        let Some(copies) = &self.copies else {
            return;
        };
        let id = user.id;
        // `me` shows no password: its hash stays out of the copies.
        let user = user::Model {
            password_hash: None,
            ..user.clone()
        };
        copies.insert(
            id,
            Copy {
                user,
                read_at: Instant::now(),
            },
        );
        if self.generation.load(Ordering::SeqCst) != start.0 {
            copies.remove(&id);
        }
    }

    /// The account changed: its copy goes.
    pub fn forget(&self, id: i64) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        if let Some(copies) = &self.copies {
            copies.remove(&id);
        }
    }

    /// Every copy goes.
    pub fn forget_all(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        if let Some(copies) = &self.copies {
            copies.clear();
        }
    }
}

impl AccountEvents for KeptAccounts {
    fn account_changed(&self, user_id: &str) {
        match user_id.parse() {
            Ok(id) => self.forget(id),
            Err(_) => self.forget_all(),
        }
    }

    fn all_changed(&self) {
        self.forget_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entity::user::{AccountStatus, StoredRole};

    fn account(id: i64, first_name: &str) -> user::Model {
        let now = chrono::Utc::now();
        user::Model {
            id,
            email: Some(format!("u{id}@example.com")),
            username: None,
            first_name: first_name.to_owned(),
            last_name: String::new(),
            password_hash: None,
            role: StoredRole::User,
            status: AccountStatus::Active,
            banned_until: None,
            ban_reason: None,
            email_verified_at: None,
            not_before: None,
            google_subject: None,
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn a_read_is_kept_until_its_account_changes() {
        let kept = KeptAccounts::new(10, Duration::from_secs(60));
        let start = kept.read_start();
        kept.keep(start, &account(1, "Ada"));
        kept.keep(kept.read_start(), &account(2, "Bob"));
        assert_eq!(kept.get(1).map(|user| user.first_name), Some("Ada".into()));
        kept.forget(1);
        assert!(kept.get(1).is_none());
        assert!(kept.get(2).is_some(), "another account stays");
        kept.account_changed("2");
        assert!(kept.get(2).is_none());
    }

    #[test]
    fn a_read_begun_before_a_change_is_not_kept() {
        let kept = KeptAccounts::new(10, Duration::from_secs(60));
        let start = kept.read_start();
        // The change commits and is heard while the read is under way.
        kept.forget(1);
        kept.keep(start, &account(1, "old name"));
        assert!(kept.get(1).is_none());
        // A new snapshot of the feed forgets every copy.
        kept.keep(kept.read_start(), &account(1, "new name"));
        let start = kept.read_start();
        kept.all_changed();
        assert!(kept.get(1).is_none());
        kept.keep(start, &account(2, "read before the snapshot"));
        assert!(kept.get(2).is_none());
    }

    #[test]
    fn copies_age_out_and_none_are_kept_when_switched_off() {
        let kept = KeptAccounts::new(10, Duration::from_millis(1));
        kept.keep(kept.read_start(), &account(1, "Ada"));
        std::thread::sleep(Duration::from_millis(5));
        assert!(kept.get(1).is_none());
        let none = KeptAccounts::new(0, Duration::from_secs(60));
        none.keep(none.read_start(), &account(1, "Ada"));
        assert!(none.get(1).is_none());
    }
}
