//! What every capability's functions are handed: `Ctx` (the store, the clock, where files live,
//! where change events go) and, for a write, `Op` (which command it is, who makes it, when, and
//! the ids it creates). Capabilities are free functions over these, so a module's dependencies
//! are the paths it names, never methods it can reach on a shared handle.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use tokio::sync::broadcast;
use uuid::Uuid;

use crate::clock::Clock;
use crate::model::{BlobBackend, ChangeEvent, OrderTurn, ReplicaInfo};
use crate::store::{Store, Turns};

/// How many of its own op ids a process remembers: far more than it commits between two looks
/// at the feed.
const ANNOUNCED_KEPT: usize = 4096;

/// The shared parts of one open shop. Cheap to clone (handles and `Arc`s).
#[derive(Clone)]
pub struct Ctx {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    /// Where the default database and (with the directory backend) image files live.
    pub data_dir: PathBuf,
    /// Where image bytes are kept: the shop's choice (see `images::storage`).
    pub blob_backend: BlobBackend,
    /// The directory of image files for the directory backend; `<data_dir>/blobs` unless set
    /// (on a shared Postgres, one directory every terminal mounts).
    pub blob_dir: Option<PathBuf>,
    /// This handle's id among the shop's terminals (what it is editing is recorded under it).
    pub terminal: Uuid,
    /// Set when this database is a terminal's replica of a shop (`sync`): writes are queued for
    /// the shop's server, and what only the server decides is not decided here.
    pub replica: Option<ReplicaInfo>,
    /// Turns at a variant's row shared by the orders of this process (see `stock::orders`).
    pub(crate) order_turns: Arc<Turns<OrderTurn>>,
    events: broadcast::Sender<ChangeEvent>,
    /// Op ids of the latest commands this process announced itself, so that relaying the change
    /// feed into `events` passes on only other terminals' changes.
    announced: Arc<Mutex<VecDeque<Uuid>>>,
    /// Injected failures on the image write path (tests only; see `failpoint`).
    #[cfg(feature = "failpoints")]
    pub(crate) failpoints: Option<crate::failpoint::Failpoints>,
}

impl Ctx {
    pub fn new(store: Store, clock: Arc<dyn Clock>, data_dir: PathBuf) -> Ctx {
        let (events, _) = broadcast::channel(1024);
        Ctx {
            store,
            clock,
            data_dir,
            blob_backend: BlobBackend::default(),
            blob_dir: None,
            terminal: Uuid::now_v7(),
            replica: None,
            order_turns: Arc::default(),
            events,
            announced: Arc::default(),
            #[cfg(feature = "failpoints")]
            failpoints: None,
        }
    }

    /// Where the directory backend keeps files.
    pub fn blob_dir(&self) -> PathBuf {
        self.blob_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("blobs"))
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub fn subscribe(&self) -> broadcast::Receiver<ChangeEvent> {
        self.events.subscribe()
    }

    pub fn emit(&self, event: ChangeEvent) {
        // No subscriber is fine: the CLI has none.
        let _ = self.events.send(event);
    }

    /// Emits what the command `op_id` changed, and remembers that this process told of it.
    pub fn announce(&self, op_id: Uuid, changed: Vec<ChangeEvent>) {
        {
            let mut seen = self.announced.lock().expect("announced lock");
            if seen.len() == ANNOUNCED_KEPT {
                seen.pop_front();
            }
            seen.push_back(op_id);
        }
        for event in changed {
            self.emit(event);
        }
    }

    /// Whether this process announced `op_id` itself (lately).
    pub fn announced_here(&self, op_id: Uuid) -> bool {
        self.announced
            .lock()
            .expect("announced lock")
            .contains(&op_id)
    }

    /// A named step of the image write path where tests inject failures (see `failpoint`).
    #[cfg(feature = "failpoints")]
    pub(crate) fn failpoint(&self, name: &'static str) -> crate::error::Result<()> {
        crate::failpoint::pass(self.failpoints.as_ref(), name)
    }

