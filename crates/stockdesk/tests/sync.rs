//! Offline-first terminals against a real shop: a Postgres database is the shop, each terminal is
//! a handle on its own SQLite file in its own data directory, reaching the shop through a TCP
//! proxy the test controls (drop, stall, cut a commit in two). Every test ends with the replica
//! equal to the shop, table by table and row by row.

use stockdesk_testkit as common;

use std::collections::BTreeMap;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use common::proxy::Link;
use common::replicas::assert_replica_equals_shop;
use common::terminals::{open_local, shop, terminal, Shop};
use common::{order_of, stocked};
use stockdesk::catalog::{PatchRequest, ProductPatch, ProductQuery, VariantOps, VariantUpdate};
use stockdesk::error::ErrorCode;
use stockdesk::sync::Resolution;
use stockdesk::Stockdesk;
use uuid::Uuid;

async fn first_product(sd: &Stockdesk) -> stockdesk::catalog::Product {
    let page = sd
        .list_products(ProductQuery {
            limit: Some(1),
            ..Default::default()
        })
        .await
        .unwrap();
    sd.get_product(page.items[0].id).await.unwrap()
}

fn rename(id: Uuid, from: i64, name: &str) -> PatchRequest {
    PatchRequest {
        product_id: id,
        expected_version: from,
        patch: ProductPatch {
            name: Some(name.into()),
            ..Default::default()
        },
        op_id: None,
    }
}

fn price(id: Uuid, from: i64, variant: Uuid, minor: i64) -> PatchRequest {
    PatchRequest {
        product_id: id,
        expected_version: from,
        patch: ProductPatch {
            variants: VariantOps {
                update: vec![VariantUpdate {
                    id: variant,
                    price_minor: Some(minor),
                    ..Default::default()
                }],
                ..Default::default()
            },
            ..Default::default()
        },
        op_id: None,
    }
}

async fn assert_clean(sd: &Stockdesk) {
    assert_eq!(sd.check_invariants().await.unwrap(), vec![]);
    let verify = sd.blobs_verify().await.unwrap();
    assert!(
        verify.missing.is_empty() && verify.corrupt.is_empty() && verify.orphans.is_empty(),
        "{verify:?}"
    );
}

/// How many times the shop recorded `op_id` as applied.
async fn applied_on_shop(shop: &Shop, op_id: Uuid) -> i64 {
    common::count_where(&shop.sd, "applied_ops", &format!("op_id = '{op_id}'")).await
}

// ---- joining -------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_terminal_joins_with_a_copy_of_every_table() {
    let shop = shop().await;
    shop.sd
        .seed(stockdesk::catalog::seed::SeedOptions {
            products: 40,
            seed: 5,
        })
        .await
        .unwrap();
    let v = stocked(&shop.sd, "Mug", &[9]).await[0];
    let paid = shop
        .sd
        .create_order(order_of(&[(v, 2)]), None)
        .await
        .unwrap();
    shop.sd.pay_order(paid.id).await.unwrap();
    let held = shop
        .sd
        .create_order(order_of(&[(v, 1)]), None)
        .await
        .unwrap();
    let cancelled = shop
        .sd
        .create_order(order_of(&[(v, 1)]), None)
        .await
        .unwrap();
    shop.sd.cancel_order(cancelled.id).await.unwrap();

    let t = terminal(&shop, "till-1").await;
    assert_replica_equals_shop(&shop.sd, &t.sd).await;
    assert_clean(&t.sd).await;
    // Reads are local: the order the shop holds shows, and so does its hold.
    assert_eq!(t.sd.get_order(held.id).await.unwrap().id, held.id);
    assert_eq!(t.sd.stock_level(v).await.unwrap().reserved, 1);
    let status = t.sd.sync_status(true).await.unwrap();
    assert!(status.joined);
    assert_eq!(status.terminal.as_deref(), Some("till-1"));
    assert_eq!(
        (status.pending, status.lag, status.online),
        (0, Some(0), Some(true))
    );

    // The shop knows the terminal; another live terminal may not take its name.
    let terminals = shop.sd.shop_terminals().await.unwrap();
    assert_eq!(terminals.len(), 1);
    let dir = tempfile::tempdir().unwrap();
    let err = open_local(dir.path(), "x")
        .await
        .join_shop(&shop.url, Some("TILL-1"), &|_| {}, &AtomicBool::new(false))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Validation, "{err}");
    // A database with a shop of its own is never overwritten by a join.
    let own = open_local(dir.path(), "x").await;
    stocked(&own, "Own", &[1]).await;
    let err = own
        .join_shop(&shop.url, Some("till-9"), &|_| {}, &AtomicBool::new(false))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::BadInput, "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cancelled_join_leaves_nothing_behind() {
    let shop = shop().await;
    shop.sd
        .seed(stockdesk::catalog::seed::SeedOptions {
            products: 20,
            seed: 1,
        })
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let local = open_local(dir.path(), "till").await;
    let cancel = AtomicBool::new(true);
    let err = local
        .join_shop(&shop.url, Some("till"), &|_| {}, &cancel)
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::BadInput, "{err}");
    assert!(!local.sync_status(false).await.unwrap().joined);
    assert_eq!(common::count(&local, "products").await, 0);
    // The name is free again.
    let (joined, _) = local
        .join_shop(&shop.url, Some("till"), &|_| {}, &AtomicBool::new(false))
        .await
        .unwrap();
    assert_replica_equals_shop(&shop.sd, &joined).await;
}

