//! Every write as a value: a `Command` says who asks for what, once (its op id), and when it was
//! made; `commands::apply` applies it in one transaction and records its outcome under the op id,
//! so applying it again — a retry, a replay from a queue — returns the first outcome and changes
//! nothing. The JSON of these types is what `stockdesk apply` reads (README, "Commands").

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::allot::{Allotment, AllotmentPolicy, ExceptionResolution, OversellException};
use super::catalog::{Category, NewCategory, NewProduct, Product, SeedSummary};
use super::patch::{PatchOutcome, ProductPatch};
use super::staff::{NewStaff, StaffProfile};
use super::stock::{ExtendOutcome, NewOrder, Order, PaymentOutcome, StockChange};
use super::transfer::{ImportedProduct, ProductImport};

/// One write, as it is stored, sent and applied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(deny_unknown_fields)]
pub struct Command {
    /// Chosen by whoever makes the command; the same op id is applied once.
    pub op_id: Uuid,
    /// Who asks for it (recorded in history, the ledger and orders): the profile's name.
    pub actor: String,
    /// The staff profile acting. Required once the shop has profiles; the core checks the
    /// profile's role, read fresh inside the command's transaction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor_id: Option<Uuid>,
    /// When it was made, by the maker's clock. Rules are decided by the clock of the database
    /// it is applied to, not by this.
    pub made_at: DateTime<Utc>,
    pub kind: CommandKind,
}

/// What a command does: one variant per write the app or the CLI can make.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum CommandKind {
    CreateCategory {
        category: NewCategory,
    },
    CreateProduct {
        product: NewProduct,
    },
    /// A version-checked edit: merged three-way when `expected_version` is stale.
    PatchProduct {
        product_id: Uuid,
        expected_version: i64,
        patch: ProductPatch,
        /// The product as the editor saw it, when that is not a version the database has: an
        /// edit made offline on a terminal (on top of its own earlier edits) carries it, and
        /// `expected_version` is then the shop's version it derives from (0: none yet). The
        /// merge's base is this snapshot instead of the history row.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        base: Option<Box<Product>>,
    },
    /// Brings back an old version's fields, variants and image details as a new edit.
    RestoreProduct {
        product_id: Uuid,
        expected_version: i64,
        to_version: i64,
    },
    /// Adds staged uploads as images (the first becomes the thumbnail if there is none).
    AddImages {
        product_id: Uuid,
        expected_version: i64,
        staged: Vec<Uuid>,
    },
    /// Replaces one image's file with a staged upload.
    ReplaceImageFile {
        product_id: Uuid,
        expected_version: i64,
        image_id: Uuid,
        staged: Uuid,
    },
    /// Reserves every line or none, for a payment window (15 minutes by default).
    CreateOrder {
        order: NewOrder,
    },
    PayOrder {
        order_id: Uuid,
    },
    CancelOrder {
        order_id: Uuid,
    },
    /// Gives a pending order `by_secs` more seconds to pay.
    ExtendOrder {
        order_id: Uuid,
        by_secs: i64,
    },
    /// Goods arrived: on hand rises by `quantity`.
    ReceiveStock {
        variant_id: Uuid,
        quantity: i64,
        #[serde(default)]
        reason: Option<String>,
    },
    /// A correction with a reason (breakage, loss, found stock).
    AdjustStock {
        variant_id: Uuid,
        delta: i64,
        reason: String,
    },
    /// A count found `counted` where the sheet said `expected` (the current figure if omitted).
    CountStock {
        variant_id: Uuid,
        counted: i64,
        #[serde(default)]
        expected: Option<i64>,
    },
    /// A demo catalog: the same command makes the same products wherever it is applied.
    Seed {
        products: u32,
        seed: u64,
    },
    /// A new staff profile (the first one must be an owner).
    AddStaff {
        staff: NewStaff,
    },
    /// A profile stops being able to act (history keeps its name).
    RemoveStaff {
        staff_id: Uuid,
    },
    /// One product of an import file, whole or not at all: its category made or extended, the
    /// product created or edited (version-checked), its stock recorded as counts.
    ImportProduct {
        import: ProductImport,
    },
    /// Sets terminal `terminal`'s allotment of a variant to `units` (up from free stock, or
    /// down, the units going back to it). Decided on the shop.
    Allot {
        terminal: String,
        variant_id: Uuid,
        units: i64,
    },
    /// Revokes terminal `terminal`'s allotments (of one variant, or all): the units go back to
    /// free stock at once, and sales pushed later from them become oversell exceptions.
    RevokeAllotments {
        terminal: String,
        #[serde(default)]
        variant_id: Option<Uuid>,
    },
    /// "Keep `keep_units` at each till" for a variant (None: no policy).
    SetAllotmentPolicy {
        variant_id: Uuid,
        keep_units: Option<i64>,
    },
    /// The shop's "sell anyway" setting for counter sales beyond a till's allotment offline.
    SetSellAnyway {
        on: bool,
    },
    /// Settles an oversell exception.
    ResolveException {
        exception_id: Uuid,
        resolution: ExceptionResolution,
    },
    /// An order a terminal took offline, from its allotment (`paid`: sold at once). Queued by
    /// the terminal; the shop takes it from that allotment first.
    TillOrder {
        terminal_id: Uuid,
        order: NewOrder,
        paid: bool,
    },
    /// A payment of a till's own order, taken offline.
    TillPay {
        order_id: Uuid,
    },
    /// A cancellation of a till's own order, taken offline (its units go back to the allotment).
    TillCancel {
        order_id: Uuid,
    },
}

