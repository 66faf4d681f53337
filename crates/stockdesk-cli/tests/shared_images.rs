//! Images every terminal of a shop sees: real `stockdesk` processes with their own data
//! directories on one Postgres. The shop keeps its image bytes in one place (the database by
//! default, or one shared directory); a terminal pointed elsewhere is refused rather than
//! keeping images nobody else sees; a file added on one terminal reads back from another; a
//! sweep on any terminal keeps every file in use; and a shop with files moves them into the
//! database with one command.

mod common;

use std::path::Path;

use serde_json::{json, Value};
use stockdesk_testkit::images::{png, write};

use common::cli::{assert_error, ok, stockdesk};

/// A terminal's environment: the shared database, its own data directory and name, plus `more`.
fn terminal(
    db: &str,
    root: &Path,
    name: &str,
    more: &[(&'static str, String)],
) -> Vec<(&'static str, String)> {
    let mut env = vec![
        ("STOCKDESK_DB", db.to_string()),
        ("STOCKDESK_ACTOR", name.to_string()),
        ("STOCKDESK_DATA_DIR", root.join(name).display().to_string()),
    ];
    env.extend(more.iter().cloned());
    env
}

fn run(env: &[(&'static str, String)], args: &[&str]) -> common::cli::Run {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    stockdesk(&env, args, "")
}

fn draft(env: &[(&'static str, String)]) -> Value {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    ok(stockdesk(
        &env,
        &["product", "create"],
        &json!({"name": "Poster", "status": "draft", "variants": []}).to_string(),
    ))
}

/// Adds an image file (picture `n`) to `product`; returns the product after.
fn add_image(env: &[(&'static str, String)], root: &Path, product: &Value, n: u32) -> Value {
    let file = write(root, &format!("{n}.png"), &png(n));
    let (id, v) = (
        product["id"].as_str().unwrap(),
        product["version"].to_string(),
    );
    ok(run(
        env,
        &[
            "image",
            "add",
            id,
            "--expected-version",
            &v,
            file.to_str().unwrap(),
        ],
    ))["product"]
        .take()
}

/// Replaces the first image's file with picture `n` (the old file goes to the deletion outbox).
fn replace_image(env: &[(&'static str, String)], root: &Path, product: &Value, n: u32) -> Value {
    let file = write(root, &format!("{n}.png"), &png(n));
    let (id, v) = (
        product["id"].as_str().unwrap(),
        product["version"].to_string(),
    );
    let image = product["images"][0]["id"].as_str().unwrap();
    ok(run(
        env,
        &[
            "image",
            "replace",
            id,
            image,
            "--expected-version",
            &v,
            file.to_str().unwrap(),
        ],
    ))["product"]
        .take()
}

/// `image get` from `env` writes exactly picture `n`.
fn shows(env: &[(&'static str, String)], root: &Path, image: &Value, n: u32) {
    let out = root.join(format!("got-{}.png", uuid::Uuid::now_v7()));
    let got = ok(run(
        env,
        &[
            "image",
            "get",
            image["id"].as_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
    ));
    assert_eq!(got["content_type"], "image/png", "{got}");
    assert_eq!(
        std::fs::read(&out).unwrap(),
        png(n),
        "another picture came back"
    );
}

fn verify_clean(env: &[(&'static str, String)]) -> Value {
    let report = ok(run(env, &["blobs", "verify"]));
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["missing"], json!([]), "{report}");
    report
}

/// One sweep: it works the deletion outbox (a replaced file's entry is due at once).
fn sweep(env: &[(&'static str, String)]) -> Value {
    ok(run(env, &["sweep", "--once"]))
}

#[tokio::test]
async fn on_postgres_images_live_in_the_database_and_every_terminal_sees_them() {
    let db = stockdesk_testkit::postgres().await;
    let root = tempfile::tempdir().unwrap();
    let (a, b) = (
        terminal(&db.url, root.path(), "till-a", &[]),
        terminal(&db.url, root.path(), "till-b", &[]),
    );
    let p = add_image(&a, root.path(), &draft(&a), 1);
    // B, with a data directory of its own, reads A's image.
    shows(&b, root.path(), &p["images"][0], 1);
    assert_eq!(verify_clean(&b)["backend"], "db");

    // A replaces the file; B's sweep works the deletion and both still verify clean.
    let p = replace_image(&a, root.path(), &p, 2);
    sweep(&b);
    shows(&b, root.path(), &p["images"][0], 2);
    shows(&a, root.path(), &p["images"][0], 2);
    verify_clean(&a);
    verify_clean(&b);
    // Nothing went to either terminal's own directory.
    for t in ["till-a", "till-b"] {
        let blobs = root.path().join(t).join("blobs");
        assert!(
            !blobs.join(stockdesk::images::storage::MARKER).exists(),
            "{t}"
        );
    }

    // A terminal set to keep files in a directory is refused: the shop keeps them in the database.
    let c = terminal(
        &db.url,
        root.path(),
        "till-c",
        &[("STOCKDESK_BLOBS", "dir".into())],
    );
    let refused = run(&c, &["product", "list"]);
    assert_error(&refused, 2, "bad_input");
    let message = refused.json["message"].as_str().unwrap();
    assert!(message.contains("in the database"), "{message}");
}

#[tokio::test]
async fn a_shared_image_directory_serves_every_terminal_and_another_directory_is_refused() {
    let db = stockdesk_testkit::postgres().await;
    let root = tempfile::tempdir().unwrap();
    let shared = root.path().join("shop-images");
    let in_shared = [
        ("STOCKDESK_BLOBS", "dir".to_string()),
        ("STOCKDESK_BLOB_DIR", shared.display().to_string()),
    ];
    let a = terminal(&db.url, root.path(), "till-a", &in_shared);
    let b = terminal(&db.url, root.path(), "till-b", &in_shared[1..]);
    let p = add_image(&a, root.path(), &draft(&a), 3);
    assert!(shared.join(stockdesk::images::storage::MARKER).exists());
    // B names only the directory (the backend is the shop's); it reads A's file and sweeps.
    shows(&b, root.path(), &p["images"][0], 3);
    let p = replace_image(&b, root.path(), &p, 4);
    sweep(&a);
    shows(&a, root.path(), &p["images"][0], 4);
    assert_eq!(verify_clean(&a)["backend"], "dir");
    verify_clean(&b);

    // A terminal on its own directory (the default, in its data directory) would show none of
    // these and sweep the shop's outbox against the wrong files: refused before it does anything.
    let c = terminal(&db.url, root.path(), "till-c", &[]);
    let refused = run(&c, &["product", "list"]);
    assert_error(&refused, 2, "bad_input");
    assert!(refused.json["message"]
        .as_str()
        .unwrap()
        .contains("not this shop's image directory"));
    // Nor may a directory of another shop be taken over, even an empty one named by a marker.
    let other = root.path().join("other-shop");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(
        other.join(stockdesk::images::storage::MARKER),
        "someone-else\n",
    )
    .unwrap();
    let d = terminal(
        &db.url,
        root.path(),
        "till-d",
        &[("STOCKDESK_BLOB_DIR", other.display().to_string())],
    );
    assert_error(&run(&d, &["product", "list"]), 2, "bad_input");
}

#[tokio::test]
async fn a_shop_moves_its_image_files_into_the_database_with_one_command() {
    let db = stockdesk_testkit::postgres().await;
    let root = tempfile::tempdir().unwrap();
    let shared = root.path().join("shop-images");
    let in_files = [
        ("STOCKDESK_BLOBS", "dir".to_string()),
        ("STOCKDESK_BLOB_DIR", shared.display().to_string()),
    ];
    let a = terminal(&db.url, root.path(), "till-a", &in_files);
    let p = add_image(&a, root.path(), &draft(&a), 5);
    let p = add_image(&a, root.path(), &p, 6);
    let q = add_image(&a, root.path(), &draft(&a), 7);

    let moved = ok(run(&a, &["blobs", "move-to-db"]));
    // Three pictures and the thumbnail made for each product.
    assert!(moved["moved"]["moved"].as_i64().unwrap() >= 3, "{moved}");
    assert_eq!(moved["verify"]["ok"], true, "{moved}");
    assert_eq!(moved["verify"]["backend"], "db", "{moved}");
    let left: Vec<_> = walk(&shared);
    assert!(
        left.is_empty(),
        "files left behind after the move: {left:?}"
    );

    // Every terminal now reads from the database, whatever its directory; the old setting in
    // the environment is refused with a hint instead of silently splitting the shop again.
    let b = terminal(&db.url, root.path(), "till-b", &[]);
    shows(&b, root.path(), &p["images"][0], 5);
    shows(&b, root.path(), &p["images"][1], 6);
    shows(&b, root.path(), &q["images"][0], 7);
    verify_clean(&b);
    assert_error(&run(&a, &["product", "list"]), 2, "bad_input");
    // Moving again has nothing to do.
    let again = ok(run(&b, &["blobs", "move-to-db"]));
    assert_eq!(again["moved"]["moved"], 0, "{again}");
}

#[tokio::test]
async fn image_get_of_an_unknown_image_is_not_found() {
    let db = stockdesk_testkit::sqlite().await;
    let root = tempfile::tempdir().unwrap();
    let a = terminal(&db.url, root.path(), "till-a", &[]);
    let out = root.path().join("x.png");
    let missing = run(
        &a,
        &[
            "image",
            "get",
            &uuid::Uuid::now_v7().to_string(),
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert_error(&missing, 4, "not_found");
    assert!(
        !out.exists(),
        "a file was written for an image that is not there"
    );
}

/// Every file under `dir`.
fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        if e.path().is_dir() {
            out.extend(walk(&e.path()));
        } else {
            out.push(e.path());
        }
    }
    out
}
