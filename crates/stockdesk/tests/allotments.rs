//! Terminal allotments (issue 16): units held on the shop for one terminal, sold by it offline
//! with certainty; "sell anyway" and revocations leave oversell exceptions, never a negative
//! figure. The rules on both backends; the offline parts with real replicas (their own SQLite
//! files) against a Postgres shop, cut off through a TCP proxy, as in `sync.rs`.

use stockdesk_testkit as common;

use common::replicas::assert_replica_equals_shop;
use common::terminals::{shop, terminal, Terminal};
use common::{both_backends, order_of, stocked, TestDb};
use stockdesk::error::ErrorCode;
use stockdesk::model::{AllotmentStatus, ExceptionKind, ExceptionResolution, OrderStatus};
use stockdesk::{Stockdesk, Store};
use uuid::Uuid;

/// Registers a terminal with the shop as joining does (a plain SQLite shop has no terminals
/// until one is registered).
async fn register(sd: &Stockdesk, name: &str) -> Uuid {
    let id = Uuid::now_v7();
    let mut tx = sd.store().write().await.unwrap();
    stockdesk::replica::decisions::register(&mut tx, id, name, 0, sd.now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    id
}

async fn assert_clean(sd: &Stockdesk) {
    assert_eq!(sd.check_invariants().await.unwrap(), vec![]);
}

// ---- the rules, on both backends ------------------------------------------------------------

both_backends!(
    an_allotment_is_a_hold_and_one_larger_than_stock_is_refused,
    |db: TestDb| async move {
        let sd = &db.sd;
        let v = stocked(sd, "Scarf", &[5]).await[0];
        let till = register(sd, "till").await;
        register(sd, "back").await;

        let a = sd.allot("till", v, 3).await.unwrap();
        assert_eq!(a.len(), 1);
        assert_eq!((a[0].terminal_id, a[0].units), (till, 3));
        assert_eq!(a[0].terminal.as_deref(), Some("till"));
        let level = sd.stock_level(v).await.unwrap();
        assert_eq!(
            (level.on_hand, level.available),
            (5, 2),
            "allotted units are held"
        );
        assert_clean(sd).await;

        // Other buyers cannot take them.
        let refused = sd
            .create_order(order_of(&[(v, 3)]), None)
            .await
            .unwrap_err();
        assert_eq!(refused.code(), ErrorCode::InsufficientStock, "{refused}");
        // Nor can another till's allotment.
        let refused = sd.allot("back", v, 3).await.unwrap_err();
        assert_eq!(refused.code(), ErrorCode::InsufficientStock, "{refused}");
        // An allotment larger than stock is refused, saying what it could be at most.
        let refused = sd.allot("till", v, 6).await.unwrap_err();
        match refused.to_api() {
            stockdesk::ApiError::InsufficientStock { details, .. } => {
                assert_eq!((details.requested, details.available), (6, 5))
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            sd.allotments(None).await.unwrap()[0].units,
            3,
            "nothing changed"
        );
        let refused = sd.allot("nobody", v, 1).await.unwrap_err();
        assert_eq!(refused.code(), ErrorCode::NotFound);
        let refused = sd.allot("till", v, -1).await.unwrap_err();
        assert_eq!(refused.code(), ErrorCode::Validation);

        // Down: the units go back to free stock.
        sd.allot("till", v, 1).await.unwrap();
        assert_eq!(sd.stock_level(v).await.unwrap().available, 4);
        sd.allot("back", v, 2).await.unwrap();
        // An adjustment may not take on hand below what is held, allotments included.
        let refused = sd.adjust_stock(v, -3, "broken").await.unwrap_err();
        assert_eq!(refused.code(), ErrorCode::InsufficientStock, "{refused}");
        assert_clean(sd).await;

        // Revoked: free at once, and the row stays (revoked, 0 units).
        let revoked = sd.revoke_allotments("till", None).await.unwrap();
        assert_eq!(revoked.len(), 1);
        assert_eq!(
            (revoked[0].status, revoked[0].units),
            (AllotmentStatus::Revoked, 0)
        );
        assert_eq!(sd.stock_level(v).await.unwrap().available, 3);
        let refused = sd.revoke_allotments("till", Some(v)).await.unwrap_err();
        assert_eq!(
            refused.code(),
            ErrorCode::NotFound,
            "nothing active to revoke"
        );
        assert_clean(sd).await;
        assert_eq!(sd.allotments(Some(till)).await.unwrap().len(), 1);

        // check sees a held counter that disagrees with orders + allotments.
        common::execute(
            sd,
            "UPDATE allotments SET units = units + 1 WHERE status = 'active'",
        )
        .await;
        let found = sd.check_invariants().await.unwrap();
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].rule, "held_not_sum_of_active_holds");
    }
);

