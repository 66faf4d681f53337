//! Catalog behaviour on both backends: creating, listing, version-checked edits, three-way
//! merges and conflicts, idempotency, history and restore.

use std::collections::BTreeMap;

use serde_json::json;
use stockdesk::catalog::*;
use stockdesk::{Error, Stockdesk};
use stockdesk_testkit::{both_backends, dump, TestDb};
use uuid::Uuid;

pub async fn clothing(sd: &Stockdesk) -> Category {
    sd.create_category(NewCategory {
        name: "Clothing".into(),
        attributes: BTreeMap::from([
            ("Size".into(), vec!["S".into(), "M".into(), "L".into()]),
            ("Colour".into(), vec!["Red".into(), "Blue".into()]),
        ]),
    })
    .await
    .unwrap()
}

fn variant(sku: &str, stock: i64) -> NewVariant {
    NewVariant {
        id: None,
        sku: sku.into(),
        barcode: None,
        price_minor: 1999,
        currency: "EUR".into(),
        stock_on_hand: stock,
        attributes: BTreeMap::new(),
    }
}

pub async fn tee(sd: &Stockdesk) -> Product {
    let cat = clothing(sd).await;
    let mut v = variant("TEE-S", 10);
    v.attributes = BTreeMap::from([("Size".into(), "S".into())]);
    sd.create_product(
        NewProduct {
            id: None,
            name: "Linen Tee".into(),
            slug: None,
            description: "Soft.".into(),
            status: ProductStatus::Published,
            category_id: Some(cat.id),
            variants: vec![v, variant("TEE-M", 5)],
        },
        None,
    )
    .await
    .unwrap()
}

fn patch(p: &Product, version: i64, patch: serde_json::Value) -> PatchRequest {
    PatchRequest {
        product_id: p.id,
        expected_version: version,
        patch: serde_json::from_value(patch).unwrap(),
        op_id: None,
    }
}

