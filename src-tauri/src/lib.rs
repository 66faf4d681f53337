//! The desktop shell around the Stockdesk core.
//!
//! It owns three things and nothing else: the open database (one `Stockdesk` handle, opened at
//! start-up and swapped when settings choose another database), the commands (each a one-line
//! adapter over a core method; every write is the one `apply` command, the same entry point as
//! `stockdesk apply`) and the forwarding of the core's change events to the UI. Domain rules
//! never live here: a command that grows belongs in the core.

mod app_commands;
mod backups;
mod connection;
mod shop;
mod signin;
mod transfer;

use std::path::{Path, PathBuf};

use serde::Serialize;
use stockdesk::catalog::{
    Category, HistoryEntry, Product, ProductPage, ProductQuery, VariantForSale,
};
use stockdesk::error::ErrorCode;
use stockdesk::images::{ImageFile, StagedBlob};
use stockdesk::model::{
    BackupStatus, Editing, ExportReport, ExportRequest, ImportOptions, ImportReport, Outcome, Role,
    StaffEvent, StaffProfile,
};
use stockdesk::reports::{
    EditsReport, HoldsReport, ReportRange, SalesReport, StockReport, SweeperReport,
};
use stockdesk::stock::{Movement, Order, OrderQuery, StockLevel};
use stockdesk::sweeper::SweeperHealth;
use stockdesk::{ApiError, Applied, ChangeEvent, CommandKind};
use tauri::{Manager, State};
use tauri_specta::{collect_commands, collect_events, Event};
use uuid::Uuid;

pub use app_commands::APP_COMMANDS;
pub use connection::{Connection, ConnectionInfo, DatabaseSource, Launch};
pub use shop::{JoinProgressed, Joins};
pub use signin::{LockSettings, SignIn, SignInState};
pub use transfer::{ImportProgressed, Imports};

/// Sent to the UI whenever data may have changed, so cached queries are refetched.
#[derive(Debug, Clone, Serialize, specta::Type, tauri_specta::Event)]
pub struct DataChanged {
    /// What changed; `null` when events were missed or the database was switched (refetch all).
    pub change: Option<ChangeEvent>,
}

type Res<T> = Result<T, ApiError>;

// ---- writes --------------------------------------------------------------------------------

/// Every write: the UI says what (`kind`) under an op id of its choosing (a retried call with the
/// same op id returns the first outcome); the shell adds who is acting (the person signed in)
/// and when.
#[tauri::command]
#[specta::specta]
async fn apply(
    conn: State<'_, Connection>,
    desk: State<'_, SignIn>,
    op_id: Uuid,
    kind: CommandKind,
) -> Res<Applied> {
    let core = desk.acting(&conn)?;
    let applied = core.apply(&core.command(Some(op_id), kind)).await?;
    // A terminal sends its writes to the shop at once, not at the next tick.
    conn.sync_soon();
    Ok(applied)
}

/// What a write would do now (an edit's merge, or the conflict it would meet), written nowhere:
/// the editor's "Review now".
#[tauri::command]
#[specta::specta]
async fn preview(
    conn: State<'_, Connection>,
    desk: State<'_, SignIn>,
    kind: CommandKind,
) -> Res<Outcome> {
    let core = desk.acting(&conn)?;
    Ok(core.preview(&core.command(None, kind)).await?)
}

/// Checks and stages the files at `paths` (from the file dialog or a drop) for an `add_images`
/// or `replace_image_file` command; all or none.
#[tauri::command]
#[specta::specta]
async fn stage_image_files(
    conn: State<'_, Connection>,
    paths: Vec<String>,
) -> Res<Vec<StagedBlob>> {
    let paths: Vec<PathBuf> = paths.into_iter().map(PathBuf::from).collect();
    Ok(conn.core()?.stage_image_files(&paths).await?)
}

/// Gives up staged uploads the UI will not use (their files go unless something uses them).
#[tauri::command]
#[specta::specta]
async fn release_staged(conn: State<'_, Connection>, ids: Vec<Uuid>) -> Res<()> {
    Ok(conn.core()?.release_staged(ids).await?)
}

// ---- catalog -------------------------------------------------------------------------------