    /// Without the `failpoints` feature (every shipped build) a failpoint is nothing at all.
    #[cfg(not(feature = "failpoints"))]
    #[inline(always)]
    pub(crate) fn failpoint(&self, _name: &'static str) -> crate::error::Result<()> {
        Ok(())
    }
}

/// One attempt at applying a command: its op id, who makes it, the time it is decided at, and
/// the ids it gives what it creates. Ids come from the op id (not from the clock or chance), so
/// applying the same command again — a retry, or a terminal's queued command on the shop's
/// server — creates the same rows under the same ids.
pub struct Op<'a> {
    pub ctx: &'a Ctx,
    pub id: Uuid,
    pub actor: &'a str,
    /// The staff profile acting, when the shop has profiles (recorded beside `actor`).
    pub actor_id: Option<Uuid>,
    pub now: DateTime<Utc>,
    ids: Ids,
    /// Whether the transaction claimed `id` and records the outcome before it commits: a body
    /// whose last write already knows the outcome may record it in that write (`records_outcome`,
    /// `outcome_recorded`), one statement fewer on the path of every edit.
    record_outcome: bool,
    outcome_recorded: std::sync::atomic::AtomicBool,
    /// The claim and role check the body's first statement runs (see `with_prelude`).
    prelude: std::sync::Mutex<Option<OpPrelude<'a>>>,
    /// Set when that claim found the op id claimed before: the command is a replay.
    replay: std::sync::atomic::AtomicBool,
}

/// A command's claim of its op id and its role check, for its body's first statement to run
/// (`store::Prelude`), and what decides on what they found: true if the op id was claimed now
/// (and the command may go on), false if it was claimed before (a replay); an error if the role
/// check refuses.
pub struct OpPrelude<'a> {
    pub ctes: crate::store::Prelude,
    pub settle: PreludeSettle<'a>,
}

/// What decides on what a prelude found (see `OpPrelude`).
pub type PreludeSettle<'a> =
    Box<dyn FnOnce(serde_json::Value) -> crate::error::Result<bool> + Send + 'a>;

