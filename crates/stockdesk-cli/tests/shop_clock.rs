//! One clock per shop: on a shared Postgres every deadline is judged by the database's clock, so
//! terminals whose clocks are off (real processes under `faketime`) neither expire a valid order
//! nor revive a lapsed one. On SQLite (one terminal) the terminal's clock is the shop's clock.

mod common;

use serde_json::json;

use common::cli::{ok, stockdesk, stockdesk_skewed};

/// Two terminals' environments on one database: their own data directories and names.
fn terminals(db: &str, dirs: &tempfile::TempDir) -> [Vec<(&'static str, String)>; 2] {
    ["till-a", "till-b"].map(|name| {
        vec![
            ("STOCKDESK_DB", db.to_string()),
            ("STOCKDESK_ACTOR", name.to_string()),
            (
                "STOCKDESK_DATA_DIR",
                dirs.path().join(name).display().to_string(),
            ),
        ]
    })
}

fn env<'a>(e: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    e.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// A product with `stock` units of one variant; returns the variant's id.
fn stocked(env: &[(&str, &str)], stock: i64) -> String {
    let p = ok(stockdesk(
        env,
        &["product", "create"],
        &json!({"name": "Scarf", "status": "published", "variants": [
            {"sku": format!("SCARF-{}", uuid::Uuid::now_v7().simple()), "price_minor": 2500,
             "currency": "EUR", "stock_on_hand": stock}]})
        .to_string(),
    ));
    p["variants"][0]["id"].as_str().unwrap().to_string()
}

fn order(env: &[(&str, &str)], variant: &str, expires_in: &str) -> serde_json::Value {
    ok(stockdesk(
        env,
        &["order", "create", "--expires-in", expires_in],
        &json!({"items": [{"variant_id": variant, "quantity": 1}]}).to_string(),
    ))
}

#[tokio::test]
async fn on_postgres_a_terminal_with_a_wrong_clock_decides_nothing_differently() {
    let db = stockdesk_testkit::postgres().await;
    let dirs = tempfile::tempdir().unwrap();
    let [a, b] = terminals(&db.url, &dirs);
    let (a, b) = (env(&a), env(&b));
    let v = stocked(&a, 5);

    // A 15-minute order from a terminal whose clock is right; a sweeper 20 minutes fast.
    let pending = order(&a, &v, "15m");
    let run = ok(stockdesk_skewed("+20m", &b, &["sweep", "--once"], ""));
    let expired = &run["jobs"][0]["counts"]["orders_expired"];
    assert_eq!(*expired, 0, "a fast clock expired a valid order: {run}");
    let id = pending["id"].as_str().unwrap();
    let now = ok(stockdesk_skewed("+20m", &b, &["order", "get", id], ""));
    assert_eq!(now["status"], "pending");
    assert_eq!(now["overdue"], false, "{now}");

    // Made by a terminal three hours slow, the order still gets 15 minutes of the shop's time.
    let slow = ok(stockdesk_skewed(
        "-3h",
        &b,
        &["order", "create", "--expires-in", "15m"],
        &json!({"items": [{"variant_id": v, "quantity": 1}]}).to_string(),
    ));
    let deadline = |o: &serde_json::Value| {
        chrono::DateTime::parse_from_rfc3339(o["payment_expires_at"].as_str().unwrap()).unwrap()
    };
    let gap = deadline(&slow) - deadline(&pending);
    assert!(
        gap.num_minutes().abs() < 5,
        "deadlines by one clock, not the terminals': {gap}"
    );

    // An order that lapsed by the shop's clock: a slow terminal does not see it as held,
    // and extending it reopens the window from now (it is not simply pushed out).
    let lapsed = order(&a, &v, "1s");
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let level = ok(stockdesk_skewed("-3h", &b, &["stock", "get", &v], ""));
    assert_eq!(
        level["reserved"], 2,
        "only the two valid orders hold: {level}"
    );
    let id = lapsed["id"].as_str().unwrap();
    let ext = ok(stockdesk_skewed(
        "-3h",
        &b,
        &["order", "extend", id, "--by", "10m"],
        "",
    ));
    assert_eq!(ext["hold"], "re_reserved", "{ext}");
    let extended = deadline(&ext["order"]) - deadline(&lapsed);
    assert!(extended.num_minutes() >= 9, "{extended}");
    assert!(extended.num_minutes() < 15, "{extended}");
    ok(stockdesk(&a, &["check"], ""));
    stockdesk_testkit::drop_postgres(&db.url).await;
}

#[test]
fn on_sqlite_the_terminal_clock_is_the_shop_clock() {
    let dirs = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dirs.path().join("shop.db").display());
    let [a, _] = terminals(&db, &dirs);
    let a = env(&a);
    let v = stocked(&a, 5);
    order(&a, &v, "15m");
    let run = ok(stockdesk_skewed("+20m", &a, &["sweep", "--once"], ""));
    assert_eq!(run["jobs"][0]["counts"]["orders_expired"], 1, "{run}");
}
