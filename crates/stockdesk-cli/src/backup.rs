//! `stockdesk backup FILE` and `stockdesk restore FILE`.

use std::path::Path;
use std::process::ExitCode;

use serde_json::Value;
use stockdesk::{Result, Stockdesk};

use crate::io::to_json;

pub async fn backup(sd: &Stockdesk, url: &str, file: &Path) -> Result<Value> {
    to_json(&sd.backup(url, file).await?)
}

/// The report, exit 0 only when `check` and `blobs verify` found the restored shop clean.
pub async fn restore(sd: &Stockdesk, url: &str, file: &Path) -> Result<(Value, ExitCode)> {
    let report = sd.restore(url, file).await?;
    let clean = report.check.is_empty() && report.blobs.ok;
    let code = if clean {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    };
    Ok((to_json(&report)?, code))
}
