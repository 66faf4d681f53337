//! The catalog's rules, checked inside the write transaction against the product as it will be
//! after the edit (never against what the caller remembers).

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{barcode, repo};
use crate::error::{Error, FieldError, Result};
use crate::model::{text_problem, Category, Product, ProductStatus};
use crate::store::Tx;

pub const MAX_NAME: usize = 200;
pub const MAX_SLUG: usize = 120;
pub const MAX_DESCRIPTION: usize = 20_000;
pub const MAX_SKU: usize = 64;
pub const MAX_ALT: usize = 1_000;
pub use crate::model::MAX_STOCK;
/// A price above this is a typo, not a product (10 billion in major units).
pub const MAX_PRICE_MINOR: i64 = 1_000_000_000_000;
pub const MAX_VARIANTS: usize = 1_000;
/// Positions order a product's variants and images; far more than a product has.
pub const MAX_POSITION: i64 = 1_000_000;

/// Resolved attribute ids of the final variants, by variant id.
pub type AttributeIds = HashMap<Uuid, Vec<AttributeValue>>;

/// A variant's value of one attribute, as ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttributeValue {
    pub attribute_id: Uuid,
    pub value_id: Uuid,
}

/// Checks `next` as a whole, against the database as it is now. `current` is the committed state
/// `next` replaces (None for a new product): what it already had passed these checks and is held
/// by the unique indexes, so only what changes is looked up again. Returns the attribute ids of
/// the variants whose attributes are new or changed.
pub async fn validate(
    tx: &mut Tx,
    next: &Product,
    current: Option<&Product>,
    now: DateTime<Utc>,
) -> Result<AttributeIds> {
    let before = |id: Uuid| current.and_then(|c| c.variants.iter().find(|v| v.id == id));
    let attributes_changed =
        |v: &crate::model::Variant| before(v.id).is_none_or(|b| b.attributes != v.attributes);
    let mut errors = Vec::new();
    let mut err = |field: String, reason: &str| {
        errors.push(FieldError {
            field,
            reason: reason.to_string(),
        })
    };

    for (field, text, multi_line) in [
        ("name".to_string(), next.name.as_str(), false),
        ("description".to_string(), next.description.as_str(), true),
    ]
    .into_iter()
    .chain(next.variants.iter().flat_map(|v| {
        let p = |f: &str| format!("variants.{}.{f}", v.id);
        [
            (p("sku"), v.sku.as_str(), false),
            (p("currency"), v.currency.as_str(), false),
        ]
        .into_iter()
        .chain(v.attributes.iter().flat_map(move |(a, value)| {
            [
                (p("attributes"), a.as_str(), false),
                (p("attributes"), value.as_str(), false),
            ]
        }))
    }))
    .chain(
        next.images
            .iter()
            .map(|i| (format!("images.{}.alt", i.id), i.alt.as_str(), true)),
    ) {
        if let Some(reason) = text_problem(text, multi_line) {
            err(field, reason);
        }
    }
    let name = next.name.trim();
    if name.is_empty() {
        err("name".into(), "must not be empty");
    } else if next.name.chars().count() > MAX_NAME {
        err("name".into(), &format!("at most {MAX_NAME} characters"));
    }
    if next.slug.is_empty()
        || next.slug.len() > MAX_SLUG
        || !next
            .slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        || next.slug.starts_with('-')
        || next.slug.ends_with('-')
    {
        err(
            "slug".into(),
            &format!("1–{MAX_SLUG} lower-case letters, digits and inner dashes"),
        );
    } else if current.is_none_or(|c| c.slug != next.slug)
        && repo::slug_taken_elsewhere(tx, next.id, &next.slug).await?
    {
        err("slug".into(), "already used by another product");
    }
    if next.description.chars().count() > MAX_DESCRIPTION {
        err(
            "description".into(),
            &format!("at most {MAX_DESCRIPTION} characters"),
        );
    }
    if next.status == ProductStatus::Published && next.variants.is_empty() {
        err(
            "status".into(),
            "a published product needs at least one variant",
        );
    }
    if next.variants.len() > MAX_VARIANTS {
        err(
            "variants".into(),
            &format!("at most {MAX_VARIANTS} variants"),
        );
    }

    let category_changed = current.is_none_or(|c| c.category_id != next.category_id);
    let recheck_attributes = category_changed || next.variants.iter().any(attributes_changed);
    let category = match next.category_id {
        Some(id) if recheck_attributes => {
            let c = repo::load_category(tx, id).await?;
            if c.is_none() {
                err("category_id".into(), "no such category");
            }
            c
        }
        _ => None,
    };

    let mut seen_skus: HashMap<&str, Uuid> = HashMap::new();
    // Barcodes by their one key (a UPC-A and its EAN-13 spelling are one code).
    let mut seen_barcodes: HashMap<String, Uuid> = HashMap::new();
    let mut attribute_ids = AttributeIds::new();
    for v in &next.variants {
        let p = |f: &str| format!("variants.{}.{f}", v.id);
        if v.sku.trim().is_empty() {
            err(p("sku"), "must not be empty");
        } else if v.sku.len() > MAX_SKU
            || !v
                .sku
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'/'))
        {
            err(
                p("sku"),
                &format!("1–{MAX_SKU} letters, digits and - _ . / (no spaces)"),
            );
        } else if let Some(other) = seen_skus.insert(&v.sku, v.id) {
            err(
                p("sku"),
                &format!("also used by variant {other} of this product"),
            );
        }
        if let Some(code) = &v.barcode {
            if let Some(reason) = barcode::problem(code) {
                err(p("barcode"), &reason);
            } else if let Some(other) = seen_barcodes.insert(barcode::key(code), v.id) {
                err(
                    p("barcode"),
                    &format!("also the barcode of variant {other} of this product"),
                );
            }
        }
        if !(0..=MAX_PRICE_MINOR).contains(&v.price_minor) {
            err(
                p("price_minor"),
                &format!("must be between 0 and {MAX_PRICE_MINOR}"),
            );
        }
        if !is_currency(&v.currency) {
            err(p("currency"), "not an ISO 4217 currency code (e.g. EUR)");
        }
        if !(0..=MAX_STOCK).contains(&v.stock_on_hand) {
            err(
                p("stock_on_hand"),
                &format!("must be a whole number from 0 to {MAX_STOCK}"),
            );
        }
        if !(0..=MAX_POSITION).contains(&v.position) {
            err(p("position"), &format!("must be from 0 to {MAX_POSITION}"));
        }
        if recheck_attributes && (category_changed || attributes_changed(v)) {
            match resolve_attributes(category.as_ref(), &v.attributes) {
                Ok(ids) => {
                    attribute_ids.insert(v.id, ids);
                }
                Err(reason) => err(p("attributes"), &reason),
            }
        }
    }
    let skus: Vec<&str> = next
        .variants
        .iter()
        .filter(|v| before(v.id).is_none_or(|b| b.sku != v.sku))
        .filter(|v| seen_skus.get(v.sku.as_str()) == Some(&v.id))
        .map(|v| v.sku.as_str())
        .collect();
    for sku in repo::skus_taken_elsewhere(tx, next.id, &skus).await? {
        let id = seen_skus[sku.as_str()];
        err(
            format!("variants.{id}.sku"),
            "already used by another product's variant",
        );
    }

    // New or changed barcodes against other products' variants, in every spelling.
    let barcodes: Vec<String> = next
        .variants
        .iter()
        .filter(|v| before(v.id).is_none_or(|b| b.barcode != v.barcode))
        .filter_map(|v| v.barcode.as_deref().map(|code| (v.id, code)))
        .filter(|(id, code)| seen_barcodes.get(&barcode::key(code)) == Some(id))
        .flat_map(|(_, code)| barcode::spellings(code))
        .collect();
    for taken in repo::barcodes_taken_elsewhere(tx, next.id, &barcodes).await? {
        let id = seen_barcodes[&barcode::key(&taken.barcode)];
        err(
            format!("variants.{id}.barcode"),
            &format!(
                "already used by another product's variant (SKU {})",
                taken.sku
            ),
        );
    }

    let mut thumbnails = 0;
    for i in &next.images {
        let p = |f: &str| format!("images.{}.{f}", i.id);
        if i.alt.chars().count() > MAX_ALT {
            err(p("alt"), &format!("at most {MAX_ALT} characters"));
        }
        if !(0..=MAX_POSITION).contains(&i.position) {
            err(p("position"), &format!("must be from 0 to {MAX_POSITION}"));
        }
        if i.is_thumbnail {
            thumbnails += 1;
            if thumbnails > 1 {
                err(p("is_thumbnail"), "a product has at most one thumbnail");
            }
        }
    }

    // Stock held by pending orders: no lowering on hand below it, no deleting a held variant.
    // Only an edit that lowers on hand or deletes a variant can break that, so only such an edit
    // looks the holds up.
    let lowers_stock = current.is_some_and(|c| {
        c.variants.iter().any(|old| {
            next.variants
                .iter()
                .find(|v| v.id == old.id)
                .is_none_or(|v| v.stock_on_hand < old.stock_on_hand)
        })
    });
    if lowers_stock {
        errors.extend(crate::product_rows::held_stock_errors(tx, next, now).await?);
    }

    if errors.is_empty() {
        Ok(attribute_ids)
    } else {
        Err(Error::Validation(errors))
    }
}

