//! `stockdesk product …`, `stockdesk category …`, `stockdesk seed`.

use clap::{Args, Subcommand};
use serde_json::Value;
use stockdesk::catalog::{NewCategory, NewProduct, ProductPatch, ProductQuery, ProductStatus};
use stockdesk::{CommandKind, Error, Result, Stockdesk};
use uuid::Uuid;

use crate::io::{read_stdin, to_json, write};

#[derive(Args)]
pub struct SeedArgs {
    /// How many products to add.
    #[arg(long, default_value_t = 200)]
    products: usize,
    /// The same seed gives the same catalog.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Seed only if the database has no products yet.
    #[arg(long)]
    if_empty: bool,
}

#[derive(Subcommand)]
pub enum ProductCmd {
    /// List products: {"items": [...], "total": N}.
    List {
        /// Matches name, slug or SKU.
        #[arg(long)]
        search: Option<String>,
        #[arg(long, value_parser = parse_status)]
        status: Option<ProductStatus>,
        #[arg(long)]
        category: Option<Uuid>,
        /// Products with a variant at or below this stock.
        #[arg(long)]
        low_stock: Option<i64>,
        #[arg(long)]
        limit: Option<i64>,
        #[arg(long)]
        offset: Option<i64>,
    },
    /// One product with its variants and images.
    Get { id: Uuid },
    /// Create a product from the JSON on stdin.
    Create,
    /// Apply the patch JSON on stdin, version-checked.
    Patch {
        id: Uuid,
        /// The version the edit started from.
        #[arg(long)]
        expected_version: i64,
    },
    /// Versions of a product, newest first.
    History { id: Uuid },
    /// The product as it was at a version.
    Version { id: Uuid, version: i64 },
    /// Bring back an old version as a new, version-checked edit.
    Restore {
        id: Uuid,
        #[arg(long)]
        to_version: i64,
        #[arg(long)]
        expected_version: i64,
    },
}

#[derive(Subcommand)]
pub enum VariantsCmd {
    /// Variants to sell for QUERY, as a till finds them: [{"variant_id", "product_name",
    /// "variant_label", "sku", "barcode", "price_minor", "currency", "available", "matched"}]
    /// (an exact barcode, else an exact SKU, else name or SKU text; at most 20).
    Find {
        #[arg(allow_hyphen_values = true)]
        query: String,
    },
}

#[derive(Subcommand)]
pub enum CategoryCmd {
    List,
    /// Create a category from JSON on stdin: {"name": "...", "attributes": {"Size": ["S", "M"]}}.
    Create,
}

fn parse_status(s: &str) -> std::result::Result<ProductStatus, String> {
    ProductStatus::parse(s).ok_or_else(|| format!("{s:?} is not one of draft, published, archived"))
}

pub async fn seed(sd: &Stockdesk, op_id: Option<Uuid>, args: SeedArgs) -> Result<Value> {
    if args.if_empty
        && sd
            .list_products(ProductQuery {
                limit: Some(1),
                ..Default::default()
            })
            .await?
            .total
            > 0
    {
        return Ok(serde_json::json!({ "skipped": "the database already has products" }));
    }
    let products = u32::try_from(args.products)
        .ok()
        .filter(|&n| n <= MAX_SEED)
        .ok_or_else(|| Error::validation("products", format!("at most {MAX_SEED}")))?;
    let kind = CommandKind::Seed {
        products,
        seed: args.seed,
    };
    write(sd, op_id, kind).await
}

/// The largest demo catalog one seed makes.
const MAX_SEED: u32 = 1_000_000;

pub async fn product(sd: &Stockdesk, op_id: Option<Uuid>, cmd: ProductCmd) -> Result<Value> {
    match cmd {
        ProductCmd::List {
            search,
            status,
            category,
            low_stock,
            limit,
            offset,
        } => {
            let query = ProductQuery {
                search,
                status,
                category_id: category,
                low_stock,
                limit,
                offset,
            };
            to_json(&sd.list_products(query).await?)
        }
        ProductCmd::Get { id } => to_json(&sd.get_product(id).await?),
        ProductCmd::Create => {
            let product: NewProduct = read_stdin()?;
            write(sd, op_id, CommandKind::CreateProduct { product }).await
        }
        ProductCmd::Patch {
            id,
            expected_version,
        } => {
            let patch: ProductPatch = read_stdin()?;
            let kind = CommandKind::PatchProduct {
                product_id: id,
                expected_version,
                patch,
                base: None,
            };
            write(sd, op_id, kind).await
        }
        ProductCmd::History { id } => to_json(&sd.product_history(id).await?),
        ProductCmd::Version { id, version } => to_json(&sd.product_version(id, version).await?),
        ProductCmd::Restore {
            id,
            to_version,
            expected_version,
        } => {
            let kind = CommandKind::RestoreProduct {
                product_id: id,
                expected_version,
                to_version,
            };
            write(sd, op_id, kind).await
        }
    }
}

pub async fn category(sd: &Stockdesk, op_id: Option<Uuid>, cmd: CategoryCmd) -> Result<Value> {
    match cmd {
        CategoryCmd::List => to_json(&sd.list_categories().await?),
        CategoryCmd::Create => {
            let category: NewCategory = read_stdin()?;
            write(sd, op_id, CommandKind::CreateCategory { category }).await
        }
    }
}

pub async fn variants(sd: &Stockdesk, cmd: VariantsCmd) -> Result<Value> {
    match cmd {
        VariantsCmd::Find { query } => to_json(&sd.find_for_sale(&query).await?),
    }
}
