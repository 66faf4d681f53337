//! The catalog: categories, products, variants and image metadata; version-checked edits with a
//! three-way merge; history. Stock figures are written here only through the ledger.

mod list;
mod merge;
pub mod model;
pub mod patch;
mod persist;
mod repo;
pub mod seed;
mod validate;

use tracing::Instrument;
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::images;
use crate::store::idempotency::{self, Claim};
use crate::store::{with_retry, Tx};
use crate::{ChangeEvent, Stockdesk};

pub use model::*;
pub use patch::*;
pub use validate::{slugify, MAX_STOCK};

impl Stockdesk {
    /// Creates a category with its attributes and their allowed values.
    pub async fn create_category(&self, new: NewCategory) -> Result<Category> {
        let span = tracing::info_span!("create_category", name = %new.name);
        with_retry(|| async {
            let name = new.name.trim();
            if name.is_empty() || name.chars().count() > validate::MAX_NAME {
                return Err(Error::validation("name", "1–200 characters"));
            }
            let mut tx = self.store.write().await?;
            if repo::category_name_taken(&mut tx, name).await? {
                return Err(Error::validation(
                    "name",
                    "a category with this name exists",
                ));
            }
            let id = Uuid::now_v7();
            let attributes: Vec<_> = new
                .attributes
                .iter()
                .map(|(attr, values)| {
                    let attr_id = Uuid::now_v7();
                    let values = values
                        .iter()
                        .map(|v| (validate::attribute_value_id(attr_id, v), v.clone()))
                        .collect();
                    (attr_id, attr.clone(), values)
                })
                .collect();
            repo::insert_category(&mut tx, id, name, &attributes, self.clock.now()).await?;
            let category = repo::load_category(&mut tx, id)
                .await?
                .ok_or_else(|| Error::not_found("category", id))?;
            tx.commit().await?;
            Ok(category)
        })
        .instrument(span)
        .await
    }

    pub async fn list_categories(&self) -> Result<Vec<Category>> {
        let mut tx = self.store.read().await?;
        let mut out = Vec::new();
        for id in repo::category_ids(&mut tx).await? {
            out.extend(repo::load_category(&mut tx, id).await?);
        }
        Ok(out)
    }

    /// Creates a product (version 1) with its variants. `op_id` makes a retried create return
    /// the first product instead of creating a second.
    pub async fn create_product(&self, new: NewProduct, op_id: Option<Uuid>) -> Result<Product> {
        let span = tracing::info_span!("create_product", name = %new.name);
        let product = with_retry(|| async {
            let mut tx = self.store.write().await?;
            let now = self.clock.now();
            if let Some(op) = op_id {
                if let Claim::Done(p) =
                    idempotency::claim(&mut tx, op, "create_product", now).await?
                {
                    return Ok(p);
                }
            }
            let p = persist::create(&mut tx, &new, &self.actor, now).await?;
            if let Some(op) = op_id {
                idempotency::finish(&mut tx, op, &p).await?;
            }
            tx.commit().await?;
            Ok(p)
        })
        .instrument(span)
        .await?;
        self.emit(ChangeEvent::Product {
            id: product.id,
            version: product.version,
        });
        Ok(product)
    }

    pub async fn get_product(&self, id: Uuid) -> Result<Product> {
        let mut tx = self.store.read().await?;
        repo::load_product(&mut tx, id)
            .await?
            .ok_or_else(|| Error::not_found("product", id))
    }

    pub async fn list_products(&self, query: ProductQuery) -> Result<ProductPage> {
        let span = tracing::debug_span!("list_products");
        async {
            let mut tx = self.store.read().await?;
            list::list(&mut tx, &query).await
        }
        .instrument(span)
        .await
    }

    /// A version-checked edit. If `expected_version` is current the edit applies; if it is older,
    /// it is merged three-way with what was committed since, and either commits (saying what it
    /// merged with) or fails with `Error::Conflict` listing the clashes. Nothing is committed on
    /// any error.
    pub async fn patch_product(&self, req: PatchRequest) -> Result<PatchOutcome> {
        let span = tracing::info_span!(
            "patch_product",
            product_id = %req.product_id,
            expected_version = req.expected_version,
            actor = %self.actor,
        );
        let (outcome, outbox) = with_retry(|| self.patch_once(&req))
            .instrument(span.clone())
            .await?;
        self.failpoint("commit.after_commit")?;
        // Files the edit stopped using: deleted now if possible, else by the sweeper.
        self.work_outbox_now(&outbox).instrument(span).await;
        if !outcome.replayed {
            self.emit(ChangeEvent::Product {
                id: outcome.product.id,
                version: outcome.product.version,
            });
        }
        Ok(outcome)
    }

    /// One attempt at an edit; also returns the outbox entries it queued.
    async fn patch_once(&self, req: &PatchRequest) -> Result<(PatchOutcome, Vec<Uuid>)> {
        let mut tx = self.store.write().await?;
        let result = self.patch_in(&mut tx, req).await;
        tx.finish(result).await
    }

