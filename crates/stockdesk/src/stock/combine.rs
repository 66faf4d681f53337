//! Orders of one variant that arrive while that variant is being reserved wait for that turn and
//! then go in together: one statement and one commit for all of them instead of one each.
//!
//! The row of a variant in demand is what all its buyers queue on, one commit after another;
//! fewer, larger turns at it are what makes a rush on one item fast (group commit). Nothing is
//! traded for it: orders are served first come, first served; each buyer hears that it has its
//! stock only once that is committed; a buyer not served looks again, so a refusal still comes
//! from a look at committed stock. Only orders of a single variant without an op id come here;
//! the rest take a transaction of their own.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;
use tracing::Instrument;
use uuid::Uuid;

use super::model::Order;
use super::repo;
use crate::store::Store;

/// Orders one turn takes at most (its statement carries about 30 values per order).
const MAX_BATCH: usize = 64;

/// What became of an order handed to `Combiner::reserve`.
pub enum Outcome {
    Served,
    /// The variant did not have its units when its turn came (or it is gone): look again.
    NotServed,
    /// The turn failed as a whole (a database error): try it alone, to get its own answer.
    Failed,
}

/// The orders waiting per variant. A variant has an entry exactly while a turn-taker runs for it.
#[derive(Default)]
pub struct Combiner {
    waiting: Mutex<HashMap<Uuid, Vec<Waiting>>>,
}

struct Waiting {
    order: Order,
    reply: oneshot::Sender<(Order, Outcome)>,
}

impl Combiner {
    /// Reserves `order` (all of `variant_id`) in the variant's next turn. None if the turn-taker
    /// went away without answering (the runtime is shutting down): treat as not served.
    pub async fn reserve(
        self: &Arc<Self>,
        store: &Store,
        variant_id: Uuid,
        order: Order,
    ) -> Option<(Order, Outcome)> {
        let (reply, answer) = oneshot::channel();
        let start = {
            let mut waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
            let w = Waiting { order, reply };
            // No entry: nobody is taking turns for this variant, so this caller starts a
            // turn-taker, which runs until the queue is empty. It is a task of its own so that
            // a caller that gives up cannot strand the others.
            match waiting.entry(variant_id) {
                Entry::Occupied(mut queue) => {
                    queue.get_mut().push(w);
                    false
                }
                Entry::Vacant(slot) => {
                    slot.insert(vec![w]);
                    true
                }
            }
        };
        if start {
            let span = tracing::debug_span!("reserve_turns", %variant_id);
            tokio::spawn(self.clone().take_turns(store.clone(), variant_id).instrument(span));
        }
        answer.await.ok()
    }

    async fn take_turns(self: Arc<Self>, store: Store, variant_id: Uuid) {
        loop {
            let turn: Vec<Waiting> = {
                let mut waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
                let Some(queue) = waiting.get_mut(&variant_id) else {
                    return;
                };
                if queue.is_empty() {
                    waiting.remove(&variant_id);
                    return;
                }
                let n = queue.len().min(MAX_BATCH);
                queue.drain(..n).collect()
            };
            let orders: Vec<&Order> = turn.iter().map(|w| &w.order).collect();
            let result = repo::reserve_for_variant(&store, variant_id, &orders).await;
            if let Err(e) = &result {
                tracing::debug!(error = %e, orders = turn.len(), "a reservation turn failed");
            }
            for w in turn {
                let outcome = match &result {
                    Ok(served) if served.contains(&w.order.id) => Outcome::Served,
                    Ok(_) => Outcome::NotServed,
                    Err(_) => Outcome::Failed,
                };
                // A caller that gave up no longer listens; its order was written or not like any.
                let _ = w.reply.send((w.order, outcome));
            }
        }
    }
}
