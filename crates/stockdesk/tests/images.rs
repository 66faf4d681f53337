//! Product images on every combination of database (SQLite, Postgres) and blob backend
//! (directory, database): adding, replacing, deleting and deduplicating files, refusing bad
//! files, staged uploads across conflicts and expiry, and crash safety: a failure injected at
//! every step of the write path, a randomised run of injected failures, and killed CLI
//! processes — each followed by recovery and a sweep, after which `blobs_verify` must be clean.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use chrono::TimeDelta;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;
use stockdesk::catalog::*;
use stockdesk::failpoint::POINTS;
use stockdesk::{Error, Failpoints, Stockdesk};
use stockdesk_testkit::images::*;
use stockdesk_testkit::{all_stores, count, dump};
use uuid::Uuid;

// ---------------------------------------------------------------------------------------------
// Fixtures

fn req(p: Uuid, version: i64, patch: serde_json::Value) -> PatchRequest {
    PatchRequest {
        product_id: p,
        expected_version: version,
        patch: serde_json::from_value(patch).unwrap(),
        op_id: None,
    }
}

// ---------------------------------------------------------------------------------------------
// Behaviour

all_stores!(add_replace_delete_and_dedup, |db: TestDb| async move {
    let sd = &db.sd;
    let p = draft_product(sd, "Mug").await;
    let dir = db.data_dir.parent().unwrap().join("in");
    let a = write(&dir, "a.png", &png(1));
    let a2 = write(&dir, "same-as-a.PNG", &png(1));

    let out = sd.add_images(p.id, 1, &[a.clone(), a2]).await.unwrap();
    let imgs = &out.product.images;
    assert_eq!(out.product.version, 2);
    assert_eq!(imgs.len(), 2);
    assert_eq!(imgs[0].blob_key, imgs[1].blob_key, "same bytes, one blob");
    assert_eq!(imgs[0].blob_key, stockdesk::images::key_of(&png(1)));
    assert!(imgs[0].is_thumbnail && !imgs[1].is_thumbnail);
    assert_eq!((imgs[0].position, imgs[1].position), (0, 1));
    let thumb = sd
        .image_file(imgs[0].thumb_key.as_deref().unwrap())
        .await
        .unwrap();
    assert_eq!(thumb.content_type, "image/jpeg");
    let full = sd.image_file(&imgs[0].blob_key).await.unwrap();
    assert_eq!(
        (full.content_type.as_str(), full.bytes),
        ("image/png", png(1))
    );
    assert_eq!(count(sd, "staged_blobs").await, 0, "claimed by the commit");
    assert_eq!(
        sd.blobs_verify().await.unwrap().stored,
        2,
        "image + thumbnail"
    );

    // Deleting one of the two keeps the shared blob.
    let out = sd
        .patch_product(req(p.id, 2, json!({"images": {"delete": [imgs[1].id]}})))
        .await
        .unwrap();
    assert_eq!(out.product.images.len(), 1);
    let v = sd.blobs_verify().await.unwrap();
    assert!(v.ok && v.stored == 2 && v.pending_deletions == 0, "{v:#?}");

    // Replacing the file: the old blob goes as soon as nothing uses it.
    let b = write(
        &dir,
        "b.jpg",
        &encode(
            image::DynamicImage::ImageRgb8(image::RgbImage::from_pixel(
                64,
                48,
                image::Rgb([10, 200, 30]),
            )),
            image::ImageFormat::Jpeg,
        ),
    );
    let img = out.product.images[0].id;
    let out = sd.replace_image_file(p.id, 3, img, &b).await.unwrap();
    let new = &out.product.images[0];
    assert_eq!(new.id, img);
    assert_ne!(new.blob_key, imgs[0].blob_key);
    assert!(new.is_thumbnail);
    let v = sd.blobs_verify().await.unwrap();
    assert!(v.ok && v.stored == 2, "{v:#?}");
    assert!(matches!(
        sd.image_file(&imgs[0].blob_key).await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        sd.image_file("../../etc/passwd").await,
        Err(Error::NotFound { .. })
    ));

    // History knows which file each version had.
    let v2 = sd.product_version(p.id, 2).await.unwrap();
    assert_eq!(v2.images[0].blob_key, imgs[0].blob_key);

    // Deleting the last image deletes its files.
    sd.patch_product(req(p.id, 4, json!({"images": {"delete": [img]}})))
        .await
        .unwrap();
    let v = sd.blobs_verify().await.unwrap();
    assert!(v.ok && v.stored == 0 && v.referenced == 0, "{v:#?}");
    recover_and_check(&db, sd).await;
});

