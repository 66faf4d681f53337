//! The three-way merge case by case: base (what the editor started from), theirs (the product as
//! it is now) and mine (the patch), without a database.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{json, Value};

use super::*;
use crate::images::StagedBlob;
use crate::model::{ImageOps, NewImage, VariantOps};
use crate::model::{NewVariant, ProductStatus};

/// Variants and images: parts merged one by one.
mod parts;

// ---- a product and the ways to change it ----

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

const PRODUCT: u128 = 1;
const V1: u128 = 11;
const V2: u128 = 12;
const I1: u128 = 21;
const I2: u128 = 22;

fn at(minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 9, minute, 0).unwrap()
}

fn variant(n: u128, sku: &str, stock: i64, position: i64) -> Variant {
    Variant {
        id: id(n),
        sku: sku.into(),
        barcode: None,
        price_minor: 1000,
        currency: "EUR".into(),
        stock_on_hand: stock,
        attributes: BTreeMap::from([("Size".to_string(), "M".to_string())]),
        position,
        version: 1,
    }
}

fn image(n: u128, blob: &str, position: i64, is_thumbnail: bool) -> Image {
    Image {
        id: id(n),
        blob_key: blob.into(),
        thumb_key: Some(format!("{blob}-thumb")),
        alt: String::new(),
        position,
        is_thumbnail,
        version: 1,
    }
}

/// Version 1: two variants (10 and 5 on hand) and two images, the first the thumbnail.
fn base() -> Product {
    Product {
        id: id(PRODUCT),
        name: "Mug".into(),
        slug: "mug".into(),
        description: String::new(),
        status: ProductStatus::Draft,
        category_id: None,
        version: 1,
        created_at: at(0),
        updated_at: at(0),
        updated_by: "ana".into(),
        variants: vec![variant(V1, "MUG-S", 10, 0), variant(V2, "MUG-M", 5, 1)],
        images: vec![image(I1, "aaa", 0, true), image(I2, "bbb", 1, false)],
    }
}

/// The base as someone else left it: version 2, changed by `change`.
fn theirs(change: impl FnOnce(&mut Product)) -> Product {
    let mut p = base();
    p.version = 2;
    p.updated_at = at(5);
    p.updated_by = "bob".into();
    change(&mut p);
    p
}

fn entry(version: i64, actor: &str, changes: &[&str]) -> HistoryEntry {
    HistoryEntry {
        version,
        actor: actor.into(),
        actor_id: None,
        at: at(version as u32),
        changes: changes.iter().map(|c| c.to_string()).collect(),
    }
}

/// Bob's version 2, which changed `changes`.
fn by_bob(changes: &[&str]) -> Vec<HistoryEntry> {
    vec![entry(2, "bob", changes)]
}

fn variant_path(n: u128, field: &str) -> String {
    format!("variants.{}.{field}", id(n))
}

fn image_path(n: u128, field: &str) -> String {
    format!("images.{}.{field}", id(n))
}

fn update_variant(n: u128, change: impl FnOnce(&mut VariantUpdate)) -> ProductPatch {
    let mut update = VariantUpdate {
        id: id(n),
        ..Default::default()
    };
    change(&mut update);
    ProductPatch {
        variants: VariantOps {
            update: vec![update],
            ..Default::default()
        },
        ..Default::default()
    }
}

fn update_image(n: u128, change: impl FnOnce(&mut ImageUpdate)) -> ProductPatch {
    let mut update = ImageUpdate {
        id: id(n),
        ..Default::default()
    };
    change(&mut update);
    ProductPatch {
        images: ImageOps {
            update: vec![update],
            ..Default::default()
        },
        ..Default::default()
    }
}

fn delete_variant(n: u128) -> ProductPatch {
    ProductPatch {
        variants: VariantOps {
            delete: vec![id(n)],
            ..Default::default()
        },
        ..Default::default()
    }
}

fn delete_image(n: u128) -> ProductPatch {
    ProductPatch {
        images: ImageOps {
            delete: vec![id(n)],
            ..Default::default()
        },
        ..Default::default()
    }
}

/// A staged upload with id `n` whose file is `blob`.
fn staged(n: u128, blob: &str) -> StagedFiles {
    StagedFiles::from([(
        id(n),
        StagedBlob {
            id: id(n),
            blob_key: blob.into(),
            thumb_key: format!("{blob}-thumb"),
            content_type: "image/png".into(),
            width: 4,
            height: 4,
            size: 64,
            expires_at: at(30),
        },
    )])
}

