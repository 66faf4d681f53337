//! Shop data in and out as files: what an import of a product CSV asks the core to do (one
//! command per product), what its preview and its run report, and what an export wrote.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::catalog::{Category, NewProduct, Product};
use super::patch::{MergeReport, NewImage, ProductPatch};

/// One product of an import file, as one command: its category (by name) made or given the
/// attributes and values its variants use, then the product created or edited, stock from the
/// file recorded as counts — all in one transaction, so a product is imported whole or not at all.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(deny_unknown_fields)]
pub struct ProductImport {
    /// Where it came from (the file and its rows), written on the ledger's count movements.
    pub source: String,
    /// The product's category by name: created when the shop has none of that name, given the
    /// attributes and values it lacks when it has (values are only ever added, never removed).
    #[serde(default)]
    pub category: Option<CategoryNeed>,
    pub target: ImportTarget,
}

/// A category an import needs, by name, with the attributes (in order) and values it uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(deny_unknown_fields)]
pub struct CategoryNeed {
    pub name: String,
    #[serde(default)]
    pub attributes: Vec<AttributeNeed>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(deny_unknown_fields)]
pub struct AttributeNeed {
    pub name: String,
    pub values: Vec<String>,
}

/// What an imported product does to the shop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum ImportTarget {
    /// A product new to the shop (its `category_id` is left out: the import's category is
    /// used), with images from staged uploads. Stock on hand is recorded as a count.
    Create {
        product: NewProduct,
        #[serde(default)]
        images: Vec<NewImage>,
    },
    /// A version-checked edit from the version the file was made from, merged three-way like
    /// any other edit (a field changed both in the file and in the shop is a conflict). Stock
    /// changes are counts: the file's figure against the version's, applied to the figure now.
    Update {
        product_id: Uuid,
        expected_version: i64,
        patch: ProductPatch,
        /// The file puts the product in the import's category (or in none).
        #[serde(default)]
        move_category: bool,
    },
}

/// What an import command did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct ImportedProduct {
    pub product: Product,
    pub created: bool,
    /// Present when the file's version was older and its changes merged with later ones.
    pub merge: Option<MergeReport>,
    /// The category as it is after the import, when the import made it or added to it.
    pub category: Option<Category>,
}

/// How an import reads a file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(deny_unknown_fields)]
pub struct ImportOptions {
    /// The currency of prices in a file without a `Variant Currency` column (a Shopify export):
    /// an ISO 4217 code. Default: the currency most of the shop's variants have.
    #[serde(default)]
    pub currency: Option<String>,
}

/// Which column layout a file has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum CsvLayout {
    /// Shopify's product CSV (Handle, Title, Option1 Name, Variant SKU, …).
    Shopify,
    /// Stockdesk's export: Shopify's columns plus the Stockdesk ones (ids, version, currency).
    Stockdesk,
}

/// What happens (or, in a preview, would happen) to one product of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum ImportAction {
    Create,
    Update,
    /// The file changes nothing (also: this file was imported already).
    Unchanged,
    /// Changed both in the file and in the shop since the file's version: nothing written.
    Conflict,
    /// A row of it has a problem: nothing of the product written.
    Invalid,
    /// Not reached: the import was cancelled or stopped first.
    Skipped,
}

/// One product of the file and what became of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct ImportItem {
    pub handle: String,
    pub name: String,
    /// The file's rows of this product (spreadsheet numbering: the header is row 1).
    pub rows: Vec<u32>,
    pub action: ImportAction,
    pub product_id: Option<Uuid>,
    /// The product's version after the import (before it, in a preview).
    pub version: Option<i64>,
    pub variants: usize,
    pub images: usize,
    /// For an update: what it changes (`name`, `variants.<sku>.price`, …).
    pub changes: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// The row breaks a rule; its product is not imported.
    Invalid,
    /// Changed in the shop and in the file: the product is not imported.
    Conflict,
    /// An image could not be read or downloaded, or is not an image: the product is imported
    /// without it (the next import of the file tries it again).
    Image,
}

/// A problem with one row: which row, which column, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct RowProblem {
    /// Spreadsheet numbering: the header is row 1, the first product row 2. 0: the file itself.
    pub row: u32,
    /// The column as the file names it; none when the problem is the whole row.
    pub column: Option<String>,
    pub reason: String,
    pub kind: ProblemKind,
    /// The product (its handle) the row belongs to.
    pub handle: Option<String>,
}

/// A column of the file Stockdesk has no field for, and how many rows have a value in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct IgnoredColumn {
    pub column: String,
    pub rows_with_values: usize,
}

/// What an import did, or (`dry_run`) would do: per product, with every row's problems.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct ImportReport {
    pub file: String,
    pub layout: CsvLayout,
    pub dry_run: bool,
    /// Product rows in the file (the header not counted).
    pub rows: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub conflicts: usize,
    pub invalid: usize,
    pub skipped: usize,
    pub items: Vec<ImportItem>,
    pub problems: Vec<RowProblem>,
    pub ignored_columns: Vec<IgnoredColumn>,
    /// How the file was read (the currency of its prices, categories made from option names,
    /// generated SKUs, …).
    pub notes: Vec<String>,
    /// Image files to read or download (a preview fetches none; the import reports the ones
    /// that fail as problems).
    pub images_to_fetch: usize,
    pub cancelled: bool,
    /// Why the import stopped before the end (the database went away, …); the items say what
    /// was done before.
    pub stopped: Option<String>,
}

/// How far an import has come, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct ImportProgress {
    /// Products decided so far (imported, unchanged, refused).
    pub done: usize,
    pub total: usize,
    /// Rows of those products.
    pub rows_done: usize,
    pub rows_total: usize,
}

/// What an export writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum ExportKind {
    /// Products with variants and images, in the import's layout (export → import changes
    /// nothing).
    Products,
    /// Per variant: on hand, reserved by pending orders, available.
    Stock,
    /// One row per order line, orders made in the range.
    Orders,
    /// The stock ledger: one row per movement in the range.
    Ledger,
}

impl ExportKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ExportKind::Products => "products",
            ExportKind::Stock => "stock",
            ExportKind::Orders => "orders",
            ExportKind::Ledger => "ledger",
        }
    }
}

/// An export: what, and for orders and the ledger a time range (`from` inclusive, `to`
/// exclusive; either may be left out).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(deny_unknown_fields)]
pub struct ExportRequest {
    pub kind: ExportKind,
    #[serde(default)]
    pub from: Option<DateTime<Utc>>,
    #[serde(default)]
    pub to: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct ExportReport {
    pub kind: ExportKind,
    /// Data rows written (the header not counted).
    pub rows: u64,
    /// Where (none: standard output).
    pub file: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}
