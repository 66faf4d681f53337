//! Every rule of `stockdesk check`, one test each, on both backends: a small valid shop is built
//! through the API (the check finds nothing), then raw SQL breaks exactly one thing and the check
//! must report exactly that rule, about exactly the rows broken. A rule that fires alongside
//! others, or never, fails its test — so each rule is shown to be reachable on its own and the
//! rules are shown not to overlap.

use std::collections::{BTreeMap, BTreeSet};

use chrono::TimeDelta;
use stockdesk::catalog::{NewProduct, NewVariant, ProductStatus};
use stockdesk::stock::MovementKind;
use stockdesk::stock::{Order, OrderStatus};
use stockdesk::{Stockdesk, Store};
use stockdesk_testkit::{both_backends, order_of, TestDb};
use uuid::Uuid;

/// A shop with every kind of row the check reads: a ledger with initial stock, a receipt, an
/// adjustment and a count; an expired, a paid, a cancelled and a pending order.
struct Shop {
    product: Uuid,
    /// Three variants of one product, stock 10 (+5 received), 6 (−1 broken) and 4 (counted 3).
    variants: Vec<Uuid>,
    expired: Order,
    /// 2 of variant 0 and 1 of variant 1.
    paid: Order,
    /// 2 of variant 1.
    cancelled: Order,
    /// 3 of variant 0 and 1 of variant 2, 15 minutes to pay.
    pending: Order,
}

async fn shop(db: &TestDb) -> Shop {
    let sd = &db.sd;
    let product = sd
        .create_product(
            NewProduct {
                id: None,
                name: "Mug".into(),
                slug: None,
                description: String::new(),
                status: ProductStatus::Published,
                category_id: None,
                variants: [10, 6, 4]
                    .iter()
                    .enumerate()
                    .map(|(i, &stock)| NewVariant {
                        id: None,
                        sku: format!("MUG-{i}"),
                        barcode: None,
                        price_minor: 900,
                        currency: "EUR".into(),
                        stock_on_hand: stock,
                        attributes: BTreeMap::new(),
                    })
                    .collect(),
            },
            None,
        )
        .await
        .unwrap();
    let v: Vec<Uuid> = product.variants.iter().map(|v| v.id).collect();
    sd.receive_stock(v[0], 5, None).await.unwrap();
    sd.adjust_stock(v[1], -1, "broken").await.unwrap();
    sd.count_stock(v[2], 3, Some(4)).await.unwrap();

    let mut lapsing = order_of(&[(v[2], 1)]);
    lapsing.expires_in_secs = Some(60);
    let expired = sd.create_order(lapsing, None).await.unwrap();
    db.clock.advance(TimeDelta::minutes(2));
    assert_eq!(
        sd.expire_overdue_orders(100).await.unwrap().orders_expired,
        1
    );
    let expired = sd.get_order(expired.id).await.unwrap();

    let paid = sd
        .create_order(order_of(&[(v[0], 2), (v[1], 1)]), None)
        .await;
    let paid = sd.pay_order(paid.unwrap().id).await.unwrap().order;
    let cancelled = sd.create_order(order_of(&[(v[1], 2)]), None).await.unwrap();
    let cancelled = sd.cancel_order(cancelled.id).await.unwrap();
    let pending = sd
        .create_order(order_of(&[(v[0], 3), (v[2], 1)]), None)
        .await
        .unwrap();

    let statuses = [&expired, &paid, &cancelled, &pending].map(|o| o.status);
    use OrderStatus::*;
    assert_eq!(statuses, [Expired, Paid, Cancelled, Pending]);
    let found = sd.check_invariants().await.unwrap();
    assert!(found.is_empty(), "the shop starts consistent: {found:#?}");
    Shop {
        product: product.id,
        variants: v,
        expired,
        paid,
        cancelled,
        pending,
    }
}

/// Runs `sql` behind Stockdesk's back with `ids` bound to `$1`, `$2`, … and returns the rows it
/// changed. The same text runs on both backends: ids bind as native UUIDs on Postgres and as
/// 16-byte blobs on SQLite, exactly as Stockdesk stores them.
async fn tamper(sd: &Stockdesk, sql: &str, ids: &[Uuid]) -> u64 {
    try_tamper(sd, sql, ids)
        .await
        .unwrap_or_else(|e| panic!("tampering {sql:?}: {e}"))
}

