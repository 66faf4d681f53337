//! Stock: the ledger of movements, reservations and orders. This is the only code that changes
//! on-hand stock, and it never does so without writing a movement in the same transaction.

pub mod ledger;
