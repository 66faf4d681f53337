//! Terminal allotments (units held on the shop for one terminal, which it may sell offline),
//! the per-variant policy that keeps them right-sized, and the oversell exceptions a sale pushed
//! beyond what the shop could cover leaves for a manager (docs/orders.md, "Allotments").

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum AllotmentStatus {
    Active,
    /// Revoked by a manager: its units went back to free stock, and a sale pushed later from it
    /// becomes an oversell exception.
    Revoked,
}

impl AllotmentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AllotmentStatus::Active => "active",
            AllotmentStatus::Revoked => "revoked",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(AllotmentStatus::Active),
            "revoked" => Some(AllotmentStatus::Revoked),
            _ => None,
        }
    }
}

/// Units of a variant held on the shop for one terminal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct Allotment {
    pub terminal_id: Uuid,
    /// The terminal's name, where the database knows it (the shop's server does; a replica
    /// names only itself).
    pub terminal: Option<String>,
    pub variant_id: Uuid,
    pub sku: Option<String>,
    pub units: i64,
    pub status: AllotmentStatus,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// "Keep N at each till" for one variant (`keep_units` None: no policy).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct AllotmentPolicy {
    pub variant_id: Uuid,
    pub keep_units: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum ExceptionKind {
    /// Sold from an allotment a manager had revoked meanwhile.
    RevokedAllotment,
    /// Sold beyond the allotment ("sell anyway"), and the shop had no free units to cover it.
    Short,
}

impl ExceptionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ExceptionKind::RevokedAllotment => "revoked_allotment",
            ExceptionKind::Short => "short",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "revoked_allotment" => Some(ExceptionKind::RevokedAllotment),
            "short" => Some(ExceptionKind::Short),
            _ => None,
        }
    }
}

/// How a manager settles an oversell exception (a recorded command).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ExceptionResolution {
    /// The shelf holds `counted` units now: the missing sale is recorded against a count that
    /// finds the units the till sold, and on hand ends at `counted`.
    Count { counted: i64 },
    /// Another pending order of the variant is cancelled; the units it frees make the missing
    /// sale.
    CancelOrder { order_id: Uuid },
}

/// A sale pushed from a terminal that the shop could not cover: the order is recorded (the
/// goods are gone), and these units of its line wait for a manager.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct OversellException {
    pub id: Uuid,
    pub order_id: Uuid,
    pub order_item_id: Uuid,
    pub variant_id: Uuid,
    pub terminal_id: Uuid,
    pub units: i64,
    pub kind: ExceptionKind,
    pub created_at: DateTime<Utc>,
    /// Open while None.
    pub resolved_at: Option<DateTime<Utc>>,
    /// `count`, `cancel_order`, or `order_cancelled` (the sale's order was cancelled: nothing
    /// left the shop).
    pub resolution: Option<String>,
    pub resolved_by: Option<String>,
    /// The order a `cancel_order` settlement cancelled.
    pub cancelled_order_id: Option<Uuid>,
    pub note: Option<String>,
}
