//! Backups as files: what one holds (its manifest), what making and restoring one reported, and
//! the desktop app's rolling backups.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::images::{BlobBackend, VerifyReport};
use super::stock::Inconsistency;

/// The first entry of every backup file, read before anything else: what it is, from which
/// Stockdesk and schema, and the checksum of every other entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(deny_unknown_fields)]
pub struct BackupManifest {
    /// `stockdesk-backup`.
    pub format: String,
    /// The layout of the file (1 so far); a newer one is refused by an older Stockdesk.
    pub format_version: u32,
    /// The Stockdesk that wrote it.
    pub stockdesk_version: String,
    pub created_at: DateTime<Utc>,
    pub backend: DatabaseKind,
    /// Where the shop kept its image bytes (in the database they are inside its copy).
    pub blob_backend: BlobBackend,
    /// The schema migrations the copy has (a backup from a newer Stockdesk is refused).
    pub migrations: Vec<i64>,
    /// Every other entry of the file, with its SHA-256.
    pub entries: Vec<BackupEntry>,
    /// What the copy holds, for people.
    pub products: i64,
    pub orders: i64,
    pub images: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(deny_unknown_fields)]
pub struct BackupEntry {
    /// The path inside the file (`database.sqlite`, `database.pgdump`, `blobs/ab/cdef…`).
    pub path: String,
    pub size: i64,
    pub sha256: String,
}

/// Which database a backup copies (the core's `Backend`, as plain data).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "lowercase")]
pub enum DatabaseKind {
    Sqlite,
    Postgres,
}

/// What `backup` wrote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct BackupReport {
    pub file: String,
    /// Size of the backup file in bytes.
    pub size: i64,
    /// SHA-256 of the whole file (what `sha256sum` prints), to compare a copy with.
    pub sha256: String,
    pub manifest: BackupManifest,
}

/// What `restore` did: the backup it restored, and the checks run on the result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct RestoreReport {
    pub file: String,
    pub manifest: BackupManifest,
    /// `stockdesk check` on the restored shop: empty when clean.
    pub check: Vec<Inconsistency>,
    /// `stockdesk blobs verify` on the restored shop.
    pub blobs: VerifyReport,
    /// Image files written back from the backup.
    pub blobs_restored: i64,
}

/// Why a backup could not be made or restored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum BackupProblem {
    /// A program Stockdesk needs is not installed (`pg_dump`, `pg_restore`, `psql` on Postgres).
    ToolMissing { tool: String, package: String },
    /// That program ran and failed (its last lines of error output, passwords hidden).
    ToolFailed {
        tool: String,
        status: String,
        stderr: String,
    },
    /// Not a Stockdesk backup, or damaged (a checksum does not match, an entry is missing).
    Damaged { detail: String },
    /// Made by a newer Stockdesk (a newer file layout or schema than this one knows).
    TooNew { detail: String },
    /// A backup of the other kind of database (SQLite into Postgres or back).
    WrongBackend {
        backup: DatabaseKind,
        target: DatabaseKind,
    },
    /// This shop is a terminal's replica with commands not yet sent to the shop's server:
    /// restoring would lose them. Let it sync first.
    UnsyncedCommands { pending: i64 },
}

/// The desktop app's rolling backups: where they go and when the last one ran.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct BackupStatus {
    pub dir: String,
    /// How many are kept (the oldest go).
    pub keep: u32,
    pub last: Option<BackupFile>,
    /// How many backups are in the directory.
    pub count: u32,
    /// Why the last attempt failed, if it did (it is tried again later).
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
}

/// One backup file of the rolling set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct BackupFile {
    pub file: String,
    pub at: DateTime<Utc>,
    pub size: i64,
}
