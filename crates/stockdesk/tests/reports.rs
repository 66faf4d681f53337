//! Reports on both backends against figures worked out by hand: a small shop in Berlin (UTC+1 in
//! November) sells in two currencies over three days, holds end paid, cancelled, expired by the
//! sweeper and lapsed without it, edits go through clean, merged and refused with a conflict.

use std::collections::BTreeMap;

use chrono::{TimeDelta, TimeZone, Utc};
use stockdesk::catalog::{NewProduct, NewVariant, PatchRequest, ProductPatch, ProductStatus};
use stockdesk::reports::{HoldCounts, ReportRange};
use stockdesk::sweeper::RunStatus;
use stockdesk::{CommandKind, Error, Stockdesk};
use stockdesk_testkit::{both_backends, count, count_where, execute, order_of, stocked, TestDb};
use uuid::Uuid;

/// Amounts per currency, as (code, minor units).
type Amounts = Vec<(String, i64)>;

fn range(from: &str, to: &str, zone: &str) -> ReportRange {
    ReportRange {
        from: from.parse().unwrap(),
        to: to.parse().unwrap(),
        zone: zone.into(),
    }
}

/// A product of one variant (`stock` on hand, `price` in `currency`) with `status`.
async fn single(
    sd: &Stockdesk,
    name: &str,
    currency: &str,
    price: i64,
    stock: i64,
    status: ProductStatus,
) -> Uuid {
    let product = NewProduct {
        id: None,
        name: name.into(),
        slug: None,
        description: String::new(),
        status,
        category_id: None,
        variants: vec![NewVariant {
            id: None,
            sku: format!("{}-0", name.replace(' ', "-")),
            barcode: None,
            price_minor: price,
            currency: currency.into(),
            stock_on_hand: stock,
            attributes: BTreeMap::new(),
        }],
    };
    sd.create_product(product, None).await.unwrap().variants[0].id
}

fn money(report: &[stockdesk::stock::Money]) -> Amounts {
    report
        .iter()
        .map(|m| (m.currency.clone(), m.amount_minor))
        .collect()
}

fn eur_usd(eur: i64, usd: i64) -> Amounts {
    let mut v = Vec::new();
    if eur != 0 {
        v.push(("EUR".to_string(), eur));
    }
    if usd != 0 {
        v.push(("USD".to_string(), usd));
    }
    v
}

