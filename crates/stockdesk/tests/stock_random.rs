//! Randomised history: many concurrent tasks create, pay, cancel and extend orders, receive,
//! adjust and count stock, edit prices and stock in the product, move the test clock so orders
//! lapse, and three sweepers run at the same time. After every batch the invariant check finds
//! nothing and no figure is negative.
//!
//! STOCKDESK_RANDOM_OPS (default 10000) and STOCKDESK_RANDOM_SEED change the run.

use std::sync::{Arc, Mutex};

use chrono::TimeDelta;
use futures::future::join_all;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use stockdesk::catalog::{
    NewProduct, NewVariant, PatchRequest, ProductPatch, ProductStatus, VariantOps, VariantUpdate,
};
use stockdesk::stock::{NewOrder, NewOrderItem};
use stockdesk::{Error, ManualClock, Stockdesk};
use stockdesk_testkit::{both_backends, TestDb};
use uuid::Uuid;

const BATCHES: usize = 20;
const WORKERS: usize = 8;
const SWEEPERS: usize = 3;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

both_backends!(
    random_history_keeps_every_invariant,
    |db: TestDb| async move {
        let sd = db.sd.clone();
        let ops = env_or("STOCKDESK_RANDOM_OPS", 10_000) as usize;
        let seed = env_or("STOCKDESK_RANDOM_SEED", 2026);
        let mut variants = Vec::new();
        for p in 0..3 {
            let product = NewProduct {
                id: None,
                name: format!("Random {p}"),
                slug: None,
                description: String::new(),
                status: ProductStatus::Published,
                category_id: None,
                variants: (0..2)
                    .map(|v| NewVariant {
                        id: None,
                        sku: format!("R{p}-{v}"),
                        barcode: None,
                        price_minor: 500,
                        currency: "EUR".into(),
                        stock_on_hand: 15,
                        attributes: Default::default(),
                    })
                    .collect(),
            };
            let created = sd.create_product(product, None).await.unwrap();
            variants.extend(created.variants.iter().map(|v| v.id));
        }
        let orders: Arc<Mutex<Vec<Uuid>>> = Arc::default();
        let per_worker = ops.div_ceil(BATCHES * WORKERS);
        let started = std::time::Instant::now();
        let mut tally = Tally::default();

        for batch in 0..BATCHES {
            let workers = (0..WORKERS).map(|w| {
                let rng = ChaCha8Rng::seed_from_u64(seed ^ ((batch * 100 + w) as u64));
                let ctx = Worker {
                    sd: sd.with_actor(&format!("worker-{w}")),
                    clock: db.clock.clone(),
                    variants: variants.clone(),
                    orders: orders.clone(),
                };
                tokio::spawn(ctx.run(rng, per_worker))
            });
            let sweepers = (0..SWEEPERS).map(|s| {
                let sd = sd.with_actor(&format!("sweeper-{s}"));
                tokio::spawn(async move {
                    let mut expired = 0;
                    for _ in 0..3 {
                        let run = sd.sweep_once().await.unwrap();
                        assert_eq!(run.errors, 0, "{run:?}");
                        expired += run.jobs[0].counts["reservations_expired"];
                        tokio::task::yield_now().await;
                    }
                    expired
                })
            });
            let (workers, sweepers) = futures::join!(join_all(workers), join_all(sweepers));
            for w in workers {
                tally.add(&w.unwrap());
            }
            tally.swept += sweepers.into_iter().map(|s| s.unwrap()).sum::<i64>();

            let found = sd.check_invariants().await.unwrap();
            assert!(found.is_empty(), "batch {batch}: {found:#?}");
            for &v in &variants {
                let l = sd.stock_level(v).await.unwrap();
                assert!(
                    l.on_hand >= 0 && l.reserved >= 0 && l.available >= 0 && l.short >= 0,
                    "batch {batch}: {l:?}"
                );
            }
        }
        eprintln!(
            "{} random operations on {:?} in {:?}: {tally:?}",
            per_worker * WORKERS * BATCHES,
            sd.backend(),
            started.elapsed()
        );
        // The history exercised what it is meant to.
        assert!(tally.created > 0 && tally.paid > 0 && tally.paid_late > 0 && tally.refused > 0);
        assert!(tally.cancelled > 0 && tally.swept > 0 && tally.expired_payments > 0);
        assert!(tally.edits > 0);
    }
);

#[derive(Debug, Default)]
struct Tally {
    created: u64,
    refused: u64,
    paid: u64,
    paid_late: u64,
    expired_payments: u64,
    cancelled: u64,
    stock_changes: u64,
    edits: u64,
    swept: i64,
}

impl Tally {
    fn add(&mut self, o: &Tally) {
        self.created += o.created;
        self.refused += o.refused;
        self.paid += o.paid;
        self.paid_late += o.paid_late;
        self.expired_payments += o.expired_payments;
        self.cancelled += o.cancelled;
        self.stock_changes += o.stock_changes;
        self.edits += o.edits;
    }
}

