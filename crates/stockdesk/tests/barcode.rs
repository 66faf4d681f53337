//! Variants' barcodes and the till's look-up, on both backends: a barcode is checked by its check
//! digit and stored as digits; it is unique among variants (checked in the write and held by a
//! unique index); it merges and clashes per field like a SKU, is restored with a version, and is
//! copied to a replica; `find_for_sale` finds a variant by barcode, SKU or text.

use std::collections::BTreeMap;

use serde_json::json;
use stockdesk::catalog::*;
use stockdesk::{Error, FieldError, Stockdesk};
use stockdesk_testkit::{both_backends, dump, execute, order_of, TestDb};

/// EAN-13, EAN-8 and UPC-A codes with right check digits.
const EAN13: &str = "4006381333931";
const EAN8: &str = "96385074";
const UPC_A: &str = "036000291452";

async fn sizes(sd: &Stockdesk) -> Category {
    sd.create_category(NewCategory {
        name: "Apparel".into(),
        attributes: BTreeMap::from([
            ("Size".into(), vec!["S".into(), "M".into()]),
            ("Colour".into(), vec!["Navy".into()]),
        ]),
    })
    .await
    .unwrap()
}

fn variant(sku: &str, barcode: Option<&str>, stock: i64) -> NewVariant {
    NewVariant {
        id: None,
        sku: sku.into(),
        barcode: barcode.map(str::to_string),
        price_minor: 2500,
        currency: "EUR".into(),
        stock_on_hand: stock,
        attributes: BTreeMap::new(),
    }
}

async fn product(sd: &Stockdesk, name: &str, variants: Vec<NewVariant>) -> Result<Product, Error> {
    sd.create_product(
        NewProduct {
            id: None,
            name: name.into(),
            slug: None,
            description: String::new(),
            status: ProductStatus::Published,
            category_id: None,
            variants,
        },
        None,
    )
    .await
}

async fn patch(
    sd: &Stockdesk,
    p: &Product,
    version: i64,
    patch: serde_json::Value,
) -> Result<Product, Error> {
    sd.patch_product(PatchRequest {
        product_id: p.id,
        expected_version: version,
        patch: serde_json::from_value(patch).unwrap(),
        op_id: None,
    })
    .await
    .map(|o| o.product)
}

/// The one field error of a refused write.
fn field_error(result: Result<Product, Error>) -> FieldError {
    match result {
        Err(Error::Validation(errors)) if errors.len() == 1 => errors[0].clone(),
        other => panic!("expected one validation error, got {other:?}"),
    }
}

both_backends!(
    barcodes_are_checked_and_stored_as_digits,
    |db: TestDb| async move {
        let sd = &db.sd;
        let p = product(
            sd,
            "Mug",
            vec![variant("MUG-1", Some(" 4006381 33393 1 "), 3)],
        )
        .await
        .unwrap();
        assert_eq!(p.variants[0].barcode.as_deref(), Some(EAN13));
        assert_eq!(sd.get_product(p.id).await.unwrap(), p);
        let v = p.variants[0].id;

        let before = dump(sd).await;
        for (code, reason) in [
            ("4006381333932", "check digit should be 1"),
            ("96385070", "check digit should be 4"),
            ("036000291450", "check digit should be 2"),
            (
                "12345",
                "5 digits: an EAN-13 has 13, a UPC-A 12, an EAN-8 8",
            ),
            (
                "40063813339X1",
                "digits only (an EAN-13, EAN-8 or UPC-A barcode)",
            ),
        ] {
            let e = field_error(
                patch(
                    sd,
                    &p,
                    1,
                    json!({"variants": {"update": [{"id": v, "barcode": code}]}}),
                )
                .await,
            );
            assert_eq!(e.field, format!("variants.{v}.barcode"), "{code}");
            assert_eq!(e.reason, reason, "{code}");
        }
        assert_eq!(dump(sd).await, before, "a refused barcode writes nothing");

        // EAN-8 and UPC-A are barcodes too; null and "" both remove one.
        let p = patch(
            sd,
            &p,
            1,
            json!({"variants": {"update": [{"id": v, "barcode": EAN8}]}}),
        )
        .await
        .unwrap();
        assert_eq!(p.variants[0].barcode.as_deref(), Some(EAN8));
        let p = patch(
            sd,
            &p,
            2,
            json!({"variants": {"update": [{"id": v, "barcode": UPC_A}]}}),
        )
        .await
        .unwrap();
        assert_eq!(p.variants[0].barcode.as_deref(), Some(UPC_A));
        let p = patch(
            sd,
            &p,
            3,
            json!({"variants": {"update": [{"id": v, "barcode": null}]}}),
        )
        .await
        .unwrap();
        assert_eq!(p.variants[0].barcode, None);
        let p = patch(
            sd,
            &p,
            4,
            json!({"variants": {"update": [{"id": v, "barcode": EAN13}]}}),
        )
        .await
        .unwrap();
        let p = patch(
            sd,
            &p,
            5,
            json!({"variants": {"update": [{"id": v, "barcode": "  "}]}}),
        )
        .await
        .unwrap();
        assert_eq!(p.variants[0].barcode, None);

        // History names the change, and a restore brings an old barcode back.
        let history = sd.product_history(p.id).await.unwrap();
        assert_eq!(history[0].changes, [format!("variants.{v}.barcode")]);
        let restored = sd.restore_product(p.id, 6, 2).await.unwrap().product;
        assert_eq!(restored.variants[0].barcode.as_deref(), Some(EAN8));
        assert!(sd.check_invariants().await.unwrap().is_empty());
    }
);

