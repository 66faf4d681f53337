//! `stockdesk order …`.

use std::time::Duration;

use chrono::TimeDelta;
use clap::Subcommand;
use serde_json::Value;
use stockdesk::stock::{NewOrder, OrderQuery, OrderStatus};
use stockdesk::{Error, Result, Stockdesk};
use uuid::Uuid;

use crate::io::{read_stdin, to_json};

#[derive(Subcommand)]
pub enum OrderCmd {
    /// Take an order from stdin ({"items": [{"variant_id": "…", "quantity": 2}]}), reserving
    /// every line or none.
    Create {
        /// How long the order holds its stock unpaid (15m when not set).
        #[arg(long, env = "STOCKDESK_ORDER_EXPIRES_IN", value_parser = humantime::parse_duration)]
        expires_in: Option<Duration>,
        /// Makes a retried create return the first order and reserve nothing twice.
        #[arg(long)]
        op_id: Option<Uuid>,
    },
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

pub async fn order(sd: &Stockdesk, cmd: OrderCmd) -> Result<Value> {
    match cmd {
        OrderCmd::Create { expires_in, op_id } => {
            let mut new: NewOrder = read_stdin()?;
            if let Some(d) = expires_in {
                new.expires_in_secs = Some(d.as_secs() as i64);
            }
            to_json(&sd.create_order(new, op_id).await?)
        }
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
        OrderCmd::Pay { id } => to_json(&sd.pay_order(id).await?),
        OrderCmd::Cancel { id } => to_json(&sd.cancel_order(id).await?),
        OrderCmd::Extend { id, by } => {
            let by = TimeDelta::from_std(by).map_err(|_| Error::validation("by", "too long"))?;
            to_json(&sd.extend_order(id, by).await?)
        }
    }
}