all_stores!(
    bad_files_are_refused_and_nothing_is_stored,
    |db: TestDb| async move {
        let sd = &db.sd;
        let p = draft_product(sd, "Vase").await;
        let before = dump(sd).await;
        let dir = db.data_dir.parent().unwrap().join("in");
        let good = png(3);
        let gif = encode(
            image::DynamicImage::ImageRgba8(image::RgbaImage::from_pixel(
                4,
                4,
                image::Rgba([1, 2, 3, 255]),
            )),
            image::ImageFormat::Gif,
        );
        let mut huge_gif = gif.clone();
        huge_gif[6..10].copy_from_slice(&[0xff, 0xff, 0xff, 0xff]); // logical screen 65535×65535
        let cases: Vec<(&str, Vec<u8>, &str)> = vec![
            (
                "truncated.png",
                good[..good.len() / 2].to_vec(),
                "not a readable PNG",
            ),
            (
                "photo.jpg",
                good.clone(),
                "is a PNG image but its name ends in .jpg",
            ),
            (
                "archive.png",
                b"PK\x03\x04\x14\x00\x00\x00\x08\x00zip file".to_vec(),
                "not a JPEG",
            ),
            ("empty.png", Vec::new(), "empty"),
            ("huge.png", huge_png(100_000, 100_000), "too large"),
            ("huge.gif", huge_gif, "too large"),
            ("notes.txt", b"hello".to_vec(), "extension"),
            ("image.bmp", good.clone(), "extension"),
        ];
        for (name, bytes, reason) in cases {
            let path = write(&dir, name, &bytes);
            for result in [
                sd.add_images(p.id, 1, std::slice::from_ref(&path))
                    .await
                    .map(|_| ()),
                sd.stage_image_file(&path).await.map(|_| ()),
            ] {
                match result {
                    Err(Error::Validation(errs)) => {
                        assert_eq!(errs[0].field, "file");
                        assert!(
                            errs[0].reason.contains(reason),
                            "{name}: {}",
                            errs[0].reason
                        );
                    }
                    other => panic!("{name}: expected a validation error, got {other:?}"),
                }
            }
        }
        // Too many bytes is refused before reading.
        let big = write(&dir, "big.png", &vec![0u8; 20 * 1024 * 1024 + 1]);
        assert!(matches!(
            sd.stage_image_file(&big).await,
            Err(Error::Validation(_))
        ));
        // One bad file among good ones: nothing is stored.
        let ok = write(&dir, "ok.png", &good);
        let bad = write(&dir, "bad.png", b"");
        assert!(matches!(
            sd.add_images(p.id, 1, &[ok, bad]).await,
            Err(Error::Validation(_))
        ));

        assert_eq!(dump(sd).await, before);
        assert!(files(&db).is_empty());
        assert_eq!(count(sd, "blobs").await, 0);
        assert_eq!(count(sd, "staged_blobs").await, 0);
    }
);

