//! Backups and restores, on both backends: a backup taken while many orders are being made
//! restores into a fresh shop that `check` and `blobs verify` find clean; a damaged file, or a
//! replica with commands it has not sent, is refused before anything changes; the app's rolling
//! backups keep one a day, the newest seven.

use std::path::Path;

use stockdesk::backup::{pending_commands, rolling};
use stockdesk::catalog::seed::SeedOptions;
use stockdesk::error::ErrorCode;
use stockdesk::model::{BackupProblem, DatabaseKind};
use stockdesk::{Backend, Error, Stockdesk};
use stockdesk_testkit::{both_backends, count, dump, execute, order_of, stocked, TestDb};

/// A fresh shop of the same kind as `db`'s.
async fn fresh(db: &TestDb) -> TestDb {
    match db.sd.backend() {
        Backend::Sqlite => stockdesk_testkit::sqlite().await,
        Backend::Postgres => stockdesk_testkit::postgres().await,
    }
}

fn problem(e: Error) -> BackupProblem {
    match e {
        Error::Backup { problem, .. } => problem,
        other => panic!("not a backup error: {other:?}"),
    }
}

both_backends!(
    a_backup_during_an_order_stampede_restores_clean,
    |db: TestDb| async move {
        let sd = db.sd.clone();
        sd.seed(SeedOptions {
            products: 20,
            seed: 1,
        })
        .await
        .unwrap();
        let hot = stocked(&sd, "hot", &[1_000]).await[0];
        let file = db.data_dir.join("backups").join("shop.tar");

        // Many buyers at once while the backup runs: the shop keeps working.
        let buyers: Vec<_> = (0..120)
            .map(|_| {
                let sd = sd.clone();
                tokio::spawn(async move { sd.create_order(order_of(&[(hot, 1)]), None).await })
            })
            .collect();
        let report = sd.backup(&db.url, &file).await.unwrap();
        let mut sold = 0;
        for b in buyers {
            b.await.unwrap().unwrap();
            sold += 1;
        }
        assert_eq!(sold, 120);
        let m = &report.manifest;
        assert_eq!(m.format, "stockdesk-backup");
        assert_eq!(m.products, 21);
        assert!(m.orders <= 120);
        assert!(m.images > 0);
        let kind = match sd.backend() {
            Backend::Sqlite => DatabaseKind::Sqlite,
            Backend::Postgres => DatabaseKind::Postgres,
        };
        assert_eq!(m.backend, kind);
        assert!(
            m.entries.iter().any(|e| e.path.starts_with("blobs/")),
            "the image files are in it"
        );
        assert_eq!(report.size, std::fs::metadata(&file).unwrap().len() as i64);
        assert_eq!(sd.inspect_backup(&file).await.unwrap(), report.manifest);

        // Restored into a fresh shop: clean, and holding what the backup says.
        let other = fresh(&db).await;
        let restored = other.sd.restore(&other.url, &file).await.unwrap();
        assert!(restored.check.is_empty(), "{:?}", restored.check);
        assert!(restored.blobs.ok, "{:?}", restored.blobs);
        assert!(restored.blobs_restored > 0);
        assert_eq!(count(&other.sd, "products").await, m.products);
        assert_eq!(count(&other.sd, "orders").await, m.orders);
        let level = other.sd.stock_level(hot).await.unwrap();
        assert_eq!(
            level.reserved, m.orders,
            "each order in the copy holds its unit"
        );
        // The images show in the restored shop.
        let reopened: Stockdesk = other
            .sd
            .clone()
            .with_data_dir(other.data_dir.clone())
            .settle_blobs(None, None)
            .await
            .unwrap();
        let page = reopened.list_products(Default::default()).await.unwrap();
        let with_image = futures_first_image(&reopened, &page).await;
        assert!(reopened.image_file(&with_image).await.is_ok());
        if other.sd.backend() == Backend::Postgres {
            stockdesk_testkit::drop_postgres(&other.url).await;
        }
    }
);

async fn futures_first_image(sd: &Stockdesk, page: &stockdesk::catalog::ProductPage) -> String {
    for p in &page.items {
        let product = sd.get_product(p.id).await.unwrap();
        if let Some(i) = product.images.first() {
            return i.blob_key.clone();
        }
    }
    panic!("no product has an image")
}