async fn try_tamper(sd: &Stockdesk, sql: &str, ids: &[Uuid]) -> Result<u64, sqlx::Error> {
    match sd.store() {
        Store::Sqlite(p) => {
            let q = ids.iter().fold(sqlx::query(sql), |q, id| q.bind(*id));
            q.execute(p).await.map(|r| r.rows_affected())
        }
        Store::Postgres(p) => {
            let q = ids.iter().fold(sqlx::query(sql), |q, id| q.bind(*id));
            q.execute(p).await.map(|r| r.rows_affected())
        }
    }
}

/// The check reports `rule` and nothing else, about exactly `subjects`.
async fn assert_only(sd: &Stockdesk, rule: &str, subjects: &[Uuid]) {
    let found = sd.check_invariants().await.unwrap();
    let rules: BTreeSet<&str> = found.iter().map(|i| i.rule.as_str()).collect();
    assert_eq!(rules, BTreeSet::from([rule]), "{found:#?}");
    let reported: BTreeSet<Uuid> = found.iter().map(|i| i.subject).collect();
    assert_eq!(reported, subjects.iter().copied().collect(), "{found:#?}");
    assert_eq!(
        found.len(),
        subjects.len(),
        "one finding per row: {found:#?}"
    );
}

async fn movement_of(sd: &Stockdesk, variant: Uuid, kind: MovementKind) -> Uuid {
    let all = sd.stock_movements(variant).await.unwrap();
    let mut of_kind = all.iter().filter(|m| m.kind == kind);
    let m = of_kind.next().expect("the shop has such a movement");
    assert!(of_kind.next().is_none(), "one {kind:?} movement");
    m.id
}

// ---- ledger rules ----

both_backends!(on_hand_not_sum_of_movements, |db: TestDb| async move {
    let s = shop(&db).await;
    // The initial movement now says one more came in than the variant's figure shows.
    let sql = "UPDATE stock_movements SET quantity = quantity + 1 WHERE variant_id = $1 AND kind = 'initial'";
    assert_eq!(tamper(&db.sd, sql, &[s.variants[2]]).await, 1);
    assert_only(&db.sd, "on_hand_not_sum_of_movements", &[s.variants[2]]).await;
});

both_backends!(negative_on_hand, |db: TestDb| async move {
    let s = shop(&db).await;
    // The variant's own figure cannot go negative (a CHECK refuses it), so the rule watches the
    // ledger: a movement that claims to have left less than nothing.
    let receipt = movement_of(&db.sd, s.variants[0], MovementKind::Receipt).await;
    let sql = "UPDATE stock_movements SET on_hand_after = -1 WHERE id = $1";
    assert_eq!(tamper(&db.sd, sql, &[receipt]).await, 1);
    assert_only(&db.sd, "negative_on_hand", &[receipt]).await;
});

// Why `negative_on_hand` does not look at the variant's own figure: the schema refuses it. Should
// that CHECK ever go, this fails and the check needs its variant branch back.
both_backends!(
    negative_variant_on_hand_is_refused_by_the_schema,
    |db: TestDb| async move {
        let s = shop(&db).await;
        let sql = "UPDATE variants SET stock_on_hand = -1 WHERE id = $1";
        let err = try_tamper(&db.sd, sql, &[s.variants[0]]).await.unwrap_err();
        let err = err.as_database_error().expect("a database error");
        assert!(err.is_check_violation(), "{err}");
        assert!(db.sd.check_invariants().await.unwrap().is_empty());
    }
);

// ---- reservation rules ----

both_backends!(held_not_sum_of_active_holds, |db: TestDb| async move {
    let s = shop(&db).await;
    // `held` is not a catalog field, so the product's snapshot stays current: only this fires.
    let sql = "UPDATE variants SET held = held + 1 WHERE id = $1";
    assert_eq!(tamper(&db.sd, sql, &[s.variants[1]]).await, 1);
    assert_only(&db.sd, "held_not_sum_of_active_holds", &[s.variants[1]]).await;
});

both_backends!(hold_deadline_differs_from_order, |db: TestDb| async move {
    let s = shop(&db).await;
    let hold = s.pending.reservations[1].id;
    // Any other time than the order's deadline will do; its own creation time is one that is
    // already in the column's format on both backends.
    let sql = "UPDATE reservations SET reserved_until = created_at WHERE id = $1";
    assert_eq!(tamper(&db.sd, sql, &[hold]).await, 1);
    assert_only(&db.sd, "hold_deadline_differs_from_order", &[hold]).await;
});

