//! Bad input never panics and never lies, on both backends: control characters anywhere in
//! text, numbers at the edges of i64, totals that overflow — each a `validation` error naming
//! the field, with nothing written.

use serde_json::json;
use stockdesk::catalog::*;
use stockdesk::stock::{NewOrder, NewOrderItem};
use stockdesk::{CommandKind, Stockdesk};
use stockdesk_testkit::{both_backends, dump, TestDb};
use uuid::Uuid;

fn product(name: &str, price_minor: i64, stock: i64) -> NewProduct {
    serde_json::from_value(json!({
        "name": name,
        "status": "published",
        "variants": [{"sku": format!("SKU-{}", Uuid::now_v7().simple()), "price_minor": price_minor,
                      "currency": "EUR", "stock_on_hand": stock}]
    }))
    .unwrap()
}

/// `field` named by a validation error of `result`, which must have changed nothing.
async fn refused<T: std::fmt::Debug>(
    sd: &Stockdesk,
    before: &[String],
    result: stockdesk::Result<T>,
    field: &str,
) {
    let e = result.expect_err("refused");
    assert_eq!(e.code(), "validation", "{e}");
    let api = serde_json::to_value(e.to_api()).unwrap();
    let fields: Vec<&str> = api["details"]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.iter().any(|f| f.contains(field)),
        "{field} not in {fields:?}"
    );
    assert_eq!(dump(sd).await, before, "a refused write changed nothing");
}

both_backends!(
    control_characters_are_refused_everywhere,
    |db: TestDb| async move {
        let sd = &db.sd;
        let p = sd
            .create_product(product("Mug", 100, 5), None)
            .await
            .unwrap();
        let v = p.variants[0].id;
        let before = dump(sd).await;
        // On Postgres a NUL used to come back as `busy` after retries; SQLite stored it.
        refused(
            sd,
            &before,
            sd.create_product(product("a\u{0}b", 100, 1), None).await,
            "name",
        )
        .await;
        let patch = |value: serde_json::Value| PatchRequest {
            product_id: p.id,
            expected_version: p.version,
            patch: serde_json::from_value(value).unwrap(),
            op_id: None,
        };
        refused(
            sd,
            &before,
            sd.patch_product(patch(json!({"name": "bell\u{7}"}))).await,
            "name",
        )
        .await;
        refused(
            sd,
            &before,
            sd.patch_product(patch(json!({"description": "esc \u{1b}[31m red"})))
                .await,
            "description",
        )
        .await;
        // Line breaks are fine in a description.
        let ok = sd
            .patch_product(patch(json!({"description": "Two lines:\nglazed,\tfired."})))
            .await
            .unwrap();
        let before = dump(sd).await;
        let category = NewCategory {
            name: "Sizes".into(),
            attributes: [("Size".to_string(), vec!["S\u{0}".to_string()])].into(),
        };
        refused(
            sd,
            &before,
            sd.create_category(category).await,
            "attributes",
        )
        .await;
        refused(
            sd,
            &before,
            sd.adjust_stock(v, 1, "found\u{0}").await,
            "reason",
        )
        .await;
        let search = ProductQuery {
            search: Some("mu\u{0}g".into()),
            ..Default::default()
        };
        refused(sd, &before, sd.list_products(search).await, "search").await;
        let kind = CommandKind::ReceiveStock {
            variant_id: v,
            quantity: 1,
            reason: None,
        };
        let cmd = sd.with_actor("ana\u{0}").command(None, kind);
        refused(sd, &before, sd.apply(&cmd).await, "actor").await;
        assert_eq!(ok.product.version, p.version + 1);
    }
);

both_backends!(
    numbers_at_the_edges_are_validation_errors,
    |db: TestDb| async move {
        let sd = &db.sd;
        let p = sd
            .create_product(product("Vase", 1_000_000_000_000, 1_000_000), None)
            .await
            .unwrap();
        let v = p.variants[0].id;
        let before = dump(sd).await;
        refused(
            sd,
            &before,
            sd.adjust_stock(v, i64::MIN, "x").await,
            "delta",
        )
        .await;
        refused(
            sd,
            &before,
            sd.adjust_stock(v, i64::MAX, "x").await,
            "delta",
        )
        .await;
        refused(
            sd,
            &before,
            sd.receive_stock(v, i64::MAX, None).await,
            "quantity",
        )
        .await;
        refused(
            sd,
            &before,
            sd.count_stock(v, i64::MIN, None).await,
            "counted",
        )
        .await;
        let patch = |value: serde_json::Value| PatchRequest {
            product_id: p.id,
            expected_version: p.version,
            patch: serde_json::from_value(value).unwrap(),
            op_id: None,
        };
        let stock = json!({"variants": {"update": [{"id": v, "stock_on_hand": i64::MAX}]}});
        refused(
            sd,
            &before,
            sd.patch_product(patch(stock)).await,
            "stock_on_hand",
        )
        .await;
        let position = json!({"variants": {"update": [{"id": v, "position": i64::MAX}]}});
        refused(
            sd,
            &before,
            sd.patch_product(patch(position)).await,
            "position",
        )
        .await;
        // Ten lines of a million units at 10^12 each: the total does not fit in i64.
        let mut lines = Vec::new();
        for _ in 0..10 {
            let p = sd
                .create_product(product("Gold", 1_000_000_000_000, 1_000_000), None)
                .await
                .unwrap();
            lines.push(NewOrderItem {
                variant_id: p.variants[0].id,
                quantity: 1_000_000,
            });
        }
        let before = dump(sd).await;
        let order = NewOrder {
            id: None,
            items: lines,
            expires_in_secs: None,
        };
        refused(sd, &before, sd.create_order(order, None).await, "items").await;
        let extend = sd
            .extend_order(Uuid::now_v7(), chrono::TimeDelta::MAX)
            .await;
        refused(sd, &before, extend, "by_secs").await;
    }
);