/// Maps attribute names/values to ids, or says which one does not belong to the category.
fn resolve_attributes(
    category: Option<&Category>,
    attrs: &BTreeMap<String, String>,
) -> std::result::Result<Vec<AttributeValue>, String> {
    if attrs.is_empty() {
        return Ok(Vec::new());
    }
    let Some(category) = category else {
        return Err("the product has no category, so its variants take no attributes".into());
    };
    let mut out = Vec::new();
    for (name, value) in attrs {
        let Some(attr) = category.attributes.iter().find(|a| &a.name == name) else {
            return Err(format!(
                "{name:?} is not an attribute of category {:?}",
                category.name
            ));
        };
        if !attr.values.iter().any(|v| v == value) {
            return Err(format!(
                "{value:?} is not an allowed value of {name:?} ({})",
                attr.values.join(", ")
            ));
        }
        out.push(AttributeValue {
            attribute_id: attr.id,
            value_id: attribute_value_id(attr.id, value),
        });
    }
    Ok(out)
}

/// Value ids are not kept on the `Category` the UI sees; they are derived deterministically
/// from the attribute id and the value, so resolving one needs no extra query.
pub fn attribute_value_id(attribute_id: Uuid, value: &str) -> Uuid {
    Uuid::new_v5(&attribute_id, value.as_bytes())
}

