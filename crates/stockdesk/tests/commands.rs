//! Every write is a `Command`: each kind round-trips through JSON and applies on both backends,
//! and applying it again under its op id returns the first outcome and changes nothing.

use std::collections::BTreeSet;

use serde_json::json;
use stockdesk::{Applied, Command, CommandKind, Outcome, Stockdesk};
use stockdesk_testkit::images::png;
use stockdesk_testkit::{both_backends, dump, TestDb};
use uuid::Uuid;

/// Every kind's name, in the order of `CommandKind`.
const ALL_KINDS: [&str; 25] = [
    "create_category",
    "create_product",
    "patch_product",
    "restore_product",
    "add_images",
    "replace_image_file",
    "create_order",
    "pay_order",
    "cancel_order",
    "extend_order",
    "receive_stock",
    "adjust_stock",
    "count_stock",
    "seed",
    "add_staff",
    "remove_staff",
    "import_product",
    "allot",
    "revoke_allotments",
    "set_allotment_policy",
    "set_sell_anyway",
    "resolve_exception",
    "till_order",
    "till_pay",
    "till_cancel",
];

/// Kinds this test cannot apply on a plain database: a till's queued sales come only from a
/// terminal's push, and an exception only from one of them (`tests/allotments.rs`).
const FROM_TILLS: [&str; 4] = ["resolve_exception", "till_order", "till_pay", "till_cancel"];

/// Fails to compile when a kind is added without a place in `ALL_KINDS` (and so in this test).
fn index_of(kind: &CommandKind) -> usize {
    match kind {
        CommandKind::CreateCategory { .. } => 0,
        CommandKind::CreateProduct { .. } => 1,
        CommandKind::PatchProduct { .. } => 2,
        CommandKind::RestoreProduct { .. } => 3,
        CommandKind::AddImages { .. } => 4,
        CommandKind::ReplaceImageFile { .. } => 5,
        CommandKind::CreateOrder { .. } => 6,
        CommandKind::PayOrder { .. } => 7,
        CommandKind::CancelOrder { .. } => 8,
        CommandKind::ExtendOrder { .. } => 9,
        CommandKind::ReceiveStock { .. } => 10,
        CommandKind::AdjustStock { .. } => 11,
        CommandKind::CountStock { .. } => 12,
        CommandKind::Seed { .. } => 13,
        CommandKind::AddStaff { .. } => 14,
        CommandKind::RemoveStaff { .. } => 15,
        CommandKind::ImportProduct { .. } => 16,
        CommandKind::Allot { .. } => 17,
        CommandKind::RevokeAllotments { .. } => 18,
        CommandKind::SetAllotmentPolicy { .. } => 19,
        CommandKind::SetSellAnyway { .. } => 20,
        CommandKind::ResolveException { .. } => 21,
        CommandKind::TillOrder { .. } => 22,
        CommandKind::TillPay { .. } => 23,
        CommandKind::TillCancel { .. } => 24,
    }
}

/// Sends `kind` through JSON, applies it, applies it again: the second answer is the first
/// outcome (`replayed`) and the database is as the first left it.
async fn twice(
    sd: &Stockdesk,
    applied: &mut BTreeSet<&'static str>,
    kind: serde_json::Value,
) -> Outcome {
    let mut cmd = json!({
        "op_id": Uuid::now_v7(),
        "actor": sd.actor(),
        "made_at": sd.now(),
        "kind": kind,
    });
    if let Some(id) = sd.actor_id() {
        cmd["actor_id"] = json!(id);
    }
    let parsed: Command = serde_json::from_value(cmd).expect("a command");
    let text = serde_json::to_string(&parsed).unwrap();
    let back: Command = serde_json::from_str(&text).unwrap();
    assert_eq!(back, parsed, "JSON round trip");
    assert_eq!(parsed.kind.name(), ALL_KINDS[index_of(&parsed.kind)]);
    let first = sd.apply(&parsed).await.unwrap();
    assert!(!first.replayed);
    let after_first = dump(sd).await;
    let again: Applied = sd.apply(&parsed).await.unwrap();
    assert!(again.replayed, "{}", parsed.kind.name());
    assert_eq!(unmark(again.outcome), unmark(first.outcome.clone()));
    assert_eq!(
        dump(sd).await,
        after_first,
        "{}: a replay changes nothing",
        parsed.kind.name()
    );
    applied.insert(parsed.kind.name());
    first.outcome
}