/// The shop of the module doc; returns the mug's product id.
async fn shop(db: &TestDb) -> Uuid {
    let (sd, clock) = (&db.sd, &db.clock);
    // 2026-11-23 09:00 UTC, a Monday: 10:00 in Berlin.
    let mug = stocked(sd, "mug", &[10, 4]).await; // EUR 10.00 and 10.01
    let globe = single(sd, "globe", "USD", 2500, 5, ProductStatus::Published).await;
    single(sd, "old vase", "EUR", 100, 1, ProductStatus::Archived).await;
    let mug_id = sd.stock_level(mug[0]).await.unwrap().product_id;

    // Edits: one clean, one merged (a stale edit of another field), one conflict (a stale edit of
    // the same field), sent twice under its op id and previewed once: still one conflict.
    let v = sd.get_product(mug_id).await.unwrap().version;
    let edit = |expected_version, patch: ProductPatch| PatchRequest {
        product_id: mug_id,
        expected_version,
        patch,
        op_id: None,
    };
    let rename = |name: &str| ProductPatch {
        name: Some(name.into()),
        ..Default::default()
    };
    let clean = sd
        .patch_product(edit(v, rename("mug, blue")))
        .await
        .unwrap();
    assert!(clean.merge.is_none());
    let merged = sd
        .patch_product(edit(
            v,
            ProductPatch {
                description: Some("Blue glaze".into()),
                ..Default::default()
            },
        ))
        .await
        .unwrap();
    assert!(merged.merge.is_some());
    let clash = sd.command(
        None,
        CommandKind::PatchProduct {
            product_id: mug_id,
            expected_version: v,
            patch: rename("Cup"),
            base: None,
        },
    );
    for _ in 0..2 {
        let err = sd.apply(&clash).await.unwrap_err();
        assert!(matches!(err, Error::Conflict(_)), "{err:?}");
    }
    let mut look = clash.clone();
    look.op_id = Uuid::now_v7();
    assert!(matches!(sd.preview(&look).await, Err(Error::Conflict(_))));
    assert_eq!(count(sd, "edit_conflicts").await, 1);

    // Monday 10:00 Berlin: two paid orders (EUR 3 × 10.00 + 10.01; USD 2 × 25.00), one cancelled.
    let a = sd
        .create_order(order_of(&[(mug[0], 3), (mug[1], 1)]), None)
        .await
        .unwrap();
    sd.pay_order(a.id).await.unwrap();
    let b = sd
        .create_order(order_of(&[(globe, 2)]), None)
        .await
        .unwrap();
    sd.pay_order(b.id).await.unwrap();
    let c = sd
        .create_order(order_of(&[(mug[0], 1)]), None)
        .await
        .unwrap();
    sd.cancel_order(c.id).await.unwrap();

    // 23:30 UTC is already Tuesday 00:30 in Berlin: a paid order, and one the sweeper expires.
    clock.set(Utc.with_ymd_and_hms(2026, 11, 23, 23, 30, 0).unwrap());
    let d = sd
        .create_order(order_of(&[(mug[0], 2)]), None)
        .await
        .unwrap();
    sd.pay_order(d.id).await.unwrap();
    sd.create_order(order_of(&[(mug[0], 1)]), None)
        .await
        .unwrap();
    clock.advance(TimeDelta::minutes(16));
    let run = sd.sweep_once().await.unwrap();
    assert_eq!(run.status, RunStatus::Ok);

    // Wednesday 11:00 Berlin: one order lapses unswept (it counts as expired and holds nothing),
    // one is still within its window.
    clock.set(Utc.with_ymd_and_hms(2026, 11, 25, 10, 0, 0).unwrap());
    sd.create_order(order_of(&[(mug[1], 1)]), None)
        .await
        .unwrap();
    clock.advance(TimeDelta::minutes(20));
    sd.create_order(order_of(&[(mug[0], 1)]), None)
        .await
        .unwrap();
    clock.advance(TimeDelta::minutes(1));
    mug_id
}

both_backends!(
    sales_per_day_week_and_top_products,
    |db: TestDb| async move {
        shop(&db).await;
        let sd = &db.sd;
        // Sunday the 22nd to Sunday the 29th: the 22nd is the last day of the week before.
        let r = sd
            .sales_report(&range("2026-11-22", "2026-11-29", "Europe/Berlin"))
            .await
            .unwrap();
        let days: Vec<(String, i64, i64, Amounts)> = r
            .days
            .iter()
            .map(|d| (d.start.to_string(), d.units, d.orders, money(&d.revenue)))
            .collect();
        assert_eq!(days.len(), 8);
        assert_eq!(days[0], ("2026-11-22".into(), 0, 0, vec![]));
        assert_eq!(days[1], ("2026-11-23".into(), 6, 2, eur_usd(4001, 5000)));
        assert_eq!(days[2], ("2026-11-24".into(), 2, 1, eur_usd(2000, 0)));
        assert!(days[3..]
            .iter()
            .all(|d| d.1 == 0 && d.2 == 0 && d.3.is_empty()));
        let weeks: Vec<(String, i64, i64, i64, Amounts)> = r
            .weeks
            .iter()
            .map(|w| {
                (
                    w.start.to_string(),
                    w.days,
                    w.units,
                    w.orders,
                    money(&w.revenue),
                )
            })
            .collect();
        assert_eq!(
            weeks,
            [
                ("2026-11-16".into(), 1, 0, 0, vec![]),
                ("2026-11-23".into(), 7, 8, 3, eur_usd(6001, 5000)),
            ]
        );
        let top: Vec<(String, i64, Amounts)> = r
            .top_products
            .iter()
            .map(|p| (p.name.clone(), p.units, money(&p.revenue)))
            .collect();
        assert_eq!(
            top,
            [
                ("mug, blue".into(), 6, eur_usd(6001, 0)),
                ("globe".into(), 2, eur_usd(0, 5000)),
            ]
        );
        assert_eq!(
            (r.total.units, r.total.orders, money(&r.total.revenue)),
            (8, 3, eur_usd(6001, 5000))
        );

        // In UTC the late sale is Monday's.
        let utc = sd
            .sales_report(&range("2026-11-23", "2026-11-24", "UTC"))
            .await
            .unwrap();
        assert_eq!((utc.days[0].units, utc.days[0].orders), (8, 3));
        assert_eq!(utc.days[1].units, 0);

        // A range is checked: the field says what is wrong.
        for (bad, field) in [
            (range("2026-11-24", "2026-11-23", "UTC"), "to"),
            (range("2026-11-23", "2026-11-24", "Moon/Base"), "zone"),
        ] {
            match sd.sales_report(&bad).await {
                Err(Error::Validation(errors)) => assert_eq!(errors[0].field, field),
                other => panic!("{bad:?}: {other:?}"),
            }
        }
    }
);

