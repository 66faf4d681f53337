//! Crash safety of the real `stockdesk` process: a CLI killed (`abort`, as in a power cut) at
//! every step of the image write path leaves nothing that recovery and a sweep cannot fix, on
//! every combination of database and blob backend.

use serde_json::json;
use stockdesk::failpoint::POINTS;
use stockdesk::Store;
use stockdesk_testkit::all_stores;
use stockdesk_testkit::images::*;

all_stores!(
    killed_cli_processes_are_recovered,
    |db: TestDb| async move {
        let dir = db.data_dir.parent().unwrap().join("in");
        let backend = match db.sd.blob_store().backend() {
            BlobBackend::Dir => "dir",
            BlobBackend::Db => "db",
        };
        let cli = |args: &[&str], abort_at: Option<&str>| {
            let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_stockdesk"));
            c.args(args)
                .env("STOCKDESK_DB", &db.url)
                .env("STOCKDESK_DATA_DIR", &db.data_dir)
                .env("STOCKDESK_BLOBS", backend)
                .env_remove(stockdesk::failpoint::ABORT_ENV)
                .stdin(std::process::Stdio::null());
            if let Some(point) = abort_at {
                c.env(stockdesk::failpoint::ABORT_ENV, point);
            }
            c.output().unwrap()
        };
        let p = draft_product(&db.sd, "Killed").await;
        for (n, point) in POINTS
            .iter()
            .filter(|p| !p.starts_with("sweep"))
            .enumerate()
        {
            let current = db.sd.get_product(p.id).await.unwrap();
            let file = write(&dir, &format!("{n}.png"), &png(n as u32 + 10));
            let file = file.to_str().unwrap().to_string();
            let (pid, v) = (p.id.to_string(), current.version.to_string());
            // Outbox points are passed only when an edit drops a file: replace for those.
            let replace = n % 2 == 1 || point.starts_with("outbox");
            let args: Vec<String> = match current.images.first() {
                Some(img) if replace => {
                    let id = img.id.to_string();
                    [
                        "image",
                        "replace",
                        &pid,
                        &id,
                        "--expected-version",
                        &v,
                        &file,
                    ]
                    .map(String::from)
                    .to_vec()
                }
                _ => ["image", "add", &pid, "--expected-version", &v, &file]
                    .map(String::from)
                    .to_vec(),
            };
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let out = cli(&args, Some(point));
            let after = db.sd.get_product(p.id).await.unwrap();
            assert_eq!(out.status.code(), None, "{point}: not killed, {out:?}");
            let committed = after.version > current.version;
            let expect = matches!(
                *point,
                "commit.after_commit" | "outbox.before_delete" | "outbox.after_delete"
            );
            assert_eq!(committed, expect, "{point}");
            // Whatever the crash left, every file an image uses is there.
            let v = db.sd.blobs_verify().await.unwrap();
            assert!(
                v.missing.is_empty() && v.corrupt.is_empty(),
                "{point}: {v:#?}"
            );
        }
        // The CLI used the system clock; move the test clock past its uploads' limits.
        db.clock.set(chrono::Utc::now());
        recover_and_check(&db, &db.sd).await;
        let out = cli(&["blobs", "verify"], None);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );

        // Damage one referenced blob: verify says so and exits non-zero.
        let key = referenced(&db.sd).await.into_iter().next().unwrap();
        match db.sd.blob_store() {
            stockdesk::images::BlobStore::Dir(_) => {
                let path = db.data_dir.join("blobs").join(&key[..2]).join(&key[2..]);
                std::fs::write(path, b"bit rot").unwrap();
            }
            stockdesk::images::BlobStore::Db => {
                let sql = "UPDATE blobs SET data = $1 WHERE key = $2";
                match db.sd.store() {
                    Store::Sqlite(p) => {
                        let q = sqlx::query(sql).bind(&b"bit rot"[..]).bind(&key);
                        q.execute(p).await.unwrap().rows_affected()
                    }
                    Store::Postgres(p) => {
                        let q = sqlx::query(sql).bind(&b"bit rot"[..]).bind(&key);
                        q.execute(p).await.unwrap().rows_affected()
                    }
                };
            }
        }
        let out = cli(&["blobs", "verify"], None);
        assert_eq!(out.status.code(), Some(1));
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["code"], "blobs_inconsistent");
        assert_eq!(report["details"]["corrupt"], json!([key]));
    }
);