/// Ids for created parts: 901, 902, …
fn new_ids() -> impl FnMut() -> Uuid {
    let mut n = 900;
    move || {
        n += 1;
        id(n)
    }
}

fn run(
    base: &Product,
    current: &Product,
    patch: &ProductPatch,
    history: &[HistoryEntry],
) -> Result<Merged> {
    run_with(base, current, patch, history, &StagedFiles::new())
}

fn run_with(
    base: &Product,
    current: &Product,
    patch: &ProductPatch,
    history: &[HistoryEntry],
    staged: &StagedFiles,
) -> Result<Merged> {
    merge(base, current, patch, history, staged, new_ids())
}

fn clean(merged: &Merged) {
    assert!(merged.conflicts.is_empty(), "{:#?}", merged.conflicts);
}

fn only_conflict(merged: &Merged) -> &FieldConflict {
    assert_eq!(merged.conflicts.len(), 1, "{:#?}", merged.conflicts);
    &merged.conflicts[0]
}

fn find_variant(p: &Product, n: u128) -> Option<&Variant> {
    p.variants.iter().find(|v| v.id == id(n))
}

fn find_image(p: &Product, n: u128) -> Option<&Image> {
    p.images.iter().find(|i| i.id == id(n))
}

// ---- product fields ----

#[test]
fn an_edit_that_is_not_stale_applies_every_field_it_sets() {
    let patch = ProductPatch {
        name: Some("Big Mug".into()),
        status: Some(ProductStatus::Published),
        ..Default::default()
    };
    let m = run(&base(), &base(), &patch, &[]).unwrap();
    clean(&m);
    assert_eq!(m.next.name, "Big Mug");
    assert_eq!(m.next.status, ProductStatus::Published);
    assert_eq!(m.applied, ["name", "status"]);
    assert!(m.stock.is_empty());
}

#[test]
fn disjoint_changes_merge() {
    let current = theirs(|p| p.description = "Stoneware.".into());
    let patch = ProductPatch {
        name: Some("Big Mug".into()),
        ..Default::default()
    };
    let m = run(&base(), &current, &patch, &by_bob(&["description"])).unwrap();
    clean(&m);
    assert_eq!(m.next.name, "Big Mug");
    assert_eq!(m.next.description, "Stoneware.", "their change is kept");
    assert_eq!(m.next.version, 2, "the merge starts from their version");
    assert_eq!(m.applied, ["name"]);
}

#[test]
fn equal_changes_agree() {
    let current = theirs(|p| p.name = "Big Mug".into());
    let patch = ProductPatch {
        name: Some("Big Mug".into()),
        ..Default::default()
    };
    let m = run(&base(), &current, &patch, &by_bob(&["name"])).unwrap();
    clean(&m);
    assert_eq!(m.next.name, "Big Mug");
    assert!(m.applied.is_empty(), "nothing of mine was still to apply");
}

#[test]
fn the_same_field_changed_two_ways_clashes_and_names_who_changed_it() {
    let current = theirs(|p| {
        p.name = "Tall Mug".into();
        p.description = "Stoneware.".into();
    });
    let patch = ProductPatch {
        name: Some("Big Mug".into()),
        ..Default::default()
    };
    let history = [entry(2, "bob", &["name"]), entry(3, "cy", &["description"])];
    let m = run(&base(), &current, &patch, &history).unwrap();
    let c = only_conflict(&m);
    assert_eq!(c.path, "name");
    assert_eq!((c.entity.as_str(), c.entity_id), ("product", id(PRODUCT)));
    assert_eq!(c.field.as_deref(), Some("name"));
    assert_eq!(c.kind, ConflictKind::BothChanged);
    assert_eq!(
        (&c.base, &c.mine, &c.theirs),
        (&json!("Mug"), &json!("Big Mug"), &json!("Tall Mug"))
    );
    let by = c.changed_by.as_ref().expect("who changed it");
    assert_eq!(
        (by.version, by.actor.as_str()),
        (2, "bob"),
        "not cy: cy changed the description"
    );
    assert_eq!(m.next.name, "Tall Mug", "a clash keeps theirs");
    assert!(m.applied.is_empty());
}

#[test]
fn a_clash_names_the_latest_version_that_changed_the_field() {
    let current = theirs(|p| p.name = "Tall Mug".into());
    let patch = ProductPatch {
        name: Some("Big Mug".into()),
        ..Default::default()
    };
    let history = [entry(2, "bob", &["name"]), entry(3, "cy", &["name"])];
    let m = run(&base(), &current, &patch, &history).unwrap();
    let by = only_conflict(&m).changed_by.clone().unwrap();
    assert_eq!((by.version, by.actor.as_str()), (3, "cy"));
}

