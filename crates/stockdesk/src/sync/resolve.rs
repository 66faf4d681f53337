//! What a person decides about a command the shop set aside. Resolving is a new command against
//! the product as it is now (so it is version-checked and sent like any other); the set-aside
//! entry then records which command resolved it. Nothing typed is dropped unless a person says so.

use uuid::Uuid;

use crate::error::{ApiError, Error, Result};
use crate::model::{CommandKind, FieldConflict, ProductPatch};
use crate::replica::outbox::{self, Entry, Status};
use crate::store::Session;

/// A person's decision about a set-aside command.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, specta::Type)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Resolution {
    /// Drop it: what it asked for is not done.
    Discard,
    /// Send it again as it was (the rule it broke may hold now: a SKU freed, a role changed).
    Retry,
    /// An edit that clashed: my values for every clash, on top of the product as it is now.
    KeepMine,
    /// An edit that clashed: their values stay; the rest of my edit is applied.
    KeepTheirs,
    /// An edit that clashed, resolved field by field (the conflict dialog's result).
    Patch {
        expected_version: i64,
        patch: Box<ProductPatch>,
    },
}

/// The set-aside entry of `op_id`.
pub async fn entry(on: &mut impl Session, op_id: Uuid) -> Result<Entry> {
    let e = outbox::by_op(on, op_id)
        .await?
        .ok_or_else(|| Error::not_found("set-aside command", op_id))?;
    if e.status != Status::SetAside {
        return Err(Error::InvalidState {
            entity: "command",
            id: op_id,
            state: e.status.as_str().replace('_', " "),
            action: "resolve it (only a command the shop set aside is resolved)",
        });
    }
    Ok(e)
}

/// The command that carries out `resolution` of `entry` on `current_version` of its product
/// (None for `Discard`).
pub fn command_for(
    entry: &Entry,
    resolution: &Resolution,
    current_version: Option<i64>,
) -> Result<Option<CommandKind>> {
    let kind = &entry.queued.command.kind;
    let clashed_edit = || -> Result<(&Uuid, &ProductPatch, &[FieldConflict], i64)> {
        let (
            CommandKind::PatchProduct {
                product_id, patch, ..
            },
            Some(ApiError::Conflict { details, .. }),
        ) = (kind, &entry.error)
        else {
            return Err(Error::BadInput(
                "keep mine / keep theirs resolve an edit that clashed; discard or retry this one"
                    .into(),
            ));
        };
        let version = current_version.ok_or_else(|| Error::not_found("product", product_id))?;
        Ok((product_id, patch, &details.conflicts, version))
    };
    Ok(match resolution {
        Resolution::Discard => None,
        Resolution::Retry => Some(kind.clone()),
        Resolution::KeepMine => {
            let (id, patch, _, version) = clashed_edit()?;
            Some(edit(*id, version, patch.clone()))
        }
        Resolution::KeepTheirs => {
            let (id, patch, conflicts, version) = clashed_edit()?;
            Some(edit(*id, version, without(patch, conflicts)))
        }
        Resolution::Patch {
            expected_version,
            patch,
        } => {
            let (id, ..) = clashed_edit()?;
            Some(edit(*id, *expected_version, (**patch).clone()))
        }
    })
}

fn edit(product_id: Uuid, expected_version: i64, patch: ProductPatch) -> CommandKind {
    CommandKind::PatchProduct {
        product_id,
        expected_version,
        patch,
        base: None,
    }
}

/// `patch` less every change that clashed.
pub fn without(patch: &ProductPatch, conflicts: &[FieldConflict]) -> ProductPatch {
    let clashes = |path: &str| conflicts.iter().any(|c| c.path == path);
    let mut p = patch.clone();
    for (path, present) in [
        ("name", p.name.is_some()),
        ("slug", p.slug.is_some()),
        ("description", p.description.is_some()),
        ("status", p.status.is_some()),
        ("category_id", p.category_id.is_some()),
    ] {
        if present && clashes(path) {
            match path {
                "name" => p.name = None,
                "slug" => p.slug = None,
                "description" => p.description = None,
                "status" => p.status = None,
                _ => p.category_id = None,
            }
        }
    }
    p.variants
        .delete
        .retain(|id| !clashes(&format!("variants.{id}")));
    p.variants
        .update
        .retain(|u| !clashes(&format!("variants.{}", u.id)));
    for u in &mut p.variants.update {
        let field = |f: &str| clashes(&format!("variants.{}.{f}", u.id));
        if field("sku") {
            u.sku = None;
        }
        if field("barcode") {
            u.barcode = None;
        }
        if field("price_minor") {
            u.price_minor = None;
        }
        if field("currency") {
            u.currency = None;
        }
        if field("stock_on_hand") {
            u.stock_on_hand = None;
        }
        if field("attributes") {
            u.attributes = None;
        }
        if field("position") {
            u.position = None;
        }
    }
    p.images
        .delete
        .retain(|id| !clashes(&format!("images.{id}")));
    p.images
        .update
        .retain(|u| !clashes(&format!("images.{}", u.id)));
    for u in &mut p.images.update {
        let field = |f: &str| clashes(&format!("images.{}.{f}", u.id));
        if field("alt") {
            u.alt = None;
        }
        if field("position") {
            u.position = None;
        }
        if field("is_thumbnail") {
            u.is_thumbnail = None;
        }
        if field("blob_key") || field("staged") {
            u.staged = None;
        }
    }
    p
}
