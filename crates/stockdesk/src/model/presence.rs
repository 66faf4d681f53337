//! Who is editing what right now, as other terminals show it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Someone at another terminal has `product_id` open with unsaved changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct Editing {
    pub product_id: Uuid,
    pub actor: String,
    /// When they started (this time round).
    pub since: DateTime<Utc>,
    /// Their latest heartbeat.
    pub seen_at: DateTime<Utc>,
}