both_backends!(
    stock_value_per_currency_and_low_stock,
    |db: TestDb| async move {
        shop(&db).await;
        let sd = &db.sd;
        let r = sd.stock_report(None).await.unwrap();
        let value: Vec<(String, i64, i64, i64)> = r
            .value
            .iter()
            .map(|v| {
                (
                    v.currency.clone(),
                    v.variants,
                    v.units_on_hand,
                    v.value_minor,
                )
            })
            .collect();
        // EUR: mug-0 5 × 10.00, mug-1 3 × 10.01, the archived vase 1 × 1.00; USD: globe 3 × 25.00.
        assert_eq!(
            value,
            [
                ("EUR".into(), 3, 9, 5000 + 3003 + 100),
                ("USD".into(), 1, 3, 7500)
            ]
        );
        assert_eq!(r.low_stock_at, 5);
        let low: Vec<(String, i64, i64, i64)> = r
            .low_stock
            .iter()
            .map(|l| (l.sku.clone(), l.on_hand, l.reserved, l.available))
            .collect();
        // Fewest available first, then by product name and SKU; mug-1's lapsed hold holds nothing;
        // the archived vase is not listed.
        assert_eq!(
            low,
            [
                ("globe-0".into(), 3, 0, 3),
                ("mug-1".into(), 3, 0, 3),
                ("mug-0".into(), 5, 1, 4),
            ]
        );
        assert_eq!(r.low_stock_total, 3);
        let r = sd.stock_report(Some(3)).await.unwrap();
        assert_eq!((r.low_stock.len(), r.low_stock_total), (2, 2));
        assert!(matches!(
            sd.stock_report(Some(-1)).await,
            Err(Error::Validation(_))
        ));
    }
);

both_backends!(
    holds_paid_expired_cancelled_pending,
    |db: TestDb| async move {
        shop(&db).await;
        let r = db
            .sd
            .holds_report(&range("2026-11-23", "2026-11-25", "Europe/Berlin"))
            .await
            .unwrap();
        let counts = |paid, expired, cancelled, pending| HoldCounts {
            paid,
            expired,
            cancelled,
            pending,
        };
        let days: Vec<(String, HoldCounts)> = r
            .days
            .iter()
            .map(|d| (d.date.to_string(), d.counts.clone()))
            .collect();
        assert_eq!(
            days,
            [
                ("2026-11-23".into(), counts(2, 0, 1, 0)),
                ("2026-11-24".into(), counts(1, 1, 0, 0)),
                ("2026-11-25".into(), counts(0, 1, 0, 1)),
            ]
        );
        assert_eq!(r.total, counts(3, 2, 1, 1));
    }
);

both_backends!(edits_merged_versus_conflicts, |db: TestDb| async move {
    let mug = shop(&db).await;
    let r = db
        .sd
        .edits_report(&range("2026-11-22", "2026-11-29", "Europe/Berlin"))
        .await
        .unwrap();
    let monday = &r.days[1];
    assert_eq!(monday.date.to_string(), "2026-11-23");
    assert_eq!(
        (
            monday.counts.clean,
            monday.counts.merged,
            monday.counts.conflicts
        ),
        (1, 1, 1)
    );
    assert_eq!(
        (r.total.clean, r.total.merged, r.total.conflicts),
        (1, 1, 1)
    );
    assert_eq!(r.recent_conflicts.len(), 1);
    let c = &r.recent_conflicts[0];
    assert_eq!(
        (c.product_id, c.product_name.as_str(), c.actor.as_str()),
        (mug, "mug, blue", "tester")
    );
    assert_eq!(c.paths, ["name"]);
    assert_eq!(c.at, stockdesk_testkit::start_time());
    // Outside the range: nothing.
    let before = db
        .sd
        .edits_report(&range("2026-11-20", "2026-11-22", "Europe/Berlin"))
        .await
        .unwrap();
    assert_eq!(
        (before.total.clean + before.total.merged + before.total.conflicts),
        0
    );
    assert!(before.recent_conflicts.is_empty());
});

