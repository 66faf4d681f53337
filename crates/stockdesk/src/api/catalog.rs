//! Categories, products, edits and history.

use tracing::Instrument;
use uuid::Uuid;

use crate::catalog::{self, seed::SeedOptions};
use crate::error::Result;
use crate::model::*;
use crate::Stockdesk;

impl Stockdesk {
    /// Creates a category with its attributes and their allowed values.
    pub async fn create_category(&self, category: NewCategory) -> Result<Category> {
        self.write(None, CommandKind::CreateCategory { category })
            .await
    }

    pub async fn list_categories(&self) -> Result<Vec<Category>> {
        catalog::list_categories(&self.ctx)
            .instrument(tracing::debug_span!("list_categories"))
            .await
    }

    /// Creates a product (version 1) with its variants. `op_id` makes a retried create return
    /// the first product instead of creating a second.
    pub async fn create_product(
        &self,
        product: NewProduct,
        op_id: Option<Uuid>,
    ) -> Result<Product> {
        self.write(op_id, CommandKind::CreateProduct { product })
            .await
    }

    pub async fn get_product(&self, id: Uuid) -> Result<Product> {
        catalog::get_product(&self.ctx, id)
            .instrument(tracing::debug_span!("get_product", product_id = %id))
            .await
    }

    pub async fn list_products(&self, query: ProductQuery) -> Result<ProductPage> {
        catalog::list_products(&self.ctx, &query)
            .instrument(tracing::debug_span!("list_products"))
            .await
    }

    /// Variants to sell for what was scanned or typed at the till: an exact barcode, else an
    /// exact SKU, else products whose name or SKUs hold the text (`catalog::find_for_sale`).
    pub async fn find_for_sale(&self, query: &str) -> Result<Vec<VariantForSale>> {
        catalog::find_for_sale(&self.ctx, query)
            .instrument(tracing::debug_span!("find_for_sale"))
            .await
    }

    /// A version-checked edit (see `catalog::patch_product`). Nothing is committed on any error.
    pub async fn patch_product(&self, req: PatchRequest) -> Result<PatchOutcome> {
        let kind = CommandKind::PatchProduct {
            product_id: req.product_id,
            expected_version: req.expected_version,
            patch: req.patch,
            base: None,
        };
        self.write(req.op_id, kind).await
    }

    /// Versions of a product, newest first.
    pub async fn product_history(&self, id: Uuid) -> Result<Vec<HistoryEntry>> {
        catalog::product_history(&self.ctx, id)
            .instrument(tracing::debug_span!("product_history", product_id = %id))
            .await
    }

    /// The product as it was at `version`.
    pub async fn product_version(&self, id: Uuid, version: i64) -> Result<Product> {
        catalog::product_version(&self.ctx, id, version)
            .instrument(tracing::debug_span!("product_version", product_id = %id, version))
            .await
    }

    /// Brings back an old version as a new, version-checked edit (stock is not rewound).
    pub async fn restore_product(
        &self,
        product_id: Uuid,
        expected_version: i64,
        to_version: i64,
    ) -> Result<PatchOutcome> {
        let kind = CommandKind::RestoreProduct {
            product_id,
            expected_version,
            to_version,
        };
        self.write(None, kind).await
    }

    /// Adds a demo catalog (`products` products; the same `seed` gives the same catalog).
    pub async fn seed(&self, opts: SeedOptions) -> Result<SeedSummary> {
        let kind = CommandKind::Seed {
            products: u32::try_from(opts.products).unwrap_or(u32::MAX),
            seed: opts.seed,
        };
        self.write(None, kind).await
    }
}
