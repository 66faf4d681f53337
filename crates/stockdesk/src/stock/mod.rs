//! Stock: orders and reservations, receipts, adjustments and counts, and the figures of a
//! variant. Every change of on-hand stock here writes its movement to the ledger
//! (`product_rows::ledger`) in the same transaction; the catalog's edits do the same.
//!
//! Available = on hand − active reservations whose time has not passed. Each variant row keeps
//! `held`, the sum of its active holds, changed in the transaction that opens or ends one, so a
//! new order is decided by one conditional `UPDATE` of that row. The counter still includes holds
//! that lapsed and were not expired yet; every figure and refusal subtracts those again
//! (`product_rows::reserved_sql`), and an order they stand in the way of expires them first, so a
//! hold stops counting the moment it lapses and correctness never waits for the sweeper.

pub mod allot;
pub mod exceptions;
mod levels;
mod orders;
mod repo;
mod reserve;

pub use crate::model::stock::*;
pub use levels::{adjust_stock, count_stock, receive_stock, stock_level, stock_movements};
pub use orders::{
    cancel_order, expire_overdue_orders, extend_order, get_order, list_orders, overdue_orders,
    pay_order,
};
pub use reserve::create_order;