struct Worker {
    sd: Stockdesk,
    clock: ManualClock,
    variants: Vec<Uuid>,
    orders: Arc<Mutex<Vec<Uuid>>>,
}

impl Worker {
    async fn run(self, mut rng: ChaCha8Rng, ops: usize) -> Tally {
        let mut t = Tally::default();
        for _ in 0..ops {
            let roll = rng.random_range(0..100);
            let variant = self.variants[rng.random_range(0..self.variants.len())];
            let order = {
                let orders = self.orders.lock().unwrap();
                (!orders.is_empty()).then(|| orders[rng.random_range(0..orders.len())])
            };
            let result: Result<(), Error> = match (roll, order) {
                (0..=39, _) | (_, None) => {
                    let lines = rng.random_range(1..=3);
                    let new = NewOrder {
                        id: None,
                        items: (0..lines)
                            .map(|_| NewOrderItem {
                                variant_id: self.variants[rng.random_range(0..self.variants.len())],
                                quantity: rng.random_range(1..=3),
                            })
                            .collect(),
                        expires_in_secs: Some(rng.random_range(60..=600)),
                    };
                    self.sd.create_order(new, None).await.map(|o| {
                        t.created += 1;
                        self.orders.lock().unwrap().push(o.id);
                    })
                }
                (40..=59, Some(id)) => self.sd.pay_order(id).await.map(|p| {
                    t.paid += 1;
                    if p.hold == stockdesk::stock::Hold::ReReserved {
                        t.paid_late += 1;
                    }
                }),
                (60..=66, Some(id)) => self.sd.cancel_order(id).await.map(|_| t.cancelled += 1),
                (67..=70, Some(id)) => {
                    let by = TimeDelta::seconds(rng.random_range(30..=300));
                    self.sd.extend_order(id, by).await.map(|_| ())
                }
                (71..=79, _) => {
                    let q = rng.random_range(1..=6);
                    self.sd
                        .receive_stock(variant, q, None)
                        .await
                        .map(|_| t.stock_changes += 1)
                }
                (80..=85, _) => {
                    // Count against the figure read a moment ago: sales in between stay counted.
                    let seen = self.sd.stock_level(variant).await.unwrap().on_hand;
                    let counted = (seen + rng.random_range(-3..=2)).max(0);
                    self.sd
                        .count_stock(variant, counted, Some(seen))
                        .await
                        .map(|_| t.stock_changes += 1)
                }
                (86..=89, _) => {
                    let delta = *[-2, -1, 1, 2].get(rng.random_range(0..4)).unwrap();
                    self.sd
                        .adjust_stock(variant, delta, "random")
                        .await
                        .map(|_| t.stock_changes += 1)
                }
                (90..=95, _) => {
                    self.clock
                        .advance(TimeDelta::seconds(rng.random_range(10..=120)));
                    Ok(())
                }
                (96..=97, _) => {
                    // An edit in the product editor, from the version read a moment ago: price
                    // and on-hand stock (merged as a delta if a sale came in between).
                    let product_id = self.sd.stock_level(variant).await.unwrap().product_id;
                    let p = self.sd.get_product(product_id).await.unwrap();
                    let on_hand = p
                        .variants
                        .iter()
                        .find(|v| v.id == variant)
                        .unwrap()
                        .stock_on_hand;
                    let patch = ProductPatch {
                        variants: VariantOps {
                            update: vec![VariantUpdate {
                                id: variant,
                                price_minor: Some(rng.random_range(100..=5000)),
                                stock_on_hand: Some((on_hand + rng.random_range(-2..=3)).max(0)),
                                ..Default::default()
                            }],
                            ..Default::default()
                        },
                        ..Default::default()
                    };
                    let req = PatchRequest {
                        product_id,
                        expected_version: p.version,
                        patch,
                        op_id: None,
                    };
                    self.sd.patch_product(req).await.map(|_| t.edits += 1)
                }
                (_, _) => {
                    let l = self.sd.stock_level(variant).await.unwrap();
                    assert!(l.on_hand >= 0 && l.available >= 0 && l.available <= l.on_hand);
                    Ok(())
                }
            };
            match result {
                Ok(()) => {}
                Err(Error::InsufficientStock { .. }) => t.refused += 1,
                Err(Error::ReservationExpired { .. }) => t.expired_payments += 1,
                // Paying a cancelled order, a count or adjustment out of range: business outcomes.
                // Two editors changing one price: a conflict for the later one.
                Err(
                    e @ (Error::InvalidState { .. } | Error::Validation(_) | Error::Conflict(_)),
                ) => {
                    let _ = e;
                }
                Err(e) => panic!("unexpected error: {e:?}"),
            }
        }
        t
    }
}
