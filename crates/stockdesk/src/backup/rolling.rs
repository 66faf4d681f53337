//! The desktop app's rolling backups: one a day into `<data dir>/backups`, the newest seven
//! kept, and what the app shows of them (when the last one ran, or why it failed).

use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};

use crate::ctx::Ctx;
use crate::error::Result;
use crate::model::{BackupFile, BackupReport, BackupStatus};

/// How many are kept.
pub const KEEP: usize = 7;
/// How old the newest may get before another is made.
pub const EVERY: TimeDelta = TimeDelta::days(1);
const PREFIX: &str = "stockdesk-";
const SUFFIX: &str = ".tar";
const NAME_TIME: &str = "%Y%m%d-%H%M%S";
/// Why the last try failed, until one succeeds.
const LAST_ERROR: &str = "last-error.json";

/// Where a data directory's rolling backups go.
pub fn dir_of(data_dir: &Path) -> PathBuf {
    data_dir.join("backups")
}

/// Makes a backup in `dir` if the newest there is older than a day (or there is none), then
/// keeps the newest `KEEP`. A failure is recorded for `status` and returned.
pub async fn run_if_due(ctx: &Ctx, database_url: &str, dir: &Path) -> Result<Option<BackupReport>> {
    let now = Utc::now();
    if list(dir)?
        .first()
        .is_some_and(|newest| now - newest.at < EVERY)
    {
        return Ok(None);
    }
    std::fs::create_dir_all(dir)?;
    let file = dir.join(format!("{PREFIX}{}{SUFFIX}", now.format(NAME_TIME)));
    match super::backup(ctx, database_url, &file).await {
        Ok(report) => {
            let _ = std::fs::remove_file(dir.join(LAST_ERROR));
            for old in list(dir)?.into_iter().skip(KEEP) {
                std::fs::remove_file(&old.file)?;
            }
            Ok(Some(report))
        }
        Err(e) => {
            let record = serde_json::json!({"at": now, "error": e.to_api().message()});
            let _ = std::fs::write(dir.join(LAST_ERROR), record.to_string());
            Err(e)
        }
    }
}

/// What the app shows: the newest backup, how many there are, and the last failure since.
pub fn status(dir: &Path) -> Result<BackupStatus> {
    let files = list(dir)?;
    #[derive(serde::Deserialize)]
    struct Failure {
        at: DateTime<Utc>,
        error: String,
    }
    let failure: Option<Failure> = std::fs::read(dir.join(LAST_ERROR))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok());
    Ok(BackupStatus {
        dir: dir.display().to_string(),
        keep: KEEP as u32,
        count: files.len() as u32,
        last_error_at: failure.as_ref().map(|f| f.at),
        last_error: failure.map(|f| f.error),
        last: files.into_iter().next(),
    })
}

/// The rolling backups in `dir`, newest first (by the time in their names).
fn list(dir: &Path) -> Result<Vec<BackupFile>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(stamp) = name
            .strip_prefix(PREFIX)
            .and_then(|n| n.strip_suffix(SUFFIX))
        else {
            continue;
        };
        let Ok(at) = NaiveDateTime::parse_from_str(stamp, NAME_TIME) else {
            continue;
        };
        out.push(BackupFile {
            file: entry.path().display().to_string(),
            at: at.and_utc(),
            size: entry.metadata()?.len() as i64,
        });
    }
    out.sort_by_key(|f| std::cmp::Reverse(f.at));
    Ok(out)
}
