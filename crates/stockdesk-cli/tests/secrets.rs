//! A password in a database URL never appears in the CLI's output or its logs (at the most
//! verbose level), whether the URL is wrong, its database missing, its server unreachable, or it
//! works; passwords in the user info (also containing `@`) and in `?password=` alike. A server
//! that does not answer is the typed `unreachable` (exit 6), told apart from one that refused.

use std::process::{Command, Stdio};

const SECRET: &str = "hunt@er2";

/// Runs `stockdesk --db URL category list` with trace logging; returns (exit code, stdout,
/// stdout and stderr together).
fn run(url: &str, data_dir: &std::path::Path) -> (i32, serde_json::Value, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_stockdesk"))
        .args(["--db", url, "category", "list"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("STOCKDESK_DATA_DIR", data_dir)
        .env("STOCKDESK_LOG", "trace")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let all = format!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    let json = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {all}"));
    (out.status.code().unwrap(), json, all)
}

fn assert_hidden(all: &str, url: &str) {
    for part in [SECRET, "er2@", "hunt@"] {
        assert!(!all.contains(part), "the password of {url} showed:\n{all}");
    }
}

#[tokio::test]
async fn a_database_password_never_shows() {
    let dir = tempfile::tempdir().unwrap();
    let db = stockdesk_testkit::postgres().await;
    // postgres://USER@HOST:PORT/NAME, given again with a password (trust auth ignores it).
    let (scheme_user, host_db) = db.url.split_once('@').unwrap();
    let (host, name) = host_db.split_once('/').unwrap();
    let working = format!("{scheme_user}:{SECRET}@{host}/{name}");
    let cases = [
        // A typo in the scheme.
        (
            format!("postgress://shop:{SECRET}@db.local/shop"),
            2,
            "bad_input",
        ),
        // A server that answers and says no.
        (
            format!("{scheme_user}:{SECRET}@{host}/no_such_shop"),
            2,
            "bad_input",
        ),
        (
            format!("{scheme_user}@{host}/no_such_shop?password={SECRET}"),
            2,
            "bad_input",
        ),
        // No server at all (nothing listens on port 1).
        (
            format!("postgres://shop:{SECRET}@127.0.0.1:1/shop"),
            6,
            "unreachable",
        ),
        (working.clone(), 0, ""),
    ];
    for (url, exit, code) in cases {
        let (got, json, all) = run(&url, dir.path());
        assert_eq!(got, exit, "{url}: {all}");
        if !code.is_empty() {
            assert_eq!(json["code"], code, "{url}: {json}");
            assert!(
                json["message"].as_str().unwrap().contains("***"),
                "the message should name the database, password hidden: {json}"
            );
        }
        assert_hidden(&all, &url);
    }
    stockdesk_testkit::drop_postgres(&db.url).await;
}
