//! Exports as CSV (UTF-8, a header row): products in the import's layout, stock levels, order
//! lines and the stock ledger. Streamed: one read transaction (one consistent snapshot), pages
//! read by keyset (after the last id, or the last time and id), each page written out before
//! the next is read, so memory stays the same at 100,000 products as at 10. Text cells go
//! through `columns::neutralise`; numbers are written as numbers.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use chrono::{DateTime, SecondsFormat, Utc};
use tokio::sync::mpsc;
use tracing::Instrument;

use super::columns::{format_bool, format_price, neutralise, product_export_fields, Field};
use super::fetch::BLOB_PREFIX;
use super::repo::{self, After};
use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::model::{ExportKind, ExportReport, ExportRequest, Product, ProductStatus};
use crate::product_rows::product;
use crate::store::{Stmt, Tx};

/// Rows (products, orders, variants, movements) read per page.
const PAGE: i64 = 500;

/// Writes the export to the file at `path`, whole or not at all (written beside it, then
/// renamed into place).
pub async fn export_file(ctx: &Ctx, req: &ExportRequest, path: &Path) -> Result<ExportReport> {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    let partial = path.with_file_name(name);
    let file = std::fs::File::create(&partial)?;
    let written = export(ctx, req, Box::new(file)).await;
    let rows = match written {
        Ok(rows) => rows,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
    };
    std::fs::File::open(&partial)?.sync_all()?;
    std::fs::rename(&partial, path)?;
    Ok(ExportReport {
        kind: req.kind,
        rows,
        file: Some(path.display().to_string()),
        from: req.from,
        to: req.to,
    })
}

/// Writes the export `req` asks for to `out`; returns how many data rows it wrote.
pub async fn export(ctx: &Ctx, req: &ExportRequest, out: Box<dyn Write + Send>) -> Result<u64> {
    if let (Some(from), Some(to)) = (req.from, req.to) {
        if from >= to {
            return Err(Error::validation("to", "must be after from"));
        }
    }
    if matches!(req.kind, ExportKind::Products | ExportKind::Stock)
        && (req.from.is_some() || req.to.is_some())
    {
        return Err(Error::validation(
            "from",
            "a time range is for the orders and the ledger; products and stock are as they are now",
        ));
    }
    let span = tracing::info_span!("export", kind = req.kind.as_str());
    async {
        let mut tx = ctx.store.read().await?;
        let snapshot = tx.backend().snapshot_read();
        if !snapshot.is_empty() {
            Stmt::new(snapshot).run(&mut tx).await?;
        }
        let range = (req.from, req.to);
        match req.kind {
            ExportKind::Products => products(&mut tx, out).await,
            ExportKind::Stock => stock(&mut tx, ctx.now(), out).await,
            ExportKind::Orders => orders(&mut tx, range, out).await,
            ExportKind::Ledger => ledger(&mut tx, range, out).await,
        }
    }
    .instrument(span)
    .await
}

