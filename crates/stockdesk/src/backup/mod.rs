//! Backups of a whole shop in one file, taken while the shop keeps working, and restores that
//! check the file before they change anything.
//!
//! A backup is a tar archive (`archive`): a manifest with the SHA-256 of every entry, a
//! consistent copy of the database (`snapshot`: SQLite's `VACUUM INTO`, or `pg_dump` at an
//! exported snapshot), and — where the shop keeps image files in a directory — every image file
//! the copy refers to. A restore reads the whole file against its manifest first, refuses a
//! backup from a newer Stockdesk, of the other kind of database, or over a terminal's replica
//! with commands it has not sent yet; then replaces the data in one transaction (`load`), writes
//! the image files back, tidies the image store, and runs `check` and `blobs verify`.

mod archive;
mod load;
mod replica;
pub mod rolling;
mod snapshot;
mod tools;

use std::path::{Path, PathBuf};

use chrono::Utc;
use tracing::Instrument;
use uuid::Uuid;

use crate::check;
use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::images::{self, BlobStore};
use crate::model::{
    BackupEntry, BackupManifest, BackupProblem, BackupReport, BlobBackend, DatabaseKind,
    RestoreReport,
};
use crate::store::{Backend, Store};

pub use replica::pending_commands;

/// What the manifest's `format` says.
pub const FORMAT: &str = "stockdesk-backup";
/// The layout this Stockdesk writes and the newest it reads.
pub const FORMAT_VERSION: u32 = 1;
/// Where image files are inside the archive.
const BLOBS: &str = "blobs";
/// How often a backup is tried again when an image file went away while it was copied (an
/// edit deleted it after the database copy was taken): a fresh copy no longer needs it.
const ATTEMPTS: usize = 3;

/// Writes a backup of the shop to `path` (`database_url` is the shop's, for Postgres's tools).
pub async fn backup(ctx: &Ctx, database_url: &str, path: &Path) -> Result<BackupReport> {
    let span = tracing::info_span!("backup", file = %path.display());
    async {
        let work = WorkDir::beside(path)?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            match backup_once(ctx, database_url, path, &work.0).await? {
                Ok(report) => return Ok(report),
                Err(missing) if attempt < ATTEMPTS => {
                    tracing::info!(%missing, "an image file went away during the backup; again");
                }
                Err(missing) => {
                    return Err(Error::BadInput(format!(
                        "the image file {missing} the database refers to is missing from {} \
                         (`stockdesk blobs verify` lists what is missing)",
                        ctx.blob_dir().display()
                    )))
                }
            }
        }
    }
    .instrument(span)
    .await
}

/// One try: the report, or the key of an image file that could not be found.
async fn backup_once(
    ctx: &Ctx,
    database_url: &str,
    path: &Path,
    work: &Path,
) -> Result<std::result::Result<BackupReport, String>> {
    let snap = snapshot::take(ctx, database_url, work).await?;
    let mut members = vec![archive::Member {
        path: snap.entry.to_string(),
        from: snap.file.clone(),
    }];
    let file = snap.file.clone();
    let (sha256, size) = blocking(move || archive::digest_file(&file)).await?;
    let mut entries = vec![BackupEntry {
        path: snap.entry.to_string(),
        size,
        sha256,
    }];
    if let BlobStore::Dir(dir) = images::blob_store(ctx) {
        for key in &snap.blob_keys {
            let from = dir.path(key)?;
            let Ok(meta) = std::fs::metadata(&from) else {
                return Ok(Err(key.clone()));
            };
            let inside = format!("{BLOBS}/{}/{}", &key[..2], &key[2..]);
            entries.push(BackupEntry {
                path: inside.clone(),
                size: meta.len() as i64,
                sha256: key.clone(),
            });
            members.push(archive::Member { path: inside, from });
        }
    }
    let manifest = BackupManifest {
        format: FORMAT.into(),
        format_version: FORMAT_VERSION,
        stockdesk_version: env!("CARGO_PKG_VERSION").into(),
        created_at: Utc::now(),
        backend: kind(ctx.store.backend()),
        blob_backend: ctx.blob_backend,
        migrations: snap.migrations,
        entries,
        products: snap.products,
        orders: snap.orders,
        images: snap.images,
    };
    let (to, written) = (path.to_path_buf(), manifest.clone());
    let written = blocking(move || archive::write(&to, &written, &members)).await;
    let _ = std::fs::remove_file(&snap.file);
    let (sha256, size) = match written {
        Ok(sum) => sum,
        // A file removed between its size and its copy: the checksum tells; try again.
        Err(Error::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Err(e.to_string()))
        }
        Err(e) => return Err(e),
    };
    tracing::info!(size, "backup written");
    Ok(Ok(BackupReport {
        file: path.display().to_string(),
        size,
        sha256,
        manifest,
    }))
}

/// Reads the whole backup at `path` against its manifest without restoring anything.
pub async fn inspect(path: &Path) -> Result<BackupManifest> {
    let path = path.to_path_buf();
    blocking(move || archive::read(&path, |_, _| Ok(()))).await
}