#[tauri::command]
#[specta::specta]
async fn list_products(conn: State<'_, Connection>, query: ProductQuery) -> Res<ProductPage> {
    Ok(conn.core()?.list_products(query).await?)
}

#[tauri::command]
#[specta::specta]
async fn get_product(conn: State<'_, Connection>, id: Uuid) -> Res<Product> {
    Ok(conn.core()?.get_product(id).await?)
}

#[tauri::command]
#[specta::specta]
async fn product_history(conn: State<'_, Connection>, id: Uuid) -> Res<Vec<HistoryEntry>> {
    Ok(conn.core()?.product_history(id).await?)
}

#[tauri::command]
#[specta::specta]
async fn product_version(conn: State<'_, Connection>, id: Uuid, version: i64) -> Res<Product> {
    Ok(conn.core()?.product_version(id, version).await?)
}

#[tauri::command]
#[specta::specta]
async fn list_categories(conn: State<'_, Connection>) -> Res<Vec<Category>> {
    Ok(conn.core()?.list_categories().await?)
}

/// Variants to sell for what was scanned or typed at the till (exact barcode, exact SKU, text).
#[tauri::command]
#[specta::specta]
async fn find_for_sale(conn: State<'_, Connection>, query: String) -> Res<Vec<VariantForSale>> {
    Ok(conn.core()?.find_for_sale(&query).await?)
}

// ---- images --------------------------------------------------------------------------------

/// The bytes of an image's `blob_key` or `thumb_key`, to show.
#[tauri::command]
#[specta::specta]
async fn image_file(conn: State<'_, Connection>, key: String) -> Res<ImageFile> {
    Ok(conn.core()?.image_file(&key).await?)
}

// ---- presence ------------------------------------------------------------------------------

/// This terminal has `product_id` open with unsaved changes (`true`, a heartbeat every ~15 s), or
/// no longer (`false`). Informs the other terminals; locks nothing.
#[tauri::command]
#[specta::specta]
async fn set_editing(
    conn: State<'_, Connection>,
    desk: State<'_, SignIn>,
    product_id: Uuid,
    editing: bool,
) -> Res<()> {
    Ok(desk
        .current(&conn)?
        .set_editing(product_id, editing)
        .await?)
}

/// What the shop's other terminals are editing now (heartbeat within 150 s).
#[tauri::command]
#[specta::specta]
async fn editors(conn: State<'_, Connection>) -> Res<Vec<Editing>> {
    Ok(conn.core()?.editors().await?)
}

// ---- orders, stock, sweeper ----------------------------------------------------------------

#[tauri::command]
#[specta::specta]
async fn list_orders(conn: State<'_, Connection>, query: OrderQuery) -> Res<Vec<Order>> {
    Ok(conn.core()?.list_orders(query).await?)
}

#[tauri::command]
#[specta::specta]
async fn stock_level(conn: State<'_, Connection>, variant_id: Uuid) -> Res<StockLevel> {
    Ok(conn.core()?.stock_level(variant_id).await?)
}

#[tauri::command]
#[specta::specta]
async fn stock_movements(conn: State<'_, Connection>, variant_id: Uuid) -> Res<Vec<Movement>> {
    Ok(conn.core()?.stock_movements(variant_id).await?)
}

#[tauri::command]
#[specta::specta]
async fn sweeper_health(conn: State<'_, Connection>) -> Res<SweeperHealth> {
    Ok(conn.core()?.sweeper_health().await?)
}

// ---- staff: who is working -----------------------------------------------------------------

/// Who is signed in at this terminal, what they may do (and what not, with who may), and
/// whether the terminal is locked.
#[tauri::command]
#[specta::specta]
async fn session(conn: State<'_, Connection>, desk: State<'_, SignIn>) -> Res<SignInState> {
    desk.state(&conn).await
}

/// The shop's live profiles, to pick from ("Who is working?") and to manage.
#[tauri::command]
#[specta::specta]
async fn staff_profiles(conn: State<'_, Connection>) -> Res<Vec<StaffProfile>> {
    Ok(conn.core()?.staff(false).await?)
}