impl CommandKind {
    /// The stable name of the kind (the `type` in JSON), recorded with the op id.
    pub fn name(&self) -> &'static str {
        match self {
            CommandKind::CreateCategory { .. } => "create_category",
            CommandKind::CreateProduct { .. } => "create_product",
            CommandKind::PatchProduct { .. } => "patch_product",
            CommandKind::RestoreProduct { .. } => "restore_product",
            CommandKind::AddImages { .. } => "add_images",
            CommandKind::ReplaceImageFile { .. } => "replace_image_file",
            CommandKind::CreateOrder { .. } => "create_order",
            CommandKind::PayOrder { .. } => "pay_order",
            CommandKind::CancelOrder { .. } => "cancel_order",
            CommandKind::ExtendOrder { .. } => "extend_order",
            CommandKind::ReceiveStock { .. } => "receive_stock",
            CommandKind::AdjustStock { .. } => "adjust_stock",
            CommandKind::CountStock { .. } => "count_stock",
            CommandKind::Seed { .. } => "seed",
            CommandKind::AddStaff { .. } => "add_staff",
            CommandKind::RemoveStaff { .. } => "remove_staff",
            CommandKind::ImportProduct { .. } => "import_product",
            CommandKind::Allot { .. } => "allot",
            CommandKind::RevokeAllotments { .. } => "revoke_allotments",
            CommandKind::SetAllotmentPolicy { .. } => "set_allotment_policy",
            CommandKind::SetSellAnyway { .. } => "set_sell_anyway",
            CommandKind::ResolveException { .. } => "resolve_exception",
            CommandKind::TillOrder { .. } => "till_order",
            CommandKind::TillPay { .. } => "till_pay",
            CommandKind::TillCancel { .. } => "till_cancel",
        }
    }
}

/// What applying a command gave.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum Outcome {
    Category(Category),
    Product(Product),
    Patch(PatchOutcome),
    Order(Order),
    Payment(PaymentOutcome),
    Extension(ExtendOutcome),
    Stock(StockChange),
    Seed(SeedSummary),
    Staff(StaffProfile),
    Import(ImportedProduct),
    Allotments(Vec<Allotment>),
    AllotmentPolicy(AllotmentPolicy),
    SellAnyway(bool),
    Exception(OversellException),
}

/// A command's outcome, and whether it had been applied before (then this is the first outcome
/// and nothing was changed now).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct Applied {
    pub op_id: Uuid,
    pub replayed: bool,
    pub outcome: Outcome,
}

/// Takes the value out of an `Outcome` of the expected kind.
pub trait FromOutcome: Sized {
    fn from_outcome(outcome: Outcome) -> Option<Self>;
}

macro_rules! from_outcome {
    ($($variant:ident($t:ty)),* $(,)?) => {$(
        impl FromOutcome for $t {
            fn from_outcome(outcome: Outcome) -> Option<Self> {
                match outcome {
                    Outcome::$variant(v) => Some(v),
                    _ => None,
                }
            }
        }
    )*};
}
from_outcome!(
    Category(Category),
    Product(Product),
    Patch(PatchOutcome),
    Order(Order),
    Payment(PaymentOutcome),
    Extension(ExtendOutcome),
    Stock(StockChange),
    Seed(SeedSummary),
    Staff(StaffProfile),
    Import(ImportedProduct),
    Allotments(Vec<Allotment>),
    AllotmentPolicy(AllotmentPolicy),
    SellAnyway(bool),
    Exception(OversellException),
);
