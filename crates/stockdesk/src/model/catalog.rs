//! What the catalog is made of, as the UI and the CLI see it.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "lowercase")]
pub enum ProductStatus {
    Draft,
    Published,
    Archived,
}

impl ProductStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ProductStatus::Draft => "draft",
            ProductStatus::Published => "published",
            ProductStatus::Archived => "archived",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "draft" => Some(ProductStatus::Draft),
            "published" => Some(ProductStatus::Published),
            "archived" => Some(ProductStatus::Archived),
            _ => None,
        }
    }
}

/// A product with its variants and images: the unit that is edited, versioned and snapshotted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct Product {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
    pub description: String,
    pub status: ProductStatus,
    pub category_id: Option<Uuid>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
    pub variants: Vec<Variant>,
    pub images: Vec<Image>,
}

impl Product {
    /// Variants and images in the order the database lists them (position, then id).
    pub(crate) fn sort_parts(&mut self) {
        self.variants.sort_by_key(|v| (v.position, v.id));
        self.images.sort_by_key(|i| (i.position, i.id));
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct Variant {
    pub id: Uuid,
    pub sku: String,
    /// EAN-13, EAN-8 or UPC-A, digits only; unique among variants. Absent in snapshots taken
    /// before variants had barcodes.
    #[serde(default)]
    pub barcode: Option<String>,
    pub price_minor: i64,
    pub currency: String,
    pub stock_on_hand: i64,
    /// Attribute name → value, both from the product's category.
    pub attributes: BTreeMap<String, String>,
    pub position: i64,
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct Image {
    pub id: Uuid,
    /// The file: the SHA-256 of its bytes (`Stockdesk::image_file` returns them).
    pub blob_key: String,
    /// The list-size thumbnail. None only for images recorded before images had files.
    #[serde(default)]
    pub thumb_key: Option<String>,
    pub alt: String,
    pub position: i64,
    pub is_thumbnail: bool,
    pub version: i64,
}

/// One row of the product list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct ProductSummary {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
    pub status: ProductStatus,
    pub category_id: Option<Uuid>,
    pub version: i64,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
    pub variant_count: i64,
    pub total_stock: i64,
    pub min_stock: Option<i64>,
    pub min_price_minor: Option<i64>,
    pub currency: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct ProductPage {
    pub items: Vec<ProductSummary>,
    pub total: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(deny_unknown_fields)]
pub struct ProductQuery {
    /// Matches name, slug or any SKU, case-insensitively.
    #[serde(default)]
    pub search: Option<String>,
    #[serde(default)]
    pub status: Option<ProductStatus>,
    #[serde(default)]
    pub category_id: Option<Uuid>,
    /// Products with a variant whose stock on hand is at or below this.
    #[serde(default)]
    pub low_stock: Option<i64>,
    #[serde(default)]
    pub limit: Option<i64>,
    #[serde(default)]
    pub offset: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct Category {
    pub id: Uuid,
    pub name: String,
    pub attributes: Vec<Attribute>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct Attribute {
    pub id: Uuid,
    pub name: String,
    pub values: Vec<String>,
}

/// A category to create: its attributes and their allowed values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(deny_unknown_fields)]
pub struct NewCategory {
    pub name: String,
    #[serde(default)]
    pub attributes: BTreeMap<String, Vec<String>>,
}

/// A product to create (JSON of `stockdesk product create`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(deny_unknown_fields)]
pub struct NewProduct {
    /// Optional caller-chosen id (lets a retried create be recognised).
    #[serde(default)]
    pub id: Option<Uuid>,
    pub name: String,
    /// Derived from the name when omitted.
    #[serde(default)]
    pub slug: Option<String>,
    #[serde(default)]
    pub description: String,
    #[serde(default = "default_status")]
    pub status: ProductStatus,
    #[serde(default)]
    pub category_id: Option<Uuid>,
    #[serde(default)]
    pub variants: Vec<NewVariant>,
}

fn default_status() -> ProductStatus {
    ProductStatus::Draft
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(deny_unknown_fields)]
pub struct NewVariant {
    #[serde(default)]
    pub id: Option<Uuid>,
    pub sku: String,
    /// EAN-13, EAN-8 or UPC-A; spaces are dropped, the check digit is checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub barcode: Option<String>,
    pub price_minor: i64,
    pub currency: String,
    #[serde(default)]
    pub stock_on_hand: i64,
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}

/// One version of a product in its history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct HistoryEntry {
    pub version: i64,
    pub actor: String,
    /// The staff profile that made it (absent in a shop without profiles).
    pub actor_id: Option<Uuid>,
    pub at: DateTime<Utc>,
    /// Paths of what this version changed (`name`, `variants.<id>.price_minor`, …).
    pub changes: Vec<String>,
}

/// What a demo seed added.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct SeedSummary {
    pub categories: usize,
    pub products: usize,
    pub variants: usize,
    pub images: usize,
}

/// How a variant was found for a sale: the whole query was its barcode or its SKU (what a
/// scanner sends), or the query is part of its product's name or of its SKU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum SaleMatch {
    Barcode,
    Sku,
    Text,
}

/// A variant the till can sell, with what a sale line needs of it (`find_for_sale`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct VariantForSale {
    pub variant_id: Uuid,
    pub product_id: Uuid,
    pub product_name: String,
    /// The variant's attribute values in the category's order ("M / Navy"); empty without any.
    pub variant_label: String,
    pub sku: String,
    pub barcode: Option<String>,
    pub price_minor: i64,
    pub currency: String,
    /// On hand less what pending orders hold right now (in this database: a terminal's replica
    /// says what it last heard from the shop).
    pub available: i64,
    pub matched: SaleMatch,
}
