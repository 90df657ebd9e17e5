//! The live revocation facts of one verifier, in memory.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

use super::{Fact, FactKind, RevocationCheck, RevocationError};
use crate::claims::AccessClaims;

#[derive(Default)]
struct Live {
    /// `jti` → expiry.
    tokens: HashMap<String, i64>,
    /// `sid` → expiry.
    sessions: HashMap<String, i64>,
    /// user id → (not-before instant, expiry).
    not_before: HashMap<String, (i64, i64)>,
}

impl Live {
    fn add(&mut self, fact: &Fact) {
        let expires_at = fact.expires_at;
        match fact.kind {
            FactKind::Token => {
                let entry = self.tokens.entry(fact.subject.clone()).or_insert(0);
                *entry = (*entry).max(expires_at);
            }
            FactKind::Session => {
                let entry = self.sessions.entry(fact.subject.clone()).or_insert(0);
                *entry = (*entry).max(expires_at);
            }
            FactKind::NotBefore => {
                let at = fact.at.unwrap_or(i64::MAX);
                let entry = self
                    .not_before
                    .entry(fact.subject.clone())
                    .or_insert((at, expires_at));
                *entry = (entry.0.max(at), entry.1.max(expires_at));
            }
            // Key facts are acted on by the key source, account facts by
            // whoever keeps accounts; none is kept here.
            FactKind::KeyRevoked | FactKind::KeysChanged | FactKind::AccountChanged => {}
        }
    }

    fn prune(&mut self, now: i64) {
        self.tokens.retain(|_, expires| *expires > now);
        self.sessions.retain(|_, expires| *expires > now);
        self.not_before.retain(|_, (_, expires)| *expires > now);
    }

    fn len(&self) -> usize {
        self.tokens.len() + self.sessions.len() + self.not_before.len()
    }
}

/// The revocation facts a verifier knows, and whether it knows they are
/// current. Checks are a few hash look-ups under a read lock.
pub struct RevocationSet {
    live: RwLock<Live>,
    /// False until the first snapshot, and again when the feed lost data.
    current: AtomicBool,
    /// When the feed last answered, in milliseconds since `epoch`.
    heard_ms: AtomicU64,
    epoch: Instant,
    staleness: Duration,
}

impl RevocationSet {
    /// `staleness`: how long the set counts as current after the feed last
    /// answered.
    pub fn new(staleness: Duration) -> Self {
        Self {
            live: RwLock::new(Live::default()),
            current: AtomicBool::new(false),
            heard_ms: AtomicU64::new(0),
            epoch: Instant::now(),
            staleness,
        }
    }