all_stores!(
    conflicts_keep_uploads_until_they_expire,
    |db: TestDb| async move {
        let sd = &db.sd;
        let p = draft_product(sd, "Bowl").await;
        let first = sd.stage_image_bytes(png(1)).await.unwrap();
        let out = sd
            .patch_product(req(
                p.id,
                1,
                json!({"images": {"create": [{"staged": first.id}]}}),
            ))
            .await
            .unwrap();
        let img = out.product.images[0].id;

        // Two editors replace the same image's file from version 2: the second one clashes.
        let mine = sd.stage_image_bytes(png(2)).await.unwrap();
        let theirs = sd.stage_image_bytes(png(3)).await.unwrap();
        sd.patch_product(req(
            p.id,
            2,
            json!({"images": {"update": [{"id": img, "staged": theirs.id}]}}),
        ))
        .await
        .unwrap();
        let add = sd.stage_image_bytes(png(4)).await.unwrap();
        let stale = json!({"name": "Big Bowl", "images": {
        "update": [{"id": img, "staged": mine.id}], "create": [{"staged": add.id, "alt": "side"}]}});
        let Err(Error::Conflict(report)) = sd.patch_product(req(p.id, 2, stale)).await else {
            panic!("expected a conflict")
        };
        assert_eq!(report.conflicts[0].path, format!("images.{img}.blob_key"));
        assert_eq!(report.conflicts[0].mine, json!(mine.blob_key));
        assert_eq!(report.conflicts[0].theirs, json!(theirs.blob_key));
        // The uploads stay for the resubmission, which keeps theirs and adds the new image.
        assert_eq!(count(sd, "staged_blobs").await, 2);
        let resubmit =
            json!({"name": "Big Bowl", "images": {"create": [{"staged": add.id, "alt": "side"}]}});
        let out = sd.patch_product(req(p.id, 3, resubmit)).await.unwrap();
        assert_eq!(out.product.images.len(), 2);
        assert_eq!(out.product.images[0].blob_key, theirs.blob_key);
        assert_eq!(out.product.images[1].alt, "side");

        // `mine` was never used: it expires, its blobs go, and it can no longer be claimed.
        assert_eq!(count(sd, "staged_blobs").await, 1);
        db.clock.advance(TimeDelta::hours(25));
        let late = json!({"images": {"update": [{"id": img, "staged": mine.id}]}});
        match sd.patch_product(req(p.id, 4, late.clone())).await {
            Err(Error::Validation(e)) => assert_eq!(e[0].field, format!("images.{img}.staged")),
            other => panic!("expected validation, got {other:?}"),
        }
        let gc = sd.blobs_gc().await.unwrap();
        assert_eq!(gc.expired_uploads, 1);
        assert_eq!(gc.outbox.deleted, 2, "{gc:?}");
        assert!(matches!(
            sd.patch_product(req(p.id, 4, late)).await,
            Err(Error::Validation(_))
        ));
        let unknown = json!({"images": {"create": [{"staged": Uuid::now_v7()}]}});
        assert!(matches!(
            sd.patch_product(req(p.id, 4, unknown)).await,
            Err(Error::Validation(_))
        ));
        recover_and_check(&db, sd).await;
    }
);

all_stores!(
    failed_deletions_are_recorded_and_retried,
    |db: TestDb| async move {
        let p = draft_product(&db.sd, "Plate").await;
        let s = db.sd.stage_image_bytes(png(1)).await.unwrap();
        let out = db
            .sd
            .patch_product(req(
                p.id,
                1,
                json!({"images": {"create": [{"staged": s.id}]}}),
            ))
            .await
            .unwrap();
        let broken = Arc::new(AtomicBool::new(true));
        let b = broken.clone();
        let sd = db.sd.clone().with_failpoints(Failpoints::new(move |name| {
            name == "outbox.before_delete" && b.load(Ordering::SeqCst)
        }));
        let img = out.product.images[0].id;
        sd.patch_product(req(p.id, 2, json!({"images": {"delete": [img]}})))
            .await
            .unwrap();
        // The edit committed; both deletions failed three times and wait for the sweeper.
        assert_eq!(sd.failing_blob_deletions().await.unwrap(), 2);
        let v = sd.blobs_verify().await.unwrap();
        assert!(
            v.ok && v.failing_deletions == 2 && v.unreferenced_recent == 2,
            "{v:#?}"
        );
        // Not due yet (backoff), then due and still failing, then the disk is back.
        assert_eq!(sd.blobs_gc().await.unwrap().outbox.failed, 0);
        db.clock.advance(TimeDelta::minutes(30));
        let run = sd.sweep_once().await.unwrap();
        let outbox = run.jobs.iter().find(|j| j.job == "blob_outbox").unwrap();
        assert_eq!(outbox.counts["deletions_failed"], 2, "{run:?}");
        assert_eq!(sd.sweeper_health().await.unwrap().failing_blob_deletions, 2);
        broken.store(false, Ordering::SeqCst);
        db.clock.advance(TimeDelta::hours(2));
        let gc = sd.blobs_gc().await.unwrap();
        assert_eq!((gc.outbox.deleted, gc.failing_deletions), (2, 0), "{gc:?}");
        assert_eq!(sd.sweeper_health().await.unwrap().failing_blob_deletions, 0);
        recover_and_check(&db, &sd).await;
    }
);

// ---------------------------------------------------------------------------------------------
// Crash safety