both_backends!(
    active_reservation_of_closed_order,
    |db: TestDb| async move {
        let s = shop(&db).await;
        // The pending order is marked cancelled (with a time) but its holds are left active.
        let sql = "UPDATE orders SET status = 'cancelled', closed_at = updated_at WHERE id = $1";
        assert_eq!(tamper(&db.sd, sql, &[s.pending.id]).await, 1);
        let holds: Vec<Uuid> = s.pending.reservations.iter().map(|r| r.id).collect();
        assert_only(&db.sd, "active_reservation_of_closed_order", &holds).await;
    }
);

both_backends!(pending_line_without_reservation, |db: TestDb| async move {
    let s = shop(&db).await;
    let hold = &s.pending.reservations[0];
    // Release the hold and give its units back to the counter, as a cancel would, while the
    // order stays pending.
    let sql = "UPDATE reservations SET status = 'released', closed_at = created_at WHERE id = $1";
    assert_eq!(tamper(&db.sd, sql, &[hold.id]).await, 1);
    let sql = format!(
        "UPDATE variants SET held = held - {} WHERE id = $1",
        hold.quantity
    );
    assert_eq!(tamper(&db.sd, &sql, &[hold.variant_id]).await, 1);
    assert_only(
        &db.sd,
        "pending_line_without_reservation",
        &[hold.order_item_id],
    )
    .await;
});

both_backends!(line_reserved_twice, |db: TestDb| async move {
    let s = shop(&db).await;
    let hold = &s.pending.reservations[0];
    // A second active hold of the same line, counted in `held` so the counter still agrees.
    let sql = "INSERT INTO reservations (id, order_id, order_item_id, variant_id, quantity, \
               reserved_until, status, created_at, closed_at) \
               SELECT $1, order_id, order_item_id, variant_id, quantity, reserved_until, status, \
               created_at, closed_at FROM reservations WHERE id = $2";
    assert_eq!(tamper(&db.sd, sql, &[Uuid::now_v7(), hold.id]).await, 1);
    let sql = format!(
        "UPDATE variants SET held = held + {} WHERE id = $1",
        hold.quantity
    );
    assert_eq!(tamper(&db.sd, &sql, &[hold.variant_id]).await, 1);
    assert_only(&db.sd, "line_reserved_twice", &[hold.order_item_id]).await;
});

both_backends!(
    reservation_differs_from_line_in_quantity,
    |db: TestDb| async move {
        let s = shop(&db).await;
        // A released hold of a cancelled order counts in no figure, so only the line rule sees it.
        let hold = s.cancelled.reservations[0].id;
        let sql = "UPDATE reservations SET quantity = quantity + 1 WHERE id = $1";
        assert_eq!(tamper(&db.sd, sql, &[hold]).await, 1);
        assert_only(&db.sd, "reservation_differs_from_line", &[hold]).await;
    }
);

both_backends!(
    reservation_differs_from_line_in_variant,
    |db: TestDb| async move {
        let s = shop(&db).await;
        let hold = &s.expired.reservations[0];
        assert_ne!(hold.variant_id, s.variants[0]);
        let sql = "UPDATE reservations SET variant_id = $1 WHERE id = $2";
        assert_eq!(tamper(&db.sd, sql, &[s.variants[0], hold.id]).await, 1);
        assert_only(&db.sd, "reservation_differs_from_line", &[hold.id]).await;
    }
);

// ---- sale rules ----

both_backends!(conversion_without_matching_sale, |db: TestDb| async move {
    let s = shop(&db).await;
    // The sale stays in the ledger (on hand still adds up) but no longer says which order it
    // was for.
    let sql = "UPDATE stock_movements SET order_id = NULL WHERE order_id = $1 AND variant_id = $2";
    assert_eq!(tamper(&db.sd, sql, &[s.paid.id, s.variants[1]]).await, 1);
    assert_only(&db.sd, "conversion_without_matching_sale", &[s.paid.id]).await;
});

both_backends!(paid_lines_not_converted, |db: TestDb| async move {
    let s = shop(&db).await;
    // A cancelled order turned into a paid one: its released hold was never converted and
    // nothing was sold, so conversions and sales still agree with each other.
    let sql = "UPDATE orders SET status = 'paid', paid_at = closed_at WHERE id = $1";
    assert_eq!(tamper(&db.sd, sql, &[s.cancelled.id]).await, 1);
    // Its lines get the time of sale too, as a payment would stamp them.
    let sql = "UPDATE order_items SET paid_at = (SELECT paid_at FROM orders WHERE id = $1) \
               WHERE order_id = $1";
    assert_eq!(tamper(&db.sd, sql, &[s.cancelled.id]).await, 1);
    assert_only(&db.sd, "paid_lines_not_converted", &[s.cancelled.id]).await;
});

