//! Reading a product CSV into products: rows sharing a Handle are one product (its first row
//! carries the product's own columns, every row may carry a variant, an image or both), each
//! cell checked, every problem kept with its row and column. Nothing here touches the shop.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use uuid::Uuid;

use super::columns::{parse_bool, parse_price, restore, Field};
use crate::catalog::{is_currency, slugify, MAX_STOCK};
use crate::error::{Error, Result};
use crate::model::{CsvLayout, IgnoredColumn, ProblemKind, ProductStatus, RowProblem};

/// The largest file an import reads (far more than 100,000 rows of a real catalog).
pub const MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;

/// The file, read.
pub struct ReadFile {
    pub layout: CsvLayout,
    /// Product rows (the header not counted).
    pub rows: usize,
    pub products: Vec<ProductRecord>,
    pub problems: Vec<RowProblem>,
    pub ignored: Vec<IgnoredColumn>,
    pub notes: Vec<String>,
    /// The columns the file has, by field (for what a product leaves alone).
    pub has: HashMap<Field, String>,
}

impl ReadFile {
    /// How the file names a field's column (for problems), or Stockdesk's name for it.
    pub fn column(&self, field: Field) -> String {
        self.has
            .get(&field)
            .cloned()
            .unwrap_or_else(|| field.header())
    }
}

/// One product as the file has it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ProductRecord {
    pub handle: String,
    pub rows: Vec<u32>,
    pub title: String,
    /// None when the file has no Body column.
    pub body: Option<String>,
    /// The category by name: the Type column, or (when that is empty and the variants have
    /// options) the option names, or none.
    pub category: Option<String>,
    /// Whether the file decides the category (it has a Type column, or options need one);
    /// otherwise an update leaves it.
    pub category_given: bool,
    pub status: Option<ProductStatus>,
    pub option_names: Vec<String>,
    pub variants: Vec<VariantRecord>,
    /// None when the file has no image column.
    pub images: Option<Vec<ImageRecord>>,
    pub product_id: Option<Uuid>,
    pub version: Option<i64>,
    /// A row of it has a problem: it is not imported.
    pub invalid: bool,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct VariantRecord {
    pub row: u32,
    pub sku: String,
    /// None when the file has no barcode column; Some(None) when this row's cell is empty.
    pub barcode: Option<Option<String>>,
    pub price_minor: i64,
    pub currency: String,
    /// None: the file says nothing about its stock.
    pub qty: Option<i64>,
    /// Option name → value (the product's attributes).
    pub attributes: BTreeMap<String, String>,
    pub id: Option<Uuid>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ImageRecord {
    pub row: u32,
    pub src: String,
    /// 0-based (the file's Image Position is 1-based).
    pub position: Option<i64>,
    pub alt: String,
    pub thumbnail: Option<bool>,
}

/// Reads `path`. `currency` is used for prices in a file without a currency column. A file
/// that cannot be read at all (missing, not CSV, no Handle column) is an error; everything
/// about single rows is a problem in the result.
pub fn read(path: &Path, currency: Option<&str>) -> Result<ReadFile> {
    let size = std::fs::metadata(path)?.len();
    if size > MAX_FILE_BYTES {
        return Err(Error::BadInput(format!(
            "{} is larger than {} MiB",
            path.display(),
            MAX_FILE_BYTES / 1024 / 1024
        )));
    }
    let mut csv = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(false)
        .from_path(path)
        .map_err(|e| Error::BadInput(format!("cannot read {}: {e}", path.display())))?;
    let mut records = csv.byte_records();
    let header = match records.next() {
        Some(Ok(h)) => h,
        Some(Err(e)) => return Err(Error::BadInput(format!("not a CSV file: {e}"))),
        None => return Err(Error::BadInput(format!("{} is empty", path.display()))),
    };
    let headers: Vec<String> = header
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let h = String::from_utf8_lossy(h).into_owned();
            // A spreadsheet's UTF-8 byte order mark sits before the first header.
            if i == 0 {
                h.trim_start_matches('\u{feff}').to_string()
            } else {
                h
            }
        })
        .collect();
    let mut reader = Reader::new(headers, currency)?;
    for (n, record) in records.enumerate() {
        let row = n as u32 + 2;
        match record {
            Ok(r) => reader.row(row, &r),
            Err(e) => reader.problem(row, None, format!("not readable as CSV: {e}"), None),
        }
    }
    Ok(reader.finish())
}

