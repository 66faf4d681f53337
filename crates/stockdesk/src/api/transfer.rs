//! CSV import and export.

use std::io::Write;
use std::path::Path;
use std::sync::atomic::AtomicBool;

use crate::error::Result;
use crate::model::{ExportReport, ExportRequest, ImportOptions, ImportProgress, ImportReport};
use crate::transfer::{self, Control, Importer};
use crate::Stockdesk;

impl Stockdesk {
    /// Imports the products of the CSV at `path` (`dry_run`: says what it would do and writes
    /// nothing), each as one `import_product` command of this handle's actor. `progress` hears
    /// after every product; setting `cancel` stops between products.
    pub async fn import_products(
        &self,
        path: &Path,
        opts: &ImportOptions,
        dry_run: bool,
        progress: &(dyn Fn(ImportProgress) + Send + Sync),
        cancel: &AtomicBool,
    ) -> Result<ImportReport> {
        let who = Importer {
            actor: &self.actor,
            actor_id: self.actor_id,
        };
        let control = Control { progress, cancel };
        transfer::import(&self.ctx, who, path, opts, dry_run, control).await
    }

    /// Writes the export `req` asks for, as CSV, to the file at `path` (whole or not at all).
    pub async fn export_to_file(&self, req: &ExportRequest, path: &Path) -> Result<ExportReport> {
        transfer::export_file(&self.ctx, req, path).await
    }

    /// Writes the export `req` asks for, as CSV, to `out`; returns the data rows written.
    pub async fn export_csv(&self, req: &ExportRequest, out: Box<dyn Write + Send>) -> Result<u64> {
        transfer::export(&self.ctx, req, out).await
    }
}
