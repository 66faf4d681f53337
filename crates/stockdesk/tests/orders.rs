//! Orders, reservations, stock operations and the sweeper on both backends, including the
//! concurrency the issue asks for: last units under 200 buyers, payment racing expiry and
//! sweepers, several sweepers at once.

use std::collections::BTreeMap;

use chrono::TimeDelta;
use futures::future::join_all;
use rand::{Rng, SeedableRng};
use stockdesk::catalog::PatchRequest;
use stockdesk::stock::*;
use stockdesk::{Clock, Error, Stockdesk};
use stockdesk_testkit::{both_backends, dump, order_of, stocked, TestDb};
use uuid::Uuid;

async fn level(sd: &Stockdesk, v: Uuid) -> (i64, i64, i64) {
    let l = sd.stock_level(v).await.unwrap();
    (l.on_hand, l.reserved, l.available)
}

async fn assert_consistent(sd: &Stockdesk) {
    let found = sd.check_invariants().await.unwrap();
    assert!(found.is_empty(), "inconsistencies: {found:#?}");
}

both_backends!(order_lifecycle, |db: TestDb| async move {
    let sd = &db.sd;
    let v = stocked(sd, "mug", &[10, 4]).await;

    // Lines of one variant are summed before the check: 3 + 2 of v0 fits in 10, 5 of v1 not in 4.
    let err = sd
        .create_order(order_of(&[(v[0], 3), (v[1], 5), (v[0], 2)]), None)
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::InsufficientStock { variant_id, requested: 5, available: 4 } if variant_id == v[1]),
        "{err:?}"
    );
    let before = dump(sd).await;
    let err = sd
        .create_order(order_of(&[(v[0], 6), (v[0], 5)]), None)
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        Error::InsufficientStock {
            requested: 11,
            available: 10,
            ..
        }
    ));
    assert_eq!(dump(sd).await, before, "a refused order leaves no trace");

    let order = sd
        .create_order(order_of(&[(v[0], 3), (v[1], 4), (v[0], 2)]), None)
        .await
        .unwrap();
    assert_eq!(order.status, OrderStatus::Pending);
    assert_eq!(order.items.len(), 3);
    assert_eq!(order.reservations.len(), 3);
    assert_eq!(order.items[0].unit_price_minor, 1000);
    assert_eq!(order.totals[0].amount_minor, 5 * 1000 + 4 * 1001);
    assert_eq!(
        order.payment_expires_at,
        db.clock.now() + TimeDelta::minutes(15)
    );
    assert_eq!(level(sd, v[0]).await, (10, 5, 5));
    assert_eq!(level(sd, v[1]).await, (4, 4, 0));
    assert_eq!(sd.get_order(order.id).await.unwrap(), order);

    let paid = sd.pay_order(order.id).await.unwrap();
    assert_eq!(paid.hold, Hold::Original);
    assert_eq!(paid.order.status, OrderStatus::Paid);
    assert!(paid
        .order
        .reservations
        .iter()
        .all(|r| r.status == ReservationStatus::Converted));
    assert_eq!(level(sd, v[0]).await, (5, 0, 5));
    assert_eq!(level(sd, v[1]).await, (0, 0, 0));
    let sales: Vec<_> = sd
        .stock_movements(v[0])
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.order_id == Some(order.id))
        .collect();
    assert_eq!(sales.len(), 1);
    assert_eq!((sales[0].quantity, sales[0].on_hand_after), (-5, 5));
    // The sale is a new product version, so an open editor merges its stock as a delta.
    let product = sd.get_product(order.items[0].product_id).await.unwrap();
    assert_eq!(product.version, 2);

    let err = sd.pay_order(order.id).await.unwrap_err();
    assert_eq!(err.code(), "invalid_state");
    let err = sd.cancel_order(order.id).await.unwrap_err();
    assert_eq!(err.code(), "invalid_state");

    // Cancel gives the stock back.
    let o2 = sd.create_order(order_of(&[(v[0], 5)]), None).await.unwrap();
    assert_eq!(level(sd, v[0]).await, (5, 5, 0));
    let cancelled = sd.cancel_order(o2.id).await.unwrap();
    assert_eq!(cancelled.status, OrderStatus::Cancelled);
    assert_eq!(
        cancelled.reservations[0].status,
        ReservationStatus::Released
    );
    assert_eq!(level(sd, v[0]).await, (5, 0, 5));

    let pending = sd
        .list_orders(OrderQuery {
            status: Some(OrderStatus::Paid),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(pending.iter().map(|o| o.id).collect::<Vec<_>>(), [order.id]);
    assert_eq!(
        sd.list_orders(OrderQuery::default()).await.unwrap().len(),
        2
    );

    assert_eq!(
        sd.get_order(Uuid::now_v7()).await.unwrap_err().code(),
        "not_found"
    );
    let err = sd
        .create_order(order_of(&[(Uuid::now_v7(), 1)]), None)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "not_found");
    let err = sd
        .create_order(order_of(&[(v[0], 0)]), None)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "validation");
    assert_eq!(
        sd.create_order(order_of(&[]), None)
            .await
            .unwrap_err()
            .code(),
        "validation"
    );
    assert_consistent(sd).await;
});