both_backends!(paid_lines_without_their_time, |db: TestDb| async move {
    let s = shop(&db).await;
    // The sales report reads lines by their time of sale: one without it is a sale not counted.
    let sql = "UPDATE order_items SET paid_at = NULL WHERE order_id = $1 AND line_no = 2";
    assert_eq!(tamper(&db.sd, sql, &[s.paid.id]).await, 1);
    assert_only(&db.sd, "lines_unlike_their_payment", &[s.paid.id]).await;
});

both_backends!(unpaid_lines_with_a_time, |db: TestDb| async move {
    let s = shop(&db).await;
    // A pending order's lines stamped as sold: the report would count a sale never paid.
    let sql = "UPDATE order_items SET paid_at = (SELECT created_at FROM orders WHERE id = $1) \
               WHERE order_id = $1";
    assert_eq!(tamper(&db.sd, sql, &[s.pending.id]).await, 2);
    assert_only(&db.sd, "lines_unlike_their_payment", &[s.pending.id]).await;
});

both_backends!(
    closed_order_without_time_cancelled,
    |db: TestDb| async move {
        let s = shop(&db).await;
        let sql = "UPDATE orders SET closed_at = NULL WHERE id = $1";
        assert_eq!(tamper(&db.sd, sql, &[s.cancelled.id]).await, 1);
        assert_only(&db.sd, "closed_order_without_time", &[s.cancelled.id]).await;
    }
);

both_backends!(closed_order_without_time_paid, |db: TestDb| async move {
    let s = shop(&db).await;
    let sql = "UPDATE orders SET paid_at = NULL WHERE id = $1";
    assert_eq!(tamper(&db.sd, sql, &[s.paid.id]).await, 1);
    assert_only(&db.sd, "closed_order_without_time", &[s.paid.id]).await;
});

// ---- the snapshot edits read ----

both_backends!(snapshot_not_current_row_changed, |db: TestDb| async move {
    let s = shop(&db).await;
    let sql = "UPDATE products SET name = 'Renamed behind its back' WHERE id = $1";
    assert_eq!(tamper(&db.sd, sql, &[s.product]).await, 1);
    assert_only(&db.sd, "snapshot_not_current", &[s.product]).await;
});

both_backends!(snapshot_not_current_row_missing, |db: TestDb| async move {
    let s = shop(&db).await;
    let version = db.sd.get_product(s.product).await.unwrap().version;
    let sql = format!("DELETE FROM product_history WHERE product_id = $1 AND version = {version}");
    assert_eq!(tamper(&db.sd, &sql, &[s.product]).await, 1);
    assert_only(&db.sd, "snapshot_not_current", &[s.product]).await;
});

/// Every rule name the check can report has a test above: a new rule without one fails here.
#[test]
fn every_rule_has_a_test() {
    let tested = BTreeSet::from([
        "on_hand_not_sum_of_movements",
        "negative_on_hand",
        "held_not_sum_of_active_holds",
        "hold_deadline_differs_from_order",
        "active_reservation_of_closed_order",
        "pending_line_without_reservation",
        "line_reserved_twice",
        "reservation_differs_from_line",
        "conversion_without_matching_sale",
        "paid_lines_not_converted",
        "closed_order_without_time",
        "lines_unlike_their_payment",
        "snapshot_not_current",
    ]);
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/check/mod.rs");
    let source = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{path}: {e} (moved? point this test at the check)"));
    // Rules are named by the string literal right after `push(found,` / `push(&mut found,`.
    let reported: BTreeSet<&str> = source
        .split("push(")
        .skip(1)
        .filter_map(|rest| {
            let rest = rest.trim_start();
            let rest = rest.strip_prefix("&mut ").unwrap_or(rest);
            let rest = rest.strip_prefix("found,")?.trim_start();
            rest.strip_prefix('"')?.split('"').next()
        })
        .collect();
    assert!(
        reported.len() >= 10,
        "found the rules in {path}: {reported:?}"
    );
    assert_eq!(reported, tested);
}
