//! The three-way merge case by case: base (what the editor started from), theirs (the product as
//! it is now) and mine (the patch), without a database.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{json, Value};

use super::*;
use crate::images::StagedBlob;
use crate::model::{ImageOps, NewImage, VariantOps};
use crate::model::{NewVariant, ProductStatus};

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

// ---- variants ----

#[test]
fn disjoint_edits_of_one_variant_merge() {
    let current = theirs(|p| p.variants[0].price_minor = 1200);
    let patch = update_variant(V1, |u| u.sku = Some("MUG-SMALL".into()));
    let history = by_bob(&[&variant_path(V1, "price_minor")]);
    let m = run(&base(), &current, &patch, &history).unwrap();
    clean(&m);
    let v = find_variant(&m.next, V1).unwrap();
    assert_eq!((v.sku.as_str(), v.price_minor), ("MUG-SMALL", 1200));
    assert_eq!(m.applied, [variant_path(V1, "sku")]);
}

#[test]
fn a_variant_field_changed_two_ways_clashes() {
    let current = theirs(|p| p.variants[1].price_minor = 1200);
    let patch = update_variant(V2, |u| u.price_minor = Some(900));
    let history = by_bob(&[&variant_path(V2, "price_minor")]);
    let m = run(&base(), &current, &patch, &history).unwrap();
    let c = only_conflict(&m);
    assert_eq!(c.path, variant_path(V2, "price_minor"));
    assert_eq!((c.entity.as_str(), c.entity_id), ("variant", id(V2)));
    assert_eq!(c.field.as_deref(), Some("price_minor"));
    assert_eq!(
        (&c.base, &c.mine, &c.theirs),
        (&json!(1000), &json!(900), &json!(1200))
    );
    assert_eq!(c.changed_by.as_ref().unwrap().actor, "bob");
    assert_eq!(find_variant(&m.next, V2).unwrap().price_minor, 1200);
}

#[test]
fn attributes_merge_as_one_value() {
    let current = theirs(|p| {
        p.variants[0]
            .attributes
            .insert("Colour".into(), "Navy".into());
    });
    let patch = update_variant(V1, |u| {
        u.attributes = Some(BTreeMap::from([("Size".into(), "L".into())]))
    });
    let history = by_bob(&[&variant_path(V1, "attributes")]);
    let m = run(&base(), &current, &patch, &history).unwrap();
    assert_eq!(only_conflict(&m).path, variant_path(V1, "attributes"));
}

#[test]
fn a_variant_deleted_by_them_and_edited_by_me_clashes() {
    let current = theirs(|p| p.variants.retain(|v| v.id != id(V2)));
    let patch = update_variant(V2, |u| u.price_minor = Some(900));
    let history = by_bob(&[&format!("variants.{}", id(V2))]);
    let m = run(&base(), &current, &patch, &history).unwrap();
    let c = only_conflict(&m);
    assert_eq!(c.path, format!("variants.{}", id(V2)));
    assert_eq!(c.kind, ConflictKind::DeletedByThem);
    assert_eq!(c.field, None, "about the whole variant");
    assert_eq!(c.base, json!(variant(V2, "MUG-M", 5, 1)));
    assert_eq!(c.mine, json!({"id": id(V2), "price_minor": 900}));
    assert_eq!(c.theirs, Value::Null);
    assert_eq!(c.changed_by.as_ref().unwrap().version, 2);
    assert!(find_variant(&m.next, V2).is_none(), "it stays deleted");
}

#[test]
fn a_variant_edited_by_them_and_deleted_by_me_clashes() {
    let current = theirs(|p| p.variants[1].sku = "MUG-MEDIUM".into());
    let history = by_bob(&[&variant_path(V2, "sku")]);
    let m = run(&base(), &current, &delete_variant(V2), &history).unwrap();
    let c = only_conflict(&m);
    assert_eq!(c.path, format!("variants.{}", id(V2)));
    assert_eq!(c.kind, ConflictKind::EditedByThem);
    assert_eq!(
        (&c.mine, &c.theirs["sku"]),
        (&Value::Null, &json!("MUG-MEDIUM"))
    );
    let by = c
        .changed_by
        .as_ref()
        .expect("a change inside the variant counts");
    assert_eq!(by.actor, "bob");
    assert!(find_variant(&m.next, V2).is_some(), "their edit is kept");
    assert!(m.applied.is_empty());
}

