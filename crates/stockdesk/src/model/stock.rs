//! What orders, reservations and stock figures look like to the UI and the CLI.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Stock on hand (and any quantity of one variant) is a whole number from 0 to this.
pub const MAX_STOCK: i64 = 1_000_000;
/// How long an unpaid order holds its stock when the caller does not say.
pub const DEFAULT_PAYMENT_WINDOW_SECS: i64 = 15 * 60;
/// The longest hold one call may ask for (create or extend).
pub const MAX_PAYMENT_WINDOW_SECS: i64 = 30 * 24 * 3600;
/// Lines per order: a counter sale or a phone order, not a warehouse transfer.
pub const MAX_ORDER_LINES: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "lowercase")]
pub enum OrderStatus {
    Pending,
    Paid,
    Cancelled,
    Expired,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Pending => "pending",
            OrderStatus::Paid => "paid",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(OrderStatus::Pending),
            "paid" => Some(OrderStatus::Paid),
            "cancelled" => Some(OrderStatus::Cancelled),
            "expired" => Some(OrderStatus::Expired),
            _ => None,
        }
    }
}

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

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "initial" => Some(MovementKind::Initial),
            "receipt" => Some(MovementKind::Receipt),
            "sale" => Some(MovementKind::Sale),
            "count" => Some(MovementKind::Count),
            "adjustment" => Some(MovementKind::Adjustment),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "lowercase")]
pub enum ReservationStatus {
    /// Holds stock until `reserved_until` (and not a moment longer, swept or not).
    Active,
    /// Became a sale: a `sale` movement of the same order exists.
    Converted,
    /// Given back by a cancellation.
    Released,
    /// Given back because the payment window passed.
    Expired,
}

impl ReservationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ReservationStatus::Active => "active",
            ReservationStatus::Converted => "converted",
            ReservationStatus::Released => "released",
            ReservationStatus::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(ReservationStatus::Active),
            "converted" => Some(ReservationStatus::Converted),
            "released" => Some(ReservationStatus::Released),
            "expired" => Some(ReservationStatus::Expired),
            _ => None,
        }
    }
}

/// An order to create (JSON of `stockdesk order create`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(deny_unknown_fields)]
pub struct NewOrder {
    /// Optional caller-chosen id (made from the command's op id when omitted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Uuid>,
    pub items: Vec<NewOrderItem>,
    /// Payment window in seconds; 15 minutes when omitted.
    #[serde(default)]
    pub expires_in_secs: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(deny_unknown_fields)]
pub struct NewOrderItem {
    pub variant_id: Uuid,
    pub quantity: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct Order {
    pub id: Uuid,
    /// As stored. A pending order past its deadline holds nothing any more (see `overdue`); the
    /// sweeper will mark it expired.
    pub status: OrderStatus,
    pub overdue: bool,
    pub payment_expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    /// The staff profile that took it (absent in a shop without profiles).
    pub created_by_id: Option<Uuid>,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
    pub updated_by_id: Option<Uuid>,
    pub paid_at: Option<DateTime<Utc>>,
    /// When it was cancelled or expired.
    pub closed_at: Option<DateTime<Utc>>,
    pub items: Vec<OrderItem>,
    pub reservations: Vec<Reservation>,
    /// Sum of the lines per currency.
    pub totals: Vec<Money>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct OrderItem {
    pub id: Uuid,
    pub line_no: i64,
    pub variant_id: Uuid,
    pub product_id: Uuid,
    /// SKU, product name and price as they were when the order was taken.
    pub sku: String,
    pub product_name: String,
    pub quantity: i64,
    pub unit_price_minor: i64,
    pub currency: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct Reservation {
    pub id: Uuid,
    pub order_item_id: Uuid,
    pub variant_id: Uuid,
    pub quantity: i64,
    pub reserved_until: DateTime<Utc>,
    pub status: ReservationStatus,
    pub created_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct Money {
    pub currency: String,
    pub amount_minor: i64,
}

impl Money {
    /// The sum of order lines, one amount per currency (in currency order); None if an amount
    /// is more than can be counted (then the order is refused).
    pub fn totals(items: &[OrderItem]) -> Option<Vec<Money>> {
        let mut totals: std::collections::BTreeMap<&str, i64> = Default::default();
        for i in items {
            let line = i.quantity.checked_mul(i.unit_price_minor)?;
            let sum = totals.entry(&i.currency).or_default();
            *sum = sum.checked_add(line)?;
        }
        Some(
            totals
                .into_iter()
                .map(|(currency, amount_minor)| Money {
                    currency: currency.to_string(),
                    amount_minor,
                })
                .collect(),
        )
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(deny_unknown_fields)]
pub struct OrderQuery {
    #[serde(default)]
    pub status: Option<OrderStatus>,
    /// 50 when omitted, at most 1,000.
    #[serde(default)]
    pub limit: Option<i64>,
    #[serde(default)]
    pub offset: Option<i64>,
}

/// Whether a payment or an extension kept the original hold or had to take the stock again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum Hold {
    /// The order's reservations were still valid.
    Original,
    /// The payment window had passed; the stock was still there and was reserved again.
    ReReserved,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct PaymentOutcome {
    pub order: Order,
    pub hold: Hold,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct ExtendOutcome {
    pub order: Order,
    pub hold: Hold,
}

/// One variant's stock right now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct StockLevel {
    pub variant_id: Uuid,
    pub product_id: Uuid,
    pub sku: String,
    pub on_hand: i64,
    /// Held by pending orders whose payment window is still open.
    pub reserved: i64,
    /// What a new order can take: on hand − reserved, never below zero.
    pub available: i64,
    /// Reserved beyond what is on hand (a stock count found less than the orders hold): the
    /// first of those orders to pay gets the stock, the others get `insufficient_stock`.
    pub short: i64,
    /// Holds that ran out but the sweeper has not tidied yet; they block nothing.
    pub lapsed_holds: i64,
    pub at: DateTime<Utc>,
}

/// One row of the ledger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct Movement {
    pub id: Uuid,
    pub variant_id: Uuid,
    pub kind: MovementKind,
    pub quantity: i64,
    pub on_hand_after: i64,
    pub actor: String,
    /// The staff profile that made it (absent in a shop without profiles).
    pub actor_id: Option<Uuid>,
    pub reason: String,
    pub order_id: Option<Uuid>,
    pub at: DateTime<Utc>,
}

/// What a receipt, adjustment or count did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct StockChange {
    pub movement: Movement,
    pub level: StockLevel,
}

/// Something in the database that breaks a stock rule (see `check_invariants`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct Inconsistency {
    /// Stable name of the rule (`on_hand_not_sum_of_movements`, …).
    pub rule: String,
    /// The variant, order or reservation concerned.
    pub subject: Uuid,
    pub detail: String,
}

/// What one batch of expiring overdue orders did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct ExpiryBatch {
    /// Overdue orders this batch got hold of (others may be held by another sweeper).
    pub locked: i64,
    pub orders_expired: i64,
    pub reservations_expired: i64,
}

/// An order waiting for its turn at its variant's row (see `store::turns`), with the op id that
/// makes it: the turn claims the op id together with the order.
#[derive(Debug, Clone)]
pub struct OrderTurn {
    pub op_id: Uuid,
    /// The fingerprint its op id is recorded with (see `store::idempotency::OpKey`).
    pub fingerprint: String,
    pub order: Order,
}