both_backends!(expired_holds_never_block_a_sale, |db: TestDb| async move {
    let sd = &db.sd;
    let v = stocked(sd, "lamp", &[2]).await[0];
    let mut new = order_of(&[(v, 2)]);
    new.expires_in_secs = Some(60);
    let first = sd.create_order(new, None).await.unwrap();
    assert_eq!(level(sd, v).await, (2, 2, 0));
    assert_eq!(
        sd.create_order(order_of(&[(v, 1)]), None)
            .await
            .unwrap_err()
            .code(),
        "insufficient_stock"
    );

    // The deadline passes; no sweeper has run, yet the stock is available again.
    db.clock.advance(TimeDelta::seconds(60));
    assert_eq!(level(sd, v).await, (2, 0, 2));
    assert_eq!(sd.stock_level(v).await.unwrap().lapsed_holds, 2);
    assert!(sd.get_order(first.id).await.unwrap().overdue);
    let second = sd.create_order(order_of(&[(v, 2)]), None).await.unwrap();
    // The order that needed the lapsed holds' units expired their order on the way, as the
    // sweeper would have.
    let first_now = sd.get_order(first.id).await.unwrap();
    assert_eq!(first_now.status, OrderStatus::Expired);
    assert_eq!(first_now.reservations[0].status, ReservationStatus::Expired);
    assert_eq!(level(sd, v).await, (2, 2, 0));
    assert_eq!(sd.stock_level(v).await.unwrap().lapsed_holds, 0);
    assert_consistent(sd).await;

    // The late payment finds the stock gone.
    let err = sd.pay_order(first.id).await.unwrap_err();
    assert!(matches!(err, Error::ReservationExpired { order_id } if order_id == first.id));
    assert_eq!(err.exit_code(), 5);
    let err = sd
        .extend_order(first.id, TimeDelta::minutes(5))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "reservation_expired");

    // Nothing is left for the sweeper; the second order stays.
    let run = sd.sweep_once().await.unwrap();
    assert_eq!(run.jobs[0].counts["orders_expired"], 0);
    assert_eq!(
        sd.get_order(second.id).await.unwrap().status,
        OrderStatus::Pending
    );

    // Once the second order is cancelled, the expired one can still be paid: it re-reserves.
    sd.cancel_order(second.id).await.unwrap();
    let paid = sd.pay_order(first.id).await.unwrap();
    assert_eq!(paid.hold, Hold::ReReserved);
    assert_eq!(paid.order.status, OrderStatus::Paid);
    let statuses: Vec<_> = paid.order.reservations.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        [ReservationStatus::Expired, ReservationStatus::Converted]
    );
    assert_eq!(level(sd, v).await, (0, 0, 0));
    assert_consistent(sd).await;
});

both_backends!(
    late_payment_and_extension_reuse_the_stock,
    |db: TestDb| async move {
        let sd = &db.sd;
        let v = stocked(sd, "pen", &[5]).await[0];
        let o = sd.create_order(order_of(&[(v, 3)]), None).await.unwrap();

        // Extending an open hold moves the deadline from the old one.
        let ext = sd.extend_order(o.id, TimeDelta::minutes(10)).await.unwrap();
        assert_eq!(ext.hold, Hold::Original);
        assert_eq!(
            ext.order.payment_expires_at,
            o.payment_expires_at + TimeDelta::minutes(10)
        );
        assert!(ext
            .order
            .reservations
            .iter()
            .all(|r| r.reserved_until == ext.order.payment_expires_at));

        // Past the deadline, an extension re-reserves from now if the stock is there.
        db.clock.advance(TimeDelta::minutes(30));
        let ext = sd.extend_order(o.id, TimeDelta::minutes(5)).await.unwrap();
        assert_eq!(ext.hold, Hold::ReReserved);
        assert_eq!(
            ext.order.payment_expires_at,
            db.clock.now() + TimeDelta::minutes(5)
        );
        assert_eq!(level(sd, v).await, (5, 3, 2));

        // Past it again, unswept: the payment converts the lapsed holds in place.
        db.clock.advance(TimeDelta::minutes(6));
        let paid = sd.pay_order(o.id).await.unwrap();
        assert_eq!(paid.hold, Hold::ReReserved);
        assert_eq!(paid.order.reservations.len(), 1);
        assert_eq!(
            paid.order.reservations[0].status,
            ReservationStatus::Converted
        );
        assert_eq!(level(sd, v).await, (2, 0, 2));

        for bad in [TimeDelta::zero(), TimeDelta::days(31)] {
            assert_eq!(
                sd.extend_order(o.id, bad).await.unwrap_err().code(),
                "validation"
            );
        }
        assert_consistent(sd).await;
    }
);

