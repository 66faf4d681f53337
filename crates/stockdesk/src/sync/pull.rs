//! Pulling: the replica follows the shop's change feed from its cursor. For each page of changes
//! it reads, from one snapshot of the server, the current rows of everything the page changed
//! (products with their variants, images, history and image bytes — or, for a product whose
//! only changes were to its stock, just its row, its variants and the new history rows; orders;
//! categories; staff; the page's stock movements), then in ONE transaction of the replica: replaces its rows with
//! the server's, applies its own pending commands again on top, and moves the cursor. The cursor
//! is the feed's, which never skips a change (`feed`); a crash before the commit leaves the old
//! cursor, and the page is read again.

use std::collections::{BTreeMap, BTreeSet};

use tracing::Instrument;
use uuid::Uuid;

use super::link::{step, Link, Upstream};
use super::state;
use super::tables::{any_of, Columns};
use crate::commands;
use crate::error::Result;
use crate::feed::{self, Cursor};
use crate::model::{Change, ChangeEvent};
use crate::replica::outbox;
use crate::store::idempotency;
use crate::store::{Arg, Conn, Session, Stmt, Tx};

/// Changes read per page.
const PAGE: i64 = crate::feed::MAX_PAGE;
/// Ids per `IN (…)` list.
const CHUNK: usize = 500;

/// What a pull brought.
#[derive(Debug, Clone, Default)]
pub struct Pulled {
    pub changes: i64,
    pub cursor: String,
}

/// Pulls every change after the replica's cursor; `refresh` names products to read afresh
/// whether or not they changed (those whose commands the server just set aside).
pub async fn pull(link: &Link, refresh: &BTreeSet<Uuid>) -> Result<Pulled> {
    let span = tracing::info_span!("pull", terminal = %link.terminal_name);
    async {
        let mut refresh = refresh.clone();
        let mut pulled = Pulled::default();
        loop {
            let up = link.upstream().await?;
            let from = state::joined(&mut link.local.store.conn().await?)
                .await?
                .cursor();
            let page = step(feed::page(&up.ctx, from, PAGE)).await?;
            let to: Cursor = page.cursor.parse()?;
            pulled.cursor = page.cursor.clone();
            if page.changes.is_empty() && refresh.is_empty() {
                break;
            }
            let n = page.changes.len();
            if step(apply_page(link, &up, from, to, &page.changes, &refresh)).await? {
                pulled.changes += n as i64;
            }
            refresh.clear();
            if (n as i64) < PAGE {
                break;
            }
        }
        heard_from(link).await?;
        Ok(pulled)
    }
    .instrument(span)
    .await
}

/// Tells the shop this terminal was heard from (shown to managers).
async fn heard_from(link: &Link) -> Result<()> {
    let up = link.upstream().await?;
    step(async {
        let mut tx = up.ctx.store.write().await?;
        let r = crate::replica::decisions::seen(&mut tx, link.terminal_id, up.ctx.now()).await;
        tx.finish(r).await
    })
    .await
}

/// What a page of changes asks to read again.
#[derive(Default)]
struct Wanted {
    products: BTreeSet<Uuid>,
    variants: BTreeSet<Uuid>,
    orders: BTreeSet<Uuid>,
    categories: BTreeSet<Uuid>,
    staff: BTreeSet<Uuid>,
    everything: bool,
}

impl Wanted {
    fn of(changes: &[Change]) -> Wanted {
        let mut w = Wanted::default();
        for event in changes.iter().flat_map(|c| &c.changed) {
            match event {
                ChangeEvent::Product { id, .. } => {
                    w.products.insert(*id);
                }
                ChangeEvent::Stock { variant_id } => {
                    w.variants.insert(*variant_id);
                }
                ChangeEvent::Order { id } => {
                    w.orders.insert(*id);
                }
                ChangeEvent::Category { id } => {
                    w.categories.insert(*id);
                }
                ChangeEvent::Staff { id } => {
                    w.staff.insert(*id);
                }
                ChangeEvent::Catalog => w.everything = true,
                ChangeEvent::Sweep => {}
            }
        }
        w
    }
}