    fn read(&self) -> RwLockReadGuard<'_, Live> {
        self.live
            .read()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Live> {
        self.live
            .write()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// Adds facts (from the feed, or written by this very process).
    pub fn apply(&self, facts: &[Fact]) {
        if facts.is_empty() {
            return;
        }
        let mut live = self.write();
        for fact in facts {
            live.add(fact);
        }
    }

    /// Replaces everything with a snapshot, and counts as current from now.
    pub fn replace(&self, facts: &[Fact]) {
        let mut fresh = Live::default();
        for fact in facts {
            fresh.add(fact);
        }
        *self.write() = fresh;
        self.heard();
        self.current.store(true, Ordering::Release);
    }

    /// The feed answered: the set is current as of now.
    pub fn heard(&self) {
        let ms = self.epoch.elapsed().as_millis() as u64;
        self.heard_ms.store(ms, Ordering::Release);
    }

    /// The feed's store lost data: nothing is current until a new snapshot.
    pub fn lost(&self) {
        self.current.store(false, Ordering::Release);
    }

    /// Forgets facts whose tokens have all expired.
    pub fn prune(&self, now: i64) {
        self.write().prune(now);
    }

    /// How many facts are live.
    pub fn len(&self) -> usize {
        self.read().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn silent_for(&self) -> Duration {
        let heard = self.heard_ms.load(Ordering::Acquire);
        let now = self.epoch.elapsed().as_millis() as u64;
        Duration::from_millis(now.saturating_sub(heard))
    }
}

impl RevocationCheck for RevocationSet {
    fn check(&self, claims: &AccessClaims) -> Result<(), RevocationError> {
        if !self.is_current() {
            return Err(RevocationError::Unavailable);
        }
        let live = self.read();
        let revoked = live.tokens.contains_key(&claims.jti)
            || live.sessions.contains_key(&claims.sid)
            || live
                .not_before
                .get(&claims.sub)
                .is_some_and(|(at, _)| claims.iat < *at);
        if revoked {
            Err(RevocationError::Revoked)
        } else {
            Ok(())
        }
    }

    fn check_token_id(&self, jti: &str) -> Result<(), RevocationError> {
        if !self.is_current() {
            return Err(RevocationError::Unavailable);
        }
        if self.read().tokens.contains_key(jti) {
            Err(RevocationError::Revoked)
        } else {
            Ok(())
        }
    }

    fn is_current(&self) -> bool {
        self.current.load(Ordering::Acquire) && self.silent_for() <= self.staleness
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::{Role, TokenType};

    fn claims(sub: &str, sid: &str, jti: &str, iat: i64) -> AccessClaims {
        AccessClaims {
            iss: "iss".into(),
            aud: "aud".into(),
            sub: sub.into(),
            exp: iat + 900,
            iat,
            jti: jti.into(),
            sid: sid.into(),
            role: Role::User,
            email: None,
            name: None,
            typ: TokenType::Access,
            expiration: None,
        }
    }

    #[test]
    fn unknown_until_the_first_snapshot_then_checks_each_kind_of_fact() {
        let set = RevocationSet::new(Duration::from_secs(60));
        let token = claims("7", "s1", "j1", 1000);
        assert_eq!(set.check(&token), Err(RevocationError::Unavailable));
        set.replace(&[]);
        assert_eq!(set.check(&token), Ok(()));

        set.apply(&[Fact::token("j1", 2000)]);
        assert_eq!(set.check(&token), Err(RevocationError::Revoked));
        assert_eq!(set.check(&claims("7", "s1", "j2", 1000)), Ok(()));

        set.apply(&[Fact::session("s1", 2000)]);
        assert_eq!(
            set.check(&claims("7", "s1", "j2", 1000)),
            Err(RevocationError::Revoked)
        );

        set.apply(&[Fact::not_before("8", 1500, 3000)]);
        assert_eq!(
            set.check(&claims("8", "s2", "j3", 1499)),
            Err(RevocationError::Revoked)
        );
        assert_eq!(set.check(&claims("8", "s2", "j3", 1500)), Ok(()));
        // A later not-before wins; an earlier one never lowers it.
        set.apply(&[Fact::not_before("8", 1200, 3000)]);
        assert_eq!(
            set.check(&claims("8", "s2", "j3", 1499)),
            Err(RevocationError::Revoked)
        );
    }

    #[test]
    fn prune_forgets_expired_facts_and_lost_data_is_never_current() {
        let set = RevocationSet::new(Duration::from_secs(60));
        set.replace(&[Fact::token("a", 10), Fact::session("b", 30)]);
        assert_eq!(set.len(), 2);
        set.prune(20);
        assert_eq!(set.len(), 1);
        set.lost();
        assert!(!set.is_current());
        set.replace(&[]);
        assert!(set.is_current());
    }

    #[test]
    fn silence_past_the_staleness_bound_is_not_current() {
        let set = RevocationSet::new(Duration::from_millis(30));
        set.replace(&[]);
        assert!(set.is_current());
        std::thread::sleep(Duration::from_millis(60));
        assert!(!set.is_current());
        set.heard();
        assert!(set.is_current());
    }
}