/// One random step of a shop's image work, against the product `p`.
async fn random_step(sd: &Stockdesk, rng: &mut ChaCha8Rng, p: Uuid) {
    let Ok(current) = sd.get_product(p).await else {
        return;
    };
    let v = current.version;
    // A small pool of images, so the same bytes are often shared and re-uploaded.
    let bytes = png(rng.random_range(0..6));
    let _ = match rng.random_range(0..6) {
        0 | 1 => match sd.stage_image_bytes(bytes).await {
            Ok(s) => sd
                .patch_product(req(p, v, json!({"images": {"create": [{"staged": s.id}]}})))
                .await
                .map(|_| ()),
            Err(e) => Err(e),
        },
        2 if !current.images.is_empty() => {
            let img = &current.images[rng.random_range(0..current.images.len())];
            match sd.stage_image_bytes(bytes).await {
                Ok(s) => sd
                    .patch_product(req(
                        p,
                        v,
                        json!({"images": {"update": [{"id": img.id, "staged": s.id}]}}),
                    ))
                    .await
                    .map(|_| ()),
                Err(e) => Err(e),
            }
        }
        3 if !current.images.is_empty() => {
            let img = &current.images[rng.random_range(0..current.images.len())];
            sd.patch_product(req(p, v, json!({"images": {"delete": [img.id]}})))
                .await
                .map(|_| ())
        }
        // An upload whose edit never comes (the app closed, the dialog was cancelled).
        4 => sd.stage_image_bytes(bytes).await.map(|_| ()),
        _ => sd.blobs_gc().await.map(|_| ()),
    };
}

all_stores!(
    a_failure_at_every_step_is_recovered,
    |db: TestDb| async move {
        for point in POINTS {
            let p = draft_product(&db.sd, &format!("Point {point}")).await;
            let fired = Arc::new(AtomicBool::new(false));
            let f = fired.clone();
            let sd = db.sd.clone().with_failpoints(Failpoints::new(move |name| {
                name == *point && !f.swap(true, Ordering::SeqCst)
            }));
            let mut rng = ChaCha8Rng::seed_from_u64(7);
            // Enough steps that every point is passed: adds, replaces, deletes, abandoned uploads.
            let mut steps = 0;
            while !fired.load(Ordering::SeqCst) {
                random_step(&sd, &mut rng, p.id).await;
                if steps % 3 == 0 {
                    db.clock.advance(TimeDelta::hours(25));
                }
                steps += 1;
                assert!(steps < 200, "failpoint {point} was never reached");
            }
            let missing = db.sd.blobs_verify().await.unwrap().missing;
            assert!(missing.is_empty(), "{point}: {missing:#?}");
            recover_and_check(&db, &db.sd).await;
        }
    }
);

/// Steps per combination. Each failpoint a step passes fails with probability 1/5, so most
/// steps that write anything fail somewhere; the four combinations inject well over 1,000
/// failures in all (each asserts at least a quarter of that) and every failpoint fires.
const RANDOM_STEPS: usize = 400;
const MIN_INJECTED: usize = 250;

all_stores!(
    randomised_failures_never_orphan_or_lose_a_file,
    |db: TestDb| async move {
        let rng = Arc::new(Mutex::new(ChaCha8Rng::seed_from_u64(20261123)));
        let hit = Arc::new(Mutex::new(Vec::<String>::new()));
        let (r, h) = (rng.clone(), hit.clone());
        let sd = db.sd.clone().with_failpoints(Failpoints::new(move |name| {
            let fail = r.lock().unwrap().random_range(0..5) == 0;
            if fail {
                h.lock().unwrap().push(name.to_string());
            }
            fail
        }));
        let products = [
            draft_product(&db.sd, "Alpha").await.id,
            draft_product(&db.sd, "Beta").await.id,
        ];
        let mut step_rng = ChaCha8Rng::seed_from_u64(99);
        for step in 0..RANDOM_STEPS {
            let p = products[step % 2];
            random_step(&sd, &mut step_rng, p).await;
            if step % 10 == 0 {
                db.clock
                    .advance(TimeDelta::minutes(step_rng.random_range(1..600)));
            }
            if step % 25 == 0 {
                // Never lost: whatever failed, every file an image row uses is there.
                let v = db.sd.blobs_verify().await.unwrap();
                assert!(
                    v.missing.is_empty() && v.corrupt.is_empty(),
                    "step {step}: {v:#?}"
                );
            }
        }
        let hit = hit.lock().unwrap().clone();
        let points: BTreeSet<&str> = hit.iter().map(String::as_str).collect();
        eprintln!(
            "{} failures injected in {RANDOM_STEPS} steps at {points:?}",
            hit.len()
        );
        assert!(
            hit.len() >= MIN_INJECTED,
            "only {} failures injected",
            hit.len()
        );
        assert_eq!(points.len(), POINTS.len(), "not every failpoint fired");
        recover_and_check(&db, &db.sd).await;
    }
);