// ---- offline work --------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn offline_writes_are_queued_and_reach_the_shop_once() {
    let shop = shop().await;
    let v = stocked(&shop.sd, "Scarf", &[5]).await[0];
    let t = terminal(&shop, "till").await;
    let p = first_product(&t.sd).await;

    t.offline();
    let renamed =
        t.sd.patch_product(rename(p.id, p.version, "Wool scarf"))
            .await
            .unwrap();
    let received = t.sd.receive_stock(v, 5, Some("delivery")).await.unwrap();
    assert_eq!(received.level.on_hand, 10, "the replica shows it at once");
    let tee = stocked(&t.sd, "Tee", &[3]).await;
    assert_eq!(t.pending().await, 3);
    // Orders are the shop's to decide: offline, beyond the till's allotment (here none), they
    // are refused, with nothing queued.
    let refused =
        t.sd.create_order(order_of(&[(v, 1)]), None)
            .await
            .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::BeyondAllotment, "{refused}");
    assert_eq!(t.pending().await, 3);
    let err = t.sd.sync_once().await.unwrap_err();
    assert!(stockdesk::sync::offline(&err), "{err}");
    let status = t.sd.sync_status(true).await.unwrap();
    assert_eq!(status.online, Some(false));
    assert!(status.last_error.is_some());
    assert!(status.oldest_pending_secs.is_some());
    assert_eq!(shop.sd.stock_level(v).await.unwrap().on_hand, 5);

    t.online();
    let report = t.sd.sync_once().await.unwrap();
    assert_eq!(
        (report.applied, report.set_aside, report.pending),
        (3, 0, 0)
    );
    assert_eq!(shop.sd.stock_level(v).await.unwrap().on_hand, 10);
    assert_eq!(shop.sd.get_product(p.id).await.unwrap().name, "Wool scarf");
    assert_eq!(shop.sd.stock_level(tee[0]).await.unwrap().on_hand, 3);
    let _ = (renamed, received);
    t.settle().await;
    // Each queued command was applied once.
    let mut conn = t.sd.store().conn().await.unwrap();
    let ops: Vec<Uuid> = stockdesk::store::Stmt::new("SELECT op_id FROM sync_outbox")
        .scalars(&mut conn)
        .await
        .unwrap();
    assert_eq!(ops.len(), 3);
    for op in ops {
        assert_eq!(applied_on_shop(&shop, op).await, 1);
    }
    assert_eq!(t.sd.sync_status(true).await.unwrap().last_error, None);
    assert_replica_equals_shop(&shop.sd, &t.sd).await;
    assert_clean(&shop.sd).await;
    assert_clean(&t.sd).await;

    // Online, an order goes to the shop and its outcome comes back.
    let order = t.sd.create_order(order_of(&[(v, 2)]), None).await.unwrap();
    assert_eq!(shop.sd.get_order(order.id).await.unwrap().id, order.id);
    assert_eq!(t.sd.stock_level(v).await.unwrap().reserved, 2);
    t.sd.pay_order(order.id).await.unwrap();
    assert_eq!(shop.sd.stock_level(v).await.unwrap().on_hand, 8);
    t.settle().await;
    assert_replica_equals_shop(&shop.sd, &t.sd).await;
    // The terminal's copy of the sale's lines carries the time it was paid: its own sales report
    // (read locally) counts it. Two days, so a payment just before midnight counts too.
    let days = stockdesk::reports::ReportRange::last_days(2, "UTC", t.sd.now()).unwrap();
    assert_eq!(t.sd.sales_report(&days).await.unwrap().total.units, 2);
    assert_clean(&t.sd).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_offline_terminals_merge_or_set_aside_and_resolving_syncs() {
    let shop = shop().await;
    let v = stocked(&shop.sd, "Bowl", &[4]).await[0];
    let (a, b) = (terminal(&shop, "a").await, terminal(&shop, "b").await);
    let p = first_product(&a.sd).await;
    a.offline();
    b.offline();
    // A changes the price, B the name: both land, nothing needs attention.
    a.sd.patch_product(price(p.id, p.version, v, 1500))
        .await
        .unwrap();
    b.sd.patch_product(rename(p.id, p.version, "Deep bowl"))
        .await
        .unwrap();
    a.online();
    b.online();
    a.sd.sync_once().await.unwrap();
    let report = b.sd.sync_once().await.unwrap();
    assert_eq!((report.applied, report.set_aside), (1, 0));
    let now = shop.sd.get_product(p.id).await.unwrap();
    assert_eq!(
        (now.name.as_str(), now.variants[0].price_minor),
        ("Deep bowl", 1500)
    );
    a.settle().await;
    b.settle().await;
    assert_replica_equals_shop(&shop.sd, &a.sd).await;
    assert_replica_equals_shop(&shop.sd, &b.sd).await;

    // Both change the price: the one that syncs second gets the clash, the shop keeps the first.
    a.offline();
    b.offline();
    a.sd.patch_product(price(p.id, now.version, v, 1700))
        .await
        .unwrap();
    b.sd.patch_product(price(p.id, now.version, v, 1900))
        .await
        .unwrap();
    a.online();
    b.online();
    a.sd.sync_once().await.unwrap();
    let report = b.sd.sync_once().await.unwrap();
    assert_eq!((report.applied, report.set_aside), (0, 1));
    assert_eq!(
        shop.sd.get_product(p.id).await.unwrap().variants[0].price_minor,
        1700
    );
    assert_eq!(
        b.sd.get_product(p.id).await.unwrap().variants[0].price_minor,
        1700
    );
    let attention = b.sd.sync_attention().await.unwrap();
    assert_eq!(attention.len(), 1);
    let stockdesk::ApiError::Conflict { details, .. } = &attention[0].error else {
        panic!("{:?}", attention[0].error);
    };
    let clash = &details.conflicts[0];
    assert_eq!(clash.path, format!("variants.{v}.price_minor"));
    assert_eq!(
        (clash.base.clone(), clash.mine.clone(), clash.theirs.clone()),
        (1500.into(), 1900.into(), 1700.into())
    );
    assert_eq!(clash.changed_by.as_ref().unwrap().actor, "a");
    assert_eq!(b.sd.sync_status(false).await.unwrap().attention, 1);

    // Resolving is a new command against the current version: it syncs like any other.
    let resolved =
        b.sd.sync_resolve(attention[0].op_id, Resolution::KeepMine)
            .await
            .unwrap();
    assert!(resolved.resolved_by.is_some());
    b.settle().await;
    assert_eq!(
        shop.sd.get_product(p.id).await.unwrap().variants[0].price_minor,
        1900
    );
    assert_eq!(b.sd.sync_status(false).await.unwrap().attention, 0);
    a.settle().await;
    assert_replica_equals_shop(&shop.sd, &a.sd).await;
    assert_replica_equals_shop(&shop.sd, &b.sd).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_barcode_given_offline_that_the_shop_gave_elsewhere_is_set_aside() {
    const CODE: &str = "4006381333931";
    let shop = shop().await;
    let mug = stocked(&shop.sd, "Mug", &[2]).await[0];
    let cup = stocked(&shop.sd, "Cup", &[2]).await[0];
    let product_of = |sku: &'static str| {
        let sd = shop.sd.clone();
        async move { sd.find_for_sale(sku).await.unwrap()[0].product_id }
    };
    let (mug_product, cup_product) = (product_of("Mug-0").await, product_of("Cup-0").await);
    let t = terminal(&shop, "till").await;
    let barcode = |product_id: Uuid, variant: Uuid| PatchRequest {
        product_id,
        expected_version: 1,
        patch: ProductPatch {
            variants: VariantOps {
                update: vec![VariantUpdate {
                    id: variant,
                    barcode: Some(Some(CODE.into())),
                    ..Default::default()
                }],
                ..Default::default()
            },
            ..Default::default()
        },
        op_id: None,
    };

    // The till gives the mug the code offline (its replica takes it); the shop gives the cup.
    t.offline();
    t.sd.patch_product(barcode(mug_product, mug)).await.unwrap();
    assert_eq!(t.sd.find_for_sale(CODE).await.unwrap()[0].variant_id, mug);
    shop.sd
        .patch_product(barcode(cup_product, cup))
        .await
        .unwrap();

    // The shop refuses the mug's, by the rule; the replica takes the cup's without tripping
    // over its own copy of the code.
    t.online();
    let report = t.sd.sync_once().await.unwrap();
    assert_eq!((report.applied, report.set_aside), (0, 1), "{report:?}");
    let attention = t.sd.sync_attention().await.unwrap();
    let stockdesk::ApiError::Validation { details, .. } = &attention[0].error else {
        panic!("{:?}", attention[0].error);
    };
    assert_eq!(details.field, format!("variants.{mug}.barcode"));
    t.settle().await;
    assert_eq!(t.sd.find_for_sale(CODE).await.unwrap()[0].variant_id, cup);
    assert_replica_equals_shop(&shop.sd, &t.sd).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_offline_count_keeps_the_sales_made_elsewhere() {
    let shop = shop().await;
    let v = stocked(&shop.sd, "Candle", &[10]).await[0];
    let t = terminal(&shop, "back-room").await;
    t.offline();
    // Counted 10 as this terminal had seen; meanwhile the shop sold 2.
    t.sd.count_stock(v, 10, None).await.unwrap();
    let order = shop
        .sd
        .create_order(order_of(&[(v, 2)]), None)
        .await
        .unwrap();
    shop.sd.pay_order(order.id).await.unwrap();
    t.online();
    t.settle().await;
    assert_eq!(shop.sd.stock_level(v).await.unwrap().on_hand, 8, "not 10");
    // A count that found 3 missing takes them off what is there now.
    t.offline();
    t.sd.count_stock(v, 5, None).await.unwrap();
    let order = shop
        .sd
        .create_order(order_of(&[(v, 1)]), None)
        .await
        .unwrap();
    shop.sd.pay_order(order.id).await.unwrap();
    t.online();
    t.settle().await;
    assert_eq!(shop.sd.stock_level(v).await.unwrap().on_hand, 4);
    assert_replica_equals_shop(&shop.sd, &t.sd).await;
    assert_clean(&shop.sd).await;
}

/// Stock changes are pulled as the variants' figures alone; the rest of a product comes with a
/// change of the product itself, even one on a later page that moved SKUs between products.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stock_changed_at_the_shop_is_pulled_alone_and_later_edits_still_land() {
    let shop = shop().await;
    let scarf = stocked(&shop.sd, "Scarf", &[5]).await[0];
    let glove = stocked(&shop.sd, "Glove", &[5]).await[0];
    let hat = stocked(&shop.sd, "Hat", &[5]).await[0];
    let t = terminal(&shop, "till").await;
    t.offline();
    // Pending here: the glove's product is read whole and this receipt made again on top.
    t.sd.receive_stock(glove, 1, None).await.unwrap();
    shop.sd.receive_stock(scarf, 3, None).await.unwrap();
    let order = shop
        .sd
        .create_order(order_of(&[(glove, 2), (hat, 1)]), None)
        .await
        .unwrap();
    shop.sd.pay_order(order.id).await.unwrap();
    // A page's worth of receipts, so that what follows comes on a later page.
    for _ in 0..stockdesk::feed::MAX_PAGE {
        shop.sd.receive_stock(hat, 1, None).await.unwrap();
    }
    // The scarf's and the hat's SKUs change places.
    let sku = |id: Uuid, from: i64, v: Uuid, sku: &str| PatchRequest {
        product_id: id,
        expected_version: from,
        patch: ProductPatch {
            variants: VariantOps {
                update: vec![VariantUpdate {
                    id: v,
                    sku: Some(sku.into()),
                    ..Default::default()
                }],
                ..Default::default()
            },
            ..Default::default()
        },
        op_id: None,
    };
    let product = |v: Uuid| {
        let sd = shop.sd.clone();
        async move {
            let level = sd.stock_level(v).await.unwrap();
            sd.get_product(level.product_id).await.unwrap()
        }
    };
    let (p, h) = (product(scarf).await, product(hat).await);
    let p = shop
        .sd
        .patch_product(sku(p.id, p.version, scarf, "Swap"))
        .await
        .unwrap()
        .product;
    let h = shop
        .sd
        .patch_product(sku(h.id, h.version, hat, "Scarf-0"))
        .await
        .unwrap()
        .product;
    shop.sd
        .patch_product(sku(p.id, p.version, scarf, "Hat-0"))
        .await
        .unwrap();

    t.online();
    t.settle().await;
    assert_eq!(t.sd.stock_level(scarf).await.unwrap().on_hand, 8);
    assert_eq!(
        t.sd.stock_level(glove).await.unwrap().on_hand,
        4,
        "5 + 1 here - 2 sold"
    );
    let hat_level = t.sd.stock_level(hat).await.unwrap();
    assert_eq!(hat_level.on_hand, 4 + stockdesk::feed::MAX_PAGE);
    assert_eq!(
        t.sd.get_product(h.id).await.unwrap().variants[0].sku,
        "Scarf-0"
    );
    assert_replica_equals_shop(&shop.sd, &t.sd).await;
    assert_clean(&shop.sd).await;
    assert_clean(&t.sd).await;
}

