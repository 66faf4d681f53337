//! What one product of a file does to the shop: created, or an edit of the product it names
//! (by its Stockdesk id, else its handle) made against the version the file was made from, or
//! nothing. The version a file was made from is the `Stockdesk Version` column of Stockdesk's
//! own export; a file without it (a Shopify export) is taken as made from what its last import
//! left (the latest version an `import_product` command wrote), so importing it again changes
//! nothing and a product edited in the shop since is merged, never overwritten. A product the
//! shop made itself that a file without versions names is a conflict: the file cannot say what
//! it was made from.

use std::collections::{BTreeMap, HashMap, HashSet};

use uuid::Uuid;

use super::fetch::ImageSource;
use super::read::{ProductRecord, VariantRecord};
use crate::model::{
    AttributeNeed, CategoryNeed, Image, ImageOps, ImageUpdate, NewImage, NewProduct, NewVariant,
    Product, ProductPatch, ProductStatus, VariantOps, VariantUpdate,
};

/// The namespace of import op ids (a v5 UUID of the product's content).
const OP_NAMESPACE: Uuid = Uuid::from_u128(0x5d0c_6b1e_2f7a_4e43_9c1a_7f1d_0e3b_9a11);

/// The shop as an import plans against it: the product a record names, and its base.
pub struct Target {
    pub current: Product,
    /// The version the file was made from, if known, and the product as it was then.
    pub base: Option<Product>,
    /// The name of the base's category.
    pub category_of_base: Option<String>,
}

/// What the plan decided for one product.
pub enum Decision {
    Create {
        product: NewProduct,
    },
    Update {
        product_id: Uuid,
        expected_version: i64,
        base: Box<Product>,
        patch: ProductPatch,
        move_category: bool,
        changes: Vec<String>,
    },
    Unchanged {
        product_id: Uuid,
        version: i64,
    },
    /// The product exists and the file cannot say which version it was made from.
    NoBase {
        product_id: Uuid,
        version: i64,
    },
}

/// One product, planned.
pub struct Planned {
    pub record: ProductRecord,
    pub op_id: Uuid,
    pub decision: Decision,
    pub category: Option<CategoryNeed>,
    /// Images the file lists, in order, with where their bytes come from.
    pub images: Vec<PlannedImage>,
    /// Which row each variant (by the id it has or will have) comes from.
    pub variant_rows: HashMap<Uuid, u32>,
}

#[derive(Debug, Clone)]
pub struct PlannedImage {
    pub row: u32,
    pub source: ImageSource,
    pub alt: String,
    pub position: i64,
    pub thumbnail: Option<bool>,
}

/// An image whose bytes were found: its key, and the upload to use when the product does not
/// have it yet.
#[derive(Debug, Clone)]
pub struct ResolvedImage {
    pub planned: PlannedImage,
    pub key: String,
    pub staged: Option<Uuid>,
}

/// The op id of importing `record` (with the currency its prices were read in): the same
/// content always gives the same id, so a file imported again is recognised before anything
/// is fetched. `missing` names images that could not be fetched: a product imported without
/// them gets another id, so the next import of the file tries them again.
pub fn op_id(record: &ProductRecord, missing: &[String]) -> Uuid {
    let mut content = serde_json::to_vec(record).expect("records serialise");
    for src in missing {
        content.extend_from_slice(b"\nmissing:");
        content.extend_from_slice(src.as_bytes());
    }
    Uuid::new_v5(&OP_NAMESPACE, &content)
}

/// Plans `record` against `target` (None: the shop has no such product).
pub fn plan(record: ProductRecord, target: Option<Target>, images: Vec<PlannedImage>) -> Planned {
    let category = category_need(&record);
    let op_id = op_id(&record, &[]);
    let mut variant_rows = HashMap::new();
    let decision = match target {
        None => {
            let product = new_product(&record, &mut variant_rows);
            Decision::Create { product }
        }
        Some(Target {
            current,
            base: None,
            ..
        }) => {
            if same_as(&record, &current) && images.is_empty() {
                Decision::Unchanged {
                    product_id: current.id,
                    version: current.version,
                }
            } else {
                Decision::NoBase {
                    product_id: current.id,
                    version: current.version,
                }
            }
        }
        Some(Target {
            current,
            base: Some(base),
            category_of_base,
        }) => {
            let (patch, mut changes) = patch_from(&record, &base, &mut variant_rows);
            let move_category = record.category_given && record.category != category_of_base;
            if move_category {
                changes.push("category".into());
            }
            let images_change = record.images.is_some() && !images_match(&images, &base.images);
            if is_empty(&patch) && !move_category && !images_change {
                Decision::Unchanged {
                    product_id: current.id,
                    version: current.version,
                }
            } else {
                Decision::Update {
                    product_id: current.id,
                    expected_version: base.version,
                    base: Box::new(base),
                    patch,
                    move_category,
                    changes,
                }
            }
        }
    };
    Planned {
        record,
        op_id,
        decision,
        category,
        images,
        variant_rows,
    }
}