impl<'a> Op<'a> {
    pub fn new(ctx: &'a Ctx, id: Uuid, actor: &'a str, now: DateTime<Utc>) -> Op<'a> {
        Op {
            ctx,
            id,
            actor,
            actor_id: None,
            now,
            ids: Ids::new(id),
            record_outcome: false,
            outcome_recorded: std::sync::atomic::AtomicBool::new(false),
            prelude: std::sync::Mutex::new(None),
            replay: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// This op, whose claim and role check are left to the first statement of its body (one
    /// round trip fewer): the body takes them with `take_prelude`, runs them, and settles what
    /// they found before anything else (`settle_prelude`).
    pub(crate) fn with_prelude(self, prelude: OpPrelude<'a>) -> Op<'a> {
        Op {
            prelude: std::sync::Mutex::new(Some(prelude)),
            ..self
        }
    }

    pub(crate) fn take_prelude(&self) -> Option<OpPrelude<'a>> {
        self.prelude.lock().expect("prelude lock").take()
    }

    /// Whether a prelude was given and not taken.
    pub(crate) fn prelude_pending(&self) -> bool {
        self.prelude.lock().expect("prelude lock").is_some()
    }

    /// Decides on what a prelude found: Ok if the command goes on; if its op id was claimed
    /// before, marks the op a replay and returns an error that only ends the body (the command
    /// layer then answers with the first outcome, see `found_replay`).
    pub(crate) fn settle_prelude(
        &self,
        settle: PreludeSettle<'a>,
        found: serde_json::Value,
    ) -> crate::error::Result<()> {
        if settle(found)? {
            return Ok(());
        }
        self.replay
            .store(true, std::sync::atomic::Ordering::Relaxed);
        Err(crate::error::Error::Internal(
            "op id claimed before: a replay".into(),
        ))
    }

    /// Whether the body found its op id claimed before (see `settle_prelude`).
    pub(crate) fn found_replay(&self) -> bool {
        self.replay.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// This op, in a transaction that claimed its op id and records its outcome (see
    /// `commands::in_transaction`).
    pub(crate) fn recording_outcome(self) -> Op<'a> {
        Op {
            record_outcome: true,
            ..self
        }
    }

    /// The statement that records `outcome` as this op's, if the body may write it itself (the
    /// caller runs it in its last write, then says so with `outcome_written`).
    pub(crate) fn outcome_record<T: serde::Serialize>(
        &self,
        outcome: impl FnOnce() -> T,
    ) -> crate::error::Result<Option<crate::store::Stmt>> {
        if !self.record_outcome {
            return Ok(None);
        }
        crate::store::idempotency::finish_stmt(self.id, &outcome()).map(Some)
    }

    /// Says that the statement of `outcome_record` ran.
    pub(crate) fn outcome_written(&self) {
        self.outcome_recorded
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// Whether the body recorded the outcome itself (then the command layer does not).
    pub(crate) fn outcome_is_recorded(&self) -> bool {
        self.outcome_recorded
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// This op, made by the staff profile `actor_id`.
    pub fn by(self, actor_id: Option<Uuid>) -> Op<'a> {
        Op { actor_id, ..self }
    }

    /// The next id of something this command creates.
    pub fn new_id(&self) -> Uuid {
        self.ids.next()
    }
}

/// Ids derived from an op id: UUIDv7 with the op id's timestamp (so they sort with the time the
/// command was made), then a counter (so a command's ids sort in the order it made them, as
/// fresh UUIDv7s would), then bits hashed from the op id (so they are the same however often the
/// command is applied, and distinct from every other command's).
pub struct Ids {
    millis: u64,
    hash: [u8; 6],
    next: AtomicU32,
}

impl Ids {
    pub fn new(seed: Uuid) -> Ids {
        let millis = seed
            .get_timestamp()
            .map(|t| {
                let (secs, nanos) = t.to_unix();
                secs * 1000 + u64::from(nanos) / 1_000_000
            })
            // An op id that is not a v7 (a script's v4): the ids still differ per op.
            .unwrap_or(0);
        let mut hash = [0u8; 6];
        hash.copy_from_slice(&Sha256::digest(seed.as_bytes())[..6]);
        Ids {
            millis,
            hash,
            next: AtomicU32::new(0),
        }
    }

    pub fn next(&self) -> Uuid {
        // 26 bits of counter around the version and variant bits the builder sets: 67 million
        // ids per command.
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        assert!(n < 1 << 26, "a command made more than 2^26 ids");
        let mut bytes = [0u8; 10];
        bytes[0] = ((n >> 22) & 0x0f) as u8;
        bytes[1] = (n >> 14) as u8;
        bytes[2] = ((n >> 8) & 0x3f) as u8;
        bytes[3] = n as u8;
        bytes[4..].copy_from_slice(&self.hash);
        uuid::Builder::from_unix_timestamp_millis(self.millis, &bytes).into_uuid()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_the_same_for_the_same_op_and_differ_between_ops() {
        let op = Uuid::now_v7();
        let (a, b) = (Ids::new(op), Ids::new(op));
        let first: Vec<Uuid> = (0..3).map(|_| a.next()).collect();
        let again: Vec<Uuid> = (0..3).map(|_| b.next()).collect();
        assert_eq!(first, again);
        assert_eq!(
            first
                .iter()
                .collect::<std::collections::BTreeSet<_>>()
                .len(),
            3
        );
        assert_ne!(Ids::new(Uuid::now_v7()).next(), first[0]);
        assert_eq!(first[0].get_version_num(), 7);
        assert_eq!(
            first[0].get_timestamp().unwrap().to_unix().0,
            op.get_timestamp().unwrap().to_unix().0
        );
    }
}
