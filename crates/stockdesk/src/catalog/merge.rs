//! Three-way merge of an edit: base (the version the caller started from), theirs (the product as
//! it is now) and mine (the patch). Disjoint changes merge, equal changes agree, clashes are
//! reported per field; stock on hand merges as a delta so a sale never clashes with a stock edit.

use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::images::StagedFiles;
use crate::model::{
    ChangedBy, ConflictKind, FieldConflict, ImageUpdate, ProductPatch, StockMerge, VariantUpdate,
};
use crate::model::{HistoryEntry, Image, Product, Variant};

use super::barcode;

/// For each named field the edit sets: the three-way rule, and the result into `out`.
/// Paths are `<prefix><field>`: `name` for the product, `variants.<id>.sku` for a part.
macro_rules! merge_fields {
    ($m:expr, $entity:literal, $id:expr, $upd:expr, $base:expr, $cur:expr, $out:expr, [$($f:ident),*]) => {
        merge_fields!($m, $entity, $id, $upd, $base, $cur, $out, [$($f),*], format!("{}s.{}.", $entity, $id))
    };
    ($m:expr, $entity:literal, $id:expr, $upd:expr, $base:expr, $cur:expr, $out:expr, [$($f:ident),*], $prefix:expr) => {
        $(
            if let Some(v) = &$upd.$f {
                let path = format!("{}{}", $prefix, stringify!($f));
                $out.$f = $m.field($entity, $id, &path, stringify!($f), &$base.$f, &$cur.$f, v);
            }
        )*
    };
}

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

    merge_fields!(
        m,
        "product",
        pid,
        patch,
        base,
        current,
        next,
        [name, slug, description, status, category_id],
        ""
    );
    check_ops_disjoint(
        patch.variants.update.iter().map(|u| u.id),
        &patch.variants.delete,
        "variants",
    )?;
    for upd in &patch.variants.update {
        m.variant_update(base, current, &mut next, upd)?;
    }
    for id in &patch.variants.delete {
        m.delete::<Variant>(base, current, &mut next, *id)?;
    }
    // Saturating: positions are validated after the merge, which refuses one out of range.
    let first_free = next
        .variants
        .iter()
        .map(|v| v.position)
        .max()
        .unwrap_or(-1)
        .saturating_add(1);
    for (n, new) in (0_i64..).zip(&patch.variants.create) {
        let position = first_free.saturating_add(n);
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
            barcode: new.barcode.as_deref().and_then(barcode::normalise),
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
        m.delete::<Image>(base, current, &mut next, *id)?;
    }
    let first_free = next
        .images
        .iter()
        .map(|i| i.position)
        .max()
        .unwrap_or(-1)
        .saturating_add(1);
    for (n, new) in patch.images.create.iter().enumerate() {
        let file = &staged[&new.staged];
        let id = new_id();
        next.images.push(Image {
            id,
            blob_key: file.blob_key.clone(),
            thumb_key: Some(file.thumb_key.clone()),
            alt: new.alt.clone(),
            position: new.position.unwrap_or(first_free.saturating_add(n as i64)),
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

    /// Finds the variant or image an update names, as (base, current). `Ok(None)` means someone
    /// else deleted it since the base: that is recorded as a clash.
    fn locate<'p, T: Part>(
        &mut self,
        base: &'p Product,
        current: &'p Product,
        id: Uuid,
        mine: Value,
    ) -> Result<Option<(&'p T, &'p T)>> {
        let base_part = T::find(base, id);
        match T::find(current, id) {
            // A part created after the base: the caller has seen its current state.
            Some(cur) => Ok(Some((base_part.unwrap_or(cur), cur))),
            None => match base_part {
                Some(b) => {
                    self.whole(
                        T::ENTITY,
                        id,
                        ConflictKind::DeletedByThem,
                        json(b),
                        mine,
                        Value::Null,
                    );
                    Ok(None)
                }
                None => Err(Error::not_found(T::ENTITY, id)),
            },
        }
    }

    /// Deletes a variant or image, unless someone else edited it since the base (a clash).
    fn delete<T: Part>(
        &mut self,
        base: &Product,
        current: &Product,
        next: &mut Product,
        id: Uuid,
    ) -> Result<()> {
        let base_part = T::find(base, id);
        let Some(cur) = T::find(current, id) else {
            // Deleted by both sides: they agree.
            return base_part
                .map(|_| ())
                .ok_or_else(|| Error::not_found(T::ENTITY, id));
        };
        if let Some(b) = base_part {
            if b.edited(cur) {
                self.whole(
                    T::ENTITY,
                    id,
                    ConflictKind::EditedByThem,
                    json(b),
                    Value::Null,
                    json(cur),
                );
                return Ok(());
            }
        }
        T::all_mut(next).retain(|p| p.id() != id);
        self.applied.push(format!("{}s.{id}", T::ENTITY));
        Ok(())
    }

    fn variant_update(
        &mut self,
        base: &Product,
        current: &Product,
        next: &mut Product,
        upd: &VariantUpdate,
    ) -> Result<()> {
        let id = upd.id;
        let Some((b, cur)) = self.locate::<Variant>(base, current, id, json(upd))? else {
            return Ok(());
        };
        let out = Variant::find_mut(next, id);
        // Merged as stored: " 4006381 333931" and "4006381333931" are one change, not a clash.
        let upd = &VariantUpdate {
            barcode: upd
                .barcode
                .as_ref()
                .map(|b| b.as_deref().and_then(barcode::normalise)),
            ..upd.clone()
        };
        merge_fields!(
            self,
            "variant",
            id,
            upd,
            b,
            cur,
            out,
            [sku, barcode, price_minor, currency, attributes, position]
        );
        if let Some(mine) = upd.stock_on_hand {
            // Delta merge: what the editor changed is added to whatever happened meanwhile.
            let result = cur
                .stock_on_hand
                .checked_add(mine.checked_sub(b.stock_on_hand).ok_or_else(too_big)?)
                .ok_or_else(too_big)?;
            if result != cur.stock_on_hand {
                self.applied.push(format!("variants.{id}.stock_on_hand"));
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

    fn image_update(
        &mut self,
        base: &Product,
        current: &Product,
        next: &mut Product,
        upd: &ImageUpdate,
        staged: &StagedFiles,
    ) -> Result<()> {
        let id = upd.id;
        let Some((b, cur)) = self.locate::<Image>(base, current, id, json(upd))? else {
            return Ok(());
        };
        let out = Image::find_mut(next, id);
        merge_fields!(
            self,
            "image",
            id,
            upd,
            b,
            cur,
            out,
            [alt, position, is_thumbnail]
        );
        if upd.staged.is_none() && b.blob_key != cur.blob_key {
            // What I wrote about the picture I saw would land on another one.
            let path = format!("images.{id}.blob_key");
            self.conflicts.push(FieldConflict {
                changed_by: self.changed_by(&path),
                path,
                entity: "image".to_string(),
                entity_id: id,
                field: Some("blob_key".to_string()),
                kind: ConflictKind::FileReplacedByThem,
                base: json(&b.blob_key),
                mine: json(&b.blob_key),
                theirs: json(&cur.blob_key),
            });
        }
        if let Some(file) = upd.staged.map(|s| &staged[&s]) {
            // The file is one field: its thumbnail follows whichever blob wins.
            out.blob_key = self.field(
                "image",
                id,
                &format!("images.{id}.blob_key"),
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
}

/// Variants and images: the parts of a product that are merged one by one.
trait Part: Serialize + Sized {
    const ENTITY: &'static str;
    fn id(&self) -> Uuid;
    fn all(p: &Product) -> &Vec<Self>;
    fn all_mut(p: &mut Product) -> &mut Vec<Self>;
    /// Whether someone edited it (a sale moving stock is not an edit).
    fn edited(&self, other: &Self) -> bool;

    fn find(p: &Product, id: Uuid) -> Option<&Self> {
        Self::all(p).iter().find(|x| x.id() == id)
    }

    fn find_mut(p: &mut Product, id: Uuid) -> &mut Self {
        Self::all_mut(p)
            .iter_mut()
            .find(|x| x.id() == id)
            .expect("next starts as a copy of current")
    }
}

impl Part for Variant {
    const ENTITY: &'static str = "variant";
    fn id(&self) -> Uuid {
        self.id
    }
    fn all(p: &Product) -> &Vec<Self> {
        &p.variants
    }
    fn all_mut(p: &mut Product) -> &mut Vec<Self> {
        &mut p.variants
    }
    fn edited(&self, b: &Self) -> bool {
        self.sku != b.sku
            || self.barcode != b.barcode
            || self.price_minor != b.price_minor
            || self.currency != b.currency
            || self.attributes != b.attributes
            || self.position != b.position
    }
}

impl Part for Image {
    const ENTITY: &'static str = "image";
    fn id(&self) -> Uuid {
        self.id
    }
    fn all(p: &Product) -> &Vec<Self> {
        &p.images
    }
    fn all_mut(p: &mut Product) -> &mut Vec<Self> {
        &mut p.images
    }
    fn edited(&self, b: &Self) -> bool {
        self.blob_key != b.blob_key
            || self.alt != b.alt
            || self.position != b.position
            || self.is_thumbnail != b.is_thumbnail
    }
}

fn too_big() -> Error {
    Error::validation("stock_on_hand", "number out of range")
}

fn json<T: Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

#[cfg(test)]
#[path = "merge_tests/mod.rs"]
mod tests;
