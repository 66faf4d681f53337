//! The append-only ledger of stock movements: on-hand stock changes only together with a row
//! here, in the same transaction.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::model::stock::{Movement, MovementKind};
use crate::store::{Batch, Stmt, Tx};

/// One movement to write; `quantity` is signed.
pub struct NewMovement<'a> {
    pub id: Uuid,
    /// The command that makes it (a replica fetches a change's movements by it).
    pub op_id: Uuid,
    pub variant_id: Uuid,
    pub kind: MovementKind,
    pub quantity: i64,
    pub on_hand_after: i64,
    pub actor: &'a str,
    pub actor_id: Option<Uuid>,
    pub reason: &'a str,
    pub order_id: Option<Uuid>,
    pub at: DateTime<Utc>,
}

pub async fn record(tx: &mut Tx, m: NewMovement<'_>) -> Result<()> {
    append(tx, m).await.map(|_| ())
}

/// Like `record`, returning the row as written.
pub async fn append(tx: &mut Tx, m: NewMovement<'_>) -> Result<Movement> {
    insert(&m).run(tx).await?;
    Ok(Movement {
        id: m.id,
        variant_id: m.variant_id,
        kind: m.kind,
        quantity: m.quantity,
        on_hand_after: m.on_hand_after,
        actor: m.actor.to_string(),
        actor_id: m.actor_id,
        reason: m.reason.to_string(),
        order_id: m.order_id,
        at: m.at,
    })
}

/// `record`, as part of a batch of writes.
pub fn push(batch: &mut Batch, m: NewMovement<'_>) {
    batch.push(insert(&m));
}

fn insert(m: &NewMovement<'_>) -> Stmt {
    Stmt::new(
        "INSERT INTO stock_movements (id, variant_id, kind, quantity, on_hand_after, actor, reason, \
         order_id, at, actor_id, op_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .arg(m.id)
    .arg(m.variant_id)
    .arg(m.kind.as_str())
    .arg(m.quantity)
    .arg(m.on_hand_after)
    .arg(m.actor)
    .arg(m.reason)
    .arg(m.order_id)
    .arg(m.at)
    .arg(m.actor_id)
    .arg(m.op_id)
}

/// A variant's movements, oldest first.
pub async fn movements(tx: &mut Tx, variant_id: Uuid) -> Result<Vec<Movement>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        id: Uuid,
        variant_id: Uuid,
        kind: String,
        quantity: i64,
        on_hand_after: i64,
        actor: String,
        actor_id: Option<Uuid>,
        reason: String,
        order_id: Option<Uuid>,
        at: DateTime<Utc>,
    }
    let rows: Vec<Row> = Stmt::new(
        "SELECT id, variant_id, kind, quantity, on_hand_after, actor, actor_id, reason, order_id, at \
         FROM stock_movements WHERE variant_id = $1 ORDER BY at, id",
    )
    .arg(variant_id)
    .fetch(tx)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(Movement {
                kind: MovementKind::parse(&r.kind).ok_or_else(|| {
                    Error::BadInput(format!("unknown movement kind {:?} in database", r.kind))
                })?,
                id: r.id,
                variant_id: r.variant_id,
                quantity: r.quantity,
                on_hand_after: r.on_hand_after,
                actor: r.actor,
                actor_id: r.actor_id,
                reason: r.reason,
                order_id: r.order_id,
                at: r.at,
            })
        })
        .collect()
}