/// The images of the file as a patch of `base`'s images: ones the product has (by their bytes)
/// are kept and given the file's alt text and place, new ones added from their uploads, the
/// rest deleted. With no base (a new product): all added. Also the changes, for the report.
pub fn image_ops(
    resolved: &[ResolvedImage],
    base: Option<&Product>,
) -> (ImageOps, Vec<String>, HashMap<usize, u32>) {
    let mut ops = ImageOps::default();
    let mut rows_of_created = HashMap::new();
    let empty = Vec::new();
    let base_images: &Vec<Image> = base.map(|b| &b.images).unwrap_or(&empty);
    let given_thumbnail = resolved.iter().any(|r| r.planned.thumbnail.is_some());
    let first = resolved.iter().map(|r| r.planned.position).min();
    let mut used: HashSet<Uuid> = HashSet::new();
    for r in resolved {
        let p = &r.planned;
        let matched = base_images
            .iter()
            .find(|i| i.blob_key == r.key && !used.contains(&i.id));
        match matched {
            Some(i) => {
                used.insert(i.id);
                let thumbnail = p.thumbnail.filter(|&t| t != i.is_thumbnail);
                let upd = ImageUpdate {
                    id: i.id,
                    alt: (p.alt != i.alt).then(|| p.alt.clone()),
                    position: (p.position != i.position).then_some(p.position),
                    is_thumbnail: thumbnail,
                    staged: None,
                };
                if upd.alt.is_some() || upd.position.is_some() || upd.is_thumbnail.is_some() {
                    ops.update.push(upd);
                }
            }
            None => {
                let Some(staged) = r.staged else { continue };
                // Without a thumbnail column, a new product's first image is its thumbnail.
                let is_thumbnail = match p.thumbnail {
                    Some(t) => t,
                    None => !given_thumbnail && base_images.is_empty() && Some(p.position) == first,
                };
                rows_of_created.insert(ops.create.len(), p.row);
                ops.create.push(NewImage {
                    staged,
                    alt: p.alt.clone(),
                    position: Some(p.position),
                    is_thumbnail,
                });
            }
        }
    }
    ops.delete = base_images
        .iter()
        .filter(|i| !used.contains(&i.id))
        .map(|i| i.id)
        .collect();
    // A thumbnail being set goes in after the old one is cleared: the core orders that.
    let mut changes = Vec::new();
    if !ops.create.is_empty() {
        changes.push(format!("images +{}", ops.create.len()));
    }
    if !ops.delete.is_empty() {
        changes.push(format!("images −{}", ops.delete.len()));
    }
    if !ops.update.is_empty() {
        changes.push(format!("images ~{}", ops.update.len()));
    }
    (ops, changes, rows_of_created)
}

/// Whether the file's images are exactly the base's (only known when every one is named by
/// its key, as Stockdesk's export does; a file or URL has to be fetched to know).
fn images_match(images: &[PlannedImage], base: &[Image]) -> bool {
    if images.len() != base.len() {
        return false;
    }
    images.iter().all(|p| match &p.source {
        ImageSource::Blob(key) => base.iter().any(|i| {
            &i.blob_key == key
                && i.alt == p.alt
                && i.position == p.position
                && p.thumbnail.is_none_or(|t| t == i.is_thumbnail)
        }),
        _ => false,
    })
}

/// The category a record's product goes in, with the attributes and values its variants use.
fn category_need(record: &ProductRecord) -> Option<CategoryNeed> {
    let name = record.category.clone()?;
    let attributes = record
        .option_names
        .iter()
        .filter_map(|option| {
            let mut values: Vec<String> = Vec::new();
            for v in &record.variants {
                if let Some(value) = v.attributes.get(option) {
                    if !values.contains(value) {
                        values.push(value.clone());
                    }
                }
            }
            (!values.is_empty()).then(|| AttributeNeed {
                name: option.clone(),
                values,
            })
        })
        .collect();
    Some(CategoryNeed { name, attributes })
}

fn new_product(record: &ProductRecord, rows: &mut HashMap<Uuid, u32>) -> NewProduct {
    NewProduct {
        id: Some(record.product_id.unwrap_or_else(Uuid::now_v7)),
        name: record.title.clone(),
        slug: Some(record.handle.clone()),
        description: record.body.clone().unwrap_or_default(),
        status: record.status.unwrap_or(ProductStatus::Draft),
        category_id: None,
        variants: record
            .variants
            .iter()
            .map(|v| {
                let id = v.id.unwrap_or_else(Uuid::now_v7);
                rows.insert(id, v.row);
                new_variant(v, id)
            })
            .collect(),
    }
}

fn new_variant(v: &VariantRecord, id: Uuid) -> NewVariant {
    NewVariant {
        id: Some(id),
        sku: v.sku.clone(),
        barcode: v.barcode.clone().flatten(),
        price_minor: v.price_minor,
        currency: v.currency.clone(),
        stock_on_hand: v.qty.unwrap_or(0),
        attributes: v.attributes.clone(),
    }
}

