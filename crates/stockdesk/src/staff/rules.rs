//! What each command needs the person to be allowed. An edit needs the permissions of the fields
//! it touches: a helper may fix a description in the same editor where a manager changes prices.

use std::collections::BTreeSet;

use crate::model::{CommandKind, Permission, ProductPatch, ProductStatus};

/// Every permission `kind` needs (an empty patch needs none beyond being signed in).
pub fn needs(kind: &CommandKind) -> BTreeSet<Permission> {
    use Permission as P;
    match kind {
        CommandKind::CreateCategory { .. } | CommandKind::CreateProduct { .. } => {
            [P::EditCatalog].into()
        }
        CommandKind::PatchProduct { patch, .. } => patch_needs(patch),
        CommandKind::RestoreProduct { .. } => [P::Restore].into(),
        CommandKind::AddImages { .. } | CommandKind::ReplaceImageFile { .. } => {
            [P::EditImages].into()
        }
        CommandKind::CreateOrder { .. }
        | CommandKind::TillOrder { .. }
        | CommandKind::TillPay { .. }
        | CommandKind::TillCancel { .. }
        | CommandKind::PayOrder { .. }
        | CommandKind::CancelOrder { .. }
        | CommandKind::ExtendOrder { .. } => [P::Sell].into(),
        CommandKind::ReceiveStock { .. } => [P::ReceiveStock].into(),
        CommandKind::CountStock { .. } => [P::CountStock].into(),
        CommandKind::AdjustStock { .. } => [P::AdjustStock].into(),
        CommandKind::Seed { .. } | CommandKind::ImportProduct { .. } => [P::Import].into(),
        CommandKind::AddStaff { .. } | CommandKind::RemoveStaff { .. } => [P::ManageStaff].into(),
        CommandKind::Allot { .. }
        | CommandKind::RevokeAllotments { .. }
        | CommandKind::SetAllotmentPolicy { .. }
        | CommandKind::SetSellAnyway { .. }
        | CommandKind::ResolveException { .. } => [P::ManageAllotments].into(),
    }
}

fn patch_needs(patch: &ProductPatch) -> BTreeSet<Permission> {
    use Permission as P;
    let mut needs = BTreeSet::new();
    let mut need = |p: P, when: bool| {
        if when {
            needs.insert(p);
        }
    };
    need(P::EditDescriptions, patch.description.is_some());
    need(
        P::EditCatalog,
        patch.name.is_some() || patch.slug.is_some() || patch.category_id.is_some(),
    );
    match patch.status {
        Some(ProductStatus::Archived) => need(P::Delete, true),
        Some(_) => need(P::EditCatalog, true),
        None => {}
    }
    let v = &patch.variants;
    need(P::EditCatalog, !v.create.is_empty());
    // A new variant's price and opening stock are set by whoever may add variants.
    need(P::Delete, !v.delete.is_empty());
    for u in &v.update {
        need(
            P::EditPrices,
            u.price_minor.is_some() || u.currency.is_some(),
        );
        need(P::AdjustStock, u.stock_on_hand.is_some());
        need(
            P::EditCatalog,
            u.sku.is_some()
                || u.barcode.is_some()
                || u.attributes.is_some()
                || u.position.is_some(),
        );
    }
    let i = &patch.images;
    need(
        P::EditImages,
        !i.create.is_empty() || !i.delete.is_empty() || i.update.iter().any(|u| u.staged.is_some()),
    );
    need(
        P::EditDescriptions,
        i.update
            .iter()
            .any(|u| u.alt.is_some() || u.position.is_some() || u.is_thumbnail.is_some()),
    );
    needs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ImageOps, ImageUpdate, Role, VariantOps, VariantUpdate};
    use uuid::Uuid;

    fn allowed(role: Role, patch: ProductPatch) -> bool {
        let kind = CommandKind::PatchProduct {
            product_id: Uuid::nil(),
            expected_version: 1,
            patch,
            base: None,
        };
        needs(&kind).into_iter().all(|p| role.allows(p))
    }

    #[test]
    fn staff_edit_descriptions_and_images_but_not_prices_names_or_deletes() {
        let description = ProductPatch {
            description: Some("soft".into()),
            ..Default::default()
        };
        let alt = ProductPatch {
            images: ImageOps {
                update: vec![ImageUpdate {
                    id: Uuid::nil(),
                    alt: Some("front".into()),
                    ..Default::default()
                }],
                ..Default::default()
            },
            ..Default::default()
        };
        let price = ProductPatch {
            variants: VariantOps {
                update: vec![VariantUpdate {
                    id: Uuid::nil(),
                    price_minor: Some(100),
                    ..Default::default()
                }],
                ..Default::default()
            },
            ..Default::default()
        };
        let rename = ProductPatch {
            name: Some("New".into()),
            ..Default::default()
        };
        let archive = ProductPatch {
            status: Some(ProductStatus::Archived),
            ..Default::default()
        };
        let delete_variant = ProductPatch {
            variants: VariantOps {
                delete: vec![Uuid::nil()],
                ..Default::default()
            },
            ..Default::default()
        };
        let barcode = ProductPatch {
            variants: VariantOps {
                update: vec![VariantUpdate {
                    id: Uuid::nil(),
                    barcode: Some(Some("4006381333931".into())),
                    ..Default::default()
                }],
                ..Default::default()
            },
            ..Default::default()
        };
        assert!(allowed(Role::Staff, description.clone()));
        assert!(allowed(Role::Staff, alt));
        for p in [price.clone(), rename, archive, delete_variant, barcode] {
            assert!(!allowed(Role::Staff, p.clone()), "{p:?}");
            assert!(allowed(Role::Manager, p));
        }
        // A patch that mixes a description with a price needs both.
        let mixed = ProductPatch {
            description: Some("x".into()),
            ..price
        };
        assert!(!allowed(Role::Staff, mixed.clone()));
        assert!(allowed(Role::Manager, mixed));
    }
}