/// The latest sign-ins, wrong PINs and lockouts, newest first.
#[tauri::command]
#[specta::specta]
async fn staff_events(conn: State<'_, Connection>, limit: i64) -> Res<Vec<StaffEvent>> {
    Ok(conn.core()?.staff_events(limit).await?)
}

/// Signs `name` in with `pin` (checked and counted by the core) and unlocks the terminal.
#[tauri::command]
#[specta::specta]
async fn sign_in(
    conn: State<'_, Connection>,
    desk: State<'_, SignIn>,
    name: String,
    pin: String,
) -> Res<SignInState> {
    desk.sign_in(&conn, &name, &pin).await
}

#[tauri::command]
#[specta::specta]
async fn sign_out(conn: State<'_, Connection>, desk: State<'_, SignIn>) -> Res<SignInState> {
    desk.sign_out();
    desk.state(&conn).await
}

/// Locks the terminal (idle, or asked): the person stays signed in, nothing is written until
/// someone signs in again.
#[tauri::command]
#[specta::specta]
async fn lock(conn: State<'_, Connection>, desk: State<'_, SignIn>) -> Res<SignInState> {
    desk.lock();
    desk.state(&conn).await
}

/// Adds a profile with its PIN, as the person signed in (the core hashes the PIN: the command it
/// applies carries only the hash). Removing one is an ordinary `remove_staff` command.
#[tauri::command]
#[specta::specta]
async fn add_staff(
    conn: State<'_, Connection>,
    desk: State<'_, SignIn>,
    op_id: Uuid,
    name: String,
    role: Role,
    pin: String,
) -> Res<StaffProfile> {
    Ok(desk
        .acting(&conn)?
        .add_staff(Some(op_id), &name, role, &pin)
        .await?)
}

#[tauri::command]
#[specta::specta]
fn lock_settings(conn: State<'_, Connection>) -> LockSettings {
    signin::lock_settings(&conn)
}

#[tauri::command]
#[specta::specta]
fn set_lock_settings(conn: State<'_, Connection>, settings: LockSettings) -> Res<LockSettings> {
    signin::set_lock_settings(&conn, settings)
}

// ---- reports ------------------------------------------------------------------------------

#[tauri::command]
#[specta::specta]
async fn sales_report(conn: State<'_, Connection>, range: ReportRange) -> Res<SalesReport> {
    Ok(conn.core()?.sales_report(&range).await?)
}

/// Stock now; `low_stock_at` null: 5.
#[tauri::command]
#[specta::specta]
async fn stock_report(conn: State<'_, Connection>, low_stock_at: Option<i64>) -> Res<StockReport> {
    Ok(conn.core()?.stock_report(low_stock_at).await?)
}

#[tauri::command]
#[specta::specta]
async fn holds_report(conn: State<'_, Connection>, range: ReportRange) -> Res<HoldsReport> {
    Ok(conn.core()?.holds_report(&range).await?)
}

#[tauri::command]
#[specta::specta]
async fn edits_report(conn: State<'_, Connection>, range: ReportRange) -> Res<EditsReport> {
    Ok(conn.core()?.edits_report(&range).await?)
}

#[tauri::command]
#[specta::specta]
async fn sweeper_report(conn: State<'_, Connection>, range: ReportRange) -> Res<SweeperReport> {
    Ok(conn.core()?.sweeper_report(&range).await?)
}

// ---- import, export, backups ---------------------------------------------------------------

/// Imports the product CSV at `path` (`dryRun`: the preview, nothing written); its progress
/// comes as `ImportProgressed` events.
#[tauri::command]
#[specta::specta]
async fn import_products(
    app: tauri::AppHandle,
    conn: State<'_, Connection>,
    desk: State<'_, SignIn>,
    imports: State<'_, Imports>,
    path: String,
    options: ImportOptions,
    dry_run: bool,
) -> Res<ImportReport> {
    // As the person signed in: an import is their commands.
    let core = desk.acting(&conn)?;
    imports
        .run(&app, core, PathBuf::from(path), options, dry_run)
        .await
}

/// Stops the running import after the product it is at (false: none runs).
#[tauri::command]
#[specta::specta]
fn cancel_import(imports: State<'_, Imports>) -> bool {
    imports.cancel()
}