/// The server's rows for a page, by table.
#[derive(Default)]
struct Fetched {
    /// Products read, and which of them the server has.
    products: BTreeSet<Uuid>,
    on_server: BTreeSet<Uuid>,
    /// The version of each product read that the replica had from the server.
    seen: BTreeMap<Uuid, i64>,
    /// Products whose only changes since the replica's version are to stock: their rows
    /// without images or attributes.
    lean: BTreeMap<Uuid, Lean>,
    orders: BTreeSet<Uuid>,
    /// Orders this terminal's pending commands made, paid or cancelled.
    till_orders: BTreeSet<Uuid>,
    rows: BTreeMap<&'static str, Vec<Vec<Arg>>>,
}

impl Fetched {
    fn add(&mut self, table: &'static str, rows: Vec<Vec<Arg>>) {
        self.rows.entry(table).or_default().extend(rows);
    }

    fn take(&mut self, table: &str) -> Vec<Vec<Arg>> {
        self.rows.remove(table).unwrap_or_default()
    }
}

/// Reads a page's rows from the server and writes them into the replica. False if another
/// process of this terminal pulled the same page first (nothing written).
async fn apply_page(
    link: &Link,
    up: &Upstream,
    from: Cursor,
    to: Cursor,
    changes: &[Change],
    refresh: &BTreeSet<Uuid>,
) -> Result<bool> {
    let local = &link.local;
    let cols = &up.columns;
    let wanted = Wanted::of(changes);
    let ops: Vec<Uuid> = changes.iter().map(|c| c.op_id).collect();
    let pending = outbox::pending(&mut local.store.conn().await?, i64::MAX).await?;

    let mut srv = up.ctx.store.read().await?;
    Stmt::new(srv.backend().snapshot_read())
        .run(&mut srv)
        .await?;
    let mut products: BTreeSet<Uuid> = wanted.products.clone();
    products.extend(refresh);
    products.extend(pending.iter().filter_map(|e| e.queued.touches.product));
    // A till's own orders made offline: read again (their variants and, once the shop has
    // them, their rows) and made again on top, like any pending command.
    let till_orders: BTreeSet<Uuid> = pending
        .iter()
        .filter_map(|e| e.queued.touches.order)
        .collect();
    products.extend(
        ids_where(
            &mut local.store.conn().await?,
            "SELECT DISTINCT product_id FROM order_items",
            "order_id",
            &till_orders,
        )
        .await?,
    );
    let mut orders = wanted.orders.clone();
    orders.extend(&till_orders);
    // A stock change, and an order (it holds or sold stock), change their variants' products:
    // read lean where nothing but stock changed, whole otherwise.
    let mut stocked: BTreeSet<Uuid> = ids_where(
        &mut srv,
        "SELECT DISTINCT product_id FROM variants",
        "id",
        &wanted.variants,
    )
    .await?
    .into_iter()
    .collect();
    stocked.extend(
        ids_where(
            &mut srv,
            "SELECT DISTINCT product_id FROM order_items",
            "order_id",
            &wanted.orders,
        )
        .await?,
    );
    let stocked: BTreeSet<Uuid> = stocked.difference(&products).copied().collect();
    let mut fetched = Fetched::default();
    products.extend(fetch_stock_only(&mut srv, cols, local, &stocked, &mut fetched).await?);
    if wanted.everything {
        products.extend(
            Stmt::new("SELECT id FROM products")
                .scalars::<Uuid>(&mut srv)
                .await?,
        );
    }
    fetch_products(&mut srv, cols, local, products, &mut fetched).await?;
    // A product read whole for a clash of SKUs takes its rows from there.
    fetched.lean.retain(|id, _| !fetched.products.contains(id));
    tracing::debug!(
        whole = fetched.products.len(),
        stock_only = fetched.lean.len(),
        "products read for a page"
    );

    // Categories the page made, and those the products read use (a product's change can come
    // before its new category's in the feed).
    let mut categories = wanted.categories.clone();
    if wanted.everything {
        categories.extend(
            Stmt::new("SELECT id FROM categories")
                .scalars::<Uuid>(&mut srv)
                .await?,
        );
    }
    let category_col = cols.index("products", "category_id");
    for row in fetched.rows.get("products").into_iter().flatten() {
        if let Arg::OptId(Some(id)) = row[category_col] {
            categories.insert(id);
        }
    }
    for chunk in chunks(&categories) {
        let rows = cols
            .fetch(&mut srv, "categories", Stmt::ids_in("id", chunk.clone()))
            .await?;
        fetched.add("categories", rows);
        let rows = cols
            .fetch(
                &mut srv,
                "attributes",
                Stmt::ids_in("category_id", chunk.clone()),
            )
            .await?;
        fetched.add("attributes", rows);
        let values = Stmt::ids_in("category_id", chunk)
            .wrap(|f| format!("attribute_id IN (SELECT id FROM attributes WHERE {f})"));
        let rows = cols.fetch(&mut srv, "attribute_values", values).await?;
        fetched.add("attribute_values", rows);
    }
    for chunk in chunks(&orders) {
        for (table, column) in [
            ("orders", "id"),
            ("order_items", "order_id"),
            ("reservations", "order_id"),
        ] {
            let rows = cols
                .fetch(&mut srv, table, Stmt::ids_in(column, chunk.clone()))
                .await?;
            fetched.add(table, rows);
        }
    }
    fetched.orders = orders;
    fetched.till_orders = till_orders;
    // Allotments, policies and oversell exceptions are few: read whole every page.
    for table in ["allotments", "allotment_policies", "oversell_exceptions"] {
        let rows = cols.fetch(&mut srv, table, Stmt::new("1 = 1")).await?;
        fetched.add(table, rows);
    }
    for chunk in chunks(&wanted.staff) {
        let rows = cols
            .fetch(&mut srv, "staff", Stmt::ids_in("id", chunk))
            .await?;
        fetched.add("staff", rows);
    }
    for chunk in ops.chunks(CHUNK) {
        let rows = cols
            .fetch(
                &mut srv,
                "stock_movements",
                Stmt::ids_in("op_id", chunk.iter().copied()),
            )
            .await?;
        fetched.add("stock_movements", rows);
    }
    let settings = cols
        .fetch(&mut srv, "shop_settings", Stmt::new("1 = 1"))
        .await?;
    fetched.add("shop_settings", settings);
    missing_blobs(&mut srv, cols, local, &mut fetched).await?;
    srv.rollback().await?;

    let mut tx = local.store.write().await?;
    let result = write_page(&mut tx, link, cols, &ops, fetched).await;
    let events = match result {
        Ok(events) => events,
        Err(e) => return tx.finish(Err(e)).await,
    };
    if !state::advance(&mut tx, from, to, local.now()).await? {
        tx.rollback().await?;
        return Ok(false);
    }
    let op = idempotency::finish_system_write(
        &mut tx,
        "sync_pull",
        &link.terminal_name,
        &events,
        local.now(),
    )
    .await?;
    tx.commit().await?;
    if let Some(op) = op {
        local.announce(op, events);
    }
    Ok(true)
}

