//! The data Stockdesk is made of, as the UI, the CLI and the database see it: plain serialisable
//! types with no behaviour that needs a database. This is the bottom of the core: it imports no
//! other module, so the error type and every capability can use these types without a cycle.

pub mod allot;
pub mod backup;
pub mod catalog;
pub mod command;
pub mod feed;
pub mod images;
pub mod patch;
pub mod presence;
pub mod staff;
pub mod stock;
pub mod sync;
pub mod transfer;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use allot::*;
pub use backup::*;
pub use catalog::*;
pub use command::*;
pub use feed::*;
pub use images::*;
pub use patch::*;
pub use presence::*;
pub use staff::*;
pub use stock::*;
pub use sync::*;
pub use transfer::*;

/// Why a piece of text is refused, if it is: text holds no control characters (NUL, escape,
/// …), which no shop means to type and which Postgres cannot even store (NUL). Multi-line text
/// (descriptions, reasons) may hold line breaks and tabs.
pub fn text_problem(text: &str, multi_line: bool) -> Option<&'static str> {
    let allowed = |c: char| multi_line && matches!(c, '\n' | '\r' | '\t');
    text.chars()
        .any(|c| c.is_control() && !allowed(c))
        .then_some(if multi_line {
            "must not contain control characters (line breaks and tabs are fine)"
        } else {
            "must not contain control characters (line breaks, tabs, NUL, …)"
        })
}

/// One rule a value broke, with the path of the field (`name`, `variants.<id>.sku`, …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct FieldError {
    pub field: String,
    pub reason: String,
}

/// What changed, for front ends that keep views fresh (the desktop app forwards these to the
/// UI), and what each entry of the change feed changed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, specta::Type)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChangeEvent {
    Product {
        id: Uuid,
        version: i64,
    },
    Stock {
        variant_id: Uuid,
    },
    Order {
        id: Uuid,
    },
    Category {
        id: Uuid,
    },
    /// Many products at once (a demo seed): refetch the catalogue.
    Catalog,
    /// A staff profile was added or removed.
    Staff {
        id: Uuid,
    },
    Sweep,
}