/// An edit's outcome says itself whether it was replayed; the rest must be equal.
fn unmark(outcome: Outcome) -> Outcome {
    match outcome {
        Outcome::Patch(p) => Outcome::Patch(stockdesk::catalog::PatchOutcome {
            replayed: false,
            ..p
        }),
        other => other,
    }
}

both_backends!(
    every_kind_round_trips_and_applies_once,
    |db: TestDb| async move {
        let sd = &db.sd;
        let mut applied = BTreeSet::new();
        let Outcome::Category(category) = twice(
        sd,
        &mut applied,
        json!({"type": "create_category", "category": {"name": "Mugs", "attributes": {"Glaze": ["Cobalt", "Celadon"]}}}),
    )
    .await
    else {
        panic!("a category")
    };
        let Outcome::Product(p) = twice(sd, &mut applied, json!({"type": "create_product", "product": {
        "name": "Mug", "status": "published", "category_id": category.id,
        "variants": [
            {"sku": "MUG-C", "price_minor": 1200, "currency": "EUR", "stock_on_hand": 10, "attributes": {"Glaze": "Cobalt"}},
            {"sku": "MUG-L", "price_minor": 1200, "currency": "EUR", "stock_on_hand": 4, "attributes": {"Glaze": "Celadon"}}
        ]}}))
    .await
    else {
        panic!("a product")
    };
        let (v0, v1) = (p.variants[0].id, p.variants[1].id);
        let Outcome::Patch(edit) = twice(
            sd,
            &mut applied,
            json!({"type": "patch_product", "product_id": p.id,
        "expected_version": 1, "patch": {"name": "Cobalt mug",
        "variants": {"create": [{"sku": "MUG-X", "price_minor": 900, "currency": "EUR"}]}}}),
        )
        .await
        else {
            panic!("an edit")
        };
        assert_eq!(edit.product.variants.len(), 3);
        let Outcome::Patch(restored) = twice(
            sd,
            &mut applied,
            json!({"type": "restore_product",
        "product_id": p.id, "expected_version": edit.product.version, "to_version": 1}),
        )
        .await
        else {
            panic!("a restore")
        };
        assert_eq!(restored.product.name, "Mug");
        let staged = sd.stage_image_bytes(png(1)).await.unwrap();
        let Outcome::Patch(with_image) = twice(
            sd,
            &mut applied,
            json!({"type": "add_images",
        "product_id": p.id, "expected_version": restored.product.version, "staged": [staged.id]}),
        )
        .await
        else {
            panic!("an image")
        };
        let image = &with_image.product.images[0];
        assert!(image.is_thumbnail);
        let other = sd.stage_image_bytes(png(2)).await.unwrap();
        twice(
            sd,
            &mut applied,
            json!({"type": "replace_image_file", "product_id": p.id,
        "expected_version": with_image.product.version, "image_id": image.id, "staged": other.id}),
        )
        .await;
        // One variant: the order goes in a shared turn; two: in a transaction of its own.
        let Outcome::Order(one) = twice(
            sd,
            &mut applied,
            json!({"type": "create_order",
        "order": {"items": [{"variant_id": v0, "quantity": 2}]}}),
        )
        .await
        else {
            panic!("an order")
        };
        let Outcome::Order(two) = twice(
            sd,
            &mut applied,
            json!({"type": "create_order",
        "order": {"items": [{"variant_id": v0, "quantity": 1}, {"variant_id": v1, "quantity": 1}],
                  "expires_in_secs": 600}}),
        )
        .await
        else {
            panic!("an order")
        };
        assert_eq!(sd.stock_level(v0).await.unwrap().reserved, 3);
        twice(
            sd,
            &mut applied,
            json!({"type": "extend_order", "order_id": one.id, "by_secs": 300}),
        )
        .await;
        twice(
            sd,
            &mut applied,
            json!({"type": "pay_order", "order_id": one.id}),
        )
        .await;
        twice(
            sd,
            &mut applied,
            json!({"type": "cancel_order", "order_id": two.id}),
        )
        .await;
        twice(
            sd,
            &mut applied,
            json!({"type": "receive_stock", "variant_id": v1, "quantity": 5}),
        )
        .await;
        twice(
            sd,
            &mut applied,
            json!({"type": "adjust_stock", "variant_id": v1, "delta": -1, "reason": "chipped"}),
        )
        .await;
        twice(
            sd,
            &mut applied,
            json!({"type": "count_stock", "variant_id": v1, "counted": 7}),
        )
        .await;
        // Allotments need a terminal of the shop.
        let mut tx = sd.store().write().await.unwrap();
        stockdesk::replica::decisions::register(&mut tx, Uuid::now_v7(), "till", 0, sd.now())
            .await
            .unwrap();
        tx.commit().await.unwrap();
        for kind in [
            json!({"type": "allot", "terminal": "till", "variant_id": v1, "units": 2}),
            json!({"type": "revoke_allotments", "terminal": "till"}),
            json!({"type": "set_allotment_policy", "variant_id": v1, "keep_units": 1}),
            json!({"type": "set_sell_anyway", "on": true}),
        ] {
            twice(sd, &mut applied, kind).await;
        }
        twice(
            sd,
            &mut applied,
            json!({"type": "seed", "products": 3, "seed": 7}),
        )
        .await;
        // One product of an import file: its category made, the product created, stock counted.
        let Outcome::Import(cup) = twice(
            sd,
            &mut applied,
            json!({"type": "import_product", "import": {"source": "shop.csv rows 2–3",
        "category": {"name": "Cups", "attributes": [{"name": "Size", "values": ["S", "L"]}]},
        "target": {"action": "create", "product": {"name": "Cup", "slug": "cup",
            "status": "published", "variants": [
            {"sku": "CUP-S", "price_minor": 800, "currency": "EUR", "stock_on_hand": 6,
             "attributes": {"Size": "S"}}]}}}}),
        )
        .await
        else {
            panic!("an import")
        };
        assert!(cup.created);
        assert_eq!(cup.category.as_ref().map(|c| c.name.as_str()), Some("Cups"));
        let counted = sd
            .stock_movements(cup.product.variants[0].id)
            .await
            .unwrap();
        assert_eq!(counted[0].kind, stockdesk::model::MovementKind::Count);
        assert_eq!(counted[0].reason, "counted in shop.csv rows 2–3");
        // The first profile (an owner) may be made by whoever runs the shop; from then on
        // commands are made by a signed-in profile.
        let hash = stockdesk::staff::pin::hash("2468", None).await.unwrap();
        twice(
            sd,
            &mut applied,
            json!({"type": "add_staff", "staff": {"name": "ana", "role": "owner", "pin_hash": hash}}),
        )
        .await;
        let owner = sd.sign_in("ana", "2468").await.unwrap();
        let helper = owner
            .add_staff(None, "Sam", stockdesk::Role::Staff, "1357")
            .await
            .unwrap();
        twice(
            &owner,
            &mut applied,
            json!({"type": "remove_staff", "staff_id": helper.id}),
        )
        .await;

        assert_eq!(
            applied,
            ALL_KINDS
                .into_iter()
                .filter(|k| !FROM_TILLS.contains(k))
                .collect(),
            "every kind applied"
        );
        // Stock went only where the ledger says: 10 − 2 sold; 4 + 5 − 1, counted 7.
        assert_eq!(sd.stock_level(v0).await.unwrap().on_hand, 8);
        assert_eq!(sd.stock_level(v1).await.unwrap().on_hand, 7);
        assert!(sd.check_invariants().await.unwrap().is_empty());
    }
);