#[test]
fn a_clash_and_a_clean_change_are_both_reported() {
    let current = theirs(|p| p.name = "Tall Mug".into());
    let patch = ProductPatch {
        name: Some("Big Mug".into()),
        slug: Some("big-mug".into()),
        ..Default::default()
    };
    let m = run(&base(), &current, &patch, &by_bob(&["name"])).unwrap();
    assert_eq!(only_conflict(&m).path, "name");
    assert_eq!(m.applied, ["slug"], "what would merge is said too");
}

#[test]
fn removing_the_category_merges_when_they_left_it() {
    let category = Some(id(77));
    let mut base = base();
    base.category_id = category;
    let mut current = base.clone();
    current.version = 2;
    current.name = "Tall Mug".into();
    let patch = ProductPatch {
        category_id: Some(None),
        ..Default::default()
    };
    let m = run(&base, &current, &patch, &by_bob(&["name"])).unwrap();
    clean(&m);
    assert_eq!(m.next.category_id, None);
    assert_eq!(m.applied, ["category_id"]);
}

#[test]
fn removing_a_category_they_changed_clashes() {
    let mut base = base();
    base.category_id = Some(id(77));
    let mut current = base.clone();
    current.version = 2;
    current.category_id = Some(id(78));
    let patch = ProductPatch {
        category_id: Some(None),
        ..Default::default()
    };
    let m = run(&base, &current, &patch, &by_bob(&["category_id"])).unwrap();
    let c = only_conflict(&m);
    assert_eq!(c.path, "category_id");
    assert_eq!(c.mine, Value::Null);
    assert_eq!(c.theirs, json!(id(78)));
    assert_eq!(m.next.category_id, Some(id(78)));
}

// ---- stock on hand ----

#[test]
fn stock_merges_as_a_delta() {
    // Base 10; someone sold 2 (8); I counted +5 from what I saw (15): 8 + 5 = 13.
    let current = theirs(|p| p.variants[0].stock_on_hand = 8);
    let patch = update_variant(V1, |u| u.stock_on_hand = Some(15));
    let history = by_bob(&[&variant_path(V1, "stock_on_hand")]);
    let m = run(&base(), &current, &patch, &history).unwrap();
    clean(&m);
    assert_eq!(find_variant(&m.next, V1).unwrap().stock_on_hand, 13);
    assert_eq!(m.applied, [variant_path(V1, "stock_on_hand")]);
    assert_eq!(
        m.stock,
        [StockMerge {
            variant_id: id(V1),
            base: 10,
            mine: 15,
            theirs: 8,
            result: 13,
        }]
    );
}

#[test]
fn stock_i_changed_alone_is_no_stock_merge() {
    let current = theirs(|p| p.name = "Tall Mug".into());
    let patch = update_variant(V1, |u| u.stock_on_hand = Some(15));
    let m = run(&base(), &current, &patch, &by_bob(&["name"])).unwrap();
    clean(&m);
    assert_eq!(find_variant(&m.next, V1).unwrap().stock_on_hand, 15);
    assert_eq!(m.applied, [variant_path(V1, "stock_on_hand")]);
    assert!(
        m.stock.is_empty(),
        "nothing happened meanwhile to merge with"
    );
}

#[test]
fn stock_i_left_as_it_was_keeps_their_figure() {
    let current = theirs(|p| p.variants[0].stock_on_hand = 8);
    let patch = update_variant(V1, |u| u.stock_on_hand = Some(10));
    let m = run(&base(), &current, &patch, &by_bob(&[])).unwrap();
    clean(&m);
    assert_eq!(find_variant(&m.next, V1).unwrap().stock_on_hand, 8);
    assert!(m.applied.is_empty(), "my figure changed nothing");
    assert_eq!(m.stock[0].result, 8);
}

#[test]
fn stock_beyond_what_a_number_holds_is_refused() {
    let current = theirs(|p| p.variants[0].stock_on_hand = 11);
    let patch = update_variant(V1, |u| u.stock_on_hand = Some(i64::MAX));
    let err = run(&base(), &current, &patch, &[]).err().unwrap();
    assert!(
        matches!(&err, Error::Validation(e) if e[0].field == "stock_on_hand"),
        "{err:?}"
    );
}