both_backends!(a_barcode_belongs_to_one_variant, |db: TestDb| async move {
    let sd = &db.sd;
    let mug = product(
        sd,
        "Mug",
        vec![
            variant("MUG-1", Some(EAN13), 3),
            variant("MUG-2", Some(UPC_A), 3),
        ],
    )
    .await
    .unwrap();

    // Another product: the same code, also in its other spelling (a UPC-A read as an EAN-13).
    let before = dump(sd).await;
    for code in [EAN13, "0036000291452"] {
        let e = field_error(product(sd, "Cup", vec![variant("CUP-1", Some(code), 1)]).await);
        assert!(e.field.ends_with(".barcode"), "{e:?}");
        assert!(
            e.reason
                .starts_with("already used by another product's variant (SKU MUG-"),
            "{e:?}"
        );
    }
    // Two variants of one product.
    let e = field_error(
        product(
            sd,
            "Cup",
            vec![
                variant("CUP-1", Some(EAN8), 1),
                variant("CUP-2", Some(EAN8), 1),
            ],
        )
        .await,
    );
    assert!(e.reason.starts_with("also the barcode of variant"), "{e:?}");
    assert_eq!(dump(sd).await, before);

    // Two variants swap barcodes in one edit (the unique index never sees both at once).
    let (a, b) = (mug.variants[0].id, mug.variants[1].id);
    let swapped = patch(
        sd,
        &mug,
        1,
        json!({"variants": {"update": [{"id": a, "barcode": UPC_A}, {"id": b, "barcode": EAN13}]}}),
    )
    .await
    .unwrap();
    let codes: Vec<Option<&str>> = swapped
        .variants
        .iter()
        .map(|v| v.barcode.as_deref())
        .collect();
    assert_eq!(codes, [Some(UPC_A), Some(EAN13)]);

    // Freed by one product, taken by another.
    let freed = patch(sd, &swapped, 2, json!({"variants": {"delete": [b]}}))
        .await
        .unwrap();
    assert_eq!(freed.variants.len(), 1);
    let cup = product(sd, "Cup", vec![variant("CUP-1", Some(EAN13), 1)])
        .await
        .unwrap();
    assert_eq!(cup.variants[0].barcode.as_deref(), Some(EAN13));

    // The unique index holds even against a writer that skips the core's check.
    let sql = format!("UPDATE variants SET barcode = '{EAN13}' WHERE sku = 'MUG-1'");
    let written = tokio::spawn({
        let sd = sd.clone();
        async move { execute(&sd, &sql).await }
    })
    .await;
    assert!(
        written.is_err(),
        "the unique index refuses a second {EAN13}"
    );
    assert_eq!(sd.get_product(cup.id).await.unwrap(), cup);
});

both_backends!(
    barcodes_merge_and_clash_per_field,
    |db: TestDb| async move {
        let sd = &db.sd;
        let p = product(sd, "Mug", vec![variant("MUG-1", None, 3)])
            .await
            .unwrap();
        let v = p.variants[0].id;

        // Someone changes the price; my barcode, from version 1, merges with it.
        patch(
            sd,
            &p,
            1,
            json!({"variants": {"update": [{"id": v, "price_minor": 2700}]}}),
        )
        .await
        .unwrap();
        let merged = sd
            .patch_product(PatchRequest {
                product_id: p.id,
                expected_version: 1,
                patch: serde_json::from_value(
                    json!({"variants": {"update": [{"id": v, "barcode": EAN13}]}}),
                )
                .unwrap(),
                op_id: None,
            })
            .await
            .unwrap();
        assert_eq!(
            merged.merge.unwrap().applied,
            [format!("variants.{v}.barcode")]
        );
        let now = merged.product;
        assert_eq!(
            (
                now.variants[0].price_minor,
                now.variants[0].barcode.as_deref()
            ),
            (2700, Some(EAN13))
        );

        // The same barcode typed with spaces is the same change, not a clash.
        patch(
            sd,
            &p,
            1,
            json!({"variants": {"update": [{"id": v, "barcode": "4006381 333931"}]}}),
        )
        .await
        .unwrap();

        // Another barcode from version 1 clashes with mine, field by field, naming who.
        let before = dump(sd).await;
        let Err(Error::Conflict(report)) = patch(
            sd,
            &p,
            1,
            json!({"variants": {"update": [{"id": v, "barcode": EAN8}]}}),
        )
        .await
        else {
            panic!("expected a conflict");
        };
        assert_eq!(report.conflicts.len(), 1);
        let c = &report.conflicts[0];
        assert_eq!(c.path, format!("variants.{v}.barcode"));
        assert_eq!(c.field.as_deref(), Some("barcode"));
        assert_eq!(
            (&c.base, &c.mine, &c.theirs),
            (&json!(null), &json!(EAN8), &json!(EAN13))
        );
        assert!(c.changed_by.is_some());
        assert_eq!(dump(sd).await, before);
    }
);