both_backends!(
    an_op_id_is_for_one_kind_and_unknown_keys_are_refused,
    |db: TestDb| async move {
        let sd = &db.sd;
        let op = Uuid::now_v7();
        let category = |name: &str| CommandKind::CreateCategory {
            category: serde_json::from_value(json!({"name": name})).unwrap(),
        };
        sd.apply(&sd.command(Some(op), category("Tea")))
            .await
            .unwrap();
        let kind = CommandKind::ReceiveStock {
            variant_id: Uuid::now_v7(),
            quantity: 1,
            reason: None,
        };
        let e = sd.apply(&sd.command(Some(op), kind)).await.unwrap_err();
        assert_eq!(e.code(), "bad_input", "{e}");
        for bad in [
            json!({"op_id": op, "actor": "a", "made_at": sd.now(), "kind": {"type": "pay_order", "order_id": op, "extra": 1}}),
            json!({"op_id": op, "actor": "a", "made_at": sd.now(), "kind": {"type": "pay_order", "order_id": op}, "extra": 1}),
            json!({"op_id": op, "actor": "a", "made_at": sd.now(), "kind": {"type": "sell_everything"}}),
        ] {
            assert!(
                serde_json::from_value::<Command>(bad.clone()).is_err(),
                "{bad}"
            );
        }
    }
);