#[test]
fn a_variant_they_only_sold_from_can_be_deleted() {
    // A sale moving stock is not an edit of the variant.
    let current = theirs(|p| p.variants[1].stock_on_hand = 2);
    let history = by_bob(&[&variant_path(V2, "stock_on_hand")]);
    let m = run(&base(), &current, &delete_variant(V2), &history).unwrap();
    clean(&m);
    assert!(find_variant(&m.next, V2).is_none());
    assert_eq!(m.applied, [format!("variants.{}", id(V2))]);
}

#[test]
fn a_variant_deleted_on_both_sides_agrees() {
    let current = theirs(|p| p.variants.retain(|v| v.id != id(V2)));
    let m = run(&base(), &current, &delete_variant(V2), &[]).unwrap();
    clean(&m);
    assert!(find_variant(&m.next, V2).is_none());
    assert!(m.applied.is_empty());
}

#[test]
fn a_variant_that_never_existed_is_not_found() {
    let missing = id(99).to_string();
    let patch = update_variant(99, |u| u.price_minor = Some(1));
    for patch in [patch, delete_variant(99)] {
        let err = run(&base(), &theirs(|_| {}), &patch, &[]).err().unwrap();
        assert!(
            matches!(&err, Error::NotFound { entity: "variant", id } if *id == missing),
            "{err:?}"
        );
    }
}

#[test]
fn a_variant_created_by_them_can_be_edited_by_me() {
    // It is not in my base, so I have seen it as it is now: my change applies as is.
    let current = theirs(|p| p.variants.push(variant(13, "MUG-L", 3, 2)));
    let patch = update_variant(13, |u| u.price_minor = Some(1100));
    let m = run(&base(), &current, &patch, &[]).unwrap();
    clean(&m);
    assert_eq!(find_variant(&m.next, 13).unwrap().price_minor, 1100);
    assert_eq!(m.applied, [variant_path(13, "price_minor")]);
}

#[test]
fn variants_created_on_both_sides_are_both_kept() {
    let current = theirs(|p| p.variants.push(variant(13, "MUG-L", 3, 2)));
    let patch = ProductPatch {
        variants: VariantOps {
            create: vec![NewVariant {
                id: None,
                sku: "MUG-XL".into(),
                price_minor: 1300,
                currency: "EUR".into(),
                stock_on_hand: 4,
                attributes: BTreeMap::new(),
            }],
            ..Default::default()
        },
        ..Default::default()
    };
    let history = by_bob(&[&format!("variants.{}", id(13))]);
    let m = run(&base(), &current, &patch, &history).unwrap();
    clean(&m);
    let skus: Vec<&str> = m.next.variants.iter().map(|v| v.sku.as_str()).collect();
    assert_eq!(skus, ["MUG-S", "MUG-M", "MUG-L", "MUG-XL"]);
    let mine = find_variant(&m.next, 901).expect("a new id from new_id");
    assert_eq!((mine.position, mine.version, mine.stock_on_hand), (3, 0, 4));
    assert_eq!(m.applied, [format!("variants.{}", id(901))]);
}

#[test]
fn a_created_variant_may_not_take_an_existing_id() {
    let current = theirs(|p| p.variants.push(variant(13, "MUG-L", 3, 2)));
    let patch = ProductPatch {
        variants: VariantOps {
            create: vec![NewVariant {
                id: Some(id(13)),
                sku: "MUG-XL".into(),
                price_minor: 1300,
                currency: "EUR".into(),
                stock_on_hand: 0,
                attributes: BTreeMap::new(),
            }],
            ..Default::default()
        },
        ..Default::default()
    };
    let err = run(&base(), &current, &patch, &[]).err().unwrap();
    assert!(matches!(err, Error::Validation(_)), "{err:?}");
}

