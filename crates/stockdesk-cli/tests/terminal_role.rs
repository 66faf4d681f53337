//! docs/security.md's Postgres roles for terminals, run as written: the SQL block tagged
//! `terminal-role` is applied to a fresh shop, and then the `stockdesk` CLI works through a
//! terminal's login (a role that owns nothing) while that login cannot drop, alter, truncate or
//! create tables, nor rewrite the record of migrations.

mod common;

use std::path::Path;

use common::cli::{ok, stockdesk};
use serde_json::json;
use sqlx::{Connection, Executor, PgConnection};

#[tokio::test]
async fn a_terminal_role_that_owns_nothing_runs_stockdesk_but_cannot_drop_tables() {
    let id = uuid::Uuid::now_v7().simple().to_string();
    let id = &id[id.len() - 12..];
    let (shop, terminals, till) = (
        format!("shop_{id}"),
        format!("terminals_{id}"),
        format!("till_{id}"),
    );
    let admin_url = common::postgres_admin_url();
    let mut admin = PgConnection::connect(&admin_url)
        .await
        .unwrap_or_else(|e| panic!("Postgres at {admin_url} is required: {e}"));
    // The README's set-up: an owner role and its database; the owner creates the tables.
    admin
        .execute(format!("CREATE ROLE {shop} LOGIN").as_str())
        .await
        .unwrap();
    admin
        .execute(format!("CREATE DATABASE {shop} OWNER {shop}").as_str())
        .await
        .unwrap();
    let owner_url = url_as(&admin_url, &shop, &shop);
    let till_url = url_as(&admin_url, &till, &shop);
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_str().unwrap();
    let owner = |args: &[&str]| {
        let mut all = vec!["--db", &owner_url, "--data-dir", dir];
        all.extend_from_slice(args);
        ok(stockdesk(&[], &all, ""))
    };
    owner(&["migrate"]);

    // docs/security.md, as a superuser connected to the shop's database.
    let sql = doc_block("docs/security.md", "sql terminal-role")
        .replace("stockdesk_terminals", "{terminals}")
        .replace("till1", "{till}")
        .replace("stockdesk", &shop)
        .replace("{terminals}", &terminals)
        .replace("{till}", &till);
    let mut on_shop = PgConnection::connect(&url_as(&admin_url, "postgres", &shop))
        .await
        .unwrap();
    sqlx::raw_sql(&sql)
        .execute(&mut on_shop)
        .await
        .unwrap_or_else(|e| panic!("the documented grants fail: {e}\n{sql}"));
    on_shop.close().await.unwrap();

    // The terminal's login works Stockdesk: catalog, stock, orders, images, the sweeper, the
    // change feed, staff profiles and signing in.
    let env: &[(&str, &str)] = &[];
    let till_cli = |args: &[&str], stdin: &str, env: &[(&str, &str)]| {
        let mut all = vec!["--db", &till_url, "--data-dir", dir];
        all.extend_from_slice(args);
        ok(stockdesk(env, &all, stdin))
    };
    till_cli(&["seed", "--products", "5"], "", env);
    let id = till_cli(&["product", "list", "--limit", "1"], "", env)["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let product = till_cli(&["product", "get", &id], "", env);
    let variant = product["variants"][0]["id"].as_str().unwrap().to_string();
    let patched = till_cli(
        &[
            "product",
            "patch",
            &id,
            "--expected-version",
            &product["version"].to_string(),
        ],
        &json!({"description": "Written by a terminal that owns nothing."}).to_string(),
        env,
    );
    let images = patched["product"]["images"].as_array().unwrap().len();
    let png = common::images::write(data.path(), "swatch.png", &common::images::png(7));
    let added = till_cli(
        &[
            "image",
            "add",
            &id,
            "--expected-version",
            &patched["product"]["version"].to_string(),
            png.to_str().unwrap(),
        ],
        "",
        env,
    );
    assert_eq!(
        added["product"]["images"].as_array().unwrap().len(),
        images + 1
    );
    till_cli(&["stock", "receive", &variant, "--quantity", "4"], "", env);
    let order = till_cli(
        &["order", "create"],
        &json!({"items": [{"variant_id": variant, "quantity": 1}]}).to_string(),
        env,
    );
    till_cli(&["order", "pay", order["id"].as_str().unwrap()], "", env);
    till_cli(&["sweep", "--once"], "", env);
    till_cli(&["check"], "", env);
    till_cli(&["blobs", "verify"], "", env);
    let change = till_cli(&["changes", "--limit", "1"], "", env);
    assert_eq!(change["kind"], "seed", "{change}");
    till_cli(&["staff", "add", "Olu", "--role", "owner"], "2468\n", env);
    till_cli(
        &["--as", "Olu", "staff", "add", "Sam", "--role", "staff"],
        "2468\n1357\n",
        env,
    );
    let counted = till_cli(
        &["--as", "Sam", "stock", "count", &variant, "--counted", "9"],
        "",
        &[("STOCKDESK_PIN", "1357")],
    );
    assert_eq!(counted["level"]["on_hand"], 9, "{counted}");
    let events = till_cli(&["staff", "events"], "", env);
    assert!(events.as_array().unwrap().len() >= 2, "{events}");

    // What it cannot do, whatever anyone types into a connection made with its password.
    let mut conn = PgConnection::connect(&till_url).await.unwrap();
    for sql in [
        "DROP TABLE products",
        "DROP TABLE stock_movements CASCADE",
        "TRUNCATE stock_movements",
        "ALTER TABLE staff ADD COLUMN x int",
        "CREATE TABLE mine (id int)",
        "DELETE FROM _sqlx_migrations",
        "UPDATE _sqlx_migrations SET success = false",
        "CREATE INDEX ON products (slug, name)",
    ] {
        let e = conn.execute(sql).await.expect_err(sql);
        let code = e
            .as_database_error()
            .and_then(|d| d.code())
            .map(|c| c.to_string());
        // insufficient_privilege (42501): "must be owner", "permission denied".
        assert_eq!(code.as_deref(), Some("42501"), "{sql}: {e}");
    }
    let tables: i64 =
        sqlx::query_scalar("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert!(tables > 10, "the tables are all still there");
    conn.close().await.unwrap();

    // A table a later version's migration adds (made by the owner, as `stockdesk migrate`
    // does) is the terminals' to use at once, through the default privileges.
    let mut as_owner = PgConnection::connect(&owner_url).await.unwrap();
    as_owner
        .execute("CREATE TABLE later_feature (id bigserial PRIMARY KEY, note text)")
        .await
        .unwrap();
    as_owner.close().await.unwrap();
    let mut conn = PgConnection::connect(&till_url).await.unwrap();
    conn.execute("INSERT INTO later_feature (note) VALUES ('new tables are granted')")
        .await
        .expect("default privileges cover tables (and sequences) the owner adds later");
    conn.close().await.unwrap();

    // Only a passing test tidies up (a failing one leaves the shop and its roles for a look).
    admin
        .execute(format!("DROP DATABASE {shop} WITH (FORCE)").as_str())
        .await
        .unwrap();
    for role in [&till, &terminals, &shop] {
        admin
            .execute(format!("DROP ROLE {role}").as_str())
            .await
            .unwrap();
    }
}

/// `admin` (a postgres:// URL) with another user and database, keeping host and options.
fn url_as(admin: &str, user: &str, database: &str) -> String {
    let (scheme, rest) = admin.split_once("://").unwrap();
    let rest = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    let (host, tail) = rest.split_once('/').unwrap_or((rest, ""));
    let query = tail
        .split_once('?')
        .map(|(_, q)| format!("?{q}"))
        .unwrap_or_default();
    format!("{scheme}://{user}@{host}/{database}{query}")
}

/// The one fenced block of `doc` whose info string is `tag`.
fn doc_block(doc: &str, tag: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(doc);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{doc}: {e}"));
    let mut blocks: Vec<String> = Vec::new();
    let mut inside = false;
    for line in text.lines() {
        if line.trim() == format!("```{tag}") {
            inside = true;
            blocks.push(String::new());
        } else if inside && line.trim_start().starts_with("```") {
            inside = false;
        } else if inside {
            let block = blocks.last_mut().unwrap();
            block.push_str(line);
            block.push('\n');
        }
    }
    assert_eq!(blocks.len(), 1, "{doc} should have one ```{tag} block");
    blocks.pop().unwrap()
}
