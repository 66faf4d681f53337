//! Three-way merge of an edit: base (the version the caller started from), theirs (the product as
//! it is now) and mine (the patch). Disjoint changes merge, equal changes agree, clashes are
//! reported per field; stock on hand merges as a delta so a sale never clashes with a stock edit.

use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use super::model::{HistoryEntry, Image, Product, Variant};
use super::patch::{
    ChangedBy, ConflictKind, FieldConflict, ImageUpdate, ProductPatch, StockMerge, VariantUpdate,
};
use crate::error::{Error, Result};
use crate::images::StagedFiles;

/// The merged product, or the list of clashes.
pub struct Merged {
    pub next: Product,
    pub applied: Vec<String>,
    pub stock: Vec<StockMerge>,
    pub conflicts: Vec<FieldConflict>,
}

/// Applies `patch` to `current`, three-way against `base`. `history` holds the versions committed
/// after `base` (to say who changed the other side); it is empty when the edit is not stale.
/// `new_id` makes ids for created variants that came without one, and for created images.
/// `staged` holds the uploads the patch names (claimed by the caller's transaction).
pub fn merge(
    base: &Product,
    current: &Product,
    patch: &ProductPatch,
    history: &[HistoryEntry],
    staged: &StagedFiles,
    mut new_id: impl FnMut() -> Uuid,
) -> Result<Merged> {
    let mut m = Merger {
        history,
        applied: Vec::new(),
        stock: Vec::new(),
        conflicts: Vec::new(),
    };
    let mut next = current.clone();
    let pid = current.id;

    if let Some(v) = &patch.name {
        next.name = m.field("product", pid, "name", "name", &base.name, &current.name, v);
    }
    if let Some(v) = &patch.slug {
        next.slug = m.field("product", pid, "slug", "slug", &base.slug, &current.slug, v);
    }
    if let Some(v) = &patch.description {
        next.description = m.field(
            "product",
            pid,
            "description",
            "description",
            &base.description,
            &current.description,
            v,
        );
    }
    if let Some(v) = &patch.status {
        next.status = m.field(
            "product",
            pid,
            "status",
            "status",
            &base.status,
            &current.status,
            v,
        );
    }
    if let Some(v) = &patch.category_id {
        next.category_id = m.field(
            "product",
            pid,
            "category_id",
            "category_id",
            &base.category_id,
            &current.category_id,
            v,
        );
    }

    check_ops_disjoint(
        patch.variants.update.iter().map(|u| u.id),
        &patch.variants.delete,
        "variants",
    )?;
    for upd in &patch.variants.update {
        m.variant_update(base, current, &mut next, upd)?;
    }
    for id in &patch.variants.delete {
        m.variant_delete(base, current, &mut next, *id)?;
    }
    let first_free = next.variants.iter().map(|v| v.position).max().unwrap_or(-1) + 1;
    for (position, new) in (first_free..).zip(&patch.variants.create) {
        let id = new.id.unwrap_or_else(&mut new_id);
        if next.variants.iter().any(|v| v.id == id) {
            return Err(Error::validation(
                format!("variants.{id}"),
                "a variant with this id already exists",
            ));
        }
        next.variants.push(Variant {
            id,
            sku: new.sku.clone(),
            price_minor: new.price_minor,
            currency: new.currency.clone(),
            stock_on_hand: new.stock_on_hand,
            attributes: new.attributes.clone(),
            position,
            version: 0,
        });
        m.applied.push(format!("variants.{id}"));
    }

    check_ops_disjoint(
        patch.images.update.iter().map(|u| u.id),
        &patch.images.delete,
        "images",
    )?;
    for upd in &patch.images.update {
        m.image_update(base, current, &mut next, upd, staged)?;
    }
    for id in &patch.images.delete {
        m.image_delete(base, current, &mut next, *id)?;
    }
    let first_free = next.images.iter().map(|i| i.position).max().unwrap_or(-1) + 1;
    for (n, new) in patch.images.create.iter().enumerate() {
        let file = &staged[&new.staged];
        let id = new_id();
        next.images.push(Image {
            id,
            blob_key: file.blob_key.clone(),
            thumb_key: Some(file.thumb_key.clone()),
            alt: new.alt.clone(),
            position: new.position.unwrap_or(first_free + n as i64),
            is_thumbnail: new.is_thumbnail,
            version: 0,
        });
        m.applied.push(format!("images.{id}"));
    }

    next.variants.sort_by_key(|v| (v.position, v.id));
    next.images.sort_by_key(|i| (i.position, i.id));
    Ok(Merged {
        next,
        applied: m.applied,
        stock: m.stock,
        conflicts: m.conflicts,
    })
}

