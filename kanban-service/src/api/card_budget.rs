//! How many cards the service holds for answers at once.
//!
//! A list of cards is in memory several times over while it is answered
//! (the rows, the cards, their views, then the bytes): about 2 KiB a card
//! at its peak. Thirty-two clients listing 1,000-card boards at once would
//! hold some 64 MiB between them. So every card list reserves room for the
//! cards it may answer (its `limit`) from one budget before it reads, keeps
//! room only for those it found, and gives it back once its body is
//! written: beyond the budget, lists wait for room instead of growing the
//! process. The CPU bounds how fast lists are answered anyway; the budget
//! only decides how many are half-built at once.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Room for cards being answered, shared by every request of the process.
pub struct CardBudget {
    room: Arc<Semaphore>,
    cards: usize,
}

impl CardBudget {
    /// A budget of `cards` (at least one).
    pub fn new(cards: usize) -> Self {
        let cards = cards.max(1);
        Self {
            room: Arc::new(Semaphore::new(cards)),
            cards,
        }
    }

    /// Waits for room for `cards` (at most the whole budget, so a list
    /// larger than the budget waits for all of it rather than forever).
    pub async fn reserve(&self, cards: u64) -> Reservation {
        let wanted = usize::try_from(cards)
            .unwrap_or(usize::MAX)
            .clamp(1, self.cards);
        let permits = u32::try_from(wanted).unwrap_or(u32::MAX);
        Reservation {
            // The semaphore is never closed, so this waits and then succeeds.
            permit: self.room.clone().acquire_many_owned(permits).await.ok(),
        }
    }

    /// Room no list holds now.
    pub fn available(&self) -> usize {
        self.room.available_permits()
    }
}

/// Room held for one answer; given back when dropped.
pub struct Reservation {
    permit: Option<OwnedSemaphorePermit>,
}

impl Reservation {
    /// Keeps room for `cards` only and gives the rest back at once: a list
    /// reserves for its `limit` before it knows how many cards it finds.
    pub fn keep(&mut self, cards: usize) {
        if let Some(permit) = &mut self.permit {
            let spare = permit.num_permits().saturating_sub(cards.max(1));
            drop(permit.split(spare));
        }
    }

    /// The room this reservation holds.
    pub fn cards(&self) -> usize {
        self.permit
            .as_ref()
            .map_or(0, OwnedSemaphorePermit::num_permits)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    const SOON: Duration = Duration::from_millis(50);

    #[tokio::test]
    async fn lists_beyond_the_budget_wait_until_room_is_given_back() {
        let budget = CardBudget::new(1500);
        let mut first = budget.reserve(1000).await;
        assert_eq!(first.cards(), 1000);
        assert_eq!(budget.available(), 500);

        let second = tokio::time::timeout(SOON, budget.reserve(1000)).await;
        assert!(second.is_err(), "only 500 cards of room were left");

        // The first list found 200 cards: the rest of its room is free at once.
        first.keep(200);
        assert_eq!(first.cards(), 200);
        let second = tokio::time::timeout(SOON, budget.reserve(1000))
            .await
            .expect("1,300 cards of room were free");
        assert_eq!(budget.available(), 300);

        drop(first);
        drop(second);
        assert_eq!(budget.available(), 1500);
    }

    #[tokio::test]
    async fn a_list_larger_than_the_budget_takes_all_of_it_and_an_empty_one_still_one_card() {
        let budget = CardBudget::new(100);
        let mut whole = budget.reserve(1000).await;
        assert_eq!(whole.cards(), 100);
        assert_eq!(budget.available(), 0);
        whole.keep(0);
        assert_eq!(whole.cards(), 1);
        assert_eq!(budget.available(), 99);
        whole.keep(50);
        assert_eq!(whole.cards(), 1, "keeping never takes room back");
    }
}