/// Reads `products` from the server with all their rows, and the products whose rows in the
/// replica would clash with them on a unique SKU, barcode or slug (they moved between products), until
/// nothing new clashes: the replica then takes one consistent state of all of them.
async fn fetch_products(
    srv: &mut Tx,
    cols: &Columns,
    local: &crate::ctx::Ctx,
    mut products: BTreeSet<Uuid>,
    fetched: &mut Fetched,
) -> Result<()> {
    let mut todo: BTreeSet<Uuid> = products.clone();
    while !todo.is_empty() {
        let mut skus = Vec::new();
        let mut barcodes = Vec::new();
        let mut slugs = Vec::new();
        for chunk in chunks(&todo) {
            let seen = seen_versions(&mut local.store.conn().await?, &chunk).await?;
            fetched.seen.extend(seen);
            let rows = cols
                .fetch(srv, "products", Stmt::ids_in("id", chunk.clone()))
                .await?;
            let (id_col, slug_col) = (cols.index("products", "id"), cols.index("products", "slug"));
            for row in &rows {
                if let Arg::OptId(Some(id)) = row[id_col] {
                    fetched.on_server.insert(id);
                }
                slugs.push(row[slug_col].clone());
            }
            fetched.add("products", rows);
            let rows = cols
                .fetch(srv, "variants", Stmt::ids_in("product_id", chunk.clone()))
                .await?;
            let sku_col = cols.index("variants", "sku");
            skus.extend(rows.iter().map(|r| r[sku_col].clone()));
            let barcode_col = cols.index("variants", "barcode");
            barcodes.extend(
                rows.iter()
                    .map(|r| r[barcode_col].clone())
                    .filter(|b| !matches!(b, Arg::OptText(None))),
            );
            fetched.add("variants", rows);
            let of_variants = Stmt::ids_in("product_id", chunk.clone())
                .wrap(|f| format!("variant_id IN (SELECT id FROM variants WHERE {f})"));
            let rows = cols.fetch(srv, "variant_attributes", of_variants).await?;
            fetched.add("variant_attributes", rows);
            let rows = cols
                .fetch(srv, "images", Stmt::ids_in("product_id", chunk.clone()))
                .await?;
            fetched.add("images", rows);
            let rows = cols
                .fetch(srv, "product_history", history_after(&chunk, &fetched.seen))
                .await?;
            fetched.add("product_history", rows);
        }
        fetched.products.extend(&todo);
        // Rows of other products in the replica that hold these SKUs, barcodes and slugs now.
        let mut conn = local.store.conn().await?;
        let mut clashing = BTreeSet::new();
        for (column, values) in [("sku", &skus), ("barcode", &barcodes)] {
            for chunk in values.chunks(CHUNK) {
                clashing.extend(
                    any_of(column, chunk.iter().cloned())
                        .wrap(|f| format!("SELECT DISTINCT product_id FROM variants WHERE {f}"))
                        .uncached()
                        .scalars::<Uuid>(&mut conn)
                        .await?,
                );
            }
        }
        for chunk in slugs.chunks(CHUNK) {
            clashing.extend(
                any_of("slug", chunk.iter().cloned())
                    .wrap(|f| format!("SELECT id FROM products WHERE {f}"))
                    .uncached()
                    .scalars::<Uuid>(&mut conn)
                    .await?,
            );
        }
        todo = clashing.difference(&products).copied().collect();
        products.extend(&todo);
    }
    Ok(())
}