struct Reader {
    columns: Vec<Option<Field>>,
    headers: Vec<String>,
    has: HashMap<Field, String>,
    layout: CsvLayout,
    currency: Option<String>,
    rows: usize,
    order: Vec<String>,
    products: HashMap<String, ProductRecord>,
    problems: Vec<RowProblem>,
    ignored: BTreeMap<usize, usize>,
    generated_skus: usize,
    named_categories: usize,
}

impl Reader {
    fn new(headers: Vec<String>, currency: Option<&str>) -> Result<Reader> {
        let columns: Vec<Option<Field>> = headers.iter().map(|h| Field::from_header(h)).collect();
        let mut has = HashMap::new();
        for (i, field) in columns.iter().enumerate() {
            if let Some(f) = field {
                if has.insert(*f, headers[i].clone()).is_some() {
                    return Err(Error::BadInput(format!(
                        "the column {:?} appears twice",
                        headers[i]
                    )));
                }
            }
        }
        if !has.contains_key(&Field::Handle) {
            return Err(Error::BadInput(
                "the file has no Handle column: is it a product CSV (Shopify's layout or a \
                 Stockdesk export)?"
                    .into(),
            ));
        }
        let layout = if has.keys().any(|f| f.is_stockdesk()) {
            CsvLayout::Stockdesk
        } else {
            CsvLayout::Shopify
        };
        let currency = currency.map(|c| c.trim().to_uppercase());
        if currency.is_none() && !has.contains_key(&Field::Currency) {
            return Err(Error::validation(
                "currency",
                "the file has no Variant Currency column and the shop has no prices yet: say \
                 which currency its prices are in (--currency, or the import dialog's field)",
            ));
        }
        if let Some(c) = &currency {
            if !is_currency(c) {
                return Err(Error::validation(
                    "currency",
                    format!("{c:?} is not an ISO 4217 currency code (e.g. EUR)"),
                ));
            }
        }
        Ok(Reader {
            columns,
            headers,
            has,
            layout,
            currency,
            rows: 0,
            order: Vec::new(),
            products: HashMap::new(),
            problems: Vec::new(),
            ignored: BTreeMap::new(),
            generated_skus: 0,
            named_categories: 0,
        })
    }

    fn problem(&mut self, row: u32, field: Option<Field>, reason: String, handle: Option<&str>) {
        let column = field.map(|f| self.has.get(&f).cloned().unwrap_or_else(|| f.header()));
        self.problems.push(RowProblem {
            row,
            column,
            reason,
            kind: ProblemKind::Invalid,
            handle: handle.map(str::to_string),
        });
        if let Some(p) = handle.and_then(|h| self.products.get_mut(h)) {
            p.invalid = true;
        }
    }

    fn row(&mut self, row: u32, record: &csv::ByteRecord) {
        let mut cells: HashMap<Field, String> = HashMap::new();
        let mut bad_text = None;
        for (i, raw) in record.iter().enumerate() {
            let text = match std::str::from_utf8(raw) {
                Ok(t) => t,
                Err(_) => {
                    bad_text = Some(i);
                    continue;
                }
            };
            match self.columns.get(i).copied().flatten() {
                Some(field) => {
                    cells.insert(field, restore(text).to_string());
                }
                None if !text.trim().is_empty() => *self.ignored.entry(i).or_default() += 1,
                None => {}
            }
        }
        if cells.values().all(|v| v.trim().is_empty()) && bad_text.is_none() {
            return; // an empty line
        }
        self.rows += 1;
        let handle = cells
            .get(&Field::Handle)
            .map(|h| h.trim().to_string())
            .unwrap_or_default();
        if handle.is_empty() {
            let reason = "Handle is empty: every row names its product's handle".to_string();
            return self.problem(row, Some(Field::Handle), reason, None);
        }
        let first = !self.products.contains_key(&handle);
        if first {
            self.order.push(handle.clone());
            self.products
                .insert(handle.clone(), ProductRecord::new(&handle));
        }
        self.products
            .get_mut(&handle)
            .expect("inserted")
            .rows
            .push(row);
        if let Some(i) = bad_text {
            let reason = "not UTF-8 text: save the file as CSV UTF-8".to_string();
            let field = self.columns.get(i).copied().flatten();
            self.problem(row, field, reason, Some(&handle));
        }
        if first {
            self.product_row(row, &handle, &cells);
        } else {
            self.later_row(row, &handle, &cells);
        }
        self.ids(row, &handle, &cells);
        self.variant(row, &handle, &cells);
        self.image(row, &handle, &cells);
    }

