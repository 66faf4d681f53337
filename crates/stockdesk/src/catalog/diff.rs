//! What changed between two versions of a product, as paths (`name`, `variants.<id>.sku`, …):
//! the `changes` of a history row, and whether an edit changes anything at all.

use crate::model::Product;

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
                    (a.barcode != b.barcode, "barcode"),
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