/// A product whose stock alone changed: its row, its variants' rows and its new history rows.
#[derive(Default)]
struct Lean {
    product: Vec<Vec<Arg>>,
    variants: Vec<Vec<Arg>>,
    history: Vec<Vec<Arg>>,
}

/// Reads lean the `products` whose only changes since the version the replica has from the
/// server are to their stock (every new history row changed `stock_on_hand` alone, or none came:
/// a hold), so their other rows are the replica's already; returns the rest, to read whole. A
/// product with pending commands here never comes (it is read whole, to make them again on top).
async fn fetch_stock_only(
    srv: &mut Tx,
    cols: &Columns,
    local: &crate::ctx::Ctx,
    products: &BTreeSet<Uuid>,
    fetched: &mut Fetched,
) -> Result<BTreeSet<Uuid>> {
    let mut whole = BTreeSet::new();
    let product_of = |table: &str, column: &str, row: &[Arg]| match row[cols.index(table, column)] {
        Arg::OptId(Some(id)) => id,
        _ => Uuid::nil(),
    };
    let changes = cols.index("product_history", "changes");
    for chunk in chunks(products) {
        let seen = seen_versions(&mut local.store.conn().await?, &chunk).await?;
        // Not in the replica from the server yet: read whole.
        whole.extend(chunk.iter().filter(|id| !seen.contains_key(id)));
        let chunk: Vec<Uuid> = chunk
            .into_iter()
            .filter(|id| seen.contains_key(id))
            .collect();
        if chunk.is_empty() {
            continue;
        }
        let mut lean: BTreeMap<Uuid, Lean> =
            chunk.iter().map(|&id| (id, Lean::default())).collect();
        for row in cols
            .fetch(srv, "product_history", history_after(&chunk, &seen))
            .await?
        {
            let id = product_of("product_history", "product_id", &row);
            if !stock_only(&row[changes]) {
                whole.insert(id);
            }
            lean.entry(id).or_default().history.push(row);
        }
        lean.retain(|id, _| !whole.contains(id));
        let ids = || Stmt::ids_in("id", lean.keys().copied());
        for row in cols.fetch(srv, "products", ids()).await? {
            let id = product_of("products", "id", &row);
            lean.entry(id).or_default().product.push(row);
        }
        let of_products = Stmt::ids_in("product_id", lean.keys().copied());
        for row in cols.fetch(srv, "variants", of_products).await? {
            let id = product_of("variants", "product_id", &row);
            lean.entry(id).or_default().variants.push(row);
        }
        // Gone from the server meanwhile: its removal comes whole.
        for (id, l) in lean {
            if l.product.is_empty() {
                whole.insert(id);
            } else {
                fetched.lean.insert(id, l);
            }
        }
    }
    Ok(whole)
}

