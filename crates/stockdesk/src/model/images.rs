//! What the image store reports: staged uploads, files to show, sweeps and verification.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Which backend keeps image bytes. `dir` (the default) suits one machine or a shared data
/// directory; `db` suits terminals that share only a Postgres database.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "lowercase")]
pub enum BlobBackend {
    #[default]
    Dir,
    Db,
}

impl std::str::FromStr for BlobBackend {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "dir" => Ok(BlobBackend::Dir),
            "db" => Ok(BlobBackend::Db),
            _ => Err(format!("blob backend {s:?} is not one of dir, db")),
        }
    }
}

/// An upload written to the blob store and waiting for an edit to use it. Pass its `id` in a
/// patch (`images.create[].staged`, `images.update[].staged`) before `expires_at`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct StagedBlob {
    pub id: Uuid,
    pub blob_key: String,
    pub thumb_key: String,
    pub content_type: String,
    pub width: i64,
    pub height: i64,
    pub size: i64,
    pub expires_at: DateTime<Utc>,
}

/// Bytes to show, with their MIME type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct ImageFile {
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// What one pass over the outbox did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct OutboxRun {
    /// Blobs deleted (nothing referenced them any more).
    pub deleted: i64,
    /// Entries dropped because the blob is in use again (the same bytes were uploaded anew).
    pub kept: i64,
    /// Deletions that failed; each is recorded and retried later with backoff.
    pub failed: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct UploadSweep {
    pub expired_uploads: i64,
    pub orphans_queued: i64,
    pub temp_files_removed: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct GcReport {
    pub expired_uploads: i64,
    pub orphans_queued: i64,
    pub temp_files_removed: i64,
    pub outbox: OutboxRun,
    /// Deletions still failing after this run (attempts recorded, retried later).
    pub failing_deletions: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct MissingBlob {
    pub key: String,
    /// How many image rows and staged uploads use it.
    pub uses: i64,
    /// The first few of them: `image <id>` or `staged upload <id>`.
    pub used_by: Vec<String>,
}

/// The result of `blobs_verify`: `ok` when every referenced blob is there with the right hash
/// and no unreferenced blob has outstayed the time limit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct VerifyReport {
    pub ok: bool,
    pub backend: BlobBackend,
    pub referenced: i64,
    pub stored: i64,
    pub missing: Vec<MissingBlob>,
    /// Stored blobs whose bytes do not hash to their key.
    pub corrupt: Vec<String>,
    /// Unreferenced blobs (and stray temp files) older than the time limit.
    pub orphans: Vec<String>,
    /// Unreferenced blobs still within the limit: queued for deletion or just uploaded.
    pub unreferenced_recent: i64,
    pub pending_deletions: i64,
    pub failing_deletions: i64,
}

/// What `stockdesk blobs move-to-db` did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct MoveReport {
    /// Blobs whose bytes were copied into the database.
    pub moved: i64,
    /// Files removed from the directory after the shop switched.
    pub files_removed: i64,
}