// ---- the network at the worst moment -------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_push_cut_before_or_after_the_commit_applies_each_command_once() {
    let shop = shop().await;
    let v = stocked(&shop.sd, "Vase", &[1]).await[0];
    let t = terminal(&shop, "till").await;
    t.sd.sync_status(true).await.unwrap(); // connected: the next commit is the push's

    // Cut before the commit: nothing was applied; the next sync applies it.
    let first = t.sd.receive_stock(v, 3, None).await.unwrap();
    t.proxy.cut(Link::CutBeforeCommit, 0);
    t.sd.sync_once().await.unwrap_err();
    assert_eq!(t.proxy.state(), Link::Drop, "the cut happened");
    assert_eq!(shop.sd.stock_level(v).await.unwrap().on_hand, 1);
    t.online();
    t.settle().await;
    assert_eq!(shop.sd.stock_level(v).await.unwrap().on_hand, 4);

    // Cut after the commit, before the reply: applied, and the retry is answered, not repeated.
    t.sd.receive_stock(v, 4, None).await.unwrap();
    t.proxy.cut(Link::CutAfterCommit, 0);
    t.sd.sync_once().await.unwrap_err();
    assert_eq!(t.proxy.state(), Link::Drop, "the cut happened");
    assert_eq!(
        shop.sd.stock_level(v).await.unwrap().on_hand,
        8,
        "committed"
    );
    assert_eq!(t.pending().await, 1, "the terminal never heard");
    t.online();
    t.settle().await;
    assert_eq!(shop.sd.stock_level(v).await.unwrap().on_hand, 8, "not 12");
    let receipts = shop
        .sd
        .stock_movements(v)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.quantity == 4)
        .count();
    assert_eq!(receipts, 1);
    let _ = first;
    assert_replica_equals_shop(&shop.sd, &t.sd).await;
    assert_clean(&shop.sd).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stalled_link_is_offline_in_bounded_time_and_nothing_is_lost() {
    let shop = shop().await;
    let v = stocked(&shop.sd, "Plate", &[2]).await[0];
    let t = terminal(&shop, "till").await;
    t.sd.sync_status(true).await.unwrap();
    t.sd.receive_stock(v, 2, None).await.unwrap();
    t.proxy.set(Link::Stall);
    let started = std::time::Instant::now();
    let err = t.sd.sync_once().await.unwrap_err();
    assert!(stockdesk::sync::offline(&err), "{err}");
    assert!(started.elapsed() < stockdesk::sync::link::STEP * 3);
    // Meanwhile the terminal works on.
    t.sd.receive_stock(v, 1, None).await.unwrap();
    t.proxy.set(Link::Drop);
    t.online();
    t.settle().await;
    assert_eq!(shop.sd.stock_level(v).await.unwrap().on_hand, 5);
    assert_replica_equals_shop(&shop.sd, &t.sd).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_processes_flushing_one_outbox_apply_each_command_once() {
    let shop = shop().await;
    let v = stocked(&shop.sd, "Jar", &[0]).await[0];
    let t = terminal(&shop, "till").await;
    t.offline();
    for _ in 0..60 {
        t.sd.receive_stock(v, 1, None).await.unwrap();
    }
    t.online();
    // A second handle on the same replica file: another process of this terminal.
    let other = open_local(t.dir.path(), "till").await;
    assert!(other.is_replica());
    let (x, y) = tokio::join!(t.sd.sync_once(), other.sync_once());
    x.unwrap();
    y.unwrap();
    t.settle().await;
    assert_eq!(shop.sd.stock_level(v).await.unwrap().on_hand, 60);
    assert_eq!(
        common::count_where(&shop.sd, "stock_movements", &format!("variant_id = '{v}'")).await,
        60
    );
    assert_replica_equals_shop(&shop.sd, &t.sd).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_restarted_or_crashed_postgres_loses_no_command() {
    let cluster = common::cluster::Cluster::start();
    let admin = cluster.url("postgres");
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&admin)
        .await
        .unwrap();
    sqlx::query("CREATE DATABASE shop")
        .execute(&mut conn)
        .await
        .unwrap();
    drop(conn);
    let url = cluster.url("shop");
    let office = Stockdesk::open(&url, "office").await.unwrap();
    let v = stocked(&office, "Teapot", &[1]).await[0];
    let dir = tempfile::tempdir().unwrap();
    let (t, _) = open_local(dir.path(), "till")
        .await
        .join_shop(&url, Some("till"), &|_| {}, &AtomicBool::new(false))
        .await
        .unwrap();

    t.receive_stock(v, 1, None).await.unwrap();
    cluster.restart();
    // The first sync after a restart may meet the connections the restart ended.
    let mut synced = false;
    for _ in 0..3 {
        synced |= t.sync_once().await.is_ok();
    }
    assert!(synced);

    cluster.crash();
    t.receive_stock(v, 2, None).await.unwrap();
    assert!(t.sync_once().await.is_err());
    cluster.start_again();
    let mut synced = false;
    for _ in 0..3 {
        synced |= t.sync_once().await.is_ok();
    }
    assert!(synced);
    t.sync_once().await.unwrap();
    let office = Stockdesk::open(&url, "office").await.unwrap();
    assert_eq!(office.stock_level(v).await.unwrap().on_hand, 4);
    assert_replica_equals_shop(&office, &t).await;
}

// ---- the shop's server restored from a backup ----------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_restored_shop_makes_the_terminal_copy_afresh_and_send_again_what_was_lost() {
    let shop = shop().await;
    let v = stocked(&shop.sd, "Lamp", &[1]).await[0];
    let t = terminal(&shop, "till").await;
    t.sd.receive_stock(v, 1, None).await.unwrap();
    t.settle().await;
    let dump = tempfile::NamedTempFile::new().unwrap();
    run(
        "pg_dump",
        &["-Fc", "-f", dump.path().to_str().unwrap(), &shop.url],
    );
    // After the backup: this terminal's receipt, and the office's rename.
    t.sd.receive_stock(v, 10, None).await.unwrap();
    t.settle().await;
    let p = first_product(&shop.sd).await;
    shop.sd
        .patch_product(rename(p.id, p.version, "Lost rename"))
        .await
        .unwrap();
    let before = t.sd.sync_status(false).await.unwrap().cursor;

    // The server is lost and restored from the backup (another database, same name).
    let name = shop
        .url
        .rsplit('/')
        .next()
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let admin = common::postgres_admin_url();
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&admin)
        .await
        .unwrap();
    shop.sd.store().close().await;
    sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .unwrap();
    run(
        "pg_restore",
        &["-d", &shop.url, dump.path().to_str().unwrap()],
    );
    let restored = Stockdesk::open(&shop.url, "office").await.unwrap();
    assert_eq!(restored.stock_level(v).await.unwrap().on_hand, 2);

    let mut report = None;
    for _ in 0..3 {
        if let Ok(r) = t.sd.sync_once().await {
            report = Some(r);
            break;
        }
    }
    let report = report.expect("syncs with the restored shop");
    assert!(report.recopied);
    assert_ne!(Some(report.cursor), before);
    // The receipt the restore lost was sent again; the rename is gone with the old server.
    assert_eq!(restored.stock_level(v).await.unwrap().on_hand, 12);
    assert_ne!(
        restored.get_product(p.id).await.unwrap().name,
        "Lost rename"
    );
    t.settle().await;
    assert_replica_equals_shop(&restored, &t.sd).await;
    assert_clean(&t.sd).await;
}