both_backends!(create_get_list, |db: TestDb| async move {
    let sd = &db.sd;
    let p = tee(sd).await;
    assert_eq!(p.version, 1);
    assert_eq!(p.slug, "linen-tee");
    assert_eq!(sd.get_product(p.id).await.unwrap(), p);

    let page = sd
        .list_products(ProductQuery {
            search: Some("TEE-m".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        (page.total, page.items[0].id, page.items[0].total_stock),
        (1, p.id, 15)
    );
    let none = sd
        .list_products(ProductQuery {
            status: Some(ProductStatus::Draft),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(none.total, 0);
    let low = sd
        .list_products(ProductQuery {
            low_stock: Some(5),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(low.total, 1);
    let low = sd
        .list_products(ProductQuery {
            low_stock: Some(4),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(low.total, 0);
    let by_cat = sd
        .list_products(ProductQuery {
            category_id: p.category_id,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(by_cat.total, 1);
    let wildcard = sd
        .list_products(ProductQuery {
            search: Some("%".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        wildcard.total, 0,
        "LIKE wildcards in search text are literal"
    );
    assert_eq!(sd.product_history(p.id).await.unwrap().len(), 1);
});

both_backends!(
    list_pages_agree_with_a_filter_by_hand,
    |db: TestDb| async move {
        // Totals and figures of every page, through the search index and without it, against
        // the same filter applied here to every product.
        let sd = &db.sd;
        let cat = clothing(sd).await;
        let mut all = Vec::new();
        for i in 0..23_i64 {
            let adjective = ["Nordic", "Alpine", "Linen"][i as usize % 3];
            let noun = ["Mug", "Scarf"][i as usize % 2];
            // Every fifth is a draft without variants (its figures are empty, not missing).
            let variants = if i % 5 == 4 {
                vec![]
            } else {
                (0..1 + i % 3)
                    .map(|n| NewVariant {
                        price_minor: 500 + 10 * ((i * 7 + n * 3) % 11),
                        ..variant(&format!("SKU-{i:02}-{n}"), (i * 3 + n * 5) % 13)
                    })
                    .collect()
            };
            let product = NewProduct {
                id: None,
                name: format!("{adjective} {noun} {i:02}"),
                slug: None,
                description: String::new(),
                status: if variants.is_empty() {
                    ProductStatus::Draft
                } else {
                    ProductStatus::Published
                },
                category_id: Some(cat.id),
                variants,
            };
            all.push(sd.create_product(product, None).await.unwrap());
        }
        all.sort_by(|a, b| (&a.name, a.id).cmp(&(&b.name, b.id)));

        // Each query with what it must find, decided here product by product.
        type Wanted = fn(&Product) -> bool;
        let cases: Vec<(ProductQuery, Wanted)> = vec![
            (ProductQuery::default(), |_| true),
            (
                ProductQuery {
                    search: Some("nordic".into()),
                    ..Default::default()
                },
                |p| p.name.starts_with("Nordic"),
            ),
            (
                ProductQuery {
                    search: Some(" MUG ".into()),
                    status: Some(ProductStatus::Published),
                    ..Default::default()
                },
                |p| p.name.contains("Mug") && p.status == ProductStatus::Published,
            ),
            (
                ProductQuery {
                    search: Some("sku-1".into()),
                    ..Default::default()
                },
                |p| p.variants.iter().any(|v| v.sku.starts_with("SKU-1")),
            ),
            // Shorter than a trigram: served by a scan, same answers.
            (
                ProductQuery {
                    search: Some("02".into()),
                    ..Default::default()
                },
                |p| p.name.contains("02"),
            ),
            (
                ProductQuery {
                    search: Some("no such thing".into()),
                    ..Default::default()
                },
                |_| false,
            ),
            (
                ProductQuery {
                    low_stock: Some(3),
                    category_id: Some(cat.id),
                    ..Default::default()
                },
                |p| p.variants.iter().any(|v| v.stock_on_hand <= 3),
            ),
        ];
        for (query, wanted) in &cases {
            let expected: Vec<&Product> = all.iter().filter(|p| wanted(p)).collect();
            for limit in [1, 4, 100] {
                // Every page, and one past the end.
                for offset in (0..=expected.len() as i64 + limit).step_by(limit as usize) {
                    let page = sd
                        .list_products(ProductQuery {
                            limit: Some(limit),
                            offset: Some(offset),
                            ..query.clone()
                        })
                        .await
                        .unwrap();
                    let what = format!("{query:?} limit {limit} offset {offset}");
                    assert_eq!(page.total, expected.len() as i64, "{what}");
                    let want: Vec<_> = expected
                        .iter()
                        .skip(offset as usize)
                        .take(limit as usize)
                        .map(|p| {
                            let stock = p.variants.iter().map(|v| v.stock_on_hand);
                            let prices = p.variants.iter().map(|v| v.price_minor);
                            (
                                p.id,
                                p.variants.len() as i64,
                                stock.clone().sum::<i64>(),
                                stock.min(),
                                prices.min(),
                                p.variants.first().map(|v| v.currency.clone()),
                            )
                        })
                        .collect();
                    let got: Vec<_> = page
                        .items
                        .iter()
                        .map(|s| {
                            (
                                s.id,
                                s.variant_count,
                                s.total_stock,
                                s.min_stock,
                                s.min_price_minor,
                                s.currency.clone(),
                            )
                        })
                        .collect();
                    assert_eq!(got, want, "{what}");
                }
            }
        }
    }
);

both_backends!(
    edit_commits_new_version_with_history,
    |db: TestDb| async move {
        let sd = &db.sd;
        let p = tee(sd).await;
        let v = p.variants[0].id;
        let out = sd
        .with_actor("ana")
        .patch_product(patch(&p, 1, json!({"name": "Linen Tee II", "variants": {"update": [{"id": v, "price_minor": 2499}]}})))
        .await
        .unwrap();
        assert_eq!(out.product.version, 2);
        assert!(out.merge.is_none());
        assert_eq!(out.product.variants[0].price_minor, 2499);
        assert_eq!(out.product.variants[0].version, 2);
        assert_eq!(
            out.product.variants[1].version, 1,
            "untouched variant keeps its version"
        );
        let h = sd.product_history(p.id).await.unwrap();
        assert_eq!(h[0].version, 2);
        assert_eq!(h[0].actor, "ana");
        assert_eq!(
            h[0].changes,
            vec!["name".to_string(), format!("variants.{v}.price_minor")]
        );
        assert_eq!(sd.product_version(p.id, 1).await.unwrap(), p);
        assert_eq!(sd.product_version(p.id, 2).await.unwrap(), out.product);

        // An edit that changes nothing commits nothing.
        let same = sd
            .patch_product(patch(&p, 2, json!({"name": "Linen Tee II"})))
            .await
            .unwrap();
        assert_eq!(same.product.version, 2);
    }
);

both_backends!(stale_disjoint_edits_merge, |db: TestDb| async move {
    let sd = &db.sd;
    let p = tee(sd).await;
    let (v0, v1) = (p.variants[0].id, p.variants[1].id);
    sd.with_actor("ana")
        .patch_product(patch(
            &p,
            1,
            json!({"name": "By Ana", "variants": {"update": [{"id": v0, "price_minor": 100}]}}),
        ))
        .await
        .unwrap();
    let out = sd
        .with_actor("bob")
        .patch_product(patch(&p, 1, json!({"description": "By Bob", "variants": {"update": [{"id": v1, "price_minor": 200}]}})))
        .await
        .unwrap();
    let merge = out.merge.expect("a stale edit reports its merge");
    assert_eq!(merge.base_version, 1);
    assert_eq!(merge.merged_with.len(), 1);
    assert_eq!(merge.merged_with[0].actor, "ana");
    assert_eq!(
        merge.applied,
        vec![
            "description".to_string(),
            format!("variants.{v1}.price_minor")
        ]
    );
    let now = sd.get_product(p.id).await.unwrap();
    assert_eq!(
        (now.name.as_str(), now.description.as_str(), now.version),
        ("By Ana", "By Bob", 3)
    );
    assert_eq!(
        (now.variants[0].price_minor, now.variants[1].price_minor),
        (100, 200)
    );
});

both_backends!(
    same_field_clash_is_a_typed_conflict_and_changes_nothing,
    |db: TestDb| async move {
        let sd = &db.sd;
        let p = tee(sd).await;
        let v0 = p.variants[0].id;
        sd.with_actor("ana")
            .patch_product(patch(
                &p,
                1,
                json!({"name": "Ana's", "variants": {"update": [{"id": v0, "sku": "ANA-1"}]}}),
            ))
            .await
            .unwrap();
        let before = dump(sd).await;
        let err = sd
        .with_actor("bob")
        .patch_product(patch(&p, 1, json!({"name": "Bob's", "description": "Bob's text", "variants": {"update": [{"id": v0, "sku": "BOB-1"}]}})))
        .await
        .unwrap_err();
        let Error::Conflict(report) = &err else {
            panic!("expected a conflict, got {err:?}")
        };
        assert_eq!((report.expected_version, report.current_version), (1, 2));
        assert_eq!(report.conflicts.len(), 2);
        let name = &report.conflicts[0];
        assert_eq!(
            (name.path.as_str(), name.kind),
            ("name", ConflictKind::BothChanged)
        );
        assert_eq!(
            (name.base.clone(), name.mine.clone(), name.theirs.clone()),
            (json!("Linen Tee"), json!("Bob's"), json!("Ana's"))
        );
        assert_eq!(name.changed_by.as_ref().unwrap().actor, "ana");
        let sku = &report.conflicts[1];
        assert_eq!(sku.path, format!("variants.{v0}.sku"));
        assert_eq!(
            (sku.entity.as_str(), sku.entity_id, sku.field.as_deref()),
            ("variant", v0, Some("sku"))
        );
        assert_eq!(report.mergeable, vec!["description".to_string()]);
        assert_eq!(report.current.version, 2);
        assert_eq!(err.code(), "conflict");
        assert_eq!(err.exit_code(), 3);
        assert_eq!(dump(sd).await, before, "a conflict commits nothing");

        // The same value on both sides is agreement, not a clash.
        let out = sd
            .patch_product(patch(&p, 1, json!({"name": "Ana's"})))
            .await
            .unwrap();
        assert_eq!(out.product.version, 2);
    }
);

both_backends!(stock_merges_as_a_delta, |db: TestDb| async move {
    let sd = &db.sd;
    let p = tee(sd).await;
    let v0 = p.variants[0].id; // base stock 10
                               // Meanwhile two units were sold: 10 → 8.
    sd.with_actor("till")
        .patch_product(patch(
            &p,
            1,
            json!({"variants": {"update": [{"id": v0, "stock_on_hand": 8}]}}),
        ))
        .await
        .unwrap();
    // The manager, still looking at version 1, counts in 5 more: 10 → 15.
    let out = sd
        .with_actor("manager")
        .patch_product(patch(
            &p,
            1,
            json!({"variants": {"update": [{"id": v0, "stock_on_hand": 15}]}}),
        ))
        .await
        .unwrap();
    assert_eq!(out.product.variants[0].stock_on_hand, 13);
    let m = &out.merge.unwrap().stock[0];
    assert_eq!((m.base, m.mine, m.theirs, m.result), (10, 15, 8, 13));

    // A delta that would take stock below zero is refused, not clamped.
    let err = sd
        .patch_product(patch(
            &p,
            1,
            json!({"variants": {"update": [{"id": v0, "stock_on_hand": 0}]}}),
        ))
        .await;
    // 13 + (0 - 10) = 3: fine. Then -20 from base is out of range.
    assert_eq!(err.unwrap().product.variants[0].stock_on_hand, 3);
    let err = sd
        .patch_product(patch(
            &p,
            1,
            json!({"variants": {"update": [{"id": v0, "stock_on_hand": -1}]}}),
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "validation");
});

both_backends!(
    deleted_and_edited_variants_and_images_conflict,
    |db: TestDb| async move {
        let sd = &db.sd;
        let p = tee(sd).await;
        let (v0, v1) = (p.variants[0].id, p.variants[1].id);
        // Someone deletes v0 and edits v1.
        sd.with_actor("ana")
            .patch_product(patch(
                &p,
                1,
                json!({"variants": {"delete": [v0], "update": [{"id": v1, "price_minor": 5}]}}),
            ))
            .await
            .unwrap();
        // I edit v0 and delete v1.
        let err = sd
            .patch_product(patch(
                &p,
                1,
                json!({"variants": {"update": [{"id": v0, "price_minor": 7}], "delete": [v1]}}),
            ))
            .await
            .unwrap_err();
        let Error::Conflict(report) = err else {
            panic!("expected conflict")
        };
        let kinds: Vec<_> = report
            .conflicts
            .iter()
            .map(|c| (c.entity_id, c.kind))
            .collect();
        assert_eq!(
            kinds,
            vec![
                (v0, ConflictKind::DeletedByThem),
                (v1, ConflictKind::EditedByThem)
            ]
        );
        assert_eq!(report.conflicts[0].theirs, serde_json::Value::Null);
        assert_eq!(report.conflicts[1].mine, serde_json::Value::Null);
        assert_eq!(report.conflicts[1].theirs["price_minor"], 5);

        // Both sides deleting the same variant agree.
        let out = sd
            .patch_product(patch(&p, 1, json!({"variants": {"delete": [v0]}})))
            .await
            .unwrap();
        assert_eq!(out.product.variants.len(), 1);
    }
);

both_backends!(op_id_applies_once, |db: TestDb| async move {
    let sd = &db.sd;
    let p = tee(sd).await;
    let op = Uuid::now_v7();
    let mut req = patch(
        &p,
        1,
        json!({"variants": {"create": [{"sku": "TEE-L", "price_minor": 1, "currency": "EUR", "stock_on_hand": 3}]}}),
    );
    req.op_id = Some(op);
    let first = sd.patch_product(req.clone()).await.unwrap();
    let again = sd.patch_product(req.clone()).await.unwrap();
    assert!(!first.replayed && again.replayed);
    assert_eq!(first.product, again.product);
    let now = sd.get_product(p.id).await.unwrap();
    assert_eq!((now.version, now.variants.len()), (2, 3));

    // Concurrent duplicates (a double click) still apply once.
    let op = Uuid::now_v7();
    let mut req = patch(&now, 2, json!({"name": "Once"}));
    req.op_id = Some(op);
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let sd = sd.clone();
            let req = req.clone();
            tokio::spawn(async move { sd.patch_product(req).await })
        })
        .collect();
    let mut replayed = 0;
    for t in tasks {
        let out = t.await.unwrap().unwrap();
        assert_eq!(out.product.version, 3);
        replayed += out.replayed as usize;
    }
    assert_eq!(replayed, 7);
    assert_eq!(sd.product_history(p.id).await.unwrap().len(), 3);
});

both_backends!(
    fifty_writers_same_field_exactly_one_wins,
    |db: TestDb| async move {
        let sd = &db.sd;
        let p = tee(sd).await;
        let tasks: Vec<_> = (0..50)
            .map(|i| {
                let sd = sd.with_actor(&format!("writer-{i}"));
                let req = patch(&p, 1, json!({"name": format!("Name {i}")}));
                tokio::spawn(async move { sd.patch_product(req).await })
            })
            .collect();
        let (mut ok, mut conflicts) = (0, 0);
        for t in tasks {
            match t.await.unwrap() {
                Ok(_) => ok += 1,
                Err(Error::Conflict(_)) => conflicts += 1,
                Err(e) => panic!("unexpected error {e:?}"),
            }
        }
        assert_eq!((ok, conflicts), (1, 49));
        let now = sd.get_product(p.id).await.unwrap();
        assert_eq!(now.version, 2);
        assert_eq!(sd.product_history(p.id).await.unwrap().len(), 2);
    }
);

both_backends!(
    fifty_writers_different_fields_all_commit,
    |db: TestDb| async move {
        let sd = &db.sd;
        let variants: Vec<NewVariant> = (0..50).map(|i| variant(&format!("V-{i:02}"), 1)).collect();
        let p = sd
            .create_product(
                NewProduct {
                    id: None,
                    name: "Many".into(),
                    slug: None,
                    description: String::new(),
                    status: ProductStatus::Draft,
                    category_id: None,
                    variants,
                },
                None,
            )
            .await
            .unwrap();
        let tasks: Vec<_> = p
            .variants
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let sd = sd.with_actor(&format!("writer-{i}"));
                let req = patch(
                    &p,
                    1,
                    json!({"variants": {"update": [{"id": v.id, "price_minor": 1000 + i}]}}),
                );
                tokio::spawn(async move { sd.patch_product(req).await })
            })
            .collect();
        for t in tasks {
            t.await.unwrap().expect("disjoint edits all commit");
        }
        let now = sd.get_product(p.id).await.unwrap();
        assert_eq!(now.version, 51);
        for (i, v) in now.variants.iter().enumerate() {
            assert_eq!(v.price_minor, 1000 + i as i64, "no lost update");
        }
        assert_eq!(sd.product_history(p.id).await.unwrap().len(), 51);
    }
);

both_backends!(
    every_rule_is_a_typed_error_and_changes_nothing,
    |db: TestDb| async move {
        let sd = &db.sd;
        let p = tee(sd).await;
        let other = sd
            .create_product(
                NewProduct {
                    id: None,
                    name: "Other".into(),
                    slug: None,
                    description: String::new(),
                    status: ProductStatus::Draft,
                    category_id: None,
                    variants: vec![variant("OTHER-1", 0)],
                },
                None,
            )
            .await
            .unwrap();
        let (v0, v1) = (p.variants[0].id, p.variants[1].id);
        let huge = "x".repeat(1_000_000);
        let cases = vec![
            (json!({"name": "  "}), "name"),
            (json!({"name": huge}), "name"),
            (json!({"description": huge}), "description"),
            (json!({"slug": "Not A Slug"}), "slug"),
            (json!({"slug": other.slug}), "slug"),
            (json!({"category_id": Uuid::now_v7()}), "category_id"),
            (json!({"variants": {"delete": [v0, v1]}}), "status"),
            (
                json!({"variants": {"update": [{"id": v0, "stock_on_hand": 1_000_001}]}}),
                "stock_on_hand",
            ),
            (
                json!({"variants": {"update": [{"id": v0, "stock_on_hand": -5}]}}),
                "stock_on_hand",
            ),
            (
                json!({"variants": {"update": [{"id": v0, "price_minor": -1}]}}),
                "price_minor",
            ),
            (
                json!({"variants": {"update": [{"id": v0, "currency": "EURO"}]}}),
                "currency",
            ),
            (
                json!({"variants": {"update": [{"id": v0, "sku": "OTHER-1"}]}}),
                "sku",
            ),
            (
                json!({"variants": {"update": [{"id": v0, "sku": "TEE-M"}]}}),
                "sku",
            ),
            (
                json!({"variants": {"update": [{"id": v0, "sku": "has space"}]}}),
                "sku",
            ),
            (
                json!({"variants": {"update": [{"id": v0, "attributes": {"Size": "XXL"}}]}}),
                "attributes",
            ),
            (
                json!({"variants": {"update": [{"id": v0, "attributes": {"Flavour": "Mint"}}]}}),
                "attributes",
            ),
            (json!({"category_id": null}), "attributes"),
        ];
        let before = dump(sd).await;
        for (body, field) in cases {
            let err = sd
                .patch_product(patch(&p, 1, body.clone()))
                .await
                .unwrap_err();
            let Error::Validation(errors) = &err else {
                panic!("{body}: expected validation, got {err:?}")
            };
            assert!(
                errors[0].field.ends_with(field),
                "{body}: error on {} not {field}",
                errors[0].field
            );
            assert_eq!(err.exit_code(), 2);
        }
        // Unknown ids, impossible versions.
        let err = sd
            .patch_product(patch(
                &p,
                1,
                json!({"variants": {"update": [{"id": Uuid::now_v7(), "price_minor": 1}]}}),
            ))
            .await
            .unwrap_err();
        assert_eq!(err.code(), "not_found");
        let mut req = patch(&p, 1, json!({"name": "x"}));
        req.product_id = Uuid::now_v7();
        assert_eq!(sd.patch_product(req).await.unwrap_err().code(), "not_found");
        assert_eq!(
            sd.patch_product(patch(&p, 7, json!({"name": "x"})))
                .await
                .unwrap_err()
                .code(),
            "bad_input"
        );
        assert_eq!(
            sd.patch_product(patch(&p, 0, json!({"name": "x"})))
                .await
                .unwrap_err()
                .code(),
            "bad_input"
        );
        // Malformed patches never reach the core: serde refuses them.
        assert!(serde_json::from_value::<ProductPatch>(json!({"nmae": "typo"})).is_err());
        assert!(serde_json::from_value::<ProductPatch>(
            json!({"variants": {"update": [{"id": v0, "price_minor": 1e30}]}})
        )
        .is_err());
        assert!(serde_json::from_value::<ProductPatch>(json!({"variants": {"update": [{"id": v0, "price_minor": 18446744073709551616u128.to_string()}]}})).is_err());
        assert_eq!(
            dump(sd).await,
            before,
            "failed edits leave the database unchanged"
        );

        // Publishing needs a variant; a product may hold one thumbnail.
        let empty = sd
            .create_product(
                NewProduct {
                    id: None,
                    name: "Empty".into(),
                    slug: None,
                    description: String::new(),
                    status: ProductStatus::Published,
                    category_id: None,
                    variants: vec![],
                },
                None,
            )
            .await
            .unwrap_err();
        assert_eq!(empty.code(), "validation");
    }
);

both_backends!(restore_is_a_checked_edit, |db: TestDb| async move {
    let sd = &db.sd;
    let p = tee(sd).await;
    let v0 = p.variants[0].id;
    sd.patch_product(patch(
        &p,
        1,
        json!({"name": "Changed", "variants": {"delete": [v0]}}),
    ))
    .await
    .unwrap();
    let out = sd.restore_product(p.id, 2, 1).await.unwrap();
    assert_eq!(out.product.version, 3);
    assert_eq!(out.product.name, "Linen Tee");
    assert!(out
        .product
        .variants
        .iter()
        .any(|v| v.id == v0 && v.sku == "TEE-S"));
    assert_eq!(
        out.product
            .variants
            .iter()
            .find(|v| v.id == v0)
            .unwrap()
            .stock_on_hand,
        0,
        "stock is not restored"
    );
    // Restoring from an old view still goes through the merge: a clash is a conflict.
    sd.patch_product(patch(&p, 3, json!({"name": "Newer"})))
        .await
        .unwrap();
    let err = sd.restore_product(p.id, 3, 2).await.unwrap_err();
    assert_eq!(err.code(), "conflict");
});
