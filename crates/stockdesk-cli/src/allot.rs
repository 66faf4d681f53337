//! `stockdesk allot …`, `stockdesk allotments …` and `stockdesk exceptions …`: terminal
//! allotments, their policy, "sell anyway", and oversell exceptions (docs/orders.md).

use clap::{Args, Subcommand};
use serde_json::Value;
use stockdesk::model::ExceptionResolution;
use stockdesk::{CommandKind, Error, Result, Stockdesk};
use uuid::Uuid;

use crate::io::{to_json, write};

/// Sets a terminal's allotment of a variant to N units (up from free stock, or down).
#[derive(Args)]
pub struct AllotArgs {
    variant_id: Uuid,
    /// The terminal's name (`stockdesk sync terminals`).
    #[arg(long)]
    terminal: String,
    #[arg(long)]
    units: i64,
}

#[derive(Subcommand)]
pub enum AllotmentsCmd {
    /// Every terminal's allotments.
    List,
    /// Revoke a terminal's allotments (all, or one variant's): the units are free again at once.
    Revoke {
        #[arg(long)]
        terminal: String,
        #[arg(long)]
        variant: Option<Uuid>,
    },
    /// "Keep N at each till" for a variant (--clear removes it); applied as terminals sync.
    Policy {
        variant_id: Uuid,
        #[arg(long, conflicts_with = "clear", required_unless_present = "clear")]
        keep: Option<i64>,
        #[arg(long)]
        clear: bool,
    },
    /// Every variant's policy.
    Policies,
    /// Whether a till may sell beyond its allotment offline (a paid counter sale): on, off, or
    /// show.
    SellAnyway {
        #[arg(value_parser = ["on", "off", "show"])]
        setting: String,
    },
}

#[derive(Subcommand)]
pub enum ExceptionsCmd {
    /// Oversell exceptions, oldest first (open ones; --all for settled ones too).
    List {
        #[arg(long)]
        all: bool,
    },
    /// Settle one: a count of the shelf (--count N), or cancelling another pending order of
    /// the variant (--cancel-order ID).
    Resolve {
        id: Uuid,
        #[arg(
            long,
            conflicts_with = "cancel_order",
            required_unless_present = "cancel_order"
        )]
        count: Option<i64>,
        #[arg(long)]
        cancel_order: Option<Uuid>,
    },
}

pub async fn allot(sd: &Stockdesk, op_id: Option<Uuid>, a: AllotArgs) -> Result<Value> {
    let kind = CommandKind::Allot {
        terminal: a.terminal,
        variant_id: a.variant_id,
        units: a.units,
    };
    write(sd, op_id, kind).await
}

pub async fn allotments(sd: &Stockdesk, op_id: Option<Uuid>, cmd: AllotmentsCmd) -> Result<Value> {
    match cmd {
        AllotmentsCmd::List => to_json(&sd.allotments(None).await?),
        AllotmentsCmd::Revoke { terminal, variant } => {
            let kind = CommandKind::RevokeAllotments {
                terminal,
                variant_id: variant,
            };
            write(sd, op_id, kind).await
        }
        AllotmentsCmd::Policy {
            variant_id, keep, ..
        } => {
            let kind = CommandKind::SetAllotmentPolicy {
                variant_id,
                keep_units: keep,
            };
            write(sd, op_id, kind).await
        }
        AllotmentsCmd::Policies => to_json(&sd.allotment_policies().await?),
        AllotmentsCmd::SellAnyway { setting } => match setting.as_str() {
            "show" => Ok(serde_json::json!(sd.sell_anyway().await?)),
            on => write(sd, op_id, CommandKind::SetSellAnyway { on: on == "on" }).await,
        },
    }
}

pub async fn exceptions(sd: &Stockdesk, op_id: Option<Uuid>, cmd: ExceptionsCmd) -> Result<Value> {
    match cmd {
        ExceptionsCmd::List { all } => to_json(&sd.oversell_exceptions(!all).await?),
        ExceptionsCmd::Resolve {
            id,
            count,
            cancel_order,
        } => {
            let resolution = match (count, cancel_order) {
                (Some(counted), None) => ExceptionResolution::Count { counted },
                (None, Some(order_id)) => ExceptionResolution::CancelOrder { order_id },
                _ => return Err(Error::BadInput("--count N or --cancel-order ID".into())),
            };
            let kind = CommandKind::ResolveException {
                exception_id: id,
                resolution,
            };
            write(sd, op_id, kind).await
        }
    }
}
