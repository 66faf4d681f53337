//! The append-only ledger of stock movements.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::Result;
use crate::store::{on_tx, Tx};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "lowercase")]
pub enum MovementKind {
    /// Stock a variant was created with.
    Initial,
    Receipt,
    Sale,
    /// A stock count: the difference between the counted and the expected figure.
    Count,
    Adjustment,
}

impl MovementKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MovementKind::Initial => "initial",
            MovementKind::Receipt => "receipt",
            MovementKind::Sale => "sale",
            MovementKind::Count => "count",
            MovementKind::Adjustment => "adjustment",
        }
    }
}

/// One movement to write; `quantity` is signed.
pub struct NewMovement<'a> {
    pub variant_id: Uuid,
    pub kind: MovementKind,
    pub quantity: i64,
    pub on_hand_after: i64,
    pub actor: &'a str,
    pub reason: &'a str,
    pub order_id: Option<Uuid>,
    pub at: DateTime<Utc>,
}

pub async fn record(tx: &mut Tx, m: NewMovement<'_>) -> Result<()> {
    on_tx!(tx, c => sqlx::query(
        "INSERT INTO stock_movements (id, variant_id, kind, quantity, on_hand_after, actor, reason, \
         order_id, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
        .bind(Uuid::now_v7()).bind(m.variant_id).bind(m.kind.as_str()).bind(m.quantity)
        .bind(m.on_hand_after).bind(m.actor).bind(m.reason).bind(m.order_id).bind(m.at)
        .execute(&mut **c).await?.rows_affected());
    Ok(())
}