/// What the file changes relative to `base`, as a patch (without images, which need their
/// bytes first), and the list of changes for people.
fn patch_from(
    record: &ProductRecord,
    base: &Product,
    rows: &mut HashMap<Uuid, u32>,
) -> (ProductPatch, Vec<String>) {
    let mut changes = Vec::new();
    let mut patch = ProductPatch::default();
    let mut set = |differs: bool, name: &str| {
        if differs {
            changes.push(name.to_string());
        }
        differs
    };
    if set(record.title != base.name, "name") {
        patch.name = Some(record.title.clone());
    }
    if set(record.handle != base.slug, "slug") {
        patch.slug = Some(record.handle.clone());
    }
    if let Some(body) = &record.body {
        if set(*body != base.description, "description") {
            patch.description = Some(body.clone());
        }
    }
    if let Some(status) = record.status {
        if set(status != base.status, "status") {
            patch.status = Some(status);
        }
    }
    let (variants, variant_changes) = variant_ops(&record.variants, base, rows);
    patch.variants = variants;
    changes.extend(variant_changes);
    (patch, changes)
}

/// The file's variants against the base's: matched by id, else SKU, else the same options.
fn variant_ops(
    file: &[VariantRecord],
    base: &Product,
    rows: &mut HashMap<Uuid, u32>,
) -> (VariantOps, Vec<String>) {
    let mut ops = VariantOps::default();
    let mut changes = Vec::new();
    let mut matched: Vec<(usize, Uuid)> = Vec::new();
    let mut used: HashSet<Uuid> = HashSet::new();
    for (n, f) in file.iter().enumerate() {
        let found = base
            .variants
            .iter()
            .filter(|b| !used.contains(&b.id))
            .find(|b| f.id == Some(b.id))
            .or_else(|| {
                base.variants
                    .iter()
                    .filter(|b| !used.contains(&b.id) && f.id.is_none())
                    .find(|b| b.sku == f.sku)
            })
            .or_else(|| {
                base.variants
                    .iter()
                    .filter(|b| !used.contains(&b.id) && f.id.is_none())
                    .find(|b| !f.attributes.is_empty() && b.attributes == f.attributes)
            });
        match found {
            Some(b) => {
                used.insert(b.id);
                rows.insert(b.id, f.row);
                matched.push((n, b.id));
                let upd = VariantUpdate {
                    id: b.id,
                    sku: (f.sku != b.sku).then(|| f.sku.clone()),
                    barcode: f.barcode.clone().filter(|code| *code != b.barcode),
                    price_minor: (f.price_minor != b.price_minor).then_some(f.price_minor),
                    currency: (f.currency != b.currency).then(|| f.currency.clone()),
                    stock_on_hand: f.qty.filter(|&q| q != b.stock_on_hand),
                    attributes: (f.attributes != b.attributes).then(|| f.attributes.clone()),
                    position: None,
                };
                let label = &f.sku;
                for (changed, what) in [
                    (upd.sku.is_some(), "sku"),
                    (upd.barcode.is_some(), "barcode"),
                    (upd.price_minor.is_some(), "price"),
                    (upd.currency.is_some(), "currency"),
                    (upd.stock_on_hand.is_some(), "stock (count)"),
                    (upd.attributes.is_some(), "options"),
                ] {
                    if changed {
                        changes.push(format!("variants.{label}.{what}"));
                    }
                }
                if upd
                    != (VariantUpdate {
                        id: b.id,
                        ..Default::default()
                    })
                {
                    ops.update.push(upd);
                }
            }
            None => {
                let id = f.id.unwrap_or_else(Uuid::now_v7);
                rows.insert(id, f.row);
                changes.push(format!("variants.{} (new)", f.sku));
                ops.create.push(new_variant(f, id));
            }
        }
    }
    // The file's order of the variants it kept, where it differs from the base's.
    let base_position: BTreeMap<Uuid, i64> =
        base.variants.iter().map(|v| (v.id, v.position)).collect();
    let in_order = matched
        .windows(2)
        .all(|w| base_position[&w[0].1] < base_position[&w[1].1]);
    if !in_order {
        changes.push("variants (order)".into());
        for (n, id) in &matched {
            let position = *n as i64;
            if base_position[id] == position {
                continue;
            }
            match ops.update.iter_mut().find(|u| u.id == *id) {
                Some(u) => u.position = Some(position),
                None => ops.update.push(VariantUpdate {
                    id: *id,
                    position: Some(position),
                    ..Default::default()
                }),
            }
        }
    }
    for b in &base.variants {
        if !used.contains(&b.id) {
            changes.push(format!("variants.{} (deleted)", b.sku));
            ops.delete.push(b.id);
        }
    }
    (ops, changes)
}

fn is_empty(patch: &ProductPatch) -> bool {
    *patch == ProductPatch::default()
}

/// Whether the file says exactly what the product is now, apart from its images (for a file
/// without versions naming a product the shop made: nothing to import, nothing to clash).
fn same_as(record: &ProductRecord, current: &Product) -> bool {
    let (patch, _) = patch_from(record, current, &mut HashMap::new());
    is_empty(&patch) && record.images.as_ref().is_none_or(|i| i.is_empty())
}
