//! Where a shop keeps its image bytes is the shop's setting, kept in its database, not each
//! terminal's: on a shared Postgres every terminal reads and deletes the same blobs, so a
//! terminal with a private directory would show nothing of the others' images and, sweeping,
//! would drop their files from the registry. The first terminal decides (the database backend on
//! Postgres, the data directory on SQLite, or what it is told); every later one must agree. The
//! directory backend then names one directory: a marker file in it carries the shop's id for
//! it, and a terminal pointed at another directory is refused.

use std::path::Path;

use uuid::Uuid;

use super::blobs::DirBlobs;
use super::{blob_store, repo, BlobStore};
use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::model::{BlobBackend, MoveReport};
use crate::store::{with_retry, Backend};

/// The marker file in a shop's image directory.
pub const MARKER: &str = ".stockdesk-shop";

const BACKEND_KEY: &str = "blob_backend";
const DIR_ID_KEY: &str = "blob_dir_id";

/// Takes the shop's setting into `ctx` (recording it if this is the first terminal), refusing a
/// terminal that asks for another backend (`wanted`) or points at another directory.
pub async fn settle(ctx: &mut Ctx, wanted: Option<BlobBackend>) -> Result<()> {
    let backend = with_retry(|| async {
        let mut tx = ctx.store.write().await?;
        let result = async {
            if let Some(value) = repo::setting(&mut tx, BACKEND_KEY).await? {
                return parse(&value);
            }
            // A shop from before this setting whose files are in a directory stays there.
            let in_files = repo::blobs_kept_in_files(&mut tx).await?;
            let backend = wanted.unwrap_or(match ctx.store.backend() {
                Backend::Postgres if !in_files => BlobBackend::Db,
                _ => BlobBackend::Dir,
            });
            parse(&repo::first_setting(&mut tx, BACKEND_KEY, name(backend)).await?)
        }
        .await;
        tx.finish(result).await
    })
    .await?;
    if let Some(wanted) = wanted.filter(|w| *w != backend) {
        return Err(Error::BadInput(format!(
            "this shop keeps its images {}; this terminal was set to keep them {} \
             (leave --blobs / STOCKDESK_BLOBS unset{})",
            place(backend),
            place(wanted),
            if backend == BlobBackend::Dir {
                ", or move them with `stockdesk blobs move-to-db`"
            } else {
                ""
            }
        )));
    }
    ctx.blob_backend = backend;
    if backend == BlobBackend::Dir {
        claim_dir(ctx).await?;
    }
    Ok(())
}

/// After a restore from backup, the database says where the shop's images are and which
/// directory is its own: the image directory's marker is rewritten to match, and `ctx` takes
/// the restored setting. (The files in the directory are the restore's to write.)
pub async fn adopt_restored(ctx: &mut Ctx) -> Result<()> {
    let (backend, dir_id) = {
        let mut tx = ctx.store.read().await?;
        (
            repo::setting(&mut tx, BACKEND_KEY).await?,
            repo::setting(&mut tx, DIR_ID_KEY).await?,
        )
    };
    if let Some(id) = dir_id {
        write_marker(&ctx.blob_dir().join(MARKER), &id)?;
    }
    if let Some(backend) = backend {
        ctx.blob_backend = parse(&backend)?;
    }
    settle(ctx, None).await
}

/// The directory backend's check that this terminal's directory is the shop's one.
async fn claim_dir(ctx: &Ctx) -> Result<()> {
    let dir = ctx.blob_dir();
    let marker = dir.join(MARKER);
    let found = read_marker(&marker)?;
    let id = with_retry(|| async {
        let mut tx = ctx.store.write().await?;
        let result = async {
            if let Some(id) = repo::setting(&mut tx, DIR_ID_KEY).await? {
                return Ok(id);
            }
            // The marker goes down before the setting commits, so a crash between the two
            // leaves a marker and no setting: an otherwise empty directory is then adopted,
            // while one holding another shop's images is not.
            let id = match &found {
                Some(id) if DirBlobs::holds_no_blobs(&dir)? => id.clone(),
                Some(_) => return Ok(String::new()),
                None => Uuid::now_v7().to_string(),
            };
            let id = repo::first_setting(&mut tx, DIR_ID_KEY, &id).await?;
            if found.is_none() {
                write_marker(&marker, &id)?;
            }
            Ok(id)
        }
        .await;
        tx.finish(result).await
    })
    .await?;
    match read_marker(&marker)? {
        Some(found) if found == id => Ok(()),
        _ => Err(Error::BadInput(format!(
            "{} is not this shop's image directory (its marker {MARKER} is missing or names \
             another shop): point every terminal at the shop's shared directory \
             (--blob-dir / STOCKDESK_BLOB_DIR), or move the images into the database with \
             `stockdesk blobs move-to-db`",
            dir.display()
        ))),
    }
}