/// Whether a history row's `changes` name nothing but variants' stock on hand.
fn stock_only(changes: &Arg) -> bool {
    let Arg::OptJson(Some(raw)) = changes else {
        return false;
    };
    serde_json::from_str::<Vec<String>>(raw.get()).is_ok_and(|fields| {
        fields
            .iter()
            .all(|f| f.starts_with("variants.") && f.ends_with(".stock_on_hand"))
    })
}

/// History rows of `products` the replica lacks: after the version it has from the server (all
/// of them for a product it has none of).
fn history_after(products: &[Uuid], seen: &BTreeMap<Uuid, i64>) -> Stmt {
    let mut s = Stmt::new("");
    let conds: Vec<String> = products
        .iter()
        .map(|id| {
            let p = s.param(*id);
            let v = s.param(seen.get(id).copied().unwrap_or(0));
            format!("(product_id = {p} AND version > {v})")
        })
        .collect();
    s.text(conds.join(" OR "))
}

/// Image bytes the products read use and the replica does not hold.
async fn missing_blobs(
    srv: &mut Tx,
    cols: &Columns,
    local: &crate::ctx::Ctx,
    fetched: &mut Fetched,
) -> Result<()> {
    let (blob, thumb) = (
        cols.index("images", "blob_key"),
        cols.index("images", "thumb_key"),
    );
    let mut keys = BTreeSet::new();
    for row in fetched.rows.get("images").into_iter().flatten() {
        for col in [blob, thumb] {
            if let Arg::OptText(Some(k)) = &row[col] {
                keys.insert(k.clone());
            }
        }
    }
    let mut conn = local.store.conn().await?;
    let keys: Vec<String> = keys.into_iter().collect();
    let mut missing = Vec::new();
    for chunk in keys.chunks(CHUNK) {
        let have: BTreeSet<String> = any_of("key", chunk.iter().map(|k| Arg::Text(k.clone())))
            .wrap(|f| format!("SELECT key FROM blobs WHERE data IS NOT NULL AND {f}"))
            .uncached()
            .scalars::<String>(&mut conn)
            .await?
            .into_iter()
            .collect();
        missing.extend(chunk.iter().filter(|k| !have.contains(*k)).cloned());
    }
    drop(conn);
    for chunk in missing.chunks(20) {
        let rows = cols
            .fetch(
                srv,
                "blobs",
                any_of("key", chunk.iter().map(|k| Arg::Text(k.clone()))),
            )
            .await?;
        fetched.add("blobs", rows);
    }
    Ok(())
}

