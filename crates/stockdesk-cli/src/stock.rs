//! `stockdesk stock …`.

use clap::Subcommand;
use serde_json::Value;
use stockdesk::{Result, Stockdesk};
use uuid::Uuid;

use crate::io::to_json;

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

pub async fn stock(sd: &Stockdesk, cmd: StockCmd) -> Result<Value> {
    match cmd {
        StockCmd::Get { variant_id } => to_json(&sd.stock_level(variant_id).await?),
        StockCmd::Receive {
            variant_id,
            quantity,
            reason,
        } => to_json(
            &sd.receive_stock(variant_id, quantity, reason.as_deref())
                .await?,
        ),
        StockCmd::Adjust {
            variant_id,
            delta,
            reason,
        } => to_json(&sd.adjust_stock(variant_id, delta, &reason).await?),
        StockCmd::Count {
            variant_id,
            counted,
            expected,
        } => to_json(&sd.count_stock(variant_id, counted, expected).await?),
        StockCmd::Movements { variant_id } => to_json(&sd.stock_movements(variant_id).await?),
    }
}