fn check_ops_disjoint(
    updated: impl Iterator<Item = Uuid>,
    deleted: &[Uuid],
    what: &str,
) -> Result<()> {
    let mut seen = std::collections::HashSet::new();
    for id in updated {
        if !seen.insert(id) {
            return Err(Error::BadInput(format!(
                "{what}.{id} is updated twice in one patch"
            )));
        }
        if deleted.contains(&id) {
            return Err(Error::BadInput(format!(
                "{what}.{id} is both updated and deleted in one patch"
            )));
        }
    }
    Ok(())
}

struct Merger<'a> {
    history: &'a [HistoryEntry],
    applied: Vec<String>,
    stock: Vec<StockMerge>,
    conflicts: Vec<FieldConflict>,
}

impl Merger<'_> {
    /// The three-way rule for one field: returns the value the field takes.
    #[allow(clippy::too_many_arguments)]
    fn field<T: PartialEq + Clone + Serialize>(
        &mut self,
        entity: &str,
        entity_id: Uuid,
        path: &str,
        field: &str,
        base: &T,
        theirs: &T,
        mine: &T,
    ) -> T {
        if mine == theirs {
            return theirs.clone();
        }
        if base == theirs {
            self.applied.push(path.to_string());
            return mine.clone();
        }
        self.conflicts.push(FieldConflict {
            path: path.to_string(),
            entity: entity.to_string(),
            entity_id,
            field: Some(field.to_string()),
            kind: ConflictKind::BothChanged,
            base: json(base),
            mine: json(mine),
            theirs: json(theirs),
            changed_by: self.changed_by(path),
        });
        theirs.clone()
    }

    /// The latest version, after the base, whose changes touch `path` (or the whole entity).
    fn changed_by(&self, path: &str) -> Option<ChangedBy> {
        self.history
            .iter()
            .rev()
            .find(|h| {
                h.changes.iter().any(|c| {
                    c == path
                        || path.starts_with(&format!("{c}."))
                        || c.starts_with(&format!("{path}."))
                })
            })
            .map(|h| ChangedBy {
                version: h.version,
                actor: h.actor.clone(),
                at: h.at,
            })
    }

    fn whole(
        &mut self,
        entity: &str,
        id: Uuid,
        kind: ConflictKind,
        base: Value,
        mine: Value,
        theirs: Value,
    ) {
        let path = format!("{entity}s.{id}");
        let changed_by = self.changed_by(&path);
        self.conflicts.push(FieldConflict {
            path,
            entity: entity.to_string(),
            entity_id: id,
            field: None,
            kind,
            base,
            mine,
            theirs,
            changed_by,
        });
    }

    fn variant_update(
        &mut self,
        base: &Product,
        current: &Product,
        next: &mut Product,
        upd: &VariantUpdate,
    ) -> Result<()> {
        let id = upd.id;
        let base_v = base.variants.iter().find(|v| v.id == id);
        let Some(cur) = current.variants.iter().find(|v| v.id == id) else {
            return match base_v {
                Some(b) => {
                    self.whole(
                        "variant",
                        id,
                        ConflictKind::DeletedByThem,
                        json(b),
                        json(upd),
                        Value::Null,
                    );
                    Ok(())
                }
                None => Err(Error::not_found("variant", id)),
            };
        };
        // A variant created after the base: the caller has seen its current state.
        let b = base_v.unwrap_or(cur);
        let out = next
            .variants
            .iter_mut()
            .find(|v| v.id == id)
            .expect("next starts as a copy of current");
        let p = |f: &str| format!("variants.{id}.{f}");
        if let Some(v) = &upd.sku {
            out.sku = self.field("variant", id, &p("sku"), "sku", &b.sku, &cur.sku, v);
        }
        if let Some(v) = &upd.price_minor {
            out.price_minor = self.field(
                "variant",
                id,
                &p("price_minor"),
                "price_minor",
                &b.price_minor,
                &cur.price_minor,
                v,
            );
        }
        if let Some(v) = &upd.currency {
            out.currency = self.field(
                "variant",
                id,
                &p("currency"),
                "currency",
                &b.currency,
                &cur.currency,
                v,
            );
        }
        if let Some(v) = &upd.attributes {
            out.attributes = self.field(
                "variant",
                id,
                &p("attributes"),
                "attributes",
                &b.attributes,
                &cur.attributes,
                v,
            );
        }
        if let Some(v) = &upd.position {
            out.position = self.field(
                "variant",
                id,
                &p("position"),
                "position",
                &b.position,
                &cur.position,
                v,
            );
        }
        if let Some(mine) = upd.stock_on_hand {
            // Delta merge: what the editor changed is added to whatever happened meanwhile.
            let result = cur
                .stock_on_hand
                .checked_add(mine.checked_sub(b.stock_on_hand).ok_or_else(too_big)?)
                .ok_or_else(too_big)?;
            if result != cur.stock_on_hand {
                self.applied.push(p("stock_on_hand"));
            }
            if cur.stock_on_hand != b.stock_on_hand {
                self.stock.push(StockMerge {
                    variant_id: id,
                    base: b.stock_on_hand,
                    mine,
                    theirs: cur.stock_on_hand,
                    result,
                });
            }
            out.stock_on_hand = result;
        }
        Ok(())
    }

    fn variant_delete(
        &mut self,
        base: &Product,
        current: &Product,
        next: &mut Product,
        id: Uuid,
    ) -> Result<()> {
        let base_v = base.variants.iter().find(|v| v.id == id);
        let Some(cur) = current.variants.iter().find(|v| v.id == id) else {
            // Deleted by both sides: they agree.
            return base_v
                .map(|_| ())
                .ok_or_else(|| Error::not_found("variant", id));
        };
        if let Some(b) = base_v {
            if edited_variant(b, cur) {
                self.whole(
                    "variant",
                    id,
                    ConflictKind::EditedByThem,
                    json(b),
                    Value::Null,
                    json(cur),
                );
                return Ok(());
            }
        }
        next.variants.retain(|v| v.id != id);
        self.applied.push(format!("variants.{id}"));
        Ok(())
    }

    fn image_update(
        &mut self,
        base: &Product,
        current: &Product,
        next: &mut Product,
        upd: &ImageUpdate,
        staged: &StagedFiles,
    ) -> Result<()> {
        let id = upd.id;
        let base_i = base.images.iter().find(|i| i.id == id);
        let Some(cur) = current.images.iter().find(|i| i.id == id) else {
            return match base_i {
                Some(b) => {
                    self.whole(
                        "image",
                        id,
                        ConflictKind::DeletedByThem,
                        json(b),
                        json(upd),
                        Value::Null,
                    );
                    Ok(())
                }
                None => Err(Error::not_found("image", id)),
            };
        };
        let b = base_i.unwrap_or(cur);
        let out = next
            .images
            .iter_mut()
            .find(|i| i.id == id)
            .expect("next starts as a copy of current");
        let p = |f: &str| format!("images.{id}.{f}");
        if let Some(v) = &upd.alt {
            out.alt = self.field("image", id, &p("alt"), "alt", &b.alt, &cur.alt, v);
        }
        if let Some(v) = &upd.position {
            out.position = self.field(
                "image",
                id,
                &p("position"),
                "position",
                &b.position,
                &cur.position,
                v,
            );
        }
        if let Some(v) = &upd.is_thumbnail {
            out.is_thumbnail = self.field(
                "image",
                id,
                &p("is_thumbnail"),
                "is_thumbnail",
                &b.is_thumbnail,
                &cur.is_thumbnail,
                v,
            );
        }
        if let Some(file) = upd.staged.map(|s| &staged[&s]) {
            // The file is one field: its thumbnail follows whichever blob wins.
            out.blob_key = self.field(
                "image",
                id,
                &p("blob_key"),
                "blob_key",
                &b.blob_key,
                &cur.blob_key,
                &file.blob_key,
            );
            if out.blob_key == file.blob_key {
                out.thumb_key = Some(file.thumb_key.clone());
            }
        }
        Ok(())
    }

    fn image_delete(
        &mut self,
        base: &Product,
        current: &Product,
        next: &mut Product,
        id: Uuid,
    ) -> Result<()> {
        let base_i = base.images.iter().find(|i| i.id == id);
        let Some(cur) = current.images.iter().find(|i| i.id == id) else {
            return base_i
                .map(|_| ())
                .ok_or_else(|| Error::not_found("image", id));
        };
        if let Some(b) = base_i {
            if edited_image(b, cur) {
                self.whole(
                    "image",
                    id,
                    ConflictKind::EditedByThem,
                    json(b),
                    Value::Null,
                    json(cur),
                );
                return Ok(());
            }
        }
        next.images.retain(|i| i.id != id);
        self.applied.push(format!("images.{id}"));
        Ok(())
    }
}