both_backends!(op_id_makes_create_idempotent, |db: TestDb| async move {
    let sd = &db.sd;
    let v = stocked(sd, "cup", &[10]).await[0];
    let op = Uuid::now_v7();
    let tasks = (0..8).map(|_| {
        let sd = sd.clone();
        tokio::spawn(async move { sd.create_order(order_of(&[(v, 2)]), Some(op)).await })
    });
    let ids: Vec<Uuid> = join_all(tasks)
        .await
        .into_iter()
        .map(|r| r.unwrap().unwrap().id)
        .collect();
    assert!(ids.iter().all(|&id| id == ids[0]));
    assert_eq!(level(sd, v).await, (10, 2, 8));
    assert_eq!(
        sd.list_orders(OrderQuery::default()).await.unwrap().len(),
        1
    );
    // A retry after payment answers with the first outcome, and reserves nothing again.
    sd.pay_order(ids[0]).await.unwrap();
    let again = sd
        .create_order(order_of(&[(v, 2)]), Some(op))
        .await
        .unwrap();
    assert_eq!((again.id, again.status), (ids[0], OrderStatus::Pending));
    assert_eq!(level(sd, v).await, (8, 0, 8));
});

both_backends!(receipts_adjustments_and_counts, |db: TestDb| async move {
    let sd = &db.sd;
    let v = stocked(sd, "tea", &[10]).await[0];
    let r = sd.receive_stock(v, 5, Some("delivery 42")).await.unwrap();
    assert_eq!(
        (r.movement.kind, r.movement.quantity, r.level.on_hand),
        (stockdesk::stock::MovementKind::Receipt, 5, 15)
    );
    sd.create_order(order_of(&[(v, 12)]), None).await.unwrap();

    // An adjustment may not take stock that orders hold.
    let err = sd.adjust_stock(v, -4, "broken").await.unwrap_err();
    assert!(matches!(
        err,
        Error::InsufficientStock {
            requested: 4,
            available: 3,
            ..
        }
    ));
    let a = sd.adjust_stock(v, -3, "broken").await.unwrap();
    assert_eq!((a.level.on_hand, a.level.available), (12, 0));
    assert_eq!(
        sd.adjust_stock(v, 2, "  ").await.unwrap_err().code(),
        "validation"
    );
    assert_eq!(
        sd.adjust_stock(v, 0, "x").await.unwrap_err().code(),
        "validation"
    );

    // A count is the shelf's truth, even below what orders hold; the delta is applied to the
    // current figure relative to the sheet.
    let c = sd.count_stock(v, 9, Some(11)).await.unwrap();
    assert_eq!((c.movement.quantity, c.level.on_hand), (-2, 10));
    assert_eq!((c.level.reserved, c.level.short), (12, 2));
    let same = sd.count_stock(v, 10, None).await.unwrap();
    assert_eq!(same.movement.quantity, 0);
    assert_eq!(
        sd.count_stock(v, -1, None).await.unwrap_err().code(),
        "validation"
    );
    let err = sd.count_stock(v, 0, Some(100)).await.unwrap_err();
    assert_eq!(err.code(), "validation");

    // The short order cannot be paid; once stock arrives it can.
    let order = sd.list_orders(OrderQuery::default()).await.unwrap()[0].id;
    let err = sd.pay_order(order).await.unwrap_err();
    assert!(matches!(
        err,
        Error::InsufficientStock {
            requested: 12,
            available: 10,
            ..
        }
    ));
    sd.receive_stock(v, 2, None).await.unwrap();
    sd.pay_order(order).await.unwrap();

    let kinds: Vec<_> = sd
        .stock_movements(v)
        .await
        .unwrap()
        .iter()
        .map(|m| (m.kind.as_str(), m.quantity))
        .collect();
    assert_eq!(
        kinds,
        [
            ("initial", 10),
            ("receipt", 5),
            ("adjustment", -3),
            ("count", -2),
            ("count", 0),
            ("receipt", 2),
            ("sale", -12)
        ]
    );
    assert_eq!(
        sd.stock_movements(Uuid::now_v7()).await.unwrap_err().code(),
        "not_found"
    );
    assert_eq!(
        sd.receive_stock(v, 0, None).await.unwrap_err().code(),
        "validation"
    );
    assert_consistent(sd).await;
});