async fn products(tx: &mut Tx, out: Box<dyn Write + Send>) -> Result<u64> {
    let names = repo::category_names(tx).await?;
    let attributes = repo::category_attributes(tx).await?;
    let options = attributes.values().map(Vec::len).max().unwrap_or(0).max(3) as u8;
    let fields = product_export_fields(options);
    let sink = Sink::start(fields.iter().map(|f| f.header()).collect(), out);
    let mut after = None;
    loop {
        let page = repo::product_page(tx, after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        let mut rows = Vec::new();
        for entry in page {
            let mut p = match entry.snapshot {
                Some(s) => s.0,
                // Written by other means, without a history row: read from its rows.
                None => product::load_product(tx, entry.id)
                    .await?
                    .ok_or_else(|| Error::not_found("product", entry.id))?,
            };
            p.variants.sort_by_key(|v| (v.position, v.id));
            p.images.sort_by_key(|i| (i.position, i.id));
            let category = p
                .category_id
                .and_then(|c| names.get(&c))
                .map(String::as_str);
            let order = p
                .category_id
                .and_then(|c| attributes.get(&c))
                .cloned()
                .unwrap_or_default();
            rows.extend(product_rows(&p, category, &order, &fields));
        }
        if let Err(e) = sink.send(rows).await {
            return sink.finish().await.and(Err(e));
        }
    }
    sink.finish().await
}

/// A product as the file's rows: the product's own columns on its first row, then a variant
/// and an image on each row, as many rows as it has of the more numerous.
fn product_rows(
    p: &Product,
    category: Option<&str>,
    attribute_order: &[String],
    fields: &[Field],
) -> Vec<Vec<String>> {
    let mut used: Vec<&String> = attribute_order
        .iter()
        .filter(|a| p.variants.iter().any(|v| v.attributes.contains_key(*a)))
        .collect();
    for v in &p.variants {
        for a in v.attributes.keys() {
            if !used.contains(&a) {
                used.push(a);
            }
        }
    }
    let n = p.variants.len().max(p.images.len()).max(1);
    (0..n)
        .map(|k| {
            let mut cell: HashMap<Field, String> = HashMap::new();
            let mut text = |f: Field, value: &str| {
                cell.insert(f, neutralise(value).into_owned());
            };
            text(Field::Handle, &p.slug);
            text(Field::ProductId, &p.id.to_string());
            text(Field::Version, &p.version.to_string());
            if k == 0 {
                text(Field::Title, &p.name);
                text(Field::Body, &p.description);
                text(Field::Type, category.unwrap_or(""));
                text(
                    Field::Published,
                    format_bool(p.status == ProductStatus::Published),
                );
                text(Field::Status, status_text(p.status));
                for (i, a) in used.iter().enumerate() {
                    text(Field::OptionName(i as u8 + 1), a);
                }
            }
            if let Some(v) = p.variants.get(k) {
                for (i, a) in used.iter().enumerate() {
                    let value = v.attributes.get(*a).map(String::as_str).unwrap_or("");
                    text(Field::OptionValue(i as u8 + 1), value);
                }
                text(Field::Sku, &v.sku);
                text(Field::Barcode, v.barcode.as_deref().unwrap_or(""));
                text(Field::Qty, &v.stock_on_hand.to_string());
                text(Field::Price, &format_price(v.price_minor));
                text(Field::Currency, &v.currency);
                text(Field::VariantId, &v.id.to_string());
            }
            if let Some(i) = p.images.get(k) {
                text(Field::ImageSrc, &format!("{BLOB_PREFIX}{}", i.blob_key));
                text(Field::ImagePosition, &(i.position + 1).to_string());
                text(Field::ImageAlt, &i.alt);
                text(Field::Thumbnail, format_bool(i.is_thumbnail));
            }
            fields
                .iter()
                .map(|f| cell.remove(f).unwrap_or_default())
                .collect()
        })
        .collect()
}

fn status_text(status: ProductStatus) -> &'static str {
    match status {
        ProductStatus::Published => "active",
        ProductStatus::Draft => "draft",
        ProductStatus::Archived => "archived",
    }
}

async fn stock(tx: &mut Tx, now: DateTime<Utc>, out: Box<dyn Write + Send>) -> Result<u64> {
    let header = [
        "Product ID",
        "Variant ID",
        "SKU",
        "Product",
        "On Hand",
        "Reserved",
        "Available",
    ];
    let sink = Sink::start(header.iter().map(|h| h.to_string()).collect(), out);
    let mut after = None;
    loop {
        let page = repo::stock_page(tx, after, now, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.variant_id);
        let rows = page
            .iter()
            .map(|r| {
                vec![
                    r.product_id.to_string(),
                    r.variant_id.to_string(),
                    neutralise(&r.sku).into_owned(),
                    neutralise(&r.product_name).into_owned(),
                    r.stock_on_hand.to_string(),
                    r.reserved.to_string(),
                    (r.stock_on_hand - r.reserved).max(0).to_string(),
                ]
            })
            .collect();
        if let Err(e) = sink.send(rows).await {
            return sink.finish().await.and(Err(e));
        }
    }
    sink.finish().await
}

type Range = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

