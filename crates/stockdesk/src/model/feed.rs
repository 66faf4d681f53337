//! The change feed as readers see it: every committed write, in an order a reader can follow
//! with a cursor without ever missing one (see `feed`).

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::{ChangeEvent, Order, Outcome};

/// One committed write.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct Change {
    /// Where a reader continues from after this change.
    pub cursor: String,
    pub op_id: Uuid,
    /// The command (`patch_product`, `create_order`, …) or the sweeper's `expire_orders`.
    pub kind: String,
    /// Who made it; absent for writes recorded before the feed kept it.
    pub actor: Option<String>,
    pub at: DateTime<Utc>,
    /// What it changed.
    pub changed: Vec<ChangeEvent>,
}

/// The changes after a cursor, oldest first, and the cursor to continue from.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct ChangePage {
    pub changes: Vec<Change>,
    pub cursor: String,
}

impl Outcome {
    /// What a committed command changed.
    pub fn changed(&self) -> Vec<ChangeEvent> {
        match self {
            Outcome::Product(p) => vec![ChangeEvent::Product {
                id: p.id,
                version: p.version,
            }],
            Outcome::Patch(o) => vec![ChangeEvent::Product {
                id: o.product.id,
                version: o.product.version,
            }],
            Outcome::Order(o) => order_changes(o),
            Outcome::Payment(p) => order_changes(&p.order),
            Outcome::Extension(e) => order_changes(&e.order),
            Outcome::Stock(change) => vec![ChangeEvent::Stock {
                variant_id: change.level.variant_id,
            }],
            Outcome::Category(c) => vec![ChangeEvent::Category { id: c.id }],
            Outcome::Seed(_) => vec![ChangeEvent::Catalog],
            Outcome::Staff(s) => vec![ChangeEvent::Staff { id: s.id }],
            Outcome::Import(i) => std::iter::once(ChangeEvent::Product {
                id: i.product.id,
                version: i.product.version,
            })
            .chain(
                i.category
                    .iter()
                    .map(|c| ChangeEvent::Category { id: c.id }),
            )
            .collect(),
            Outcome::Allotments(a) => a
                .iter()
                .map(|a| a.variant_id)
                .collect::<BTreeSet<_>>()
                .into_iter()
                .map(|variant_id| ChangeEvent::Stock { variant_id })
                .collect(),
            Outcome::AllotmentPolicy(p) => vec![ChangeEvent::Stock {
                variant_id: p.variant_id,
            }],
            // Every pull reads the shop's settings again; nothing else to name.
            Outcome::SellAnyway(_) => Vec::new(),
            Outcome::Exception(e) => std::iter::once(e.order_id)
                .chain(e.cancelled_order_id)
                .map(|id| ChangeEvent::Order { id })
                .chain([ChangeEvent::Stock {
                    variant_id: e.variant_id,
                }])
                .collect(),
        }
    }
}

/// An order and the stock of its variants (what it holds or sold).
pub fn order_changes(order: &Order) -> Vec<ChangeEvent> {
    let variants: BTreeSet<_> = order.items.iter().map(|i| i.variant_id).collect();
    std::iter::once(ChangeEvent::Order { id: order.id })
        .chain(
            variants
                .into_iter()
                .map(|variant_id| ChangeEvent::Stock { variant_id }),
        )
        .collect()
}