both_backends!(catalog_edits_respect_held_stock, |db: TestDb| async move {
    let sd = &db.sd;
    let v = stocked(sd, "bag", &[10, 3]).await;
    let order = sd
        .create_order(order_of(&[(v[0], 6), (v[1], 3)]), None)
        .await
        .unwrap();
    let product = sd.get_product(order.items[0].product_id).await.unwrap();
    let patch = |json: serde_json::Value| PatchRequest {
        product_id: product.id,
        expected_version: product.version,
        patch: serde_json::from_value(json).unwrap(),
        op_id: None,
    };
    let err = sd
        .patch_product(patch(serde_json::json!({
            "variants": {"update": [{"id": v[0], "stock_on_hand": 5}]}
        })))
        .await
        .unwrap_err();
    let Error::Validation(errors) = err else {
        panic!("{err:?}")
    };
    assert_eq!(errors[0].field, format!("variants.{}.stock_on_hand", v[0]));
    let err = sd
        .patch_product(patch(serde_json::json!({"variants": {"delete": [v[1]]}})))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "validation");
    sd.patch_product(patch(serde_json::json!({
        "variants": {"update": [{"id": v[0], "stock_on_hand": 6}]}
    })))
    .await
    .unwrap();
    // Once the hold lapses the edit is free again.
    db.clock.advance(TimeDelta::minutes(15));
    let product = sd.get_product(product.id).await.unwrap();
    sd.patch_product(PatchRequest {
        product_id: product.id,
        expected_version: product.version,
        patch: serde_json::from_value(serde_json::json!({"variants": {"delete": [v[1]]}})).unwrap(),
        op_id: None,
    })
    .await
    .unwrap();
});

/// `buyers` tasks each order `quantity(i)` units of `variant(i)` at once; returns per buyer
/// Ok(order) or the error.
async fn stampede(
    sd: &Stockdesk,
    buyers: usize,
    lines: impl Fn(usize) -> Vec<(Uuid, i64)>,
) -> Vec<(Vec<(Uuid, i64)>, Result<Order, Error>)> {
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(buyers));
    let tasks = (0..buyers).map(|i| {
        let sd = sd.clone();
        let lines = lines(i);
        let start = start.clone();
        tokio::spawn(async move {
            start.wait().await;
            let r = sd.create_order(order_of(&lines), None).await;
            (lines, r)
        })
    });
    join_all(tasks)
        .await
        .into_iter()
        .map(|r| r.unwrap())
        .collect()
}

both_backends!(last_units_200_buyers_one_each, |db: TestDb| async move {
    let sd = &db.sd;
    let v = stocked(sd, "ticket", &[50]).await[0];
    let results = stampede(sd, 200, |_| vec![(v, 1)]).await;
    let ok: Vec<&Order> = results
        .iter()
        .filter_map(|(_, r)| r.as_ref().ok())
        .collect();
    assert_eq!(ok.len(), 50);
    for (_, r) in &results {
        match r {
            Ok(_) => {}
            Err(Error::InsufficientStock {
                variant_id,
                requested: 1,
                available: 0,
            }) if *variant_id == v => {}
            Err(e) => panic!("unexpected error {e:?}"),
        }
    }
    assert_eq!(level(sd, v).await, (50, 50, 0));
    // Paying them all, at once, sells exactly the 50.
    let pays = ok.iter().map(|o| {
        let sd = sd.clone();
        let id = o.id;
        tokio::spawn(async move { sd.pay_order(id).await })
    });
    for r in join_all(pays).await {
        assert_eq!(r.unwrap().unwrap().hold, Hold::Original);
    }
    assert_eq!(level(sd, v).await, (0, 0, 0));
    assert_consistent(sd).await;
});