both_backends!(
    allotments_are_a_managers_and_the_policy_and_setting_are_recorded,
    |db: TestDb| async move {
        let sd = &db.sd;
        let v = stocked(sd, "Cup", &[4]).await[0];
        register(sd, "till").await;
        let p = sd.set_allotment_policy(v, Some(2)).await.unwrap();
        assert_eq!(p.keep_units, Some(2));
        assert_eq!(sd.allotment_policies().await.unwrap(), vec![p]);
        assert!(!sd.sell_anyway().await.unwrap());
        assert!(sd.set_sell_anyway(true).await.unwrap());
        assert!(sd.sell_anyway().await.unwrap());
        sd.set_allotment_policy(v, None).await.unwrap();
        assert!(sd.allotment_policies().await.unwrap().is_empty());

        // With profiles, staff may sell but not allot.
        sd.add_staff(None, "Ana", stockdesk::Role::Owner, "2468")
            .await
            .unwrap();
        let owner = sd.sign_in("Ana", "2468").await.unwrap();
        owner
            .add_staff(None, "Sam", stockdesk::Role::Staff, "1357")
            .await
            .unwrap();
        let helper = sd.sign_in("Sam", "1357").await.unwrap();
        let refused = helper.allot("till", v, 1).await.unwrap_err();
        assert_eq!(refused.code(), ErrorCode::Forbidden, "{refused}");
        owner.allot("till", v, 1).await.unwrap();
        // A till's queued sale is not something a plain database takes from anyone.
        let till_order = stockdesk::CommandKind::TillOrder {
            terminal_id: Uuid::now_v7(),
            order: order_of(&[(v, 1)]),
            paid: true,
        };
        let refused = owner
            .apply(&owner.command(None, till_order))
            .await
            .unwrap_err();
        assert_eq!(refused.code(), ErrorCode::BadInput, "{refused}");
        assert_clean(sd).await;
    }
);

// ---- real replicas against a Postgres shop --------------------------------------------------

/// What these tests ask of a till beyond the shared harness.
trait Till {
    /// Settled, and nothing set aside for a person.
    async fn settled(&self);
    /// The units the till's allotment of `v` holds.
    async fn holds(&self, v: Uuid) -> i64;
}

impl Till for Terminal {
    async fn settled(&self) {
        let status = self.settle().await;
        assert_eq!(status.attention, 0, "{status:?}");
    }

    async fn holds(&self, v: Uuid) -> i64 {
        self.sd
            .own_allotments()
            .await
            .unwrap()
            .iter()
            .find(|a| a.variant_id == v)
            .map_or(0, |a| a.units)
    }
}

/// Units of `v` sold: the ledger's sales plus the units oversell exceptions owe.
async fn sold_and_owed(sd: &Stockdesk, v: Uuid) -> (i64, i64) {
    let sold: i64 = -sd
        .stock_movements(v)
        .await
        .unwrap()
        .iter()
        .filter(|m| m.kind == stockdesk::model::MovementKind::Sale)
        .map(|m| m.quantity)
        .sum::<i64>();
    let owed = sd
        .oversell_exceptions(true)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.variant_id == v)
        .map(|e| e.units)
        .sum();
    (sold, owed)
}

