//! The two ends of a terminal's replica, as the command path sees them (the whole story, joining,
//! pushing and pulling, is `sync`):
//! - on a terminal's replica, every local write is prepared to be sent (`prepare`) and queued in
//!   the outbox (`outbox`) in the transaction that applies it;
//! - on the shop's server, each terminal's commands are decided once and in order
//!   (`decisions`), in the transaction that decides them.
//!
//! This module never talks to another database: it reads and writes the one it is handed.

pub mod decisions;
pub mod outbox;
mod prepare;

use crate::error::{Error, Result};
use crate::model::{CommandKind, ReplicaInfo};
use crate::store::{Session, Stmt};

pub use prepare::{prepare, touches};

/// Whether the database behind `on` is a terminal's replica of a shop, and of which.
pub async fn info(on: &mut impl Session) -> Result<Option<ReplicaInfo>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        terminal_id: uuid::Uuid,
        terminal_name: String,
        shop_url: String,
    }
    let row: Option<Row> =
        Stmt::new("SELECT terminal_id, terminal_name, shop_url FROM sync_replica LIMIT 1")
            .fetch_optional(on)
            .await?;
    Ok(row.map(|r| ReplicaInfo {
        terminal_id: r.terminal_id,
        terminal_name: r.terminal_name,
        shop: crate::store::url::redact(&r.shop_url),
    }))
}

/// Commands a replica does not decide for itself: the shop's server decides them while the
/// customer or the person waits (orders and payments, whose stock another till may be selling),
/// or they change who may act (staff) or the whole catalog at once (a demo seed).
pub fn online_only(kind: &CommandKind) -> bool {
    matches!(
        kind,
        CommandKind::CreateOrder { .. }
            | CommandKind::PayOrder { .. }
            | CommandKind::CancelOrder { .. }
            | CommandKind::ExtendOrder { .. }
            | CommandKind::Seed { .. }
            | CommandKind::AddStaff { .. }
            | CommandKind::RemoveStaff { .. }
            | CommandKind::ImportProduct { .. }
            | CommandKind::Allot { .. }
            | CommandKind::RevokeAllotments { .. }
            | CommandKind::SetAllotmentPolicy { .. }
            | CommandKind::SetSellAnyway { .. }
            | CommandKind::ResolveException { .. }
    )
}

/// Commands only a terminal's queue makes (a till's offline sales): the shop decides them as
/// that terminal's, when it pushes them.
pub fn till_only(kind: &CommandKind) -> bool {
    matches!(
        kind,
        CommandKind::TillOrder { .. }
            | CommandKind::TillPay { .. }
            | CommandKind::TillCancel { .. }
    )
}

/// The refusal of a command only the shop's server decides, on a terminal that cannot reach it.
pub fn needs_the_shop(kind: &CommandKind, shop: &str, reason: &str) -> Error {
    let what = match kind {
        CommandKind::CreateOrder { .. }
        | CommandKind::PayOrder { .. }
        | CommandKind::CancelOrder { .. }
        | CommandKind::ExtendOrder { .. } => "orders and payments are decided by the shop's server",
        CommandKind::AddStaff { .. } | CommandKind::RemoveStaff { .. } => {
            "staff profiles are changed on the shop's server"
        }
        CommandKind::ImportProduct { .. } => IMPORTS,
        CommandKind::Allot { .. }
        | CommandKind::RevokeAllotments { .. }
        | CommandKind::SetAllotmentPolicy { .. }
        | CommandKind::SetSellAnyway { .. }
        | CommandKind::ResolveException { .. } => {
            "allotments and oversell exceptions are managed on the shop's server"
        }
        _ => "this is decided by the shop's server",
    };
    shop_decides(what, shop, reason)
}

/// What a terminal says of an import it cannot send.
pub const IMPORTS: &str = "imports are decided by the shop's server";

/// `unreachable`: `what` (is decided by the shop's server), which does not answer now.
pub fn shop_decides(what: &str, shop: &str, reason: &str) -> Error {
    Error::Unreachable {
        database: shop.to_string(),
        reason: format!(
            "{what}, which this terminal cannot reach now ({reason}); nothing was done"
        ),
    }
}
