//! Backups of the whole shop, restores, and the app's rolling backups.

use std::path::Path;

use crate::backup::{self, rolling};
use crate::error::Result;
use crate::model::{BackupManifest, BackupReport, BackupStatus, RestoreReport};
use crate::Stockdesk;

impl Stockdesk {
    /// Writes a backup of the shop to `path` while it keeps working (`database_url` is the
    /// shop's, which Postgres's `pg_dump` needs).
    pub async fn backup(&self, database_url: &str, path: &Path) -> Result<BackupReport> {
        backup::backup(&self.ctx, database_url, path).await
    }

    /// Checks the backup at `path` against its manifest, restoring nothing.
    pub async fn inspect_backup(&self, path: &Path) -> Result<BackupManifest> {
        backup::inspect(path).await
    }

    /// Restores the backup at `path` over this shop, then runs `check` and `blobs verify`.
    pub async fn restore(&self, database_url: &str, path: &Path) -> Result<RestoreReport> {
        backup::restore(&self.ctx, database_url, path).await
    }

    /// The app's daily backup into `<data dir>/backups`, if one is due (the newest seven kept).
    pub async fn rolling_backup(&self, database_url: &str) -> Result<Option<BackupReport>> {
        let dir = rolling::dir_of(&self.ctx.data_dir);
        rolling::run_if_due(&self.ctx, database_url, &dir).await
    }

    /// When the last rolling backup ran, and how many there are.
    pub fn backup_status(&self) -> Result<BackupStatus> {
        rolling::status(&rolling::dir_of(&self.ctx.data_dir))
    }
}
