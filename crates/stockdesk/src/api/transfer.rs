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
        if self.ctx.replica.is_none() {
            return transfer::import(&self.ctx, who, path, opts, dry_run, control).await;
        }
        // On a terminal's replica the shop decides an import, as it does orders: what this
        // terminal queued goes first, the import runs against the shop (its files staged there),
        // and the replica pulls the result.
        let link = self.link().await?;
        let shop = |e: &crate::Error| {
            crate::replica::shop_decides(crate::replica::IMPORTS, &link.shop(), &e.to_string())
        };
        if let Err(e) = self.sync_once().await {
            return Err(if crate::sync::offline(&e) {
                shop(&e)
            } else {
                e
            });
        }
        let up = link.upstream().await.map_err(|e| shop(&e))?;
        let report = transfer::import(&up.ctx, who, path, opts, dry_run, control).await?;
        if let Err(e) = self.sync_once().await {
            tracing::warn!(error = %e, "the shop imported the file; pulling it failed");
        }
        Ok(report)
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