    /// The edit inside its transaction; the caller commits or rolls back.
    async fn patch_in(&self, tx: &mut Tx, req: &PatchRequest) -> Result<(PatchOutcome, Vec<Uuid>)> {
        let now = self.clock.now();
        if let Some(op) = req.op_id {
            if let Claim::Done(first) =
                idempotency::claim::<PatchOutcome>(tx, op, "patch_product", now).await?
            {
                return Ok((
                    PatchOutcome {
                        replayed: true,
                        ..first
                    },
                    Vec::new(),
                ));
            }
        }
        let current = repo::load_for_edit(tx, req.product_id)
            .await?
            .ok_or_else(|| Error::not_found("product", req.product_id))?;
        if req.expected_version < 1 || req.expected_version > current.version {
            return Err(Error::BadInput(format!(
                "expected version {} does not exist (the product is at version {})",
                req.expected_version, current.version
            )));
        }
        let stale = req.expected_version != current.version;
        let (base, history) = if stale {
            let base = repo::load_snapshot(tx, current.id, req.expected_version)
                .await?
                .ok_or_else(|| Error::not_found("product version", req.expected_version))?;
            let history = repo::history_since(tx, current.id, req.expected_version).await?;
            (base, history)
        } else {
            (current.clone(), Vec::new())
        };

        let staged = images::claim_staged(tx, &self.blob_store(), &req.patch, now).await?;
        let merged = merge::merge(&base, &current, &req.patch, &history, &staged, Uuid::now_v7)?;
        if !merged.conflicts.is_empty() {
            return Err(Error::Conflict(Box::new(ConflictReport {
                product_id: current.id,
                expected_version: req.expected_version,
                current_version: current.version,
                conflicts: merged.conflicts,
                mergeable: merged.applied,
                current,
            })));
        }
        let product =
            persist::update(tx, &current, merged.next, &self.actor, now, req.op_id).await?;
        let outbox = images::finish_claim(tx, &staged, &current, &product, now).await?;
        let outcome = PatchOutcome {
            product,
            merge: stale.then_some(MergeReport {
                base_version: req.expected_version,
                merged_with: history,
                applied: merged.applied,
                stock: merged.stock,
            }),
            replayed: false,
        };
        if let Some(op) = req.op_id {
            idempotency::finish(tx, op, &outcome).await?;
        }
        self.failpoint("commit.in_tx")?;
        Ok((outcome, outbox))
    }

    /// Versions of a product, newest first.
    pub async fn product_history(&self, id: Uuid) -> Result<Vec<HistoryEntry>> {
        let mut tx = self.store.read().await?;
        let mut entries = repo::history_since(&mut tx, id, 0).await?;
        if entries.is_empty() {
            return Err(Error::not_found("product", id));
        }
        entries.reverse();
        Ok(entries)
    }

    /// The product as it was at `version`.
    pub async fn product_version(&self, id: Uuid, version: i64) -> Result<Product> {
        let mut tx = self.store.read().await?;
        repo::load_snapshot(&mut tx, id, version)
            .await?
            .ok_or_else(|| Error::not_found("product version", format!("{id}@{version}")))
    }

    /// Brings back the fields, variants and image metadata of an old version, as a new edit that
    /// is version-checked like any other (against `expected_version`). Stock figures are not
    /// restored: stock is what the ledger says, not what an old snapshot said.
    pub async fn restore_product(
        &self,
        id: Uuid,
        expected_version: i64,
        to_version: i64,
    ) -> Result<PatchOutcome> {
        let old = self.product_version(id, to_version).await?;
        let seen = self.product_version(id, expected_version).await?;
        let patch = persist::patch_towards(&seen, &old);
        self.patch_product(PatchRequest {
            product_id: id,
            expected_version,
            patch,
            op_id: None,
        })
        .await
    }
}

/// Products whose history row for their current version differs from their rows (edits read the
/// current state from that row), with what differs. For `check_invariants`.
pub(crate) async fn snapshot_drift(tx: &mut Tx) -> Result<Vec<(Uuid, String)>> {
    let mut out = Vec::new();
    for id in repo::product_ids(tx).await? {
        let Some(stored) = repo::load_product(tx, id).await? else {
            continue;
        };
        match repo::load_snapshot(tx, id, stored.version).await? {
            None => out.push((id, format!("no history row for version {}", stored.version))),
            Some(mut snapshot) => {
                snapshot.sort_parts();
                if snapshot != stored {
                    let fields = merge::diff(&snapshot, &stored);
                    out.push((
                        id,
                        format!(
                            "the history row of version {} differs from the rows in: {}",
                            stored.version,
                            if fields.is_empty() {
                                "version metadata".to_string()
                            } else {
                                fields.join(", ")
                            }
                        ),
                    ));
                }
            }
        }
    }
    Ok(out)
}

/// Locks the product that owns `variant_id` (Postgres row lock; SQLite's write transaction already
/// excludes other writers) and returns its id. Stock operations that change on-hand stock call
/// this before touching the variant, so every writer locks product before variant and two
/// writers never wait on each other in a cycle.
pub(crate) async fn lock_product_of_variant(
    tx: &mut crate::store::Tx,
    variant_id: Uuid,
) -> Result<Uuid> {
    repo::lock_product_of_variant(tx, variant_id)
        .await?
        .ok_or_else(|| Error::not_found("variant", variant_id))
}

/// Records that the on-hand stock of `variant_ids` changed outside an edit (a sale, a receipt, a
/// count): the product gets a new version and a history row with its snapshot, so an editor
/// still showing the old figure merges its own stock change as a delta against this one.
/// Call after updating the variant rows, with the product locked.
pub(crate) async fn record_stock_change(
    tx: &mut crate::store::Tx,
    product_id: Uuid,
    variant_ids: &[Uuid],
    actor: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Product> {
    let current = repo::load_product(tx, product_id)
        .await?
        .ok_or_else(|| Error::not_found("product", product_id))?;
    let mut product = current.clone();
    product.version += 1;
    product.updated_at = now;
    product.updated_by = actor.to_string();
    let changes: Vec<String> = variant_ids
        .iter()
        .map(|id| format!("variants.{id}.stock_on_hand"))
        .collect();
    let mut batch = crate::store::Batch::default();
    repo::insert_history(&mut batch, &product, &changes, None)?;
    if batch
        .run_then(tx, repo::update_product_row(&current, &product))
        .await?
        == 0
    {
        return Err(Error::Busy);
    }
    Ok(product)
}
