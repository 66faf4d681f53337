//! `stockdesk image …` and `stockdesk blobs …`.

use std::path::PathBuf;

use clap::Subcommand;
use serde_json::Value;
use stockdesk::{Error, Result, Stockdesk};
use uuid::Uuid;

use crate::io::to_json;

#[derive(Subcommand)]
pub enum ImageCmd {
    /// Add image files (JPEG, PNG, WebP, GIF) to a product as one version-checked edit.
    Add {
        product_id: Uuid,
        /// The version the edit started from.
        #[arg(long)]
        expected_version: i64,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Replace the file of one image, version-checked.
    Replace {
        product_id: Uuid,
        image_id: Uuid,
        #[arg(long)]
        expected_version: i64,
        file: PathBuf,
    },
}

#[derive(Subcommand)]
pub enum BlobsCmd {
    /// Expire unclaimed uploads and delete blobs nothing uses (what the sweeper does).
    Gc,
    /// Check every referenced blob and look for orphans; exit 1 when something is wrong.
    Verify,
}

pub async fn image(sd: &Stockdesk, cmd: ImageCmd) -> Result<Value> {
    match cmd {
        ImageCmd::Add {
            product_id,
            expected_version,
            files,
        } => to_json(&sd.add_images(product_id, expected_version, &files).await?),
        ImageCmd::Replace {
            product_id,
            image_id,
            expected_version,
            file,
        } => to_json(
            &sd.replace_image_file(product_id, expected_version, image_id, &file)
                .await?,
        ),
    }
}

pub async fn blobs(sd: &Stockdesk, cmd: BlobsCmd) -> Result<Value> {
    match cmd {
        BlobsCmd::Gc => to_json(&sd.blobs_gc().await?),
        BlobsCmd::Verify => {
            let report = sd.blobs_verify().await?;
            if report.ok {
                to_json(&report)
            } else {
                Err(Error::BlobsInconsistent(Box::new(report)))
            }
        }
    }
}
