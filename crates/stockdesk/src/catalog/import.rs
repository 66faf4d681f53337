//! One product of an import file as one command (`import_product`): its category made or given
//! the attributes and values it lacks, the product created or edited from the file's version
//! (merged three-way, like any edit), and its stock recorded as counts — all inside the
//! command's transaction, so a product is imported whole or not at all. Reading files and
//! planning what to import is `transfer`'s; this only writes what one command says.

use uuid::Uuid;

use super::persist::{self, StockNote};
use super::{edit_product, repo, validate, Edit, Edited};
use crate::ctx::Op;
use crate::error::{Error, FieldError, Result};
use crate::model::{
    Category, CategoryNeed, ImageOps, ImportTarget, ImportedProduct, NewProduct, ProductImport,
    ProductPatch,
};
use crate::store::Tx;

/// The longest attribute name or value a file may bring.
const MAX_ATTRIBUTE_TEXT: usize = 200;

/// What an import command committed, and the blobs it stopped using.
pub struct Imported {
    pub outcome: ImportedProduct,
    pub outbox: Vec<Uuid>,
}

/// Applies one product of an import file (see the module docs).
pub async fn import_product(tx: &mut Tx, op: &Op<'_>, import: &ProductImport) -> Result<Imported> {
    check_source(&import.source)?;
    let (category_id, category) = match &import.category {
        Some(need) => {
            let (category, changed) = ensure_category(tx, op, need).await?;
            (Some(category.id), changed.then_some(category))
        }
        None => (None, None),
    };
    let note = StockNote::Count {
        source: &import.source,
    };
    match &import.target {
        ImportTarget::Create { product, images } => {
            if product.category_id.is_some() {
                return Err(Error::validation(
                    "category_id",
                    "an import names the product's category by name (`category`)",
                ));
            }
            let new = NewProduct {
                category_id,
                ..product.clone()
            };
            let created = persist::create(tx, op, &new, note).await?;
            let (product, outbox) = if images.is_empty() {
                (created, Vec::new())
            } else {
                // The files are claimed by the edit path, which checks and locks the uploads.
                let patch = ProductPatch {
                    images: ImageOps {
                        create: images.clone(),
                        ..Default::default()
                    },
                    ..Default::default()
                };
                let Edited { outcome, outbox } = edit_product(
                    tx,
                    op,
                    created.id,
                    import_edit(created.version, &patch, note),
                )
                .await?;
                (outcome.product, outbox)
            };
            Ok(Imported {
                outcome: ImportedProduct {
                    product,
                    created: true,
                    merge: None,
                    category,
                },
                outbox,
            })
        }
        ImportTarget::Update {
            product_id,
            expected_version,
            patch,
            move_category,
        } => {
            let mut patch = patch.clone();
            if *move_category {
                patch.category_id = Some(category_id);
            }
            let Edited { outcome, outbox } = edit_product(
                tx,
                op,
                *product_id,
                import_edit(*expected_version, &patch, note),
            )
            .await?;
            Ok(Imported {
                outcome: ImportedProduct {
                    product: outcome.product,
                    created: false,
                    merge: outcome.merge,
                    category,
                },
                outbox,
            })
        }
    }
}

/// The category `need` names, made if missing and given the attributes and values it lacks.
/// Returns it as it is now, and whether this changed it.
async fn ensure_category(
    tx: &mut Tx,
    op: &Op<'_>,
    need: &CategoryNeed,
) -> Result<(Category, bool)> {
    check_need(need)?;
    let name = need.name.trim();
    // Values are only ever added: a category that has all it needs is used without a lock, so
    // imports into one category do not wait for each other.
    if let Some(id) = repo::category_id_named(tx, name).await? {
        if let Some(found) = repo::load_category(tx, id).await? {
            if has_all(&found, need) {
                return Ok((found, false));
            }
        }
    }
    let (id, mut changed) = repo::lock_or_insert_category(tx, op.new_id(), name, op.now).await?;
    let existing = repo::load_category(tx, id)
        .await?
        .ok_or_else(|| Error::not_found("category", id))?;
    let mut next_position = existing.attributes.len() as i64;
    for attr in &need.attributes {
        let (attribute_id, have, mut position) =
            match existing.attributes.iter().find(|a| a.name == attr.name) {
                Some(a) => (a.id, a.values.clone(), a.values.len() as i64),
                None => {
                    let new = repo::NewAttribute {
                        id: op.new_id(),
                        name: attr.name.clone(),
                        values: Vec::new(),
                    };
                    repo::insert_attribute(tx, id, &new, next_position).await?;
                    next_position += 1;
                    changed = true;
                    (new.id, Vec::new(), 0)
                }
            };
        for value in attr.values.iter().filter(|v| !have.contains(v)) {
            let new = repo::NewAttributeValue {
                id: validate::attribute_value_id(attribute_id, value),
                value: value.clone(),
            };
            repo::insert_attribute_value(tx, attribute_id, &new, position).await?;
            position += 1;
            changed = true;
        }
    }
    let category = if changed {
        repo::load_category(tx, id)
            .await?
            .ok_or_else(|| Error::not_found("category", id))?
    } else {
        existing
    };
    Ok((category, changed))
}

fn has_all(category: &Category, need: &CategoryNeed) -> bool {
    need.attributes.iter().all(|a| {
        category
            .attributes
            .iter()
            .find(|have| have.name == a.name)
            .is_some_and(|have| a.values.iter().all(|v| have.values.contains(v)))
    })
}

/// A category's name and its attributes' names and values: short, printable, no duplicates.
fn check_need(need: &CategoryNeed) -> Result<()> {
    let mut errors = Vec::new();
    let mut check = |field: String, text: &str, max: usize| {
        let reason = if text.trim().is_empty() {
            Some("must not be empty".to_string())
        } else if text.chars().count() > max {
            Some(format!("at most {max} characters"))
        } else {
            crate::model::text_problem(text, false).map(str::to_string)
        };
        if let Some(reason) = reason {
            errors.push(FieldError { field, reason });
        }
    };
    check("category".into(), &need.name, validate::MAX_NAME);
    for attr in &need.attributes {
        let field = format!("category.attributes.{}", attr.name);
        check(field.clone(), &attr.name, MAX_ATTRIBUTE_TEXT);
        for value in &attr.values {
            check(field.clone(), value, MAX_ATTRIBUTE_TEXT);
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::Validation(errors))
    }
}

fn check_source(source: &str) -> Result<()> {
    if source.trim().is_empty() || source.chars().count() > 500 {
        return Err(Error::validation("source", "1–500 characters"));
    }
    match crate::model::text_problem(source, false) {
        Some(reason) => Err(Error::validation("source", reason)),
        None => Ok(()),
    }
}

/// An edit made by an import: its stock changes are counts, and its outcome is the import's.
fn import_edit<'a>(
    expected_version: i64,
    patch: &'a ProductPatch,
    note: StockNote<'a>,
) -> Edit<'a> {
    Edit {
        expected_version,
        patch,
        carried: None,
        note,
        as_outcome: false,
    }
}