fn run(program: &str, args: &[&str]) {
    let out = std::process::Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} (postgresql-client) is needed: {e}"));
    assert!(out.status.success(), "{program}: {out:?}");
}

// ---- leaving -------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn leaving_is_refused_while_anything_is_unsynced() {
    let shop = shop().await;
    let v = stocked(&shop.sd, "Rug", &[1]).await[0];
    let t = terminal(&shop, "till").await;
    t.offline();
    t.sd.receive_stock(v, 1, None).await.unwrap();
    let err = t.sd.leave_shop().await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidState, "{err}");
    assert!(t.sd.is_replica());
    t.online();
    t.settle().await;
    let left = t.sd.leave_shop().await.unwrap();
    assert!(!left.is_replica());
    assert!(!left.sync_status(false).await.unwrap().joined);
    let terminals = shop.sd.shop_terminals().await.unwrap();
    assert!(terminals[0].left_at.is_some());
    // The name is free for another terminal.
    terminal(&shop, "till").await;
}

// ---- images --------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_image_added_offline_reaches_the_shop_with_its_file_whatever_is_cut() {
    let shop = shop().await;
    stocked(&shop.sd, "Print", &[1]).await;
    let t = terminal(&shop, "till").await;
    t.sd.sync_status(true).await.unwrap();
    let p = first_product(&t.sd).await;
    t.offline();
    let staged =
        t.sd.stage_image_bytes(common::images::png(3))
            .await
            .unwrap();
    let kind = stockdesk::CommandKind::AddImages {
        product_id: p.id,
        expected_version: p.version,
        staged: vec![staged.id],
    };
    let added = t.sd.apply(&t.sd.command(None, kind)).await.unwrap();
    let stockdesk::Outcome::Patch(added) = added.outcome else {
        panic!("{:?}", added.outcome)
    };
    assert_eq!(added.product.images.len(), 1);
    let shown = t.sd.image_of(added.product.images[0].id).await.unwrap();
    assert!(
        !shown.bytes.is_empty(),
        "offline, the replica shows its own file"
    );
    assert_clean(&t.sd).await;
    t.online();
    // The upload commits on the shop, then the link is cut before the command: the upload waits
    // there (it would expire unclaimed), and the next push sends it again under the same id.
    t.proxy.cut(Link::CutAfterCommit, 0);
    t.sd.sync_once().await.unwrap_err();
    t.online();
    // Then the command commits and its reply is lost.
    t.proxy.cut(Link::CutAfterCommit, 0);
    let _ = t.sd.sync_once().await;
    t.online();
    t.settle().await;
    let on_shop = shop.sd.get_product(p.id).await.unwrap();
    assert_eq!(on_shop.images.len(), 1);
    assert_eq!(on_shop.images[0].id, added.product.images[0].id);
    assert_eq!(
        shop.sd.image_of(on_shop.images[0].id).await.unwrap().bytes,
        shown.bytes
    );
    assert_eq!(
        common::count(&shop.sd, "staged_blobs").await,
        0,
        "no upload left waiting"
    );
    assert_eq!(
        common::count(&t.sd, "staged_blobs").await,
        0,
        "none held any more"
    );
    assert_clean(&shop.sd).await;
    assert_clean(&t.sd).await;
    assert_replica_equals_shop(&shop.sd, &t.sd).await;
}

