//! `stockdesk image …` and `stockdesk blobs …`.

use std::path::PathBuf;

use clap::Subcommand;
use serde_json::Value;
use stockdesk::{CommandKind, Error, Result, Stockdesk};
use uuid::Uuid;

use crate::io::{to_json, write};

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
    /// Write an image's file to FILE; prints its type and size.
    Get {
        image_id: Uuid,
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
pub enum BlobsCmd {
    /// Expire unclaimed uploads and delete blobs nothing uses (what the sweeper does).
    Gc,
    /// Check every referenced blob and look for orphans; exit 1 when something is wrong.
    Verify,
    /// Move the shop's image files from its directory into the database, checked, and make the
    /// database the shop's image store (close the other terminals first).
    MoveToDb,
}

/// Files are staged first (checked and stored, not yet used), then one command uses them.
pub async fn image(sd: &Stockdesk, op_id: Option<Uuid>, cmd: ImageCmd) -> Result<Value> {
    match cmd {
        ImageCmd::Add {
            product_id,
            expected_version,
            files,
        } => {
            let staged: Vec<Uuid> = sd
                .stage_image_files(&files)
                .await?
                .iter()
                .map(|s| s.id)
                .collect();
            let kind = CommandKind::AddImages {
                product_id,
                expected_version,
                staged: staged.clone(),
            };
            released_on_error(sd, staged, write(sd, op_id, kind).await).await
        }
        ImageCmd::Replace {
            product_id,
            image_id,
            expected_version,
            file,
        } => {
            let staged = sd.stage_image_file(&file).await?.id;
            let kind = CommandKind::ReplaceImageFile {
                product_id,
                expected_version,
                image_id,
                staged,
            };
            released_on_error(sd, vec![staged], write(sd, op_id, kind).await).await
        }
        ImageCmd::Get { image_id, out } => {
            let file = sd.image_of(image_id).await?;
            std::fs::write(&out, &file.bytes)?;
            Ok(serde_json::json!({
                "image_id": image_id,
                "content_type": file.content_type,
                "size": file.bytes.len(),
                "out": out,
            }))
        }
    }
}

/// A refused command leaves its uploads unused: they are given up at once, not left to expire
/// (the next try of the command line stages the files again).
async fn released_on_error(
    sd: &Stockdesk,
    staged: Vec<Uuid>,
    result: Result<Value>,
) -> Result<Value> {
    if result.is_err() {
        if let Err(e) = sd.release_staged(staged).await {
            tracing::warn!(error = %e, "could not release the uploads; they expire on their own");
        }
    }
    result
}

pub async fn blobs(mut sd: Stockdesk, cmd: BlobsCmd) -> Result<Value> {
    match cmd {
        BlobsCmd::MoveToDb => {
            let moved = sd.move_images_to_db().await?;
            let report = sd.blobs_verify().await?;
            if !report.ok {
                return Err(Error::BlobsInconsistent(Box::new(report)));
            }
            Ok(serde_json::json!({ "moved": moved, "verify": to_json(&report)? }))
        }
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