    /// The product's own columns, from its first row.
    fn product_row(&mut self, row: u32, handle: &str, cells: &HashMap<Field, String>) {
        let get = |f: Field| cells.get(&f).cloned();
        let title = get(Field::Title).unwrap_or_default();
        if title.trim().is_empty() {
            let reason = "Title is empty: the first row of a product names it".to_string();
            self.problem(row, Some(Field::Title), reason, Some(handle));
        }
        if slugify(handle) != handle {
            let reason = format!(
                "{handle:?} is not a handle: lower-case letters, digits and inner dashes \
                 (e.g. {:?})",
                slugify(handle)
            );
            self.problem(row, Some(Field::Handle), reason, Some(handle));
        }
        let status = match self.status(cells) {
            Ok(s) => s,
            Err((field, reason)) => {
                self.problem(row, Some(field), reason, Some(handle));
                None
            }
        };
        let mut option_names = Vec::new();
        for n in 1..=super::columns::MAX_OPTIONS {
            let name = get(Field::OptionName(n)).unwrap_or_default();
            let name = name.trim();
            if name.is_empty() {
                break;
            }
            if option_names.iter().any(|o| o == name) {
                let reason = format!("the option {name:?} is named twice");
                self.problem(row, Some(Field::OptionName(n)), reason, Some(handle));
            }
            option_names.push(name.to_string());
        }
        let has_images = self.has.contains_key(&Field::ImageSrc);
        let p = self.products.get_mut(handle).expect("inserted");
        p.title = title;
        p.body = self
            .has
            .contains_key(&Field::Body)
            .then(|| get(Field::Body).unwrap_or_default());
        p.category = get(Field::Type)
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty());
        p.category_given = self.has.contains_key(&Field::Type);
        p.status = status;
        p.option_names = option_names;
        p.images = has_images.then(Vec::new);
    }

    /// Status (active / draft / archived) wins; else Published (TRUE: published).
    fn status(
        &self,
        cells: &HashMap<Field, String>,
    ) -> std::result::Result<Option<ProductStatus>, (Field, String)> {
        if let Some(s) = cells.get(&Field::Status).map(|s| s.trim().to_lowercase()) {
            if !s.is_empty() {
                return match s.as_str() {
                    "active" | "published" => Ok(Some(ProductStatus::Published)),
                    "draft" => Ok(Some(ProductStatus::Draft)),
                    "archived" => Ok(Some(ProductStatus::Archived)),
                    other => Err((
                        Field::Status,
                        format!("{other:?} is not a status: active, draft or archived"),
                    )),
                };
            }
        }
        match cells.get(&Field::Published).map(|s| s.trim()) {
            Some(p) if !p.is_empty() => parse_bool(p)
                .map(|b| {
                    Some(if b {
                        ProductStatus::Published
                    } else {
                        ProductStatus::Draft
                    })
                })
                .map_err(|e| (Field::Published, e)),
            _ => Ok(None),
        }
    }

    /// A later row may repeat the product's own columns, but not say something else.
    fn later_row(&mut self, row: u32, handle: &str, cells: &HashMap<Field, String>) {
        let p = &self.products[handle];
        let mut clashes = Vec::new();
        if let Some(t) = cells.get(&Field::Title).filter(|t| !t.trim().is_empty()) {
            if *t != p.title {
                clashes.push((Field::Title, "Title"));
            }
        }
        if let Some(b) = cells.get(&Field::Body).filter(|b| !b.trim().is_empty()) {
            if Some(b) != p.body.as_ref() {
                clashes.push((Field::Body, "Body"));
            }
        }
        for (n, name) in p.option_names.iter().enumerate() {
            let field = Field::OptionName(n as u8 + 1);
            if let Some(o) = cells.get(&field).filter(|o| !o.trim().is_empty()) {
                if o.trim() != name {
                    clashes.push((field, "the option's name"));
                }
            }
        }
        let first = p.rows[0];
        for (field, what) in clashes {
            let reason = format!("{what} differs from the product's first row ({first})");
            self.problem(row, Some(field), reason, Some(handle));
        }
    }

    fn ids(&mut self, row: u32, handle: &str, cells: &HashMap<Field, String>) {
        let text = |f: Field| cells.get(&f).map(|s| s.trim()).filter(|s| !s.is_empty());
        if let Some(id) = text(Field::ProductId) {
            match Uuid::parse_str(id) {
                Ok(id) => {
                    let p = self.products.get_mut(handle).expect("exists");
                    match p.product_id {
                        Some(other) if other != id => {
                            let reason = format!("differs from the product's id {other}");
                            self.problem(row, Some(Field::ProductId), reason, Some(handle));
                        }
                        _ => p.product_id = Some(id),
                    }
                }
                Err(_) => {
                    let reason = format!("{id:?} is not a Stockdesk product id");
                    self.problem(row, Some(Field::ProductId), reason, Some(handle));
                }
            }
        }
        if let Some(v) = text(Field::Version) {
            match v.parse::<i64>() {
                Ok(v) if v >= 1 => {
                    let p = self.products.get_mut(handle).expect("exists");
                    match p.version {
                        Some(other) if other != v => {
                            let reason = format!("differs from the product's version {other}");
                            self.problem(row, Some(Field::Version), reason, Some(handle));
                        }
                        _ => p.version = Some(v),
                    }
                }
                _ => {
                    let reason = format!("{v:?} is not a version (1, 2, …)");
                    self.problem(row, Some(Field::Version), reason, Some(handle));
                }
            }
        }
    }

    /// A row with any variant column filled is a variant of the product.
    fn variant(&mut self, row: u32, handle: &str, cells: &HashMap<Field, String>) {
        let text = |f: Field| {
            cells
                .get(&f)
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
        };
        let option_values: Vec<(u8, String)> = (1..=super::columns::MAX_OPTIONS)
            .filter_map(|n| text(Field::OptionValue(n)).map(|v| (n, v)))
            .collect();
        let is_variant = [
            Field::Sku,
            Field::Barcode,
            Field::Price,
            Field::Qty,
            Field::VariantId,
        ]
        .iter()
        .any(|f| text(*f).is_some())
            || !option_values.is_empty();
        if !is_variant {
            return;
        }
        let mut problems: Vec<(Field, String)> = Vec::new();
        let names = self.products[handle].option_names.clone();
        let mut attributes = BTreeMap::new();
        for (n, value) in &option_values {
            match names.get(*n as usize - 1) {
                Some(name) => {
                    attributes.insert(name.clone(), value.clone());
                }
                None => problems.push((
                    Field::OptionValue(*n),
                    format!("a value for Option{n}, which the product's first row does not name"),
                )),
            }
        }
        // Shopify's product without options: one variant, option "Title" = "Default Title".
        if names == ["Title"]
            && attributes
                .get("Title")
                .is_some_and(|v| v == "Default Title")
        {
            attributes.clear();
        }
        let price_minor = match text(Field::Price) {
            Some(p) => parse_price(&p).unwrap_or_else(|e| {
                problems.push((Field::Price, e));
                0
            }),
            None => {
                problems.push((Field::Price, "a variant needs a price".into()));
                0
            }
        };
        let qty = text(Field::Qty).and_then(|q| match q.parse::<i64>() {
            Ok(n) if (0..=MAX_STOCK).contains(&n) => Some(n),
            Ok(n) if n < 0 => {
                problems.push((
                    Field::Qty,
                    format!("{n} on hand: Stockdesk counts stock from 0 (count what is there)"),
                ));
                None
            }
            _ => {
                problems.push((
                    Field::Qty,
                    format!("{q:?} is not a whole number from 0 to {MAX_STOCK}"),
                ));
                None
            }
        });
        let currency = match text(Field::Currency).or_else(|| self.currency.clone()) {
            Some(c) if is_currency(&c.to_uppercase()) => c.to_uppercase(),
            Some(c) => {
                problems.push((
                    Field::Currency,
                    format!("{c:?} is not an ISO 4217 currency code (e.g. EUR)"),
                ));
                String::new()
            }
            None => {
                problems.push((
                    Field::Currency,
                    "the file gives no currency for its prices: say which one (--currency)".into(),
                ));
                String::new()
            }
        };
        let id = text(Field::VariantId).and_then(|v| match Uuid::parse_str(&v) {
            Ok(id) => Some(id),
            Err(_) => {
                problems.push((Field::VariantId, format!("{v:?} is not a variant id")));
                None
            }
        });
        let sku = match text(Field::Sku) {
            Some(s) => s,
            None => {
                self.generated_skus += 1;
                made_up_sku(handle, &attributes)
            }
        };
        // Checked by the core when the product is written (a bad one is a problem of this row).
        let barcode = self
            .has
            .contains_key(&Field::Barcode)
            .then(|| text(Field::Barcode).and_then(|b| crate::catalog::barcode::normalise(&b)));
        for (field, reason) in problems {
            self.problem(row, Some(field), reason, Some(handle));
        }
        let p = self.products.get_mut(handle).expect("exists");
        p.variants.push(VariantRecord {
            row,
            sku,
            barcode,
            price_minor,
            currency,
            qty,
            attributes,
            id,
        });
    }

    fn image(&mut self, row: u32, handle: &str, cells: &HashMap<Field, String>) {
        let Some(src) = cells
            .get(&Field::ImageSrc)
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
        else {
            return;
        };
        let mut problems = Vec::new();
        let position = cells
            .get(&Field::ImagePosition)
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .and_then(|p| match p.parse::<i64>() {
                Ok(n) if (1..=1_000_000).contains(&n) => Some(n - 1),
                _ => {
                    problems.push((
                        Field::ImagePosition,
                        format!("{p:?} is not a position (1, 2, …)"),
                    ));
                    None
                }
            });
        let thumbnail = cells
            .get(&Field::Thumbnail)
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .and_then(|t| {
                parse_bool(t)
                    .map_err(|e| problems.push((Field::Thumbnail, e)))
                    .ok()
            });
        let alt = cells.get(&Field::ImageAlt).cloned().unwrap_or_default();
        for (field, reason) in problems {
            self.problem(row, Some(field), reason, Some(handle));
        }
        let p = self.products.get_mut(handle).expect("exists");
        p.images.get_or_insert_with(Vec::new).push(ImageRecord {
            row,
            src,
            position,
            alt,
            thumbnail,
        });
    }

    fn finish(mut self) -> ReadFile {
        // A category from the option names when the file gives none (its variants need one).
        for p in self.products.values_mut() {
            let uses_options = p.variants.iter().any(|v| !v.attributes.is_empty());
            if p.category.is_none() && uses_options {
                p.category = Some(p.option_names.join(" / "));
                p.category_given = true;
                self.named_categories += 1;
            }
        }
        let mut notes = Vec::new();
        if !self.has.contains_key(&Field::Currency) {
            if let Some(c) = &self.currency {
                notes.push(format!(
                    "prices are read as {c} (the file has no currency column)"
                ));
            }
        }
        if self.generated_skus > 0 {
            notes.push(format!(
                "{} variant(s) without a Variant SKU get one made from the handle and options",
                self.generated_skus
            ));
        }
        if self.named_categories > 0 {
            notes.push(format!(
                "{} product(s) without a Type are put in a category named after their options",
                self.named_categories
            ));
        }
        if self.has.contains_key(&Field::Body) {
            notes.push("Body (HTML) is kept as written, tags included".into());
        }
        let ignored = self
            .ignored
            .iter()
            .map(|(&i, &n)| IgnoredColumn {
                column: self.headers[i].clone(),
                rows_with_values: n,
            })
            .collect();
        let products = self
            .order
            .iter()
            .map(|h| self.products.remove(h).expect("listed"))
            .collect();
        ReadFile {
            layout: self.layout,
            rows: self.rows,
            products,
            problems: self.problems,
            ignored,
            notes,
            has: self.has,
        }
    }
}

impl ProductRecord {
    fn new(handle: &str) -> ProductRecord {
        ProductRecord {
            handle: handle.to_string(),
            rows: Vec::new(),
            title: String::new(),
            body: None,
            category: None,
            category_given: false,
            status: None,
            option_names: Vec::new(),
            variants: Vec::new(),
            images: None,
            product_id: None,
            version: None,
            invalid: false,
        }
    }
}

/// A SKU for a variant the file gives none: the handle and the option values, in the
/// characters SKUs may have (`linen-tee-S-Navy`), at most 64 long. The same row always gets the
/// same one, so importing the file again finds it.
fn made_up_sku(handle: &str, attributes: &BTreeMap<String, String>) -> String {
    let mut sku: String = handle.to_string();
    for value in attributes.values() {
        sku.push('-');
        sku.extend(value.chars().map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/') {
                c
            } else {
                '-'
            }
        }));
    }
    if sku.len() > 64 {
        // Keep it unique among long handles: the end is a hash of the whole.
        let hash = crate::images::key_of(sku.as_bytes());
        sku = format!(
            "{}-{}",
            sku.chars().take(55).collect::<String>(),
            &hash[..8]
        );
    }
    sku
}
