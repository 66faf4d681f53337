//! The shape of an edit and of its outcome: what the caller sends, what comes back when it
//! merged, and what comes back when it clashed.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use uuid::Uuid;

use super::catalog::{HistoryEntry, NewVariant, Product, ProductStatus};

/// Changes to one product. Omitted keys are unchanged.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(deny_unknown_fields)]
pub struct ProductPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slug: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ProductStatus>,
    /// `null` removes the category; omitted leaves it.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    // On the wire an optional, nullable id (`present` only tells null from absent).
    #[specta(type = Option<Uuid>)]
    pub category_id: Option<Option<Uuid>>,
    #[serde(default, skip_serializing_if = "VariantOps::is_empty")]
    pub variants: VariantOps,
    #[serde(default, skip_serializing_if = "ImageOps::is_empty")]
    pub images: ImageOps,
}

/// Tells "key present with null" from "key absent".
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(deny_unknown_fields)]
pub struct VariantOps {
    #[serde(default)]
    pub create: Vec<NewVariant>,
    #[serde(default)]
    pub update: Vec<VariantUpdate>,
    #[serde(default)]
    pub delete: Vec<Uuid>,
}

impl VariantOps {
    pub fn is_empty(&self) -> bool {
        self.create.is_empty() && self.update.is_empty() && self.delete.is_empty()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(deny_unknown_fields)]
pub struct VariantUpdate {
    pub id: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    /// `null` (or an empty string) removes the barcode; omitted leaves it.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[specta(type = Option<String>)]
    pub barcode: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_minor: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// The figure the editor shows. Merged as a delta against the version the edit started from,
    /// so sales made meanwhile are kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stock_on_hand: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(deny_unknown_fields)]
pub struct ImageOps {
    /// New images, each from a staged upload (`Stockdesk::stage_image_file`).
    #[serde(default)]
    pub create: Vec<NewImage>,
    #[serde(default)]
    pub update: Vec<ImageUpdate>,
    #[serde(default)]
    pub delete: Vec<Uuid>,
}

impl ImageOps {
    pub fn is_empty(&self) -> bool {
        self.create.is_empty() && self.update.is_empty() && self.delete.is_empty()
    }
}

/// An image to add. Its file is a staged upload; the edit's transaction claims it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(deny_unknown_fields)]
pub struct NewImage {
    /// The `id` of a `StagedBlob` that has not expired.
    pub staged: Uuid,
    #[serde(default)]
    pub alt: String,
    /// After the last image when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<i64>,
    #[serde(default)]
    pub is_thumbnail: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(deny_unknown_fields)]
pub struct ImageUpdate {
    pub id: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alt: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_thumbnail: Option<bool>,
    /// Replaces the image's file with a staged upload (merged as a change of `blob_key`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staged: Option<Uuid>,
}

/// A version-checked edit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct PatchRequest {
    pub product_id: Uuid,
    /// The version the caller's edit started from.
    pub expected_version: i64,
    pub patch: ProductPatch,
    /// Resubmitting the same id returns the first outcome and applies nothing twice.
    #[serde(default)]
    pub op_id: Option<Uuid>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct PatchOutcome {
    pub product: Product,
    /// Present when the edit started from an older version and was merged with later changes.
    pub merge: Option<MergeReport>,
    /// True when this op_id had already been applied and the first outcome was returned.
    pub replayed: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct MergeReport {
    pub base_version: i64,
    /// The versions committed by others since the base, merged with this edit.
    pub merged_with: Vec<HistoryEntry>,
    /// The caller's changes that were applied on top of them.
    pub applied: Vec<String>,
    /// Stock figures merged as deltas.
    pub stock: Vec<StockMerge>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct StockMerge {
    pub variant_id: Uuid,
    pub base: i64,
    pub mine: i64,
    pub theirs: i64,
    pub result: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum ConflictKind {
    /// Both sides changed the same field to different values.
    BothChanged,
    /// I edited a variant or image that someone else deleted.
    DeletedByThem,
    /// I deleted a variant or image that someone else edited.
    EditedByThem,
    /// I edited an image (its alt text, place, thumbnail) whose file someone else replaced: my
    /// edit was made for the picture I saw, which is gone (`base` and `mine` are its blob key,
    /// `theirs` the new one).
    FileReplacedByThem,
}

/// Who made the other side of a clash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct ChangedBy {
    pub version: i64,
    pub actor: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct FieldConflict {
    /// `name`, `variants.<id>.price_minor`, `images.<id>` (a whole image), …
    pub path: String,
    pub entity: String,
    pub entity_id: Uuid,
    /// The field, or null when the clash is about the whole variant/image.
    pub field: Option<String>,
    pub kind: ConflictKind,
    pub base: Value,
    pub mine: Value,
    pub theirs: Value,
    pub changed_by: Option<ChangedBy>,
}

/// Everything a person needs to resolve a stale edit: nothing of it was committed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct ConflictReport {
    pub product_id: Uuid,
    pub expected_version: i64,
    pub current_version: i64,
    pub conflicts: Vec<FieldConflict>,
    /// The caller's changes that would merge cleanly (they are kept for the resubmission).
    pub mergeable: Vec<String>,
    /// The product as it is now; resolve against `current_version`.
    pub current: Product,
}