/// Sells `n` units of `v` online, one order at a time; returns how many were sold.
async fn sell_online(sd: &Stockdesk, v: Uuid, n: i64) -> i64 {
    let mut sold = 0;
    for _ in 0..n {
        match sd.sell_now(order_of(&[(v, 1)]), None).await {
            Ok(_) => sold += 1,
            Err(e) => assert_eq!(e.code(), ErrorCode::InsufficientStock, "{e}"),
        }
    }
    sold
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_last_units_from_an_allotment_are_never_sold_twice() {
    let shop = shop().await;
    let v = stocked(&shop.sd, "Scarf", &[5]).await[0];
    let t = terminal(&shop, "till").await;
    shop.sd.allot("till", v, 2).await.unwrap();
    t.settled().await;
    assert_eq!(t.holds(v).await, 2, "a pull brings the allotment");

    t.offline();
    // The till sells its two offline, one paid at once, one held then paid.
    let paid = t.sd.sell_now(order_of(&[(v, 1)]), None).await.unwrap();
    assert_eq!(paid.status, OrderStatus::Paid);
    let held = t.sd.create_order(order_of(&[(v, 1)]), None).await.unwrap();
    assert_eq!(held.status, OrderStatus::Pending);
    assert_eq!(t.holds(v).await, 0);
    // A third is refused, saying what the till holds.
    let refused = t.sd.sell_now(order_of(&[(v, 1)]), None).await.unwrap_err();
    assert_eq!(refused.code(), ErrorCode::BeyondAllotment, "{refused}");
    match refused.to_api() {
        stockdesk::ApiError::BeyondAllotment { details, .. } => {
            assert_eq!((details.requested, details.allotted), (1, 0))
        }
        other => panic!("{other:?}"),
    }
    t.sd.pay_order(held.id).await.unwrap();
    assert_eq!(t.sd.stock_level(v).await.unwrap().on_hand, 3);
    assert_clean(&t.sd).await;
    assert_eq!(t.sd.sync_status(false).await.unwrap().pending, 3);

    // Meanwhile the shop sells the rest online, and not one unit more.
    assert_eq!(sell_online(&shop.sd, v, 5).await, 3);

    t.online();
    t.settled().await;
    assert_eq!(shop.sd.stock_level(v).await.unwrap().on_hand, 0);
    assert_eq!(sold_and_owed(&shop.sd, v).await, (5, 0), "0 oversold");
    assert!(shop.sd.oversell_exceptions(false).await.unwrap().is_empty());
    assert_eq!(
        shop.sd.get_order(held.id).await.unwrap().status,
        OrderStatus::Paid
    );
    assert_clean(&shop.sd).await;
    assert_clean(&t.sd).await;
    assert_replica_equals_shop(&shop.sd, &t.sd).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn selling_anyway_beyond_the_shops_stock_leaves_one_exception_per_unit_short() {
    let shop = shop().await;
    let v = stocked(&shop.sd, "Bowl", &[5]).await[0];
    let t = terminal(&shop, "till").await;
    t.settled().await;

    t.offline();
    // Without "sell anyway", nothing beyond the allotment (here: none).
    let refused = t.sd.sell_now(order_of(&[(v, 2)]), None).await.unwrap_err();
    assert_eq!(refused.code(), ErrorCode::BeyondAllotment, "{refused}");
    // The shop turns it on; the till hears of it at its next sync.
    shop.sd.set_sell_anyway(true).await.unwrap();
    t.online();
    t.settled().await;
    assert!(t.sd.sell_anyway().await.unwrap());
    t.offline();
    // A hold beyond the allotment is still refused: "sell anyway" is for goods handed over.
    let refused =
        t.sd.create_order(order_of(&[(v, 1)]), None)
            .await
            .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::BeyondAllotment, "{refused}");
    let sale = t.sd.sell_now(order_of(&[(v, 2)]), None).await.unwrap();
    assert_eq!(sale.status, OrderStatus::Paid);

    // The shop sells all five online meanwhile.
    assert_eq!(sell_online(&shop.sd, v, 5).await, 5);

    t.online();
    t.settled().await;
    let open = shop.sd.oversell_exceptions(true).await.unwrap();
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(
        (open[0].units, open[0].kind, open[0].order_id),
        (2, ExceptionKind::Short, sale.id)
    );
    assert_eq!(
        sold_and_owed(&shop.sd, v).await,
        (5, 2),
        "recorded, never negative"
    );
    assert_eq!(
        shop.sd.get_order(sale.id).await.unwrap().status,
        OrderStatus::Paid
    );
    assert_clean(&shop.sd).await;
    assert_clean(&t.sd).await;
    assert_eq!(
        t.sd.oversell_exceptions(true).await.unwrap(),
        open,
        "pulled"
    );
    assert_replica_equals_shop(&shop.sd, &t.sd).await;

    // A manager counts the shelf: 0 left. The sale is recorded against the count.
    let settled = shop
        .sd
        .resolve_exception(open[0].id, ExceptionResolution::Count { counted: 0 })
        .await
        .unwrap();
    assert_eq!(settled.resolution.as_deref(), Some("count"));
    assert!(shop.sd.oversell_exceptions(true).await.unwrap().is_empty());
    assert_eq!(shop.sd.stock_level(v).await.unwrap().on_hand, 0);
    assert_eq!(sold_and_owed(&shop.sd, v).await, (7, 0));
    let again = shop
        .sd
        .resolve_exception(open[0].id, ExceptionResolution::Count { counted: 0 })
        .await
        .unwrap_err();
    assert_eq!(again.code(), ErrorCode::InvalidState);
    assert_clean(&shop.sd).await;
    t.settled().await;
    assert_replica_equals_shop(&shop.sd, &t.sd).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_sale_from_an_allotment_revoked_while_offline_becomes_an_exception() {
    let shop = shop().await;
    let v = stocked(&shop.sd, "Tee", &[3]).await[0];
    let t = terminal(&shop, "till").await;
    shop.sd.allot("till", v, 2).await.unwrap();
    t.settled().await;

    t.offline();
    // A hold cancelled offline gives its units back to the allotment.
    let held = t.sd.create_order(order_of(&[(v, 2)]), None).await.unwrap();
    assert_eq!(t.holds(v).await, 0);
    t.sd.cancel_order(held.id).await.unwrap();
    assert_eq!(t.holds(v).await, 2);
    let sale = t.sd.sell_now(order_of(&[(v, 2)]), None).await.unwrap();
    assert_clean(&t.sd).await;

    // The laptop is reported stolen: its allotment is revoked, the units are free again.
    shop.sd.revoke_allotments("till", None).await.unwrap();
    assert_eq!(shop.sd.stock_level(v).await.unwrap().available, 3);
    // Someone buys one of them meanwhile, and holds another.
    assert_eq!(sell_online(&shop.sd, v, 1).await, 1);
    let other = shop
        .sd
        .create_order(order_of(&[(v, 1)]), None)
        .await
        .unwrap();

    t.online();
    t.settled().await;
    let open = shop.sd.oversell_exceptions(true).await.unwrap();
    // The till's two: one came out of the last free unit, one is short.
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(
        (open[0].units, open[0].kind, open[0].order_id),
        (1, ExceptionKind::RevokedAllotment, sale.id)
    );
    assert_eq!(
        shop.sd.get_order(held.id).await.unwrap().status,
        OrderStatus::Cancelled
    );
    assert_clean(&shop.sd).await;
    assert_replica_equals_shop(&shop.sd, &t.sd).await;

    // Settled by cancelling the other order: its unit makes the missing sale.
    let refused = shop
        .sd
        .resolve_exception(
            open[0].id,
            ExceptionResolution::CancelOrder { order_id: sale.id },
        )
        .await
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::Validation);
    shop.sd
        .resolve_exception(
            open[0].id,
            ExceptionResolution::CancelOrder { order_id: other.id },
        )
        .await
        .unwrap();
    assert_eq!(
        shop.sd.get_order(other.id).await.unwrap().status,
        OrderStatus::Cancelled
    );
    let level = shop.sd.stock_level(v).await.unwrap();
    assert_eq!((level.on_hand, level.reserved), (0, 0));
    assert_eq!(sold_and_owed(&shop.sd, v).await, (3, 0));
    assert_clean(&shop.sd).await;
    t.settled().await;
    assert_replica_equals_shop(&shop.sd, &t.sd).await;
    assert_clean(&t.sd).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_terminal_that_never_returns_holds_its_allotment_until_revoked() {
    let shop = shop().await;
    let v = stocked(&shop.sd, "Mug", &[4]).await[0];
    {
        let t = terminal(&shop, "lost").await;
        shop.sd.allot("lost", v, 3).await.unwrap();
        t.settled().await;
        t.offline();
        // It is never heard from again.
    }
    assert_eq!(shop.sd.stock_level(v).await.unwrap().available, 1);
    shop.sd.sweep_once().await.unwrap();
    assert_eq!(
        shop.sd.stock_level(v).await.unwrap().available,
        1,
        "held until revoked"
    );
    assert_eq!(sell_online(&shop.sd, v, 2).await, 1);
    shop.sd.revoke_allotments("lost", Some(v)).await.unwrap();
    assert_eq!(shop.sd.stock_level(v).await.unwrap().available, 3);
    assert_eq!(sell_online(&shop.sd, v, 3).await, 3);
    assert_clean(&shop.sd).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_policy_tops_allotments_up_and_hands_units_back_on_each_sync() {
    let shop = shop().await;
    let v = stocked(&shop.sd, "Sock", &[5]).await[0];
    let (a, b) = (terminal(&shop, "a").await, terminal(&shop, "b").await);
    shop.sd.set_allotment_policy(v, Some(3)).await.unwrap();
    a.settled().await;
    assert_eq!(a.holds(v).await, 3);
    // Only two are left free for the second till.
    b.settled().await;
    assert_eq!(b.holds(v).await, 2);
    assert_eq!(shop.sd.stock_level(v).await.unwrap().available, 0);

    // Till a sells one offline; at its next sync it is topped up as far as stock goes (none).
    a.offline();
    a.sd.sell_now(order_of(&[(v, 1)]), None).await.unwrap();
    a.online();
    a.settled().await;
    assert_eq!(a.holds(v).await, 2);
    // Goods arrive: the next sync tops it up.
    shop.sd.receive_stock(v, 4, None).await.unwrap();
    a.settled().await;
    assert_eq!(a.holds(v).await, 3);

    // A lower figure hands the extra back.
    shop.sd.set_allotment_policy(v, Some(1)).await.unwrap();
    a.settled().await;
    b.settled().await;
    assert_eq!((a.holds(v).await, b.holds(v).await), (1, 1));
    let level = shop.sd.stock_level(v).await.unwrap();
    assert_eq!((level.on_hand, level.available), (8, 6));
    // A revoked allotment is left alone by the policy.
    shop.sd.revoke_allotments("b", None).await.unwrap();
    b.settled().await;
    assert_eq!(b.holds(v).await, 0);
    assert_clean(&shop.sd).await;
    a.settled().await;
    assert_replica_equals_shop(&shop.sd, &a.sd).await;
    assert_replica_equals_shop(&shop.sd, &b.sd).await;
}

/// Units of `v` on paid orders' lines (what customers took away), and those of them owed by
/// open oversell exceptions (an exception of an unpaid order is a hold the shop could not
/// cover: nothing left the shop yet).
async fn units_paid_and_owed(sd: &Stockdesk, v: Uuid) -> (i64, i64) {
    let paid = format!(
        "SELECT CAST(COALESCE(SUM(i.quantity), 0) AS BIGINT) FROM order_items i \
         JOIN orders o ON o.id = i.order_id WHERE o.status = 'paid' AND i.variant_id = '{v}'"
    );
    let owed = format!(
        "SELECT CAST(COALESCE(SUM(e.units), 0) AS BIGINT) FROM oversell_exceptions e \
         JOIN orders o ON o.id = e.order_id WHERE o.status = 'paid' AND e.variant_id = '{v}' \
         AND e.resolved_at IS NULL"
    );
    let Store::Postgres(p) = sd.store() else {
        unreachable!("the shop is Postgres")
    };
    (
        sqlx::query_scalar(&paid).fetch_one(p).await.unwrap(),
        sqlx::query_scalar(&owed).fetch_one(p).await.unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn random_partitions_sales_and_revocations_never_sell_a_unit_unaccounted_for() {
    use rand::{Rng, SeedableRng};
    let seed: u64 = std::env::var("ALLOT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| rand::rng().random());
    println!("ALLOT_SEED={seed}");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let shop = shop().await;
    let variants = stocked(&shop.sd, "Item", &[12, 12]).await;
    let mut there = [12i64, 12];
    let names = ["t1", "t2", "t3"];
    let terminals = [
        terminal(&shop, names[0]).await,
        terminal(&shop, names[1]).await,
        terminal(&shop, names[2]).await,
    ];
    for name in names {
        shop.sd.allot(name, variants[0], 2).await.unwrap();
    }
    shop.sd
        .set_allotment_policy(variants[1], Some(2))
        .await
        .unwrap();
    for t in &terminals {
        t.settled().await;
    }
    let allowed = [
        ErrorCode::BeyondAllotment,
        ErrorCode::InsufficientStock,
        ErrorCode::Unreachable,
        ErrorCode::InvalidState,
        ErrorCode::ReservationExpired,
        ErrorCode::NotFound,
    ];
    let mut orders: Vec<(usize, Uuid)> = Vec::new();
    for step in 0..150 {
        let i = rng.random_range(0..3);
        let t = &terminals[i];
        let vi = rng.random_range(0..2);
        let v = variants[vi];
        let action = rng.random_range(0..100);
        let result = match action {
            0..=9 => {
                t.offline();
                Ok(())
            }
            10..=19 => {
                t.online();
                Ok(())
            }
            // A sync cut off says so (`unreachable`, or `busy` when the link drops mid-read).
            20..=29 => match t.sd.sync_once().await {
                Err(e) if stockdesk::sync::offline(&e) => Ok(()),
                other => other.map(|_| ()),
            },
            30..=49 => {
                t.sd.sell_now(order_of(&[(v, rng.random_range(1..3))]), None)
                    .await
                    .map(|o| orders.push((i, o.id)))
            }
            50..=61 => {
                t.sd.create_order(order_of(&[(v, 1)]), None)
                    .await
                    .map(|o| orders.push((i, o.id)))
            }
            62..=71 => match orders
                .iter()
                .filter(|(o, _)| *o == i)
                .nth(rng.random_range(0..4))
            {
                Some(&(_, id)) => t.sd.pay_order(id).await.map(|_| ()),
                None => Ok(()),
            },
            72..=79 => match orders
                .iter()
                .filter(|(o, _)| *o == i)
                .nth(rng.random_range(0..4))
            {
                Some(&(_, id)) => t.sd.cancel_order(id).await.map(|_| ()),
                None => Ok(()),
            },
            80..=87 => shop
                .sd
                .sell_now(order_of(&[(v, 1)]), None)
                .await
                .map(|_| ()),
            88..=91 => shop.sd.revoke_allotments(names[i], None).await.map(|_| ()),
            92..=95 => shop
                .sd
                .allot(names[i], variants[0], rng.random_range(0..3))
                .await
                .map(|_| ()),
            96..=97 => shop
                .sd
                .set_sell_anyway(rng.random_bool(0.5))
                .await
                .map(|_| ()),
            _ => {
                there[vi] += 2;
                shop.sd.receive_stock(v, 2, None).await.map(|_| ())
            }
        };
        if let Err(e) = result {
            assert!(
                allowed.contains(&e.code()),
                "step {step}, action {action}, till {i}: {e:?}"
            );
        }
    }
    for t in &terminals {
        t.online();
    }
    for t in &terminals {
        t.settled().await;
    }
    for t in &terminals {
        t.settled().await;
    }
    for (n, &v) in variants.iter().enumerate() {
        let (sold, _) = sold_and_owed(&shop.sd, v).await;
        assert!(
            sold <= there[n],
            "variant {n}: {sold} sold of {} there were",
            there[n]
        );
        let (paid, owed) = units_paid_and_owed(&shop.sd, v).await;
        assert_eq!(
            paid,
            sold + owed,
            "every unit taken away is sold, or owed by a recorded exception"
        );
        assert!(
            paid <= there[n] + owed,
            "units sold ≤ units there were + exceptions"
        );
        println!(
            "variant {n}: {paid} paid, {sold} sold, {owed} owed, {} there were",
            there[n]
        );
        let level = shop.sd.stock_level(v).await.unwrap();
        assert_eq!(level.on_hand, there[n] - sold);
    }
    assert_clean(&shop.sd).await;
    for t in &terminals {
        assert_clean(&t.sd).await;
        assert_replica_equals_shop(&shop.sd, &t.sd).await;
    }
}
