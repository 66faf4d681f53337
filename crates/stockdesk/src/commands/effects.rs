//! What a command does outside its transaction: the files a demo seed stages before it, and the
//! change events the front ends hear about after a commit.

use std::collections::BTreeSet;

use crate::ctx::Ctx;
use crate::error::Result;
use crate::model::{ChangeEvent, Order, Outcome, StagedBlob};
use crate::{catalog, images};

/// The demo seed's images, staged (stored once per content, so seeding again reuses them).
pub async fn stage_demo_images(ctx: &Ctx, actor: &str) -> Result<Vec<StagedBlob>> {
    let mut photos = Vec::new();
    for bytes in catalog::seed::demo_images()? {
        photos.push(images::stage_bytes(ctx, actor, bytes).await?);
    }
    Ok(photos)
}

/// Tells the front ends what a committed command changed.
pub fn announce(ctx: &Ctx, outcome: &Outcome) {
    match outcome {
        Outcome::Product(p) => ctx.emit(ChangeEvent::Product {
            id: p.id,
            version: p.version,
        }),
        Outcome::Patch(o) => ctx.emit(ChangeEvent::Product {
            id: o.product.id,
            version: o.product.version,
        }),
        Outcome::Order(o) => order(ctx, o),
        Outcome::Payment(p) => order(ctx, &p.order),
        Outcome::Extension(e) => order(ctx, &e.order),
        Outcome::Stock(change) => ctx.emit(ChangeEvent::Stock {
            variant_id: change.level.variant_id,
        }),
        // Categories and demo data are looked up afresh where they are shown.
        Outcome::Category(_) | Outcome::Seed(_) => {}
    }
}

fn order(ctx: &Ctx, order: &Order) {
    ctx.emit(ChangeEvent::Order { id: order.id });
    let variants: BTreeSet<_> = order.items.iter().map(|i| i.variant_id).collect();
    for variant_id in variants {
        ctx.emit(ChangeEvent::Stock { variant_id });
    }
}