/// An edit someone made to a variant, as opposed to stock moving (a sale is not an edit).
fn edited_variant(a: &Variant, b: &Variant) -> bool {
    a.sku != b.sku
        || a.price_minor != b.price_minor
        || a.currency != b.currency
        || a.attributes != b.attributes
        || a.position != b.position
}

fn edited_image(a: &Image, b: &Image) -> bool {
    a.blob_key != b.blob_key
        || a.alt != b.alt
        || a.position != b.position
        || a.is_thumbnail != b.is_thumbnail
}

fn too_big() -> Error {
    Error::validation("stock_on_hand", "number out of range")
}

fn json<T: Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// The paths that differ between two states of a product (for history and the change summary).
pub fn diff(before: &Product, after: &Product) -> Vec<String> {
    let mut out = Vec::new();
    let mut f = |changed: bool, path: &str| {
        if changed {
            out.push(path.to_string());
        }
    };
    f(before.name != after.name, "name");
    f(before.slug != after.slug, "slug");
    f(before.description != after.description, "description");
    f(before.status != after.status, "status");
    f(before.category_id != after.category_id, "category_id");
    for a in &after.variants {
        let p = |x: &str| format!("variants.{}.{x}", a.id);
        match before.variants.iter().find(|b| b.id == a.id) {
            None => out.push(format!("variants.{}", a.id)),
            Some(b) => {
                for (changed, field) in [
                    (a.sku != b.sku, "sku"),
                    (a.price_minor != b.price_minor, "price_minor"),
                    (a.currency != b.currency, "currency"),
                    (a.stock_on_hand != b.stock_on_hand, "stock_on_hand"),
                    (a.attributes != b.attributes, "attributes"),
                    (a.position != b.position, "position"),
                ] {
                    if changed {
                        out.push(p(field));
                    }
                }
            }
        }
    }
    for b in &before.variants {
        if !after.variants.iter().any(|a| a.id == b.id) {
            out.push(format!("variants.{}", b.id));
        }
    }
    for a in &after.images {
        let p = |x: &str| format!("images.{}.{x}", a.id);
        match before.images.iter().find(|b| b.id == a.id) {
            None => out.push(format!("images.{}", a.id)),
            Some(b) => {
                for (changed, field) in [
                    (a.blob_key != b.blob_key, "blob_key"),
                    (a.alt != b.alt, "alt"),
                    (a.position != b.position, "position"),
                    (a.is_thumbnail != b.is_thumbnail, "is_thumbnail"),
                ] {
                    if changed {
                        out.push(p(field));
                    }
                }
            }
        }
    }
    for b in &before.images {
        if !after.images.iter().any(|a| a.id == b.id) {
            out.push(format!("images.{}", b.id));
        }
    }
    out
}
