//! Small shops to test with: stocked products and orders of them.

use std::collections::BTreeMap;

use stockdesk::catalog::{NewProduct, NewVariant, ProductStatus};
use stockdesk::stock::{NewOrder, NewOrderItem};
use stockdesk::Stockdesk;
use uuid::Uuid;

/// A published product with one variant per entry of `stocks`; returns the variant ids.
pub async fn stocked(sd: &Stockdesk, name: &str, stocks: &[i64]) -> Vec<Uuid> {
    let variants = stocks
        .iter()
        .enumerate()
        .map(|(i, &stock)| NewVariant {
            id: None,
            sku: format!("{name}-{i}"),
            barcode: None,
            price_minor: 1000 + i as i64,
            currency: "EUR".into(),
            stock_on_hand: stock,
            attributes: BTreeMap::new(),
        })
        .collect();
    let product = NewProduct {
        id: None,
        name: name.into(),
        slug: None,
        description: String::new(),
        status: ProductStatus::Published,
        category_id: None,
        variants,
    };
    let p = sd.create_product(product, None).await.unwrap();
    p.variants.iter().map(|v| v.id).collect()
}

pub fn order_of(lines: &[(Uuid, i64)]) -> NewOrder {
    NewOrder {
        id: None,
        items: lines
            .iter()
            .map(|&(variant_id, quantity)| NewOrderItem {
                variant_id,
                quantity,
            })
            .collect(),
        expires_in_secs: None,
    }
}
