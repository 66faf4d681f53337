//! Merging a product's parts: variants and images, created, edited and deleted on either side.

use super::*;
use crate::catalog::diff::diff;

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
                barcode: None,
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
                barcode: None,
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

#[test]
fn an_image_edited_by_me_whose_file_they_replaced_clashes() {
    let old = base().images[1].blob_key.clone();
    let current = theirs(|p| p.images[1].blob_key = "new-picture".into());
    let patch = update_image(I2, |u| u.alt = Some("Red mug, side".into()));
    let m = run(
        &base(),
        &current,
        &patch,
        &by_bob(&[&image_path(I2, "blob_key")]),
    )
    .unwrap();
    let c = only_conflict(&m);
    assert_eq!(c.path, image_path(I2, "blob_key"));
    assert_eq!(c.kind, ConflictKind::FileReplacedByThem);
    assert_eq!((c.base.clone(), c.mine.clone()), (json!(old), json!(old)));
    assert_eq!(c.theirs, json!("new-picture"));
    assert!(c.changed_by.is_some(), "who replaced it is said");
    // Against the new picture (the edit resubmitted after looking), it merges.
    let m = run(&current, &current, &patch, &[]).unwrap();
    clean(&m);
    assert_eq!(find_image(&m.next, I2).unwrap().alt, "Red mug, side");
}