both_backends!(
    last_units_mixed_quantities_and_variants,
    |db: TestDb| async move {
        let sd = &db.sd;
        let mut vs = stocked(sd, "shoe", &[50, 20]).await;
        vs.extend(stocked(sd, "sock", &[30]).await);
        let stock = [50, 20, 30];
        // Single-variant buyers with 1–3 units, and buyers of two variants at once.
        let plan: Vec<Vec<(Uuid, i64)>> = {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
            (0..200)
                .map(|i| {
                    let a = rng.random_range(0..3);
                    let mut lines = vec![(vs[a], rng.random_range(1..=3))];
                    if i % 3 == 0 {
                        lines.push((vs[(a + 1) % 3], rng.random_range(1..=3)));
                    }
                    lines
                })
                .collect()
        };
        let results = stampede(sd, 200, |i| plan[i].clone()).await;
        let mut taken = [0i64; 3];
        let mut refused = Vec::new();
        for (lines, r) in &results {
            match r {
                Ok(_) => {
                    for (v, q) in lines {
                        taken[vs.iter().position(|x| x == v).unwrap()] += q;
                    }
                }
                Err(Error::InsufficientStock {
                    variant_id,
                    requested,
                    available,
                }) => {
                    let wanted: i64 = lines
                        .iter()
                        .filter(|(v, _)| v == variant_id)
                        .map(|l| l.1)
                        .sum();
                    assert_eq!(*requested, wanted);
                    assert!(*available < *requested && *available >= 0);
                    refused.push((*variant_id, *available));
                }
                Err(e) => panic!("unexpected error {e:?}"),
            }
        }
        for i in 0..3 {
            let (on_hand, reserved, available) = level(sd, vs[i]).await;
            assert_eq!((on_hand, reserved), (stock[i], taken[i]));
            assert!(taken[i] <= stock[i]);
            assert_eq!(available, stock[i] - taken[i]);
        }
        // No false rejection: what was reported available then is at least what is left now.
        for (v, available_then) in refused {
            assert!(available_then >= level(sd, v).await.2);
        }
        // The stampede sold out at least one variant down to less than the largest request.
        assert!((0..3).any(|i| stock[i] - taken[i] < 3));
        assert_consistent(sd).await;
    }
);

both_backends!(
    lapsed_holds_give_way_under_a_stampede,
    |db: TestDb| async move {
        let sd = &db.sd;
        let v = stocked(sd, "scarf", &[10]).await[0];
        let mut first = Vec::new();
        for _ in 0..10 {
            let mut new = order_of(&[(v, 1)]);
            new.expires_in_secs = Some(60);
            first.push(sd.create_order(new, None).await.unwrap().id);
        }
        // Every hold lapses and no sweeper runs: 30 buyers race for the 10 units, each of them
        // finding lapsed holds in the way of the counter at first.
        db.clock.advance(TimeDelta::seconds(61));
        let results = stampede(sd, 30, |_| vec![(v, 1)]).await;
        let mut sold = 0;
        for (_, r) in &results {
            match r {
                Ok(_) => sold += 1,
                Err(Error::InsufficientStock { available: 0, .. }) => {}
                Err(e) => panic!("unexpected error {e:?}"),
            }
        }
        assert_eq!(sold, 10);
        for id in first {
            assert_eq!(sd.get_order(id).await.unwrap().status, OrderStatus::Expired);
        }
        assert_eq!(level(sd, v).await, (10, 10, 0));
        assert_eq!(sd.stock_level(v).await.unwrap().lapsed_holds, 0);
        assert_consistent(sd).await;
    }
);

both_backends!(buyers_who_give_up_strand_nobody, |db: TestDb| async move {
    let sd = &db.sd;
    let v = stocked(sd, "mug", &[1000]).await[0];
    for round in 0..5u64 {
        // 40 buyers at once; every other one gives up at some point on the way.
        let tasks: Vec<_> = (0..40)
            .map(|_| {
                let sd = sd.clone();
                tokio::spawn(async move { sd.create_order(order_of(&[(v, 1)]), None).await })
            })
            .collect();
        for (i, t) in tasks.iter().enumerate() {
            if i % 2 == 1 {
                tokio::time::sleep(std::time::Duration::from_micros(50 * round)).await;
                t.abort();
            }
        }
        for t in tasks {
            match t.await {
                Ok(r) => {
                    r.unwrap();
                }
                Err(e) => assert!(e.is_cancelled()),
            }
        }
        // Whatever the aborted ones left behind, the next buyer is served at once.
        let next = sd.create_order(order_of(&[(v, 1)]), None);
        tokio::time::timeout(std::time::Duration::from_secs(10), next)
            .await
            .expect("an order after the aborted ones does not hang")
            .unwrap();
        assert_consistent(sd).await;
    }
    // Every order written holds its unit, whether or not its buyer stayed to hear it.
    let orders = sd
        .list_orders(OrderQuery {
            status: Some(OrderStatus::Pending),
            limit: Some(1000),
            offset: None,
        })
        .await
        .unwrap();
    assert_eq!(level(sd, v).await.1, orders.len() as i64);
});