// ---- who may do what -----------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_shop_checks_the_role_of_a_pushed_command_again() {
    let shop = shop().await;
    let v = stocked(&shop.sd, "Cup", &[1]).await[0];
    shop.sd
        .add_staff(None, "Olu", stockdesk::Role::Owner, "1234")
        .await
        .unwrap();
    let olu = shop.sd.sign_in("Olu", "1234").await.unwrap();
    olu.add_staff(None, "Sam", stockdesk::Role::Staff, "5678")
        .await
        .unwrap();
    let t = terminal(&shop, "till").await;
    let sam = t.sd.sign_in("Sam", "5678").await.unwrap();
    let p = first_product(&t.sd).await;
    // On the terminal, staff may not change prices either.
    let err = sam
        .patch_product(price(p.id, p.version, v, 1))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Forbidden);
    // A terminal whose copy says Sam is a manager (tampered with) still cannot make it stick.
    common::execute(
        &t.sd,
        "UPDATE staff SET role = 'manager' WHERE name = 'Sam'",
    )
    .await;
    sam.patch_product(price(p.id, p.version, v, 1))
        .await
        .unwrap();
    let report = t.sd.sync_once().await.unwrap();
    assert_eq!(report.set_aside, 1);
    let attention = t.sd.sync_attention().await.unwrap();
    assert_eq!(attention[0].error.code(), ErrorCode::Forbidden);
    assert_ne!(
        shop.sd.get_product(p.id).await.unwrap().variants[0].price_minor,
        1
    );
    assert_ne!(
        t.sd.get_product(p.id).await.unwrap().variants[0].price_minor,
        1
    );
    // What the shop's owner does on the terminal is theirs: the history names them.
    let olu_here = t.sd.sign_in("Olu", "1234").await.unwrap();
    olu_here.receive_stock(v, 1, None).await.unwrap();
    t.sd.sync_once().await.unwrap();
    let last = shop.sd.stock_movements(v).await.unwrap().pop().unwrap();
    assert_eq!(last.actor, "Olu");
    assert!(last.actor_id.is_some());
}