both_backends!(sweeper_runs_per_day_and_latest, |db: TestDb| async move {
    shop(&db).await;
    let sd = &db.sd;
    // A failed run of another terminal, Wednesday 09:00 Berlin.
    let id = Uuid::now_v7();
    let id_sql = match sd.backend() {
        stockdesk::Backend::Sqlite => format!("X'{}'", id.simple()),
        stockdesk::Backend::Postgres => format!("'{id}'"),
    };
    execute(
        sd,
        &format!(
            "INSERT INTO sweep_runs (id, actor, started_at, finished_at, status, errors, jobs) \
             VALUES ({id_sql}, 'till-2', '2026-11-25T08:00:00+00:00', \
             '2026-11-25T08:00:01.500+00:00', 'failed', 1, '[]')"
        ),
    )
    .await;
    let r = sd
        .sweeper_report(&range("2026-11-23", "2026-11-25", "Europe/Berlin"))
        .await
        .unwrap();
    let days: Vec<(String, i64, i64)> = r
        .days
        .iter()
        .map(|d| (d.date.to_string(), d.counts.runs, d.counts.failed))
        .collect();
    assert_eq!(
        days,
        [
            ("2026-11-23".into(), 0, 0),
            ("2026-11-24".into(), 1, 0),
            ("2026-11-25".into(), 1, 1),
        ]
    );
    assert_eq!((r.total.runs, r.total.failed), (2, 1));
    let recent: Vec<(String, RunStatus, Option<i64>, i64)> = r
        .recent
        .iter()
        .map(|s| (s.actor.clone(), s.status, s.millis, s.orders_expired))
        .collect();
    assert_eq!(
        recent,
        [
            ("till-2".into(), RunStatus::Failed, Some(1500), 0),
            ("tester".into(), RunStatus::Ok, Some(0), 1),
        ]
    );
    assert_eq!(
        r.recent[1].started_at,
        Utc.with_ymd_and_hms(2026, 11, 23, 23, 46, 0).unwrap()
    );
});

both_backends!(
    a_sale_counts_on_the_day_it_was_paid,
    |db: TestDb| async move {
        // Both orders are placed on Monday and paid on Tuesday: one with two days to pay, one after
        // the sweeper expired it (paying takes the stock again). The sales lines carry the time of
        // payment, whichever way the order got there, so both are Tuesday's sales.
        let (sd, clock) = (&db.sd, &db.clock);
        let lamp = stocked(sd, "lamp", &[10]).await[0]; // EUR 10.00
        let mut slow = order_of(&[(lamp, 2)]);
        slow.expires_in_secs = Some(2 * 24 * 3600);
        let slow = sd.create_order(slow, None).await.unwrap();
        let mut lapsing = order_of(&[(lamp, 3)]);
        lapsing.expires_in_secs = Some(60);
        let lapsed = sd.create_order(lapsing, None).await.unwrap();
        clock.advance(TimeDelta::minutes(2));
        assert_eq!(sd.sweep_once().await.unwrap().status, RunStatus::Ok);
        assert_eq!(count_where(sd, "orders", "status = 'expired'").await, 1);

        clock.set(Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, 0).unwrap());
        sd.pay_order(slow.id).await.unwrap();
        sd.pay_order(lapsed.id).await.unwrap();
        let r = sd
            .sales_report(&range("2026-11-23", "2026-11-24", "UTC"))
            .await
            .unwrap();
        let days: Vec<(String, i64, i64, Amounts)> = r
            .days
            .iter()
            .map(|d| (d.start.to_string(), d.units, d.orders, money(&d.revenue)))
            .collect();
        assert_eq!(
            days,
            [
                ("2026-11-23".into(), 0, 0, vec![]),
                ("2026-11-24".into(), 5, 2, eur_usd(5000, 0)),
            ]
        );
        assert_eq!(r.top_products.len(), 1);
        assert_eq!(r.top_products[0].units, 5);
        // And `check` holds every paid order's lines to its time of sale.
        assert_eq!(sd.check_invariants().await.unwrap(), vec![]);
    }
);