async fn orders(tx: &mut Tx, range: Range, out: Box<dyn Write + Send>) -> Result<u64> {
    let header = [
        "Order ID",
        "Status",
        "Created At",
        "Created By",
        "Payment Due",
        "Paid At",
        "Closed At",
        "Line",
        "Product ID",
        "Variant ID",
        "SKU",
        "Product",
        "Quantity",
        "Unit Price",
        "Line Total",
        "Currency",
    ];
    let sink = Sink::start(header.iter().map(|h| h.to_string()).collect(), out);
    let mut after = None;
    loop {
        let ids = repo::order_page(tx, after, range, PAGE).await?;
        if ids.is_empty() {
            break;
        }
        let lines = repo::order_lines(tx, &ids).await?;
        // The page's last order, by the listing's own order.
        if let Some(last) = lines.last() {
            after = Some(After {
                at: last.created_at,
                id: last.order_id,
            });
        } else {
            break;
        }
        let rows = lines
            .iter()
            .map(|l| {
                vec![
                    l.order_id.to_string(),
                    l.status.clone(),
                    time(l.created_at),
                    neutralise(&l.created_by).into_owned(),
                    time(l.payment_expires_at),
                    l.paid_at.map(time).unwrap_or_default(),
                    l.closed_at.map(time).unwrap_or_default(),
                    l.line_no.to_string(),
                    l.product_id.to_string(),
                    l.variant_id.to_string(),
                    neutralise(&l.sku).into_owned(),
                    neutralise(&l.product_name).into_owned(),
                    l.quantity.to_string(),
                    format_price(l.unit_price_minor),
                    format_price(l.unit_price_minor.saturating_mul(l.quantity)),
                    l.currency.clone(),
                ]
            })
            .collect();
        if let Err(e) = sink.send(rows).await {
            return sink.finish().await.and(Err(e));
        }
    }
    sink.finish().await
}

async fn ledger(tx: &mut Tx, range: Range, out: Box<dyn Write + Send>) -> Result<u64> {
    let header = [
        "Movement ID",
        "At",
        "Variant ID",
        "SKU",
        "Product",
        "Kind",
        "Quantity",
        "On Hand After",
        "Actor",
        "Reason",
        "Order ID",
    ];
    let sink = Sink::start(header.iter().map(|h| h.to_string()).collect(), out);
    let mut after = None;
    loop {
        let page = repo::movement_page(tx, after, range, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = Some(After {
            at: last.at,
            id: last.id,
        });
        let text = |t: &Option<String>| neutralise(t.as_deref().unwrap_or("")).into_owned();
        let rows = page
            .iter()
            .map(|m| {
                vec![
                    m.id.to_string(),
                    time(m.at),
                    m.variant_id.to_string(),
                    text(&m.sku),
                    text(&m.product_name),
                    m.kind.clone(),
                    m.quantity.to_string(),
                    m.on_hand_after.to_string(),
                    neutralise(&m.actor).into_owned(),
                    neutralise(&m.reason).into_owned(),
                    m.order_id.map(|o| o.to_string()).unwrap_or_default(),
                ]
            })
            .collect();
        if let Err(e) = sink.send(rows).await {
            return sink.finish().await.and(Err(e));
        }
    }
    sink.finish().await
}

/// Times in UTC, RFC 3339 (`2026-11-23T09:00:00Z`), which spreadsheets and scripts read.
fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// The CSV writer, on a thread of its own (file writes block), fed a page at a time through a
/// short queue: the reader never gets more than two pages ahead.
struct Sink {
    pages: mpsc::Sender<Vec<Vec<String>>>,
    writer: tokio::task::JoinHandle<Result<u64>>,
}

impl Sink {
    fn start(header: Vec<String>, out: Box<dyn Write + Send>) -> Sink {
        let (pages, mut rx) = mpsc::channel::<Vec<Vec<String>>>(2);
        let writer = tokio::task::spawn_blocking(move || {
            let mut csv = csv::Writer::from_writer(std::io::BufWriter::new(out));
            csv.write_record(&header).map_err(csv_error)?;
            let mut rows = 0;
            while let Some(page) = rx.blocking_recv() {
                for row in page {
                    csv.write_record(&row).map_err(csv_error)?;
                    rows += 1;
                }
            }
            csv.flush()?;
            let mut out = csv.into_inner().map_err(|e| Error::Io(e.into_error()))?;
            out.flush()?;
            Ok(rows)
        });
        Sink { pages, writer }
    }

    async fn send(&self, rows: Vec<Vec<String>>) -> Result<()> {
        if self.pages.send(rows).await.is_err() {
            // The writer stopped: `finish` says why.
            return Err(Error::Io(std::io::Error::other(
                "the export's writer stopped",
            )));
        }
        Ok(())
    }

    async fn finish(self) -> Result<u64> {
        drop(self.pages);
        self.writer
            .await
            .map_err(|e| Error::Internal(format!("the export's writer failed: {e}")))?
    }
}

fn csv_error(e: csv::Error) -> Error {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => Error::Io(io),
        other => Error::Internal(format!("writing CSV: {other:?}")),
    }
}
