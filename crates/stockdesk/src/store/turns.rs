//! Group commit at one row: writes of the same key (the orders of one variant) that arrive while
//! that key is being written wait for that turn and then go in together — one statement and one
//! commit for all of them instead of one each.
//!
//! The row of a variant in demand is what all its buyers queue on, one commit after another;
//! fewer, larger turns at it are what makes a rush on one item fast. Nothing is traded for it:
//! items are served first come, first served; each caller hears that its write is done only once
//! it is committed; a caller not served looks again, so a refusal still comes from a look at
//! committed data. What a turn writes is the caller's (`TurnFn`); this module only queues.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;
use tokio::sync::oneshot;
use tracing::Instrument;
use uuid::Uuid;

use crate::error::Result;
use crate::store::{Conn, Store};

/// Items one turn takes at most (an order's statement carries about 30 values per order).
const MAX_TURN: usize = 64;

/// Something written in a turn: it has an id that the turn reports as served or not.
pub trait TurnItem: Send + Sync + 'static {
    fn turn_id(&self) -> Uuid;
}

/// One turn's write: the items of `key`, in arrival order, on the turn-taker's connection;
/// returns the ids of the items it served (wrote and committed).
pub type TurnFn<T> =
    for<'a> fn(&'a mut Conn, Uuid, &'a [&'a T]) -> BoxFuture<'a, Result<BTreeSet<Uuid>>>;

/// What became of an item handed to `Turns::take_turn`.
pub enum Outcome {
    Served,
    /// The key had no room for it when its turn came (or it is gone): look again.
    NotServed,
    /// The turn failed as a whole (a database error): try it alone, to get its own answer.
    Failed,
}

/// The items waiting, per key. A key has an entry exactly while its turn-taker runs.
pub struct Turns<T> {
    waiting: Mutex<HashMap<Uuid, Vec<Waiting<T>>>>,
}

impl<T> Default for Turns<T> {
    fn default() -> Self {
        Turns {
            waiting: Mutex::default(),
        }
    }
}

struct Waiting<T> {
    item: T,
    reply: oneshot::Sender<(T, Outcome)>,
}

impl<T: TurnItem> Turns<T> {
    /// Writes `item` (of `key` only) in the key's next turn. `conn` is the caller's connection:
    /// the first caller hands it to the key's turn-taker, which keeps it, so the turns never queue
    /// for the pool behind the callers; the others give it back to the pool. None if the
    /// turn-taker went away without answering (the runtime is shutting down).
    pub async fn take_turn(
        self: &Arc<Self>,
        conn: Conn,
        store: &Store,
        key: Uuid,
        item: T,
        write: TurnFn<T>,
    ) -> Option<(T, Outcome)> {
        let (reply, answer) = oneshot::channel();
        let first = {
            let mut waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
            let first = !waiting.contains_key(&key);
            waiting
                .entry(key)
                .or_default()
                .push(Waiting { item, reply });
            first
        };
        if first {
            // A task of its own, so that a caller that gives up cannot strand the others.
            let span = tracing::debug_span!("turns", %key);
            let turns = self.clone().take_turns(conn, store.clone(), key, write);
            tokio::spawn(turns.instrument(span));
        } else {
            drop(conn);
        }
        answer.await.ok()
    }

    /// Takes turns until nobody is waiting for the key.
    async fn take_turns(
        self: Arc<Self>,
        mut conn: Conn,
        store: Store,
        key: Uuid,
        write: TurnFn<T>,
    ) {
        loop {
            let turn = self.take(key, MAX_TURN);
            if turn.is_empty() {
                return;
            }
            let items: Vec<&T> = turn.iter().map(|w| &w.item).collect();
            let result = write(&mut conn, key, &items).await;
            let ran_out = matches!(&result, Ok(served) if served.len() < turn.len());
            for w in turn {
                let outcome = match &result {
                    Ok(served) if served.contains(&w.item.turn_id()) => Outcome::Served,
                    Ok(_) => Outcome::NotServed,
                    Err(_) => Outcome::Failed,
                };
                // A caller that gave up no longer listens; its item was written or not like any.
                let _ = w.reply.send((w.item, outcome));
            }
            if ran_out {
                // The key ran out of room in this turn: the items that queued meanwhile look
                // again instead of taking a turn (most will find it full; one that still fits
                // comes back and is served in a later turn).
                for w in self.behind(key) {
                    let _ = w.reply.send((w.item, Outcome::NotServed));
                }
            }
            if let Err(e) = result {
                tracing::debug!(error = %e, "a reservation turn failed; next turn on a new connection");
                drop(conn);
                match store.conn().await {
                    Ok(fresh) => conn = fresh,
                    Err(_) => {
                        // No connection to take turns on: the waiting items try alone, and
                        // whoever comes next starts a new turn-taker.
                        for w in self.close(key) {
                            let _ = w.reply.send((w.item, Outcome::Failed));
                        }
                        return;
                    }
                }
            }
        }
    }

    /// All the key's waiting items, leaving its (empty) queue in place: the turn-taker goes on.
    fn behind(&self, key: Uuid) -> Vec<Waiting<T>> {
        let mut waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        waiting
            .get_mut(&key)
            .map(std::mem::take)
            .unwrap_or_default()
    }

    /// Ends the key's turn-taking; returns the items still waiting.
    fn close(&self, key: Uuid) -> Vec<Waiting<T>> {
        let mut waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        waiting.remove(&key).unwrap_or_default()
    }

    /// Up to `n` of the key's waiting items, oldest first; none means the turn-taker ends (its
    /// entry is removed under the same lock, so a newcomer starts a new one).
    fn take(&self, key: Uuid, n: usize) -> Vec<Waiting<T>> {
        let mut waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        let Some(queue) = waiting.get_mut(&key) else {
            return Vec::new();
        };
        if queue.is_empty() {
            waiting.remove(&key);
            return Vec::new();
        }
        let n = queue.len().min(n);
        queue.drain(..n).collect()
    }
}
