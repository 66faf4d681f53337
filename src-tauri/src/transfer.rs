//! The app's CSV import and export: one import at a time, with its progress sent to the UI as
//! events and a cancel that stops it between two products. The work is the core's.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use stockdesk::model::{ImportOptions, ImportProgress, ImportReport};
use stockdesk::{ApiError, Error, Stockdesk};
use tauri_specta::Event;

/// How far the running import has come.
#[derive(Debug, Clone, Serialize, specta::Type, tauri_specta::Event)]
pub struct ImportProgressed {
    pub progress: ImportProgress,
    pub dry_run: bool,
}

/// The running import's cancel flag, if one runs.
#[derive(Default)]
pub struct Imports {
    running: Mutex<Option<Arc<AtomicBool>>>,
}

impl Imports {
    /// Runs one import (or preview), refusing a second while one runs.
    pub async fn run(
        &self,
        app: &tauri::AppHandle,
        core: Stockdesk,
        path: PathBuf,
        options: ImportOptions,
        dry_run: bool,
    ) -> Result<ImportReport, ApiError> {
        let cancel = Arc::new(AtomicBool::new(false));
        {
            let mut running = self.running.lock().expect("imports lock");
            if running.is_some() {
                return Err(Error::BadInput("an import is running already".into()).into());
            }
            *running = Some(cancel.clone());
        }
        let app = app.clone();
        let progress = move |progress: ImportProgress| {
            let _ = ImportProgressed { progress, dry_run }.emit(&app);
        };
        let report = core
            .import_products(&path, &options, dry_run, &progress, &cancel)
            .await;
        *self.running.lock().expect("imports lock") = None;
        Ok(report?)
    }

    /// Asks the running import to stop after the product it is at; false if none runs.
    pub fn cancel(&self) -> bool {
        match &*self.running.lock().expect("imports lock") {
            Some(flag) => {
                flag.store(true, Ordering::SeqCst);
                true
            }
            None => false,
        }
    }
}