// ---- many terminals, random partitions -----------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn random_partitions_and_overlapping_syncs_end_with_every_replica_equal_to_the_shop() {
    use rand::{Rng, SeedableRng};
    let seed: u64 = std::env::var("SYNC_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| rand::rng().random());
    println!("SYNC_SEED={seed}");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let shop = shop().await;
    let mut variants = Vec::new();
    for n in 0..6 {
        variants.extend(stocked(&shop.sd, &format!("Item{n}"), &[20, 20]).await);
    }
    let terminals = [
        terminal(&shop, "t1").await,
        terminal(&shop, "t2").await,
        terminal(&shop, "t3").await,
    ];
    let mut orders: Vec<Uuid> = Vec::new();
    let mut made = BTreeMap::<&str, i64>::new();
    for step in 0..2000 {
        let t = &terminals[rng.random_range(0..3)];
        let v = variants[rng.random_range(0..variants.len())];
        match rng.random_range(0..100) {
            // The network comes and goes.
            0..=3 => t.offline(),
            4..=9 => t.online(),
            // A sync the caller stops waiting for half-way: it goes on beside what follows
            // (syncs and writes at once; processes killed mid-push are the CLI tests').
            10..=17 => {
                let wait = Duration::from_millis(rng.random_range(1..40));
                let _ = tokio::time::timeout(wait, t.sd.sync_once()).await;
            }
            18..=21 => {
                let _ = t.sd.sync_once().await;
            }
            22..=45 => {
                let q = rng.random_range(1..4);
                t.sd.receive_stock(v, q, None).await.unwrap();
                *made.entry("receive").or_default() += 1;
            }
            46..=55 => {
                // A pull going on beside may take the last unit first: then it is refused.
                if let Err(e) = t.sd.adjust_stock(v, -1, "breakage").await {
                    assert_eq!(e.code(), ErrorCode::InsufficientStock, "{e}");
                }
            }
            56..=60 => {
                let counted = rng.random_range(0..40);
                t.sd.count_stock(v, counted, None).await.unwrap();
            }
            61..=75 => {
                let level = t.sd.stock_level(v).await.unwrap();
                let p = t.sd.get_product(level.product_id).await.unwrap();
                let req = if rng.random_bool(0.5) {
                    rename(p.id, p.version, &format!("Name {step}"))
                } else {
                    price(p.id, p.version, v, rng.random_range(100..9999))
                };
                // A clash on the replica itself is the person's to see; on the shop it is set
                // aside and resolved below.
                let _ = t.sd.patch_product(req).await;
            }
            76..=85 => match t.sd.create_order(order_of(&[(v, 1)]), None).await {
                Ok(o) => orders.push(o.id),
                Err(e) => assert!(
                    matches!(
                        e.code(),
                        ErrorCode::Unreachable
                            | ErrorCode::BeyondAllotment
                            | ErrorCode::InsufficientStock
                    ),
                    "{e:?}"
                ),
            },
            86..=92 => {
                if let Some(&o) = orders.get(rng.random_range(0..orders.len().max(1))) {
                    let _ = t.sd.pay_order(o).await;
                }
            }
            _ => {
                if let Some(&o) = orders.get(rng.random_range(0..orders.len().max(1))) {
                    let _ = t.sd.cancel_order(o).await;
                }
            }
        }
    }
    // Heal: every link up, what was set aside resolved (theirs kept, or dropped), synced.
    for t in &terminals {
        t.online();
    }
    for _ in 0..2 {
        for t in &terminals {
            let _ = t.sd.sync_once().await;
            for a in t.sd.sync_attention().await.unwrap() {
                let how = if a.error.code() == ErrorCode::Conflict {
                    Resolution::KeepTheirs
                } else {
                    Resolution::Discard
                };
                t.sd.sync_resolve(a.op_id, how).await.unwrap();
            }
        }
    }
    for t in &terminals {
        t.settle().await;
    }
    for t in &terminals {
        t.settle().await;
        assert_replica_equals_shop(&shop.sd, &t.sd).await;
        assert_eq!(t.sd.check_invariants().await.unwrap(), vec![]);
    }
    assert_eq!(shop.sd.check_invariants().await.unwrap(), vec![]);
    // Every command a terminal made was applied once, or set aside and resolved.
    for t in &terminals {
        let mut conn = t.sd.store().conn().await.unwrap();
        let ops: Vec<(Uuid, String)> =
            stockdesk::store::Stmt::new("SELECT op_id, status FROM sync_outbox ORDER BY seq")
                .fetch(&mut conn)
                .await
                .unwrap();
        for (op, status) in ops {
            let expected = i64::from(status == "applied");
            assert_eq!(applied_on_shop(&shop, op).await, expected, "{op} {status}");
            assert!(
                matches!(status.as_str(), "applied" | "resolved" | "discarded"),
                "{status}"
            );
        }
    }
    println!("{made:?}");
}