/// Lower-case, dash-separated, ASCII: the slug a name gets when none is given.
pub fn slugify(name: &str) -> String {
    let mut out = String::new();
    for ch in name.chars().flat_map(char::to_lowercase) {
        if ch.is_ascii_alphanumeric() {
            out.push(ch);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
        if out.len() >= MAX_SLUG - 10 {
            break;
        }
    }
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() {
        "product".into()
    } else {
        out
    }
}

/// Active ISO 4217 codes.
const CURRENCIES: &[&str] = &[
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT",
    "BGN", "BHD", "BIF", "BMD", "BND", "BOB", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD",
    "CDF", "CHF", "CLP", "CNY", "COP", "CRC", "CUP", "CVE", "CZK", "DJF", "DKK", "DOP", "DZD",
    "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ",
    "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR", "IQD", "IRR", "ISK", "JMD", "JOD",
    "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD", "KZT", "LAK", "LBP", "LKR",
    "LRD", "LSL", "LYD", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR",
    "MWK", "MXN", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN",
    "PGK", "PHP", "PKR", "PLN", "PYG", "QAR", "RON", "RSD", "RUB", "RWF", "SAR", "SBD", "SCR",
    "SDG", "SEK", "SGD", "SHP", "SLE", "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB",
    "TJS", "TMT", "TND", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "UGX", "USD", "UYU", "UZS",
    "VES", "VND", "VUV", "WST", "XAF", "XCD", "XCG", "XOF", "XPF", "YER", "ZAR", "ZMW", "ZWG",
];

pub fn is_currency(code: &str) -> bool {
    CURRENCIES.binary_search(&code).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn currency_list_is_sorted_for_binary_search() {
        assert!(CURRENCIES.windows(2).all(|w| w[0] < w[1]));
        assert!(is_currency("EUR") && is_currency("JPY"));
        assert!(!is_currency("eur") && !is_currency("XXX") && !is_currency(""));
    }

    #[test]
    fn slugs_are_lower_case_ascii() {
        assert_eq!(slugify("Café  Crème — 250 g"), "caf-cr-me-250-g");
        assert_eq!(slugify("!!!"), "product");
    }
}
