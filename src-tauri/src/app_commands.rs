// Shared by build.rs (`include!`, to generate the `allow-<command>` permissions) and lib.rs (a test
// checks it against the invoke handler and the capability), so it must stay plain Rust.

/// The app's own commands, as the invoke handler registers them: each gets an `allow-<command>`
/// permission, and the main window's capability grants exactly these.
pub const APP_COMMANDS: &[&str] = &[
    "apply",
    "preview",
    "stage_image_files",
    "release_staged",
    "list_products",
    "get_product",
    "product_history",
    "product_version",
    "list_categories",
    "image_file",
    "set_editing",
    "editors",
    "list_orders",
    "stock_level",
    "stock_movements",
    "sweeper_health",
    "import_products",
    "cancel_import",
    "export_csv",
    "backup_status",
    "connection_info",
    "test_connection",
    "use_database",
];