/// Restores the backup at `path` over the shop `ctx` opens (see the module docs).
pub async fn restore(ctx: &Ctx, database_url: &str, path: &Path) -> Result<RestoreReport> {
    let span = tracing::info_span!("restore", file = %path.display());
    async {
        let pending = pending_commands(ctx).await?;
        if pending > 0 {
            return Err(backup_error(
                format!(
                    "this database is a terminal's replica with {pending} command(s) not yet \
                     sent to the shop's server: restoring would lose them (let it sync first)"
                ),
                BackupProblem::UnsyncedCommands { pending },
            ));
        }
        let work = WorkDir::beside(&ctx.data_dir.join("restore"))?;
        let (manifest, copy) = unpack(ctx, path, &work.0).await?;
        load::load(ctx, database_url, &copy).await?;
        let mut ctx = ctx.clone();
        images::storage::adopt_restored(&mut ctx).await?;
        let blobs_restored = write_blobs(&ctx, &manifest, &work.0).await?;
        // What the restored shop no longer uses of the files that were there is queued and
        // tidied like any orphan, so `blobs verify` finds the store as the backup left it.
        images::blobs_gc(&ctx).await?;
        let check = check::check_invariants(&ctx).await?;
        let blobs = images::blobs_verify(&ctx).await?;
        tracing::info!(
            inconsistencies = check.len(),
            blobs_ok = blobs.ok,
            "restore finished"
        );
        Ok(RestoreReport {
            file: path.display().to_string(),
            manifest,
            check,
            blobs,
            blobs_restored,
        })
    }
    .instrument(span)
    .await
}

/// Reads the backup, checking every entry, into `work`: the database copy and the image files.
/// Refuses a backup this shop cannot take before anything is written where the shop is.
async fn unpack(ctx: &Ctx, path: &Path, work: &Path) -> Result<(BackupManifest, PathBuf)> {
    let target = kind(ctx.store.backend());
    let known = Store::migration_versions(ctx.store.backend());
    let from = path.to_path_buf();
    let manifest = blocking(move || archive::read_manifest(&from)).await?;
    if manifest.backend != target {
        return Err(backup_error(
            format!(
                "this is a backup of a {:?} shop; this shop is on {:?}",
                manifest.backend, target
            ),
            BackupProblem::WrongBackend {
                backup: manifest.backend,
                target,
            },
        ));
    }
    if let Some(v) = manifest.migrations.iter().find(|v| !known.contains(v)) {
        return Err(too_new(format!(
            "the backup has schema migration {v}, which this Stockdesk does not know: restore \
             it with Stockdesk {} or newer",
            manifest.stockdesk_version
        )));
    }
    let entry = match manifest.backend {
        DatabaseKind::Sqlite => snapshot::SQLITE_ENTRY,
        DatabaseKind::Postgres => snapshot::POSTGRES_ENTRY,
    };
    if !manifest.entries.iter().any(|e| e.path == entry) {
        return Err(damaged(format!("the backup has no {entry}")));
    }
    // Entry names become paths below `work`: only the names a backup has are taken.
    for e in &manifest.entries {
        let blob = e
            .path
            .strip_prefix(&format!("{BLOBS}/"))
            .map(|rest| rest.replacen('/', "", 1));
        let fine = e.path == entry || blob.is_some_and(|k| images::is_key(&k) && k == e.sha256);
        if !fine {
            return Err(damaged(format!("{:?} is no entry a backup has", e.path)));
        }
    }
    // Now every entry, each checked against the manifest as it is written out.
    let (from, into) = (path.to_path_buf(), work.to_path_buf());
    let manifest = blocking(move || {
        archive::read(&from, |entry, bytes| {
            let out = into.join(&entry.path);
            if let Some(dir) = out.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let mut file = std::fs::File::create(&out)?;
            std::io::copy(bytes, &mut file)?;
            file.sync_all()?;
            Ok(())
        })
    })
    .await?;
    Ok((manifest, work.join(entry)))
}

/// Writes the backup's image files into the shop's directory (none when the shop keeps them in
/// its database: they came with it).
async fn write_blobs(ctx: &Ctx, manifest: &BackupManifest, work: &Path) -> Result<i64> {
    if manifest.blob_backend == BlobBackend::Db || ctx.blob_backend == BlobBackend::Db {
        return Ok(0);
    }
    let store = images::blob_store(ctx);
    let mut n = 0;
    for entry in manifest
        .entries
        .iter()
        .filter(|e| e.path.starts_with(BLOBS))
    {
        let bytes = tokio::fs::read(work.join(&entry.path)).await?;
        store.write_before(&entry.sha256, &bytes).await?;
        n += 1;
    }
    Ok(n)
}

fn kind(backend: Backend) -> DatabaseKind {
    match backend {
        Backend::Sqlite => DatabaseKind::Sqlite,
        Backend::Postgres => DatabaseKind::Postgres,
    }
}

pub(crate) fn backup_error(message: String, problem: BackupProblem) -> Error {
    Error::Backup { message, problem }
}

fn damaged(detail: String) -> Error {
    backup_error(
        format!("the backup cannot be used: {detail}"),
        BackupProblem::Damaged { detail },
    )
}

fn too_new(detail: String) -> Error {
    backup_error(detail.clone(), BackupProblem::TooNew { detail })
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Internal(format!("a backup task failed: {e}")))?
}

/// A folder for the work of one backup or restore, beside its file, removed when done.
struct WorkDir(PathBuf);

impl WorkDir {
    fn beside(path: &Path) -> Result<WorkDir> {
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)?;
        let name = format!(
            ".{}.work-{}",
            path.file_name().unwrap_or_default().to_string_lossy(),
            Uuid::now_v7().simple()
        );
        let work = dir.join(name);
        std::fs::create_dir_all(&work)?;
        Ok(WorkDir(work))
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.0) {
            tracing::warn!(error = %e, dir = %self.0.display(), "could not remove a work folder");
        }
    }
}