/// Writes an export as CSV to `path`.
#[tauri::command]
#[specta::specta]
async fn export_csv(
    conn: State<'_, Connection>,
    request: ExportRequest,
    path: String,
) -> Res<ExportReport> {
    Ok(conn
        .core()?
        .export_to_file(&request, &PathBuf::from(path))
        .await?)
}

/// When the last daily backup ran (or why it failed).
#[tauri::command]
#[specta::specta]
fn backup_status(conn: State<'_, Connection>) -> Res<BackupStatus> {
    Ok(conn.core()?.backup_status()?)
}

// ---- connection and settings ---------------------------------------------------------------

#[tauri::command]
#[specta::specta]
fn connection_info(conn: State<'_, Connection>) -> ConnectionInfo {
    conn.info()
}

/// Connects to `url` without migrating or switching to it; says which backend answered.
#[tauri::command]
#[specta::specta]
async fn test_connection(url: String) -> Res<String> {
    connection::test(&url).await
}

/// Switches to `url` (`null`: the SQLite file in the data directory) and remembers the choice.
/// Whoever was signed in is signed out: their profile belongs to the other shop.
#[tauri::command]
#[specta::specta]
async fn use_database(
    app: tauri::AppHandle,
    conn: State<'_, Connection>,
    desk: State<'_, SignIn>,
    url: Option<String>,
) -> Res<ConnectionInfo> {
    let info = conn.switch(&app, url).await?;
    desk.sign_out();
    Ok(info)
}

// ---- wiring --------------------------------------------------------------------------------

/// Every command and event the UI may use; the TypeScript bindings are generated from this.
pub fn specta_builder() -> tauri_specta::Builder<tauri::Wry> {
    tauri_specta::Builder::<tauri::Wry>::new()
        .commands(collect_commands![
            apply,
            preview,
            stage_image_files,
            release_staged,
            list_products,
            get_product,
            product_history,
            product_version,
            list_categories,
            find_for_sale,
            image_file,
            set_editing,
            editors,
            list_orders,
            stock_level,
            stock_movements,
            sweeper_health,
            session,
            staff_profiles,
            staff_events,
            sign_in,
            sign_out,
            lock,
            add_staff,
            lock_settings,
            set_lock_settings,
            sales_report,
            stock_report,
            holds_report,
            edits_report,
            sweeper_report,
            import_products,
            cancel_import,
            export_csv,
            backup_status,
            connection_info,
            test_connection,
            use_database,
            shop::join_shop,
            shop::cancel_join,
            shop::sync_status,
            shop::sync_now,
            shop::sync_attention,
            shop::sync_resolve,
            shop::leave_shop,
            shop::shop_terminals,
        ])
        .events(collect_events![
            DataChanged,
            ImportProgressed,
            JoinProgressed
        ])
        // Every code, for the UI's exhaustive handling (`ApiError` itself carries the details).
        .typ::<ErrorCode>()
        // Versions, prices and counts are i64 but far below 2^53.
        .dangerously_cast_bigints_to_number()
        // One TypeScript type per Rust type (the UI reads and writes the same shapes).
        .disable_serde_phases()
}

/// The names of the commands the invoke handler registers (from the same builder), to check
/// them against `APP_COMMANDS` and the capability.
pub fn registered_commands() -> Vec<String> {
    /// An "exporter" that only reads the command names off the builder's configuration.
    struct Names<'a>(&'a mut Vec<String>);
    impl tauri_specta::LanguageExt for Names<'_> {
        type Error = std::io::Error;
        fn export(
            self,
            cfg: &tauri_specta::BuilderConfiguration,
            _: &Path,
        ) -> Result<(), std::io::Error> {
            self.0
                .extend(cfg.commands.iter().map(|f| f.name().to_string()));
            Ok(())
        }
    }
    let mut names = Vec::new();
    specta_builder()
        .export(Names(&mut names), Path::new(""))
        .expect("reading names fails never");
    names
}

/// Where the generated bindings are checked in, relative to the repository root.
pub const BINDINGS_PATH: &str = "ui/src/bindings/index.ts";