fn rename(sd: &Stockdesk, product_id: Uuid, from: i64, patch: serde_json::Value) -> Command {
    let kind = CommandKind::PatchProduct {
        product_id,
        expected_version: from,
        patch: serde_json::from_value(patch).unwrap(),
        base: None,
    };
    sd.command(None, kind)
}

// A preview answers what applying would do now — a stale edit's merge, or the conflict it would
// meet — and writes nothing, not even its op id.
both_backends!(
    a_preview_says_what_applying_would_do_and_writes_nothing,
    |db: TestDb| async move {
        let sd = &db.sd;
        let v = stockdesk_testkit::stocked(sd, "vase", &[3]).await[0];
        let id = sd.stock_level(v).await.unwrap().product_id;
        // Someone else saves version 2 (a new description).
        sd.apply(&rename(sd, id, 1, json!({"description": "Blue glaze"})))
            .await
            .unwrap();
        let before = dump(sd).await;

        // My edit from version 1 of another field merges.
        let mine = rename(sd, id, 1, json!({"name": "Tall vase"}));
        match sd.preview(&mine).await.unwrap() {
            Outcome::Patch(p) => {
                let merge = p.merge.expect("a stale edit is merged");
                assert_eq!(merge.applied, ["name"]);
                assert_eq!(p.product.name, "Tall vase");
                assert_eq!(p.product.description, "Blue glaze");
            }
            other => panic!("{other:?}"),
        }
        // The same field changed differently: the conflict saving would meet.
        let clash = rename(sd, id, 1, json!({"description": "Red glaze"}));
        let e = sd.preview(&clash).await.unwrap_err();
        assert_eq!(e.code(), "conflict");
        assert_eq!(dump(sd).await, before, "a preview wrote something");
        // Its op id was not used up: applying it now applies it.
        let applied = sd.apply(&mine).await.unwrap();
        assert!(!applied.replayed);
        // Orders commit in shared turns, outside one transaction: no preview.
        let order = sd.command(
            None,
            CommandKind::CreateOrder {
                order: stockdesk_testkit::order_of(&[(v, 1)]),
            },
        );
        assert_eq!(sd.preview(&order).await.unwrap_err().code(), "bad_input");
    }
);