both_backends!(edits_lowering_stock_race_orders, |db: TestDb| async move {
    let sd = &db.sd;
    let mut edits_applied = 0;
    for round in 0..12 {
        let v = stocked(sd, &format!("cap{round}"), &[10]).await[0];
        let product = sd
            .get_product(sd.stock_level(v).await.unwrap().product_id)
            .await
            .unwrap();
        let start = std::sync::Arc::new(tokio::sync::Barrier::new(11));
        let buyers = (0..10).map(|_| {
            let (sd, start) = (sd.clone(), start.clone());
            tokio::spawn(async move {
                start.wait().await;
                match sd.create_order(order_of(&[(v, 1)]), None).await {
                    Ok(_) | Err(Error::InsufficientStock { .. }) => {}
                    Err(e) => panic!("unexpected error {e:?}"),
                }
            })
        });
        let editor = {
            let (sd, start) = (sd.clone(), start.clone());
            let patch =
                serde_json::json!({"variants": {"update": [{"id": v, "stock_on_hand": 9}]}});
            tokio::spawn(async move {
                start.wait().await;
                sd.patch_product(PatchRequest {
                    product_id: product.id,
                    expected_version: product.version,
                    patch: serde_json::from_value(patch).unwrap(),
                    op_id: None,
                })
                .await
            })
        };
        join_all(buyers).await.into_iter().for_each(|r| r.unwrap());
        match editor.await.unwrap() {
            Ok(_) => edits_applied += 1,
            Err(Error::Validation(_)) => {}
            Err(e) => panic!("unexpected error {e:?}"),
        }
        // Whichever committed first, the edit never took on hand below what orders hold.
        let level = sd.stock_level(v).await.unwrap();
        assert_eq!(level.short, 0, "round {round}: {level:?}");
    }
    // Both outcomes are possible; the race is only a race if the edit got in sometimes.
    assert!(edits_applied > 0);
    assert_consistent(sd).await;
});

both_backends!(payment_expiry_and_sweepers_race, |db: TestDb| async move {
    let sd = &db.sd;
    let v = stocked(sd, "watch", &[1]).await[0];
    let mut outcomes: BTreeMap<&str, usize> = BTreeMap::new();
    for round in 0..30 {
        sd.receive_stock(v, 1, None).await.unwrap();
        let o = sd.create_order(order_of(&[(v, 1)]), None).await.unwrap();
        // Half the rounds race exactly at the deadline, half just before it (with a cancel).
        let at_deadline = round % 2 == 0;
        if at_deadline {
            db.clock.advance(TimeDelta::minutes(15));
        } else {
            db.clock
                .advance(TimeDelta::minutes(15) - TimeDelta::microseconds(1));
        }
        let pay = {
            let sd = sd.clone();
            tokio::spawn(async move { sd.pay_order(o.id).await })
        };
        let sweepers: Vec<_> = (0..2)
            .map(|_| {
                let sd = sd.clone();
                tokio::spawn(async move { sd.sweep_once().await.unwrap() })
            })
            .collect();
        let other = {
            let sd = sd.clone();
            tokio::spawn(async move {
                if at_deadline {
                    sd.create_order(order_of(&[(v, 2)]), None).await.map(|_| ())
                } else {
                    sd.cancel_order(o.id).await.map(|_| ())
                }
            })
        };
        let paid = pay.await.unwrap();
        let other = other.await.unwrap();
        let mut swept: i64 = join_all(sweepers)
            .await
            .into_iter()
            .map(|r| r.unwrap().jobs[0].counts["reservations_expired"])
            .sum();
        let mut order = sd.get_order(o.id).await.unwrap();
        if order.status == OrderStatus::Pending {
            // On Postgres the sweepers skip an order a payment holds locked; the next run
            // takes it.
            assert!(paid.is_err() && at_deadline);
            swept += sd.sweep_once().await.unwrap().jobs[0].counts["reservations_expired"];
            order = sd.get_order(o.id).await.unwrap();
        }
        let converted = order
            .reservations
            .iter()
            .filter(|r| r.status == ReservationStatus::Converted)
            .count();
        let first = order.reservations[0].status;
        match (&paid, order.status) {
            (Ok(p), OrderStatus::Paid) => {
                assert_eq!(converted, 1);
                let key = match (p.hold, first) {
                    (Hold::Original, _) => "paid in time",
                    (Hold::ReReserved, ReservationStatus::Converted) => "paid late, unswept",
                    (Hold::ReReserved, _) => "paid late, after the sweeper",
                };
                *outcomes.entry(key).or_default() += 1;
                assert!(at_deadline || p.hold == Hold::Original);
            }
            (Err(e), OrderStatus::Expired) => {
                assert_eq!(e.code(), "reservation_expired");
                assert_eq!(first, ReservationStatus::Expired);
                // Expired by a sweeper, or by the order that wanted its stock, which has it.
                assert!(
                    swept == 1 || (at_deadline && other.is_ok()),
                    "round {round}"
                );
                *outcomes.entry("expired").or_default() += 1;
            }
            (Err(e), OrderStatus::Cancelled) => {
                assert_eq!(e.code(), "invalid_state");
                assert!(!at_deadline && other.is_ok());
                assert_eq!(first, ReservationStatus::Released);
                *outcomes.entry("cancelled").or_default() += 1;
            }
            other => panic!("round {round}: unexpected {other:?}"),
        }
        // Exactly one outcome for the reservation, and the sweeper released it at most once.
        assert!(swept <= 1);
        assert!(order
            .reservations
            .iter()
            .all(|r| r.status != ReservationStatus::Active));
        assert_consistent(sd).await;
        // Leave nothing pending for the next round.
        db.clock.advance(TimeDelta::hours(1));
        sd.sweep_once().await.unwrap();
        let l = sd.stock_level(v).await.unwrap();
        assert!(l.on_hand >= 0 && l.reserved == 0);
    }
    assert_consistent(sd).await;
    eprintln!("race outcomes: {outcomes:?}");
});