#[test]
fn merged_parts_come_out_in_position_order() {
    let patch = update_variant(V1, |u| u.position = Some(5));
    let m = run(&base(), &theirs(|_| {}), &patch, &[]).unwrap();
    let order: Vec<Uuid> = m.next.variants.iter().map(|v| v.id).collect();
    assert_eq!(order, [id(V2), id(V1)]);
}

#[test]
fn one_part_updated_twice_or_updated_and_deleted_is_bad_input() {
    let mut twice = update_variant(V1, |u| u.sku = Some("A".into()));
    twice.variants.update.push(twice.variants.update[0].clone());
    let mut both = update_variant(V1, |u| u.sku = Some("A".into()));
    both.variants.delete.push(id(V1));
    let mut image_both = update_image(I1, |u| u.alt = Some("A".into()));
    image_both.images.delete.push(id(I1));
    for patch in [twice, both, image_both] {
        let err = run(&base(), &base(), &patch, &[]).err().unwrap();
        assert!(matches!(err, Error::BadInput(_)), "{err:?}");
    }
}

// ---- images ----

#[test]
fn disjoint_image_edits_merge_and_the_same_field_clashes() {
    let current = theirs(|p| p.images[1].alt = "Handle".into());
    let history = by_bob(&[&image_path(I2, "alt")]);
    let patch = update_image(I2, |u| u.position = Some(0));
    let m = run(&base(), &current, &patch, &history).unwrap();
    clean(&m);
    let i = find_image(&m.next, I2).unwrap();
    assert_eq!((i.alt.as_str(), i.position), ("Handle", 0));

    let patch = update_image(I2, |u| u.alt = Some("Side view".into()));
    let m = run(&base(), &current, &patch, &history).unwrap();
    let c = only_conflict(&m);
    assert_eq!(c.path, image_path(I2, "alt"));
    assert_eq!(
        (c.entity.as_str(), c.kind),
        ("image", ConflictKind::BothChanged)
    );
    assert_eq!(find_image(&m.next, I2).unwrap().alt, "Handle");
}

#[test]
fn an_image_deleted_by_them_and_edited_by_me_clashes() {
    let current = theirs(|p| p.images.retain(|i| i.id != id(I2)));
    let patch = update_image(I2, |u| u.alt = Some("Side view".into()));
    let m = run(&base(), &current, &patch, &[]).unwrap();
    let c = only_conflict(&m);
    assert_eq!(c.path, format!("images.{}", id(I2)));
    assert_eq!(c.kind, ConflictKind::DeletedByThem);
    assert_eq!(c.theirs, Value::Null);
    assert_eq!(c.mine["alt"], json!("Side view"));
    assert!(find_image(&m.next, I2).is_none());
}

#[test]
fn an_image_edited_by_them_and_deleted_by_me_clashes() {
    let current = theirs(|p| p.images[1].alt = "Handle".into());
    let m = run(&base(), &current, &delete_image(I2), &[]).unwrap();
    let c = only_conflict(&m);
    assert_eq!(c.path, format!("images.{}", id(I2)));
    assert_eq!(c.kind, ConflictKind::EditedByThem);
    assert_eq!(c.theirs["alt"], json!("Handle"));
    assert!(find_image(&m.next, I2).is_some());
}

#[test]
fn an_image_they_left_alone_is_deleted_and_one_deleted_on_both_sides_agrees() {
    let m = run(&base(), &theirs(|_| {}), &delete_image(I2), &[]).unwrap();
    clean(&m);
    assert!(find_image(&m.next, I2).is_none());
    assert_eq!(m.applied, [format!("images.{}", id(I2))]);

    let current = theirs(|p| p.images.retain(|i| i.id != id(I2)));
    let m = run(&base(), &current, &delete_image(I2), &[]).unwrap();
    clean(&m);
    assert!(m.applied.is_empty());
}

