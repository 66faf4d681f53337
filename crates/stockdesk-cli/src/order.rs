//! `stockdesk order …`.

use std::time::Duration;

use clap::Subcommand;
use serde_json::Value;
use stockdesk::stock::{NewOrder, OrderQuery, OrderStatus};
use stockdesk::{CommandKind, Error, Result, Stockdesk};
use uuid::Uuid;

use crate::io::{read_stdin, to_json, write};

#[derive(Subcommand)]
pub enum OrderCmd {
    /// Take an order from stdin ({"items": [{"variant_id": "…", "quantity": 2}]}), reserving
    /// every line or none.
    Create {
        /// How long the order holds its stock unpaid (15m when not set).
        #[arg(long, env = "STOCKDESK_ORDER_EXPIRES_IN", value_parser = humantime::parse_duration)]
        expires_in: Option<Duration>,
    },
    /// A counter sale paid at once (the order on stdin, as for create). On a terminal that
    /// cannot reach the shop, it is sold from the till's allotment and queued.
    Sell,
    /// One order with its lines and reservations.
    Get { id: Uuid },
    /// Orders, newest first.
    List {
        #[arg(long, value_parser = parse_status)]
        status: Option<OrderStatus>,
        #[arg(long)]
        limit: Option<i64>,
        #[arg(long)]
        offset: Option<i64>,
    },
    /// Confirm payment: reservations become a sale.
    Pay { id: Uuid },
    /// Cancel a pending order, releasing its stock.
    Cancel { id: Uuid },
    /// Give a pending order more time to pay.
    Extend {
        id: Uuid,
        #[arg(long, value_parser = humantime::parse_duration)]
        by: Duration,
    },
}

fn parse_status(s: &str) -> std::result::Result<OrderStatus, String> {
    OrderStatus::parse(s)
        .ok_or_else(|| format!("{s:?} is not one of pending, paid, cancelled, expired"))
}

pub async fn order(sd: &Stockdesk, op_id: Option<Uuid>, cmd: OrderCmd) -> Result<Value> {
    match cmd {
        OrderCmd::Create { expires_in } => {
            let mut order: NewOrder = read_stdin()?;
            if let Some(d) = expires_in {
                order.expires_in_secs = Some(seconds("expires_in", d)?);
            }
            write(sd, op_id, CommandKind::CreateOrder { order }).await
        }
        OrderCmd::Sell => to_json(&sd.sell_now(read_stdin()?, op_id).await?),
        OrderCmd::Get { id } => to_json(&sd.get_order(id).await?),
        OrderCmd::List {
            status,
            limit,
            offset,
        } => to_json(
            &sd.list_orders(OrderQuery {
                status,
                limit,
                offset,
            })
            .await?,
        ),
        OrderCmd::Pay { id } => write(sd, op_id, CommandKind::PayOrder { order_id: id }).await,
        OrderCmd::Cancel { id } => {
            write(sd, op_id, CommandKind::CancelOrder { order_id: id }).await
        }
        OrderCmd::Extend { id, by } => {
            let kind = CommandKind::ExtendOrder {
                order_id: id,
                by_secs: seconds("by", by)?,
            };
            write(sd, op_id, kind).await
        }
    }
}

/// A duration as whole seconds; beyond what an i64 holds is a validation error (the core's own
/// limits then apply).
fn seconds(field: &str, d: Duration) -> Result<i64> {
    i64::try_from(d.as_secs()).map_err(|_| Error::validation(field, "too long"))
}