all_stores!(
    concurrent_uploads_and_deletions_of_the_same_bytes,
    |db: TestDb| async move {
        // Several tills add and delete images with the same few files at once: a deletion of a blob
        // races new uploads of the same bytes. No file an image uses may ever go missing.
        let mut tasks = Vec::new();
        for t in 0..3 {
            let sd = db.sd.clone();
            let p = draft_product(&sd, &format!("Till {t}")).await.id;
            tasks.push(tokio::spawn(async move {
                for round in 0..25u32 {
                    let s = sd.stage_image_bytes(png(round % 2)).await.unwrap();
                    let v = sd.get_product(p).await.unwrap().version;
                    let out = sd
                        .patch_product(req(p, v, json!({"images": {"create": [{"staged": s.id}]}})))
                        .await
                        .unwrap();
                    for img in &out.product.images {
                        sd.image_file(&img.blob_key).await.unwrap();
                        sd.image_file(img.thumb_key.as_deref().unwrap())
                            .await
                            .unwrap();
                    }
                    let img = out.product.images[0].id;
                    sd.patch_product(req(
                        p,
                        out.product.version,
                        json!({"images": {"delete": [img]}}),
                    ))
                    .await
                    .unwrap();
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let v = db.sd.blobs_verify().await.unwrap();
        assert!(v.ok && v.pending_deletions == 0, "{v:#?}");
        recover_and_check(&db, &db.sd).await;
    }
);

/// A PNG header declaring `w`×`h` pixels (with a valid CRC, so only the size check refuses it).
fn huge_png(w: u32, h: u32) -> Vec<u8> {
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    out.extend_from_slice(&13u32.to_be_bytes());
    out.extend_from_slice(&ihdr);
    out.extend_from_slice(&crc32(&ihdr).to_be_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(b"IEND");
    out.extend_from_slice(&crc32(b"IEND").to_be_bytes());
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A shop that kept files in a directory before the shop-wide setting existed stays on them
/// (the first terminal to start records `dir`), rather than switching to an empty database
/// store and showing none of its images.
#[tokio::test]
async fn a_shop_with_files_from_before_the_setting_keeps_them() {
    let db = stockdesk_testkit::postgres().await;
    let _dir = db.keep_alive();
    let sd = db.sd.clone().with_blob_backend(stockdesk::BlobBackend::Dir);
    let p = draft_product(&sd, "Old shop").await;
    let file = write(&db.data_dir.join("in"), "old.png", &png(1));
    sd.add_images(p.id, 1, &[file]).await.unwrap();

    let later = db.sd.clone().settle_blobs(None, None).await.unwrap();
    assert_eq!(later.blob_store().backend(), stockdesk::BlobBackend::Dir);
    assert!(later.blobs_verify().await.unwrap().ok);
    // A fresh shop on Postgres keeps them in the database.
    let fresh = stockdesk_testkit::postgres().await;
    let fresh_sd = fresh.sd.clone().settle_blobs(None, None).await.unwrap();
    assert_eq!(fresh_sd.blob_store().backend(), stockdesk::BlobBackend::Db);
    stockdesk_testkit::drop_postgres(&db.url).await;
    stockdesk_testkit::drop_postgres(&fresh.url).await;
}

/// A terminal left running through `blobs move-to-db` by another still shows every image (from
/// the database once the files are gone) and refuses to stage a file into the old directory.
#[tokio::test]
async fn a_terminal_running_through_a_move_to_the_database_keeps_showing_images() {
    let db = stockdesk_testkit::postgres().await;
    let _dir = db.keep_alive();
    let shared = db.data_dir.join("shared");
    let dir = Some(stockdesk::BlobBackend::Dir);
    let running = db
        .sd
        .clone()
        .settle_blobs(dir, Some(shared.clone()))
        .await
        .unwrap();
    let p = draft_product(&running, "Moved").await;
    let file = write(&db.data_dir.join("in"), "a.png", &png(1));
    let p = running.add_images(p.id, 1, &[file]).await.unwrap().product;
    let key = p.images[0].blob_key.clone();

    let mut mover = db.sd.clone().settle_blobs(dir, Some(shared)).await.unwrap();
    let report = mover.move_images_to_db().await.unwrap();
    assert!(report.moved >= 2 && report.files_removed >= 2, "{report:?}");

    assert_eq!(running.image_file(&key).await.unwrap().bytes, png(1));
    assert_eq!(
        running.image_of(p.images[0].id).await.unwrap().bytes,
        png(1)
    );
    match running.stage_image_bytes(png(2)).await {
        Err(Error::BadInput(m)) => assert!(m.contains("restart"), "{m}"),
        other => panic!("staged into the old directory: {other:?}"),
    }
    assert!(mover.blobs_verify().await.unwrap().ok);
    stockdesk_testkit::drop_postgres(&db.url).await;
}