fn read_marker(marker: &Path) -> Result<Option<String>> {
    match std::fs::read_to_string(marker) {
        Ok(s) => Ok(Some(s.trim().to_string())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

fn write_marker(marker: &Path, id: &str) -> Result<()> {
    if let Some(dir) = marker.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(marker, format!("{id}\n"))?;
    Ok(())
}

/// Moves a shop's image files from its directory into the database: every blob's bytes are
/// copied into its registry row and checked against its key, then the shop's setting switches
/// (in the transaction that finds no blob left outside), then the files go. Until the switch the
/// directory stays the truth, so stopping half-way loses nothing; run it again to finish.
/// Terminals running meanwhile refuse to stage new files once the switch is made (restart them).
pub async fn move_to_db(ctx: &mut Ctx) -> Result<MoveReport> {
    let BlobStore::Dir(dir) = blob_store(ctx) else {
        return Ok(MoveReport::default());
    };
    let mut report = MoveReport::default();
    // Until the switch finds no file left (a terminal may add one while we copy), copy again.
    loop {
        let keys = {
            let mut tx = ctx.store.read().await?;
            repo::keys_kept_in_files(&mut tx, 500).await?
        };
        if keys.is_empty() && switch_to_db(ctx).await? {
            break;
        }
        for key in keys {
            let bytes = dir.read(&key).await?.ok_or_else(|| {
                Error::BadInput(format!(
                    "image file {key} is missing from {}; `stockdesk blobs verify` lists what \
                     is missing",
                    ctx.blob_dir().display()
                ))
            })?;
            if super::key_of(&bytes) != key {
                return Err(Error::BadInput(format!(
                    "image file {key} is corrupt; nothing was switched"
                )));
            }
            let mut tx = ctx.store.write().await?;
            let r = repo::store_blob_data(&mut tx, &key, &bytes).await;
            tx.finish(r).await?;
            report.moved += 1;
        }
    }
    ctx.blob_backend = BlobBackend::Db;
    report.files_removed = dir.remove_all().await?;
    Ok(report)
}

/// Makes the database the shop's image store, in the transaction that finds no blob left in
/// files; false if one is (then it is copied first).
async fn switch_to_db(ctx: &Ctx) -> Result<bool> {
    with_retry(|| async {
        let mut tx = ctx.store.write().await?;
        let result = async {
            if !repo::keys_kept_in_files(&mut tx, 1).await?.is_empty() {
                return Ok(false);
            }
            repo::put_setting(&mut tx, BACKEND_KEY, name(BlobBackend::Db)).await?;
            Ok(true)
        }
        .await;
        tx.finish(result).await
    })
    .await
}

fn parse(value: &str) -> Result<BlobBackend> {
    value
        .parse()
        .map_err(|e: String| Error::Internal(format!("shop setting {BACKEND_KEY}: {e}")))
}

fn name(backend: BlobBackend) -> &'static str {
    match backend {
        BlobBackend::Dir => "dir",
        BlobBackend::Db => "db",
    }
}

fn place(backend: BlobBackend) -> &'static str {
    match backend {
        BlobBackend::Dir => "in a directory",
        BlobBackend::Db => "in the database",
    }
}

/// Refuses to stage a file into a directory after the shop moved its images into the database
/// (a terminal that kept running through `move-to-db`). In the staging transaction.
pub async fn still_in_files(tx: &mut crate::store::Tx) -> Result<()> {
    match repo::setting(tx, BACKEND_KEY).await? {
        Some(v) if parse(&v)? == BlobBackend::Db => Err(Error::BadInput(
            "this shop now keeps its images in the database; restart this terminal".into(),
        )),
        _ => Ok(()),
    }
}