/// Writes a page into the replica and applies the pending commands on top; returns what changed.
async fn write_page(
    tx: &mut Tx,
    link: &Link,
    cols: &Columns,
    ops: &[Uuid],
    mut f: Fetched,
) -> Result<Vec<ChangeEvent>> {
    // Read again under the write lock: a command queued since is in here.
    let pending = outbox::pending(tx, i64::MAX).await?;
    let replaced: BTreeSet<Uuid> = f.products.clone();
    let rerun: Vec<&outbox::Entry> = pending
        .iter()
        .filter(|e| {
            e.queued
                .touches
                .product
                .is_some_and(|p| replaced.contains(&p))
                || e.queued.touches.category.is_some()
                || e.queued
                    .touches
                    .order
                    .is_some_and(|o| f.till_orders.contains(&o))
        })
        .collect();
    let rerun_ops: Vec<Uuid> = rerun.iter().map(|e| e.op_id).collect();

    // Allotments, policies and exceptions are read whole (`write_allotments`).
    for table in ["oversell_exceptions", "allotment_policies", "allotments"] {
        Stmt::new(format!("DELETE FROM {table}")).run(tx).await?;
    }
    // Out with the replica's rows of what is read again (children with their products).
    for chunk in chunks(&replaced) {
        for table in ["variants", "images"] {
            Stmt::ids_in("product_id", chunk.clone())
                .wrap(|f| format!("DELETE FROM {table} WHERE {f}"))
                .uncached()
                .run(tx)
                .await?;
        }
        Stmt::ids_in("id", chunk.clone())
            .wrap(|f| format!("DELETE FROM products WHERE {f}"))
            .uncached()
            .run(tx)
            .await?;
    }
    for p in &replaced {
        // Versions above the one from the server are this terminal's own, about to be made again.
        Stmt::new("DELETE FROM product_history WHERE product_id = $1 AND version > $2")
            .arg(*p)
            .arg(if f.on_server.contains(p) {
                f.seen.get(p).copied().unwrap_or(0)
            } else {
                0
            })
            .run(tx)
            .await?;
        if !f.on_server.contains(p) {
            Stmt::new("DELETE FROM sync_seen WHERE product_id = $1")
                .arg(*p)
                .run(tx)
                .await?;
        }
    }
    // Categories made by pending commands go too (applied again below), unless the server has
    // them: a clash of names is the server's to decide.
    for e in &pending {
        if let Some(c) = e.queued.touches.category {
            Stmt::new(
                "DELETE FROM categories WHERE id = $1 \
                 AND NOT EXISTS (SELECT 1 FROM products WHERE category_id = $1)",
            )
            .arg(c)
            .run(tx)
            .await?;
        }
    }
    let movement_ops: Vec<Uuid> = ops.iter().chain(&rerun_ops).copied().collect();
    for chunk in movement_ops.chunks(CHUNK) {
        Stmt::ids_in("op_id", chunk.iter().copied())
            .wrap(|f| format!("DELETE FROM stock_movements WHERE {f}"))
            .uncached()
            .run(tx)
            .await?;
    }
    // The till's own orders go, to be made again.
    for chunk in chunks(&f.till_orders) {
        for (table, column) in [
            ("reservations", "order_id"),
            ("order_items", "order_id"),
            ("orders", "id"),
        ] {
            Stmt::ids_in(column, chunk.clone())
                .wrap(|f| format!("DELETE FROM {table} WHERE {f}"))
                .uncached()
                .run(tx)
                .await?;
        }
    }
    for chunk in chunks(&f.orders) {
        for table in ["reservations", "order_items"] {
            Stmt::ids_in("order_id", chunk.clone())
                .wrap(|f| format!("DELETE FROM {table} WHERE {f}"))
                .uncached()
                .run(tx)
                .await?;
        }
    }

    // In with the server's, parents first.
    for table in [
        "shop_settings",
        "categories",
        "attributes",
        "attribute_values",
    ] {
        cols.write(tx, table, f.take(table), true).await?;
    }
    let mut staff = f.take("staff");
    // Removed profiles first: a name a removed profile had may be live again under another id.
    let removed = cols.index("staff", "removed_at");
    staff.sort_by_key(|r| matches!(r[removed], Arg::OptTime(None)));
    cols.write(tx, "staff", staff, true).await?;
    for table in [
        "products",
        "variants",
        "variant_attributes",
        "images",
        "blobs",
        "product_history",
        "stock_movements",
        "orders",
        "order_items",
        "reservations",
    ] {
        let upsert = matches!(table, "blobs" | "product_history" | "orders");
        cols.write(tx, table, f.take(table), upsert).await?;
    }
    // Stock-only changes: the replica's rows take the server's in place (their SKUs, slugs,
    // images and attributes are the same on both sides).
    let lean: Vec<Uuid> = f.lean.keys().copied().collect();
    let (mut products, mut variants, mut history) = (Vec::new(), Vec::new(), Vec::new());
    for (_, l) in std::mem::take(&mut f.lean) {
        products.extend(l.product);
        variants.extend(l.variants);
        history.extend(l.history);
    }
    cols.write(tx, "products", products, true).await?;
    cols.write(tx, "variants", variants, true).await?;
    cols.write(tx, "product_history", history, true).await?;
    write_allotments(tx, cols, &mut f).await?;
    for p in f.on_server.iter().chain(&lean) {
        Stmt::new(
            "INSERT INTO sync_seen (product_id, version) SELECT id, version FROM products \
             WHERE id = $1 ON CONFLICT (product_id) DO UPDATE SET version = excluded.version",
        )
        .arg(*p)
        .run(tx)
        .await?;
    }

    // This terminal's pending commands, on top of the shop's state.
    rerun_each(tx, link, rerun).await?;

    let mut events: Vec<ChangeEvent> = Vec::new();
    for p in replaced.iter().chain(&lean) {
        let version: Option<i64> = Stmt::new("SELECT version FROM products WHERE id = $1")
            .arg(*p)
            .scalar_optional(tx)
            .await?;
        // Version 0: the product is gone from this replica (made offline, then refused).
        events.push(ChangeEvent::Product {
            id: *p,
            version: version.unwrap_or(0),
        });
        let variants = Stmt::new("SELECT id FROM variants WHERE product_id = $1")
            .arg(*p)
            .scalars::<Uuid>(tx)
            .await?;
        events.extend(
            variants
                .into_iter()
                .map(|variant_id| ChangeEvent::Stock { variant_id }),
        );
    }
    events.extend(f.orders.iter().map(|&id| ChangeEvent::Order { id }));
    Ok(events)
}