both_backends!(
    three_sweepers_expire_each_order_once,
    |db: TestDb| async move {
        let sd = &db.sd;
        let vs = stocked(sd, "pin", &[1000, 1000]).await;
        let creates = (0..300).map(|i| {
            let sd = sd.clone();
            let lines = [(vs[i % 2], 1), (vs[1], 1)];
            tokio::spawn(async move { sd.create_order(order_of(&lines), None).await })
        });
        for r in join_all(creates).await {
            r.unwrap().unwrap();
        }
        db.clock.advance(TimeDelta::minutes(16));
        let sweepers = (0..3).map(|i| {
            let sd = sd.with_actor(&format!("sweeper-{i}"));
            tokio::spawn(async move { sd.sweep_once().await.unwrap() })
        });
        let runs: Vec<_> = join_all(sweepers)
            .await
            .into_iter()
            .map(|r| r.unwrap())
            .collect();
        let orders: i64 = runs
            .iter()
            .map(|r| r.jobs[0].counts["orders_expired"])
            .sum();
        let reservations: i64 = runs
            .iter()
            .map(|r| r.jobs[0].counts["reservations_expired"])
            .sum();
        assert_eq!((orders, reservations), (300, 600));
        assert!(runs
            .iter()
            .all(|r| r.status == stockdesk::sweeper::RunStatus::Ok));
        let again = sd.sweep_once().await.unwrap();
        assert_eq!(again.jobs[0].counts["orders_expired"], 0);

        let health = sd.sweeper_health().await.unwrap();
        assert_eq!(health.last_run.unwrap().id, again.id);
        assert_eq!((health.overdue_orders, health.failures_in_a_row), (0, 0));
        assert!(health.last_ok_at.is_some());
        assert_eq!(level(sd, vs[1]).await, (1000, 0, 1000));
        assert_consistent(sd).await;
    }
);

