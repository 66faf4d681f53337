//! `stockdesk stock …`.

use clap::Subcommand;
use serde_json::Value;
use stockdesk::{CommandKind, Result, Stockdesk};
use uuid::Uuid;

use crate::io::{to_json, write};

#[derive(Subcommand)]
pub enum StockCmd {
    /// {"on_hand", "reserved", "available", …} of one variant.
    Get { variant_id: Uuid },
    /// Goods arrived.
    Receive {
        variant_id: Uuid,
        #[arg(long)]
        quantity: i64,
        #[arg(long)]
        reason: Option<String>,
    },
    /// A correction with a reason (breakage, loss, found stock).
    Adjust {
        variant_id: Uuid,
        #[arg(long, allow_hyphen_values = true)]
        delta: i64,
        #[arg(long)]
        reason: String,
    },
    /// Record a stock count; the difference from the expected figure becomes a movement.
    Count {
        variant_id: Uuid,
        #[arg(long)]
        counted: i64,
        /// The figure on the count sheet (default: the current on hand).
        #[arg(long)]
        expected: Option<i64>,
    },
    /// The variant's ledger, oldest first.
    Movements { variant_id: Uuid },
}

pub async fn stock(sd: &Stockdesk, op_id: Option<Uuid>, cmd: StockCmd) -> Result<Value> {
    match cmd {
        StockCmd::Get { variant_id } => to_json(&sd.stock_level(variant_id).await?),
        StockCmd::Receive {
            variant_id,
            quantity,
            reason,
        } => {
            let kind = CommandKind::ReceiveStock {
                variant_id,
                quantity,
                reason,
            };
            write(sd, op_id, kind).await
        }
        StockCmd::Adjust {
            variant_id,
            delta,
            reason,
        } => {
            let kind = CommandKind::AdjustStock {
                variant_id,
                delta,
                reason,
            };
            write(sd, op_id, kind).await
        }
        StockCmd::Count {
            variant_id,
            counted,
            expected,
        } => {
            let kind = CommandKind::CountStock {
                variant_id,
                counted,
                expected,
            };
            write(sd, op_id, kind).await
        }
        StockCmd::Movements { variant_id } => to_json(&sd.stock_movements(variant_id).await?),
    }
}