/// Writes the TypeScript bindings for the UI to `path`.
pub fn export_bindings(path: &Path) -> Result<(), String> {
    let ts = specta_typescript::Typescript::default()
        .header("// Generated from the Rust types by tauri-specta. Do not edit: run `make bindings`.\n/* eslint-disable */\n// @ts-nocheck");
    specta_builder()
        .export(ts, path)
        .map_err(|e| format!("exporting bindings to {}: {e}", path.display()))
}

/// Starts the app: opens the database chosen by the environment or the settings, then runs.
pub fn run() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .init();
    let builder = specta_builder();
    let launch = Launch::from_env();
    tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        .invoke_handler(builder.invoke_handler())
        .setup(move |app| {
            builder.mount_events(app);
            let conn = tauri::async_runtime::block_on(Connection::open(launch));
            conn.forward_events(app.handle());
            conn.start_sweeper();
            conn.start_sync();
            app.manage(conn);
            app.manage(SignIn::default());
            app.manage(Imports::default());
            app.manage(Joins::default());
            Ok(())
        })
        .run(tauri::generate_context!())
        .expect("error while running the Stockdesk app");
}

/// Tells the UI that `change` happened (or, with `None`, that everything may have).
fn notify(app: &tauri::AppHandle, change: Option<ChangeEvent>) {
    if let Err(e) = (DataChanged { change }).emit(app) {
        tracing::warn!(error = %e, "could not forward a change event to the UI");
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// Least privilege: the main window is granted exactly the app's commands, by name. A new
    /// command must be added here, to `APP_COMMANDS` and to the capability, on purpose.
    #[test]
    fn the_capability_grants_exactly_the_registered_commands() {
        let pinned: BTreeSet<String> = [
            "apply",
            "preview",
            "stage_image_files",
            "release_staged",
            "list_products",
            "get_product",
            "product_history",
            "product_version",
            "list_categories",
            "find_for_sale",
            "image_file",
            "set_editing",
            "editors",
            "list_orders",
            "stock_level",
            "stock_movements",
            "sweeper_health",
            "session",
            "staff_profiles",
            "staff_events",
            "sign_in",
            "sign_out",
            "lock",
            "add_staff",
            "lock_settings",
            "set_lock_settings",
            "sales_report",
            "stock_report",
            "holds_report",
            "edits_report",
            "sweeper_report",
            "import_products",
            "cancel_import",
            "export_csv",
            "backup_status",
            "connection_info",
            "test_connection",
            "use_database",
            "join_shop",
            "cancel_join",
            "sync_status",
            "sync_now",
            "sync_attention",
            "sync_resolve",
            "leave_shop",
            "shop_terminals",
        ]
        .into_iter()
        .map(String::from)
        .collect();
        let declared: BTreeSet<String> = APP_COMMANDS.iter().map(|c| c.to_string()).collect();
        let registered: BTreeSet<String> = registered_commands().into_iter().collect();
        assert_eq!(declared, pinned, "build.rs declares other commands");
        assert_eq!(
            registered, pinned,
            "the invoke handler registers other commands"
        );
        assert_eq!(
            APP_COMMANDS.len(),
            pinned.len(),
            "APP_COMMANDS has duplicates"
        );

        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src-tauri/capabilities");
        let mut granted = BTreeSet::new();
        let mut files = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            files += 1;
            let cap: serde_json::Value =
                serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            let windows = &cap["windows"];
            for permission in cap["permissions"].as_array().unwrap() {
                // A permission is its identifier, or an object naming it (with a scope).
                let id = permission
                    .as_str()
                    .or_else(|| permission["identifier"].as_str())
                    .unwrap();
                // App permissions have no `plugin:` prefix; plugins' and core's do.
                if id.contains(':') {
                    continue;
                }
                let command = id
                    .strip_prefix("allow-")
                    .unwrap_or_else(|| panic!("{}: {id} is not an allow-<command>", path.display()))
                    .replace('-', "_");
                assert_eq!(windows, &serde_json::json!(["main"]), "{}", path.display());
                assert!(granted.insert(command), "{id} granted twice");
            }
        }
        assert!(files > 0, "no capability files in {}", dir.display());
        assert_eq!(granted, pinned, "the capability grants other commands");
    }
}
