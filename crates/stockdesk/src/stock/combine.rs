//! Orders of one variant that arrive while that variant is being reserved wait for that turn and
//! then go in together: one statement and one commit for all of them instead of one each.
//!
//! The row of a variant in demand is what all its buyers queue on, one commit after another;
//! fewer, larger turns at it are what makes a rush on one item fast (group commit). Nothing is
//! traded for it: orders are served first come, first served; each buyer hears that it has its
//! stock only once that is committed; a buyer not served looks again, so a refusal still comes
//! from a look at committed stock. Only orders of a single variant without an op id come here;
//! the rest take a transaction of their own.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;
use tracing::Instrument;
use uuid::Uuid;

use super::model::Order;
use super::repo;
use crate::store::{Conn, Store};

/// Orders one turn takes at most (its statement carries about 30 values per order).
const MAX_TURN: usize = 64;

/// What became of an order handed to `Combiner::reserve`.
pub enum Outcome {
    Served,
    /// The variant did not have the units when its turn came (or it is gone): look again.
    NotServed,
    /// The turn failed as a whole (a database error): try it alone, to get its own answer.
    Failed,
}

/// The orders waiting, per variant. A variant has an entry exactly while its turn-taker runs.
#[derive(Default)]
pub struct Combiner {
    waiting: Mutex<HashMap<Uuid, Vec<Waiting>>>,
}

struct Waiting {
    order: Order,
    reply: oneshot::Sender<(Order, Outcome)>,
}

impl Combiner {
    /// Reserves `order` (of `variant_id` only) in the variant's next turn. `conn` is the caller's
    /// connection: the first caller hands it to the variant's turn-taker, which keeps it, so the
    /// turns never queue for the pool behind the buyers; the others give it back to the pool.
    /// None if the turn-taker went away without answering (the runtime is shutting down).
    pub async fn reserve(
        self: &Arc<Self>,
        conn: Conn,
        store: &Store,
        variant_id: Uuid,
        order: Order,
    ) -> Option<(Order, Outcome)> {
        let (reply, answer) = oneshot::channel();
        let first = {
            let mut waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
            let first = !waiting.contains_key(&variant_id);
            waiting
                .entry(variant_id)
                .or_default()
                .push(Waiting { order, reply });
            first
        };
        if first {
            // A task of its own, so that a caller that gives up cannot strand the others.
            let span = tracing::debug_span!("reserve_turns", %variant_id);
            let turns = self.clone().take_turns(conn, store.clone(), variant_id);
            tokio::spawn(turns.instrument(span));
        } else {
            drop(conn);
        }
        answer.await.ok()
    }

    /// Takes turns until nobody is waiting for the variant.
    async fn take_turns(self: Arc<Self>, mut conn: Conn, store: Store, variant_id: Uuid) {
        loop {
            let turn = self.take(variant_id, MAX_TURN);
            if turn.is_empty() {
                return;
            }
            let orders: Vec<&Order> = turn.iter().map(|w| &w.order).collect();
            let result = repo::reserve_for_variant(&mut conn, variant_id, &orders).await;
            let ran_out = matches!(&result, Ok(served) if served.len() < turn.len());
            for w in turn {
                let outcome = match &result {
                    Ok(served) if served.contains(&w.order.id) => Outcome::Served,
                    Ok(_) => Outcome::NotServed,
                    Err(_) => Outcome::Failed,
                };
                // A caller that gave up no longer listens; its order was written or not like any.
                let _ = w.reply.send((w.order, outcome));
            }
            if ran_out {
                // The variant ran out in this turn: the orders that queued meanwhile look again
                // instead of taking a turn (most will find it sold out; one that still fits
                // comes back and is served in a later turn).
                for w in self.behind(variant_id) {
                    let _ = w.reply.send((w.order, Outcome::NotServed));
                }
            }
            if let Err(e) = result {
                tracing::debug!(error = %e, "a reservation turn failed; next turn on a new connection");
                drop(conn);
                match store.conn().await {
                    Ok(fresh) => conn = fresh,
                    Err(_) => {
                        // No connection to take turns on: the waiting orders try alone, and
                        // whoever comes next starts a new turn-taker.
                        for w in self.close(variant_id) {
                            let _ = w.reply.send((w.order, Outcome::Failed));
                        }
                        return;
                    }
                }
            }
        }
    }

    /// All the variant's waiting orders, leaving its (empty) queue in place: the turn-taker goes
    /// on.
    fn behind(&self, variant_id: Uuid) -> Vec<Waiting> {
        let mut waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        waiting
            .get_mut(&variant_id)
            .map(std::mem::take)
            .unwrap_or_default()
    }

    /// Ends the variant's turn-taking; returns the orders still waiting.
    fn close(&self, variant_id: Uuid) -> Vec<Waiting> {
        let mut waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        waiting.remove(&variant_id).unwrap_or_default()
    }

    /// Up to `n` of the variant's waiting orders, oldest first; none means the turn-taker ends
    /// (its entry is removed under the same lock, so a newcomer starts a new one).
    fn take(&self, variant_id: Uuid, n: usize) -> Vec<Waiting> {
        let mut waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        let Some(queue) = waiting.get_mut(&variant_id) else {
            return Vec::new();
        };
        if queue.is_empty() {
            waiting.remove(&variant_id);
            return Vec::new();
        }
        let n = queue.len().min(n);
        queue.drain(..n).collect()
    }
}