both_backends!(
    a_damaged_backup_is_refused_before_anything_changes,
    |db: TestDb| async move {
        let sd = db.sd.clone();
        stocked(&sd, "cup", &[5]).await;
        let dir = db.data_dir.join("backups");
        let file = dir.join("shop.tar");
        sd.backup(&db.url, &file).await.unwrap();
        let before = dump(&sd).await;

        // One byte changed in the database copy: its checksum no longer matches.
        let mut bytes = std::fs::read(&file).unwrap();
        let at = bytes.len() / 2;
        bytes[at] ^= 0x5a;
        let flipped = dir.join("flipped.tar");
        std::fs::write(&flipped, &bytes).unwrap();
        let err = sd.restore(&db.url, &flipped).await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::Backup);
        assert!(matches!(problem(err), BackupProblem::Damaged { .. }));

        // Cut short, and not a backup at all.
        let cut = dir.join("cut.tar");
        std::fs::write(&cut, &std::fs::read(&file).unwrap()[..2048]).unwrap();
        assert!(matches!(
            problem(sd.restore(&db.url, &cut).await.unwrap_err()),
            BackupProblem::Damaged { .. }
        ));
        let junk = dir.join("junk.tar");
        std::fs::write(&junk, b"Handle,Title\nmug,Mug\n").unwrap();
        assert!(matches!(
            problem(sd.restore(&db.url, &junk).await.unwrap_err()),
            BackupProblem::Damaged { .. }
        ));
        assert_eq!(dump(&sd).await, before, "a refused restore changes nothing");
        assert!(std::fs::read_dir(&dir).unwrap().all(|e| !e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .contains(".work-")));
    }
);

both_backends!(
    a_replica_with_unsent_commands_is_not_restored_over,
    |db: TestDb| async move {
        let sd = db.sd.clone();
        stocked(&sd, "cup", &[5]).await;
        let file = db.data_dir.join("shop.tar");
        sd.backup(&db.url, &file).await.unwrap();
        assert_eq!(pending_commands(sd.ctx()).await.unwrap(), 0);
        let op = uuid::Uuid::now_v7();
        let insert = match sd.backend() {
            Backend::Sqlite => format!(
                "INSERT INTO sync_outbox (seq, op_id, kind, command, status, made_at) VALUES \
             (1, X'{}', 'receive_stock', '{{}}', 'pending', '2026-12-03T09:00:00Z')",
                op.simple()
            ),
            Backend::Postgres => format!(
                "INSERT INTO sync_outbox (seq, op_id, kind, command, status, made_at) VALUES \
             (1, '{op}', 'receive_stock', '{{}}', 'pending', now())"
            ),
        };
        execute(&sd, &insert).await;
        assert_eq!(pending_commands(sd.ctx()).await.unwrap(), 1);
        let before = dump(&sd).await;
        let err = sd.restore(&db.url, &file).await.unwrap_err();
        assert_eq!(problem(err), BackupProblem::UnsyncedCommands { pending: 1 });
        assert_eq!(dump(&sd).await, before);
        // Decided commands are no reason to refuse.
        execute(&sd, "UPDATE sync_outbox SET status = 'applied'").await;
        assert_eq!(pending_commands(sd.ctx()).await.unwrap(), 0);
        let restored = sd.restore(&db.url, &file).await.unwrap();
        assert!(restored.check.is_empty() && restored.blobs.ok);
    }
);

both_backends!(
    rolling_backups_keep_one_a_day_the_newest_seven,
    |db: TestDb| async move {
        let sd = db.sd.clone();
        stocked(&sd, "cup", &[5]).await;
        let dir = rolling::dir_of(&db.data_dir);
        let first = sd.rolling_backup(&db.url).await.unwrap();
        assert!(first.is_some(), "none yet: one is made");
        assert!(
            sd.rolling_backup(&db.url).await.unwrap().is_none(),
            "one a day"
        );
        let status = sd.backup_status().unwrap();
        assert_eq!(status.count, 1);
        assert_eq!(
            status
                .last
                .as_ref()
                .map(|l| Path::new(&l.file).to_path_buf()),
            first.map(|r| Path::new(&r.file).to_path_buf())
        );
        assert!(status.last_error.is_none());
        // Eight older ones: the next run keeps the newest seven (its own among them).
        let newest = std::fs::read_dir(&dir)
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        std::fs::remove_file(&newest).unwrap();
        for day in 1..=8 {
            let name = format!("stockdesk-202611{:02}-090000.tar", day);
            std::fs::write(dir.join(name), b"old").unwrap();
        }
        assert!(sd.rolling_backup(&db.url).await.unwrap().is_some());
        let status = sd.backup_status().unwrap();
        assert_eq!(status.count, 7);
        assert!(
            !dir.join("stockdesk-20261102-090000.tar").exists(),
            "the oldest went"
        );
    }
);