both_backends!(
    the_till_finds_by_barcode_then_sku_then_text,
    |db: TestDb| async move {
        let sd = &db.sd;
        let apparel = sizes(sd).await;
        let mut s = variant("TEE-S", Some(EAN13), 5);
        s.attributes = BTreeMap::from([
            ("Size".into(), "S".into()),
            ("Colour".into(), "Navy".into()),
        ]);
        let mut m = variant("TEE-M", Some(UPC_A), 2);
        m.attributes = BTreeMap::from([("Size".into(), "M".into())]);
        let tee = sd
            .create_product(
                NewProduct {
                    id: None,
                    name: "Linen Tee".into(),
                    slug: None,
                    description: String::new(),
                    status: ProductStatus::Published,
                    category_id: Some(apparel.id),
                    variants: vec![s, m],
                },
                None,
            )
            .await
            .unwrap();
        let mug = product(
            sd,
            "Stoneware Mug",
            vec![
                variant("MUG-TEE-1", Some(EAN8), 9),
                variant("MUG-2", None, 1),
            ],
        )
        .await
        .unwrap();
        let old = product(sd, "Old Tee", vec![variant("OLD-1", None, 1)])
            .await
            .unwrap();
        patch(sd, &old, 1, json!({"status": "archived"}))
            .await
            .unwrap();
        // A pending order holds 2 of TEE-S: available is on hand less that.
        sd.create_order(order_of(&[(tee.variants[0].id, 2)]), None)
            .await
            .unwrap();

        let find = |q: &'static str| async move { sd.find_for_sale(q).await.unwrap() };

        // A scanned barcode: that variant alone, labelled, with what is available now.
        let hit = find(EAN13).await;
        assert_eq!(hit.len(), 1);
        let h = &hit[0];
        assert_eq!(
            (
                h.variant_id,
                h.product_id,
                h.product_name.as_str(),
                h.variant_label.as_str(),
                h.sku.as_str()
            ),
            (tee.variants[0].id, tee.id, "Linen Tee", "Navy / S", "TEE-S")
        );
        assert_eq!(
            (h.barcode.as_deref(), h.price_minor, h.currency.as_str()),
            (Some(EAN13), 2500, "EUR")
        );
        assert_eq!((h.available, h.matched), (3, SaleMatch::Barcode));
        // A UPC-A read as an EAN-13 (a scanner set up that way), and one with a leading space.
        let upc = find("0036000291452").await;
        assert_eq!(
            (upc.len(), upc[0].sku.as_str(), upc[0].matched),
            (1, "TEE-M", SaleMatch::Barcode)
        );
        assert_eq!(find(" 96385074").await[0].sku, "MUG-TEE-1");

        // A SKU, exactly.
        let sku = find("MUG-2").await;
        assert_eq!(
            (sku.len(), sku[0].matched, sku[0].variant_label.as_str()),
            (1, SaleMatch::Sku, "")
        );

        // Text: every variant of a product whose name holds it, and variants whose SKU holds it;
        // not the archived product's.
        let text = find("tee").await;
        let skus: Vec<&str> = text.iter().map(|v| v.sku.as_str()).collect();
        assert_eq!(skus, ["TEE-S", "TEE-M", "MUG-TEE-1"]);
        assert!(text.iter().all(|v| v.matched == SaleMatch::Text));
        assert_eq!(find("stoneware").await.len(), 2);
        assert_eq!(
            find("mu").await.len(),
            2,
            "short text, no index, same answer"
        );

        // Nothing: an unknown barcode, an empty query, the archived product by its SKU.
        assert!(find("5901234123457").await.is_empty());
        assert!(find("  ").await.is_empty());
        assert!(find("OLD-1").await.is_empty());
        assert!(matches!(
            sd.find_for_sale("a\u{1b}").await,
            Err(Error::Validation(_))
        ));
        let _ = mug;
    }
);

both_backends!(a_till_lists_at_most_twenty, |db: TestDb| async move {
    let sd = &db.sd;
    let many: Vec<NewVariant> = (0..30)
        .map(|n| variant(&format!("BOWL-{n:02}"), None, 1))
        .collect();
    product(sd, "Bowl", many).await.unwrap();
    let found = sd.find_for_sale("bowl").await.unwrap();
    assert_eq!(found.len(), FOR_SALE_LIMIT);
    assert_eq!(found[0].sku, "BOWL-00", "in the product's order");
});