#[test]
fn a_replaced_file_brings_its_thumbnail() {
    let current = theirs(|p| p.images[0].alt = "Front".into());
    let patch = update_image(I1, |u| u.staged = Some(id(50)));
    let m = run_with(&base(), &current, &patch, &[], &staged(50, "ddd")).unwrap();
    clean(&m);
    let i = find_image(&m.next, I1).unwrap();
    assert_eq!(
        (i.blob_key.as_str(), i.thumb_key.as_deref(), i.alt.as_str()),
        ("ddd", Some("ddd-thumb"), "Front")
    );
    assert_eq!(m.applied, [image_path(I1, "blob_key")]);
}

#[test]
fn a_file_replaced_on_both_sides_clashes_and_keeps_theirs_with_its_thumbnail() {
    let current = theirs(|p| {
        p.images[0].blob_key = "ccc".into();
        p.images[0].thumb_key = Some("ccc-thumb".into());
    });
    let patch = update_image(I1, |u| u.staged = Some(id(50)));
    let history = by_bob(&[&image_path(I1, "blob_key")]);
    let m = run_with(&base(), &current, &patch, &history, &staged(50, "ddd")).unwrap();
    let c = only_conflict(&m);
    assert_eq!(c.path, image_path(I1, "blob_key"));
    assert_eq!(
        (&c.base, &c.mine, &c.theirs),
        (&json!("aaa"), &json!("ddd"), &json!("ccc"))
    );
    let i = find_image(&m.next, I1).unwrap();
    assert_eq!(
        (i.blob_key.as_str(), i.thumb_key.as_deref()),
        ("ccc", Some("ccc-thumb"))
    );
}

#[test]
fn images_created_on_both_sides_are_both_kept() {
    let current = theirs(|p| p.images.push(image(23, "ccc", 2, false)));
    let mut files = staged(50, "ddd");
    files.extend(staged(51, "eee"));
    let new = |n: u128, position: Option<i64>| NewImage {
        staged: id(n),
        alt: format!("new {n}"),
        position,
        is_thumbnail: false,
    };
    let patch = ProductPatch {
        images: ImageOps {
            create: vec![new(50, None), new(51, Some(7))],
            ..Default::default()
        },
        ..Default::default()
    };
    let m = run_with(&base(), &current, &patch, &[], &files).unwrap();
    clean(&m);
    let blobs: Vec<(&str, i64)> = m
        .next
        .images
        .iter()
        .map(|i| (i.blob_key.as_str(), i.position))
        .collect();
    assert_eq!(
        blobs,
        [("aaa", 0), ("bbb", 1), ("ccc", 2), ("ddd", 3), ("eee", 7)],
        "after the last image, or where asked"
    );
    let mine = find_image(&m.next, 901).expect("a new id from new_id");
    assert_eq!(
        (mine.thumb_key.as_deref(), mine.version),
        (Some("ddd-thumb"), 0)
    );
    assert_eq!(
        m.applied,
        [format!("images.{}", id(901)), format!("images.{}", id(902))]
    );
}

// ---- diff ----

#[test]
fn diff_names_changed_fields_and_whole_parts_added_or_removed() {
    let before = base();
    let mut after = base();
    after.name = "Big Mug".into();
    after.variants[0].stock_on_hand = 3;
    after.variants.retain(|v| v.id != id(V2));
    after.variants.push(variant(13, "MUG-L", 0, 2));
    after.images[0].is_thumbnail = false;
    after.images[1].is_thumbnail = true;
    after.version = 9; // version metadata is not a change
    assert_eq!(
        diff(&before, &after),
        [
            "name".to_string(),
            variant_path(V1, "stock_on_hand"),
            format!("variants.{}", id(13)),
            format!("variants.{}", id(V2)),
            image_path(I1, "is_thumbnail"),
            image_path(I2, "is_thumbnail"),
        ]
    );
    assert!(diff(&before, &base()).is_empty());
}