/// Replaces the replica's allotments, policies and oversell exceptions with the shop's, leaving
/// out rows of a variant or an order this replica does not have yet (a later page brings them,
/// and these rows again).
async fn write_allotments(tx: &mut Tx, cols: &Columns, f: &mut Fetched) -> Result<()> {
    for table in ["allotments", "allotment_policies"] {
        let rows = present(tx, cols, table, "variant_id", "variants", f.take(table)).await?;
        cols.write(tx, table, rows, false).await?;
    }
    let rows = f.take("oversell_exceptions");
    let rows = present(
        tx,
        cols,
        "oversell_exceptions",
        "order_item_id",
        "order_items",
        rows,
    )
    .await?;
    cols.write(tx, "oversell_exceptions", rows, false).await?;
    Ok(())
}

/// The `rows` of `table` whose `column` names a row of `parent` in the replica.
async fn present(
    tx: &mut Tx,
    cols: &Columns,
    table: &str,
    column: &str,
    parent: &str,
    rows: Vec<Vec<Arg>>,
) -> Result<Vec<Vec<Arg>>> {
    let at = cols.index(table, column);
    let ids: BTreeSet<Uuid> = rows
        .iter()
        .filter_map(|r| match r[at] {
            Arg::OptId(Some(id)) => Some(id),
            _ => None,
        })
        .collect();
    let have: BTreeSet<Uuid> = ids_where(tx, &format!("SELECT id FROM {parent}"), "id", &ids)
        .await?
        .into_iter()
        .collect();
    Ok(rows
        .into_iter()
        .filter(|r| matches!(r[at], Arg::OptId(Some(id)) if have.contains(&id)))
        .collect())
}

/// Applies every pending command again, in order (after a copy afresh).
pub async fn rerun_pending(tx: &mut Tx, link: &Link) -> Result<()> {
    let pending = outbox::pending(tx, i64::MAX).await?;
    rerun_each(tx, link, pending.iter()).await
}

/// Applies `entries` again in order, each all or nothing: one that no longer applies to the
/// replica (its product gone, a clash) is left out here and stays pending for the shop.
async fn rerun_each<'a>(
    tx: &mut Tx,
    link: &Link,
    entries: impl IntoIterator<Item = &'a outbox::Entry>,
) -> Result<()> {
    for e in entries {
        Stmt::new("SAVEPOINT rerun").run(tx).await?;
        match commands::rerun(tx, &link.local, &e.queued).await {
            Ok(_) => Stmt::new("RELEASE SAVEPOINT rerun").run(tx).await?,
            Err(err) => {
                tracing::debug!(seq = e.seq, error = %err, "a pending command does not apply here now");
                Stmt::new("ROLLBACK TO SAVEPOINT rerun").run(tx).await?
            }
        };
    }
    Ok(())
}

/// The version of each of `products` the replica has from the server.
async fn seen_versions(conn: &mut Conn, products: &[Uuid]) -> Result<BTreeMap<Uuid, i64>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        product_id: Uuid,
        version: i64,
    }
    let rows: Vec<Row> = Stmt::ids_in("product_id", products.iter().copied())
        .wrap(|f| format!("SELECT product_id, version FROM sync_seen WHERE {f}"))
        .uncached()
        .fetch(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.product_id, r.version))
        .collect())
}

/// `select WHERE column IN ids`, as ids, in chunks.
async fn ids_where(
    on: &mut impl Session,
    select: &str,
    column: &str,
    ids: &BTreeSet<Uuid>,
) -> Result<Vec<Uuid>> {
    let mut out = Vec::new();
    for chunk in chunks(ids) {
        out.extend(
            Stmt::ids_in(column, chunk)
                .wrap(|f| format!("{select} WHERE {f}"))
                .uncached()
                .scalars::<Uuid>(on)
                .await?,
        );
    }
    Ok(out)
}

fn chunks(ids: &BTreeSet<Uuid>) -> Vec<Vec<Uuid>> {
    let all: Vec<Uuid> = ids.iter().copied().collect();
    all.chunks(CHUNK).map(<[Uuid]>::to_vec).collect()
}
