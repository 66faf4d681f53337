//! Offline-first terminals as the UI and the CLI see them: a replica's state, what a sync did,
//! and what joining a shop is doing (see `sync`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Command, StagedBlob};

/// A terminal's replica of a shop, as read from its database when it is opened.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct ReplicaInfo {
    pub terminal_id: Uuid,
    pub terminal_name: String,
    /// The shop's database, password hidden.
    pub shop: String,
}

/// One entry of a replica's outbox as it is stored and sent: the command as the server will
/// apply it, the files it needs uploaded first, and what it touches (for re-applying pending
/// commands on top of what a pull brings).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Queued {
    pub command: Command,
    #[serde(default)]
    pub files: Vec<StagedBlob>,
    #[serde(default)]
    pub touches: Touches,
}

/// The product or category a queued command changes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Touches {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<Uuid>,
    /// A till's own order (made, paid or cancelled offline from its allotment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<Uuid>,
}

/// How far joining a shop has come (for a progress bar).
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct JoinProgress {
    /// `registering`, `copying`, `catching_up` or `done`.
    pub phase: String,
    /// The table being copied.
    pub table: Option<String>,
    /// Rows copied so far, and about how many there are in all.
    pub done: i64,
    pub total: i64,
}

/// What joining copied.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct JoinReport {
    pub terminal_id: Uuid,
    pub terminal_name: String,
    pub shop: String,
    pub rows: i64,
    pub products: i64,
    pub cursor: String,
    pub seconds: f64,
}

/// What one push and pull did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, specta::Type)]
pub struct SyncReport {
    /// Commands the shop applied, set aside, and those still waiting.
    pub applied: i64,
    pub set_aside: i64,
    pub pending: i64,
    /// Changes of the shop's feed brought into the replica, and the cursor after them.
    pub pulled: i64,
    pub cursor: String,
    /// Whether this terminal copied the shop afresh (the shop's server was restored or replaced).
    pub recopied: bool,
    pub at: Option<DateTime<Utc>>,
}
