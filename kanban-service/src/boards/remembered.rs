//! What this process has recorded of its actors' tokens, so that a user's
//! next change with the same token does not record the same again.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use chrono::{DateTime, Utc};

use super::Actor;

/// How many actors are kept; when one more comes, the record starts again
/// empty (a few hundred KiB at most).
const CAPACITY: usize = 4096;

/// What a token said of its user, as recorded.
#[derive(PartialEq, Eq)]
struct Claims {
    name: String,
    email: Option<String>,
    as_of: DateTime<Utc>,
}

/// The claims last recorded (and committed) for each actor. Recording
/// claims leaves the user's copy as of their time or later
/// (`store::users::remember`), so recording the very same claims again
/// would change nothing, whatever happened since: they can be skipped.
#[derive(Default)]
pub(super) struct Remembered {
    actors: Mutex<HashMap<i64, Claims>>,
}

impl Remembered {
    /// Whether exactly what `actor` says was recorded before.
    pub(super) fn knows(&self, actor: &Actor) -> bool {
        let actors = self.actors.lock().unwrap_or_else(PoisonError::into_inner);
        actors.get(&actor.id).is_some_and(|claims| {
            claims.as_of == actor.as_of && claims.name == actor.name && claims.email == actor.email
        })
    }

    /// What `actor` says is recorded: call once the transaction that
    /// recorded it has committed.
    pub(super) fn learn(&self, actor: &Actor) {
        let mut actors = self.actors.lock().unwrap_or_else(PoisonError::into_inner);
        if actors.len() >= CAPACITY && !actors.contains_key(&actor.id) {
            actors.clear();
        }
        actors.insert(
            actor.id,
            Claims {
                name: actor.name.clone(),
                email: actor.email.clone(),
                as_of: actor.as_of,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(id: i64, name: &str, email: Option<&str>, at: i64) -> Actor {
        Actor {
            id,
            email: email.map(str::to_owned),
            name: name.to_owned(),
            as_of: DateTime::from_timestamp(at, 0).unwrap(),
        }
    }

    #[test]
    fn knows_only_the_very_claims_it_learned() {
        let remembered = Remembered::default();
        let ann = actor(1, "Ann", Some("ann@mail.com"), 100);
        assert!(!remembered.knows(&ann));
        remembered.learn(&ann);
        assert!(remembered.knows(&ann));
        for other in [
            actor(1, "Anna", Some("ann@mail.com"), 100),
            actor(1, "Ann", Some("anna@mail.com"), 100),
            actor(1, "Ann", None, 100),
            actor(1, "Ann", Some("ann@mail.com"), 101),
            actor(2, "Ann", Some("ann@mail.com"), 100),
        ] {
            assert!(!remembered.knows(&other), "{other:?}");
        }
        let newer = actor(1, "Anna", Some("ann@mail.com"), 200);
        remembered.learn(&newer);
        assert!(remembered.knows(&newer));
        assert!(!remembered.knows(&ann), "one entry per actor, the latest");
    }

    #[test]
    fn starts_again_empty_when_full() {
        let remembered = Remembered::default();
        let ids = 0..i64::try_from(CAPACITY).unwrap();
        for id in ids.clone() {
            remembered.learn(&actor(id, "A", None, 1));
        }
        assert!(
            ids.clone()
                .all(|id| remembered.knows(&actor(id, "A", None, 1)))
        );
        remembered.learn(&actor(0, "B", None, 2));
        assert!(
            remembered.knows(&actor(1, "A", None, 1)),
            "a known actor replaces its entry"
        );
        remembered.learn(&actor(-1, "A", None, 1));
        assert!(remembered.knows(&actor(-1, "A", None, 1)));
        assert!(
            !remembered.knows(&actor(1, "A", None, 1)),
            "cleared when full"
        );
    }
}
