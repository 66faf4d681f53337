//! Shop data in and out as CSV files: importing products from Shopify's product CSV or
//! Stockdesk's own export (each product one `import_product` command, so a product is imported
//! whole or not at all, version-checked against what the file was made from), and exporting
//! products (in the same layout: export → import changes nothing), stock, orders and the stock
//! ledger, streamed. This module reads and writes files and plans; every write goes through
//! `commands::apply`, never around it.
//!
//! Cells a spreadsheet would run as a formula are written with a leading apostrophe and read
//! back without it (`columns::neutralise` / `columns::restore`).

mod columns;
mod export;
mod fetch;
mod import;
mod plan;
mod problems;
mod read;
mod repo;

pub use columns::{neutralise, restore};
pub use export::{export, export_file};
pub use fetch::{ImageSource, BLOB_PREFIX, DOWNLOAD_TIMEOUT, PARALLEL_DOWNLOADS};
pub use import::{import, Control, Importer};
pub use read::MAX_FILE_BYTES;
