//! The app as a terminal of a shop (docs/sync.md): joining one (its progress sent to the UI as
//! events, with a cancel), the sync's status, syncing now, what needs attention and resolving it,
//! leaving, and the shop's terminals. The work is the core's; the background sync itself runs in
//! `Connection`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use stockdesk::model::{JoinProgress, JoinReport, SyncReport};
use stockdesk::replica::decisions::Terminal;
use stockdesk::sync::{Attention, Resolution, SyncStatus};
use stockdesk::{ApiError, Error, Resolved};
use tauri::State;
use tauri_specta::Event;
use uuid::Uuid;

use crate::{Connection, SignIn};

type Res<T> = Result<T, ApiError>;

/// How far joining a shop has come (for the settings' progress bar).
#[derive(Debug, Clone, Serialize, specta::Type, tauri_specta::Event)]
pub struct JoinProgressed {
    pub progress: JoinProgress,
}

/// The running join's cancel flag, if one runs.
#[derive(Default)]
pub struct Joins {
    running: Mutex<Option<Arc<AtomicBool>>>,
}

/// Makes this terminal's database a replica of the shop at `url` as terminal `name` (the host's
/// name when null), then works on the replica. Whoever was signed in is signed out: the shop
/// has its own staff.
#[tauri::command]
#[specta::specta]
pub async fn join_shop(
    app: tauri::AppHandle,
    conn: State<'_, Connection>,
    desk: State<'_, SignIn>,
    joins: State<'_, Joins>,
    url: String,
    name: Option<String>,
) -> Res<JoinReport> {
    let core = desk.acting(&conn)?;
    let cancel = Arc::new(AtomicBool::new(false));
    {
        let mut running = joins.running.lock().expect("joins lock");
        if running.is_some() {
            return Err(Error::BadInput("joining a shop is under way already".into()).into());
        }
        *running = Some(cancel.clone());
    }
    let events = app.clone();
    let progress = move |progress: JoinProgress| {
        let _ = JoinProgressed { progress }.emit(&events);
    };
    let name = name.map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
    let joined = core
        .join_shop(url.trim(), name.as_deref(), &progress, &cancel)
        .await;
    *joins.running.lock().expect("joins lock") = None;
    let (replica, report) = joined?;
    conn.replace(&app, replica);
    desk.sign_out();
    Ok(report)
}

/// Asks the running join to stop (it leaves nothing behind); false if none runs.
#[tauri::command]
#[specta::specta]
pub fn cancel_join(joins: State<'_, Joins>) -> bool {
    match &*joins.running.lock().expect("joins lock") {
        Some(flag) => {
            flag.store(true, Ordering::SeqCst);
            true
        }
        None => false,
    }
}

/// How this terminal stands with its shop (`joined: false` on a database of its own), as the
/// last sync found it; nothing is asked of the shop.
#[tauri::command]
#[specta::specta]
pub async fn sync_status(conn: State<'_, Connection>) -> Res<SyncStatus> {
    Ok(conn.core()?.sync_status(false).await?)
}

/// Pushes and pulls once, now.
#[tauri::command]
#[specta::specta]
pub async fn sync_now(conn: State<'_, Connection>) -> Res<SyncReport> {
    Ok(conn.core()?.sync_once().await?)
}

/// What the shop set aside, waiting for a person.
#[tauri::command]
#[specta::specta]
pub async fn sync_attention(conn: State<'_, Connection>) -> Res<Vec<Attention>> {
    Ok(conn.core()?.sync_attention().await?)
}

/// Resolves a set-aside command as the person signed in, then syncs it at once.
#[tauri::command]
#[specta::specta]
pub async fn sync_resolve(
    conn: State<'_, Connection>,
    desk: State<'_, SignIn>,
    op_id: Uuid,
    resolution: Resolution,
) -> Res<Resolved> {
    let resolved = desk.acting(&conn)?.sync_resolve(op_id, resolution).await?;
    conn.sync_soon();
    Ok(resolved)
}

/// Takes this terminal out of the shop (refused while anything is unsynced or set aside); the
/// database keeps its copy as one of its own.
#[tauri::command]
#[specta::specta]
pub async fn leave_shop(
    app: tauri::AppHandle,
    conn: State<'_, Connection>,
    desk: State<'_, SignIn>,
) -> Res<SyncStatus> {
    let own = desk.acting(&conn)?.leave_shop().await?;
    conn.replace(&app, own.clone());
    desk.sign_out();
    Ok(own.sync_status(false).await?)
}

/// The shop's terminals, as its server knows them.
#[tauri::command]
#[specta::specta]
pub async fn shop_terminals(conn: State<'_, Connection>) -> Res<Vec<Terminal>> {
    Ok(conn.core()?.shop_terminals().await?)
}