both_backends!(
    expiry_batches_split_between_sweepers,
    |db: TestDb| async move {
        let sd = &db.sd;
        let vs = stocked(sd, "cup", &[1000, 1000]).await;
        let mut lapsing = Vec::new();
        for i in 0..60 {
            let lines: &[(Uuid, i64)] = if i % 3 == 0 {
                &[(vs[0], 1)]
            } else {
                &[(vs[0], 1), (vs[1], 2)]
            };
            lapsing.push(sd.create_order(order_of(lines), None).await.unwrap());
        }
        // Not pending when the window passes: neither may be touched.
        sd.pay_order(lapsing[1].id).await.unwrap();
        sd.cancel_order(lapsing[2].id).await.unwrap();
        let mut later = order_of(&[(vs[1], 5)]);
        later.expires_in_secs = Some(3600);
        let later = sd.create_order(later, None).await.unwrap();
        db.clock.advance(TimeDelta::minutes(16));

        // Small batches from four sweepers at once: on Postgres each passes over the orders
        // another holds; on SQLite they take turns.
        let sweepers = (0..4).map(|i| {
            let sd = sd.with_actor(&format!("sweeper-{i}"));
            tokio::spawn(async move {
                let mut batches = Vec::new();
                loop {
                    let batch = sd.expire_overdue_orders(7).await.unwrap();
                    if batch.locked == 0 {
                        return batches;
                    }
                    batches.push(batch);
                }
            })
        });
        let batches: Vec<ExpiryBatch> = join_all(sweepers)
            .await
            .into_iter()
            .flat_map(|r| r.unwrap())
            .collect();
        // Every order it locked was still pending, so each batch expired all of them.
        assert!(batches.iter().all(|b| b.orders_expired == b.locked));
        let orders: i64 = batches.iter().map(|b| b.orders_expired).sum();
        let reservations: i64 = batches.iter().map(|b| b.reservations_expired).sum();
        assert_eq!((orders, reservations), (58, 58 + 38));
        assert_eq!(sd.expire_overdue_orders(7).await.unwrap().locked, 0);

        for (i, o) in lapsing.iter().enumerate() {
            let o = sd.get_order(o.id).await.unwrap();
            let (status, holds) = match i {
                1 => (OrderStatus::Paid, ReservationStatus::Converted),
                2 => (OrderStatus::Cancelled, ReservationStatus::Released),
                _ => (OrderStatus::Expired, ReservationStatus::Expired),
            };
            assert_eq!(o.status, status, "order {i}");
            assert!(
                o.reservations.iter().all(|r| r.status == holds),
                "order {i}"
            );
        }
        let later = sd.get_order(later.id).await.unwrap();
        assert_eq!(later.status, OrderStatus::Pending);
        assert_eq!(later.reservations[0].status, ReservationStatus::Active);
        assert_eq!(level(sd, vs[1]).await, (998, 5, 993));
        assert_consistent(sd).await;
    }
);

both_backends!(spawned_sweeper_records_runs, |db: TestDb| async move {
    let sd = &db.sd;
    let v = stocked(sd, "hat", &[3]).await[0];
    let o = sd.create_order(order_of(&[(v, 3)]), None).await.unwrap();
    db.clock.advance(TimeDelta::minutes(20));
    assert_eq!(sd.sweeper_health().await.unwrap().overdue_orders, 1);
    let mut events = sd.subscribe();
    let task = sd.spawn_sweeper(std::time::Duration::from_millis(10));
    // Wait for the run's event rather than for time to pass.
    loop {
        let e = tokio::time::timeout(std::time::Duration::from_secs(30), events.recv())
            .await
            .expect("the sweeper ran")
            .unwrap();
        if e == stockdesk::ChangeEvent::Sweep {
            break;
        }
    }
    task.abort();
    assert_eq!(
        sd.get_order(o.id).await.unwrap().status,
        OrderStatus::Expired
    );
    let health = sd.sweeper_health().await.unwrap();
    assert_eq!(health.overdue_orders, 0);
    assert!(health.last_run.is_some());
});

both_backends!(check_finds_tampering, |db: TestDb| async move {
    let sd = &db.sd;
    let v = stocked(sd, "box", &[5]).await[0];
    let o = sd.create_order(order_of(&[(v, 2)]), None).await.unwrap();
    sd.pay_order(o.id).await.unwrap();
    assert_consistent(sd).await;
    let tamper = [
        "UPDATE variants SET stock_on_hand = stock_on_hand + 1",
        "DELETE FROM stock_movements WHERE kind = 'sale'",
    ];
    for sql in tamper {
        match sd.store() {
            stockdesk::Store::Sqlite(p) => sqlx::query(sql).execute(p).await.map(|_| ()),
            stockdesk::Store::Postgres(p) => sqlx::query(sql).execute(p).await.map(|_| ()),
        }
        .unwrap();
    }
    let rules: Vec<String> = sd
        .check_invariants()
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.rule)
        .collect();
    assert!(rules.contains(&"on_hand_not_sum_of_movements".to_string()));
    assert!(rules.contains(&"conversion_without_matching_sale".to_string()));
    // The stock was changed behind the product's back: its latest history row (where edits read
    // the current state) no longer says what the rows say.
    assert!(rules.contains(&"snapshot_not_current".to_string()));
});
