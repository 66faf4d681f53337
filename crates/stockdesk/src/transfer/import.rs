//! Importing a product CSV: read the file, plan each product against the shop, then either say
//! what would happen (a dry run: every command previewed on fresh data and rolled back, nothing
//! written, no image fetched) or do it — images fetched a few at a time while products are
//! applied one after another, each as one `import_product` command through `commands::apply`.
//! Cancelling stops between products: one is imported whole or not at all.

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tracing::Instrument;
use uuid::Uuid;

use super::fetch::{Fetcher, ImageSource};
use super::plan::{self, Decision, Planned, PlannedImage, ResolvedImage, Target};
use super::problems::Rows;
use super::read::{self, ProductRecord, ReadFile};
use super::repo;
use crate::commands;
use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::images;
use crate::model::{
    Applied, Command, CommandKind, ImportAction, ImportItem, ImportOptions, ImportProgress,
    ImportReport, ImportTarget, Outcome, ProblemKind, Product, ProductImport, RowProblem,
};
use crate::product_rows::product;

/// Products whose images are fetched ahead of the one being applied.
const AHEAD: usize = 4;

/// Who imports (recorded on every row the import writes).
#[derive(Debug, Clone, Copy)]
pub struct Importer<'a> {
    pub actor: &'a str,
    pub actor_id: Option<Uuid>,
}

/// How a running import reports progress and learns that it should stop.
pub struct Control<'a> {
    pub progress: &'a (dyn Fn(ImportProgress) + Send + Sync),
    pub cancel: &'a AtomicBool,
}

/// Imports (or with `dry_run` previews) the products of the CSV at `path`.
pub async fn import(
    ctx: &Ctx,
    who: Importer<'_>,
    path: &Path,
    opts: &ImportOptions,
    dry_run: bool,
    control: Control<'_>,
) -> Result<ImportReport> {
    let span = tracing::info_span!("import", file = %path.display(), dry_run);
    run(ctx, who, path, opts, dry_run, control)
        .instrument(span)
        .await
}

async fn run(
    ctx: &Ctx,
    who: Importer<'_>,
    path: &Path,
    opts: &ImportOptions,
    dry_run: bool,
    control: Control<'_>,
) -> Result<ImportReport> {
    let currency = match &opts.currency {
        Some(c) => Some(c.clone()),
        None => repo::main_currency(&mut ctx.store.conn().await?).await?,
    };
    let file = {
        let path = path.to_path_buf();
        tokio::task::spawn_blocking(move || read::read(&path, currency.as_deref()))
            .await
            .map_err(|e| Error::Internal(format!("reading the file: {e}")))??
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    let file = Arc::new(file);
    let worker = Worker {
        ctx: ctx.clone(),
        actor: who.actor.to_string(),
        actor_id: who.actor_id,
        name: name.clone(),
        file: file.clone(),
    };
    let mut job = Job::new(ctx, worker, dry_run, &file, control);
    let mut planned = job.plan(&file, dir).await?;
    job.report.images_to_fetch = planned
        .iter()
        .flatten()
        .flat_map(|p| &p.images)
        .filter(|i| i.source.is_fetched())
        .count();
    job.tick();
    if dry_run {
        for (i, p) in planned.iter_mut().enumerate() {
            if let Some(p) = p.take() {
                job.preview(i, p).await?;
            }
        }
    } else {
        job.apply_all(planned).await?;
    }
    Ok(job.finish())
}

/// One import run's state: the report as it grows, and progress.
struct Job<'a> {
    ctx: &'a Ctx,
    worker: Worker,
    file: &'a ReadFile,
    control: Control<'a>,
    report: ImportReport,
    done: usize,
    rows_done: usize,
}

impl<'a> Job<'a> {
    fn new(
        ctx: &'a Ctx,
        worker: Worker,
        dry_run: bool,
        file: &'a ReadFile,
        control: Control<'a>,
    ) -> Job<'a> {
        let items = file
            .products
            .iter()
            .map(|p| ImportItem {
                handle: p.handle.clone(),
                name: p.title.clone(),
                rows: p.rows.clone(),
                action: ImportAction::Skipped,
                product_id: None,
                version: None,
                variants: p.variants.len(),
                images: p.images.as_ref().map_or(0, Vec::len),
                changes: Vec::new(),
            })
            .collect();
        Job {
            ctx,
            file,
            control,
            report: ImportReport {
                file: worker.name.clone(),
                layout: file.layout,
                dry_run,
                rows: file.rows,
                created: 0,
                updated: 0,
                unchanged: 0,
                conflicts: 0,
                invalid: 0,
                skipped: 0,
                items,
                problems: file.problems.clone(),
                ignored_columns: file.ignored.clone(),
                notes: file.notes.clone(),
                images_to_fetch: 0,
                cancelled: false,
                stopped: None,
            },
            worker,
            done: 0,
            rows_done: 0,
        }
    }

    fn tick(&self) {
        (self.control.progress)(ImportProgress {
            done: self.done,
            total: self.report.items.len(),
            rows_done: self.rows_done,
            rows_total: self.file.rows,
        });
    }

    /// Item `i` is decided.
    fn decide(&mut self, i: usize, action: ImportAction, product: Option<(Uuid, i64)>) {
        let item = &mut self.report.items[i];
        item.action = action;
        if let Some((id, version)) = product {
            item.product_id = Some(id);
            item.version = Some(version);
        }
        self.done += 1;
        self.rows_done += item.rows.len();
        self.tick();
    }

    /// Every valid record planned against the shop; None where the record is decided already
    /// (invalid, or imported before from the same content).
    async fn plan(&mut self, file: &ReadFile, dir: &Path) -> Result<Vec<Option<Planned>>> {
        let ids: Vec<Uuid> = file.products.iter().filter_map(|p| p.product_id).collect();
        let slugs: Vec<String> = file.products.iter().map(|p| p.handle.clone()).collect();
        let op_ids: Vec<Uuid> = file.products.iter().map(|p| plan::op_id(p, &[])).collect();
        let (known_ids, by_slug, categories) = {
            let mut tx = self.ctx.store.read().await?;
            let (ids, slugs) = repo::known_products(&mut tx, &ids, &slugs).await?;
            (ids, slugs, repo::category_names(&mut tx).await?)
        };
        let applied = repo::applied(&mut self.ctx.store.conn().await?, &op_ids).await?;
        let mut out = Vec::new();
        for (i, record) in file.products.iter().enumerate() {
            if record.invalid {
                self.decide(i, ImportAction::Invalid, None);
                out.push(None);
                continue;
            }
            let target_id = record
                .product_id
                .filter(|id| known_ids.contains(id))
                .or_else(|| by_slug.get(&record.handle).copied());
            let target = match target_id {
                Some(id) => match self.target(record, id, &categories).await? {
                    Ok(t) => Some(t),
                    Err(problem) => {
                        self.report.problems.push(problem);
                        self.decide(i, ImportAction::Invalid, None);
                        out.push(None);
                        continue;
                    }
                },
                None => None,
            };
            if applied.contains(&op_ids[i]) {
                // This very content was imported before: nothing to fetch, nothing to do.
                let now = target.as_ref().map(|t| (t.current.id, t.current.version));
                self.decide(i, ImportAction::Unchanged, now);
                out.push(None);
                continue;
            }
            let images = self.images(record, dir);
            let planned = plan::plan(record.clone(), target, images);
            match planned.decision {
                Decision::Unchanged {
                    product_id,
                    version,
                } => {
                    self.decide(i, ImportAction::Unchanged, Some((product_id, version)));
                    out.push(None);
                }
                Decision::NoBase {
                    product_id,
                    version,
                } => {
                    self.report.problems.push(RowProblem {
                        row: record.rows[0],
                        column: Some(file.column(super::columns::Field::Handle)),
                        reason: format!(
                            "a product with the handle {:?} is in Stockdesk already, and this \
                             file does not say which version of it it was made from: export \
                             the products from Stockdesk and change that file, or give this \
                             product another handle",
                            record.handle
                        ),
                        kind: ProblemKind::Conflict,
                        handle: Some(record.handle.clone()),
                    });
                    self.decide(i, ImportAction::Conflict, Some((product_id, version)));
                    out.push(None);
                }
                _ => out.push(Some(planned)),
            }
        }
        Ok(out)
    }

    /// The product `id` a record names, with the version the file was made from.
    async fn target(
        &self,
        record: &ProductRecord,
        id: Uuid,
        categories: &HashMap<Uuid, String>,
    ) -> Result<std::result::Result<Target, RowProblem>> {
        let mut tx = self.ctx.store.read().await?;
        let current = product::load_product(&mut tx, id)
            .await?
            .ok_or_else(|| Error::not_found("product", id))?;
        let version = match record.version {
            Some(v) if v > current.version => {
                return Ok(Err(RowProblem {
                    row: record.rows[0],
                    column: Some(self.file.column(super::columns::Field::Version)),
                    reason: format!(
                        "the file says version {v}, but the product is at version {}: was the \
                         file exported from another shop?",
                        current.version
                    ),
                    kind: ProblemKind::Invalid,
                    handle: Some(record.handle.clone()),
                }));
            }
            Some(v) => Some(v),
            None => repo::last_imported_version(&mut tx, id).await?,
        };
        let base = match version {
            Some(v) => product::load_snapshot(&mut tx, id, v).await?,
            None => None,
        };
        let category_of_base = base
            .as_ref()
            .and_then(|b| b.category_id)
            .and_then(|c| categories.get(&c).cloned());
        Ok(Ok(Target {
            current,
            base,
            category_of_base,
        }))
    }

    /// A record's images and where their bytes are; a source that cannot be read is a problem
    /// of its row (the product is imported without it).
    fn images(&mut self, record: &ProductRecord, dir: &Path) -> Vec<PlannedImage> {
        let mut out = Vec::new();
        for (n, image) in record.images.iter().flatten().enumerate() {
            match ImageSource::parse(&image.src, dir) {
                Ok(source) => out.push(PlannedImage {
                    row: image.row,
                    source,
                    alt: image.alt.clone(),
                    position: image.position.unwrap_or(n as i64),
                    thumbnail: image.thumbnail,
                }),
                Err(reason) => self.image_problem(record, image.row, reason),
            }
        }
        out
    }

    fn image_problem(&mut self, record: &ProductRecord, row: u32, reason: String) {
        let problem = image_problem(self.file, record, row, reason);
        self.report.problems.push(problem);
    }

    /// A dry run of one product: its command (without the images, which are not fetched) run
    /// on fresh data and rolled back.
    async fn preview(&mut self, i: usize, p: Planned) -> Result<()> {
        let import = self.worker.command_body(&p, Vec::new());
        let cmd = self.worker.command(Uuid::now_v7(), import);
        let rows = rows_of(self.file, &p, HashMap::new());
        let action = match commands::preview(self.ctx, &cmd).await {
            Ok(_) => {
                self.report.items[i].changes = changes(&p);
                match p.decision {
                    Decision::Create { .. } => ImportAction::Create,
                    _ => ImportAction::Update,
                }
            }
            Err(e) => {
                let (action, problems) = refused(&rows, e)?;
                self.report.problems.extend(problems);
                action
            }
        };
        let now = current_of(&p);
        self.decide(i, action, now);
        Ok(())
    }

    /// Applies every planned product in file order. The images of the next few are fetched by
    /// tasks of their own meanwhile (they must go on while a product is applied: one paused
    /// half-way through staging a file would hold the write lock the apply waits for). On
    /// Postgres those tasks apply their product too, a few at once (each is its own command on
    /// its own connection); SQLite has one writer, so there the products are applied here, one
    /// after another.
    async fn apply_all(&mut self, planned: Vec<Option<Planned>>) -> Result<()> {
        let fetcher = Arc::new(Fetcher::default());
        let in_tasks = self.ctx.store.backend().has_row_locks();
        let mut work = planned
            .into_iter()
            .enumerate()
            .filter_map(|(i, p)| p.map(|p| (i, p)));
        let mut ahead = VecDeque::new();
        loop {
            while ahead.len() < AHEAD && !self.stopping() {
                let Some((i, p)) = work.next() else { break };
                let (worker, fetcher) = (self.worker.clone(), fetcher.clone());
                ahead.push_back(tokio::spawn(async move {
                    let fetched = worker.fetch(&fetcher, &p).await;
                    if in_tasks {
                        let done = worker.apply(&p, fetched).await;
                        (i, p, Step::Applied(done))
                    } else {
                        (i, p, Step::Fetched(fetched))
                    }
                }));
            }
            let Some(next) = ahead.pop_front() else { break };
            let (i, p, step) = next
                .await
                .map_err(|e| Error::Internal(format!("importing a product: {e}")))?;
            let done = match step {
                Step::Applied(done) => done,
                Step::Fetched(fetched) if self.stopping() => {
                    release(self.ctx, fetched.staged()).await;
                    continue;
                }
                Step::Fetched(fetched) => self.worker.apply(&p, fetched).await,
            };
            match done {
                Ok(done) => {
                    self.report.problems.extend(done.problems);
                    if let Some(changes) = done.changes {
                        self.report.items[i].changes = changes;
                    }
                    self.decide(i, done.action, done.product);
                }
                Err(Error::Forbidden { message, refusal }) => {
                    for task in ahead {
                        if let Ok((_, _, Step::Fetched(f))) = task.await {
                            release(self.ctx, f.staged()).await;
                        }
                    }
                    return Err(Error::Forbidden { message, refusal });
                }
                Err(e) => {
                    tracing::warn!(error = %e, "import stopped");
                    self.report.stopped = Some(e.to_api().message().to_string());
                }
            }
        }
        Ok(())
    }

    /// Cancelled, or stopped by an error: nothing more is applied.
    fn stopping(&self) -> bool {
        self.control.cancel.load(Ordering::Relaxed) || self.report.stopped.is_some()
    }

    fn finish(mut self) -> ImportReport {
        let r = &mut self.report;
        for item in &r.items {
            match item.action {
                ImportAction::Create => r.created += 1,
                ImportAction::Update => r.updated += 1,
                ImportAction::Unchanged => r.unchanged += 1,
                ImportAction::Conflict => r.conflicts += 1,
                ImportAction::Invalid => r.invalid += 1,
                ImportAction::Skipped => r.skipped += 1,
            }
        }
        r.cancelled = self.control.cancel.load(Ordering::Relaxed) && r.skipped > 0;
        r.problems.sort_by_key(|p| p.row);
        self.report
    }
}

/// What a task hands back: the images fetched (to be applied by the job, on SQLite), or the
/// product applied already (on Postgres).
enum Step {
    Fetched(Fetched),
    Applied(Result<Done>),
}

/// What became of one product.
struct Done {
    action: ImportAction,
    product: Option<(Uuid, i64)>,
    /// What it changed (None: as planned, or nothing).
    changes: Option<Vec<String>>,
    problems: Vec<RowProblem>,
}

/// The part of an import that works on one product at a time, cheap to clone into a task.
#[derive(Clone)]
struct Worker {
    ctx: Ctx,
    actor: String,
    actor_id: Option<Uuid>,
    /// The file's name, for the ledger's count movements.
    name: String,
    file: Arc<ReadFile>,
}

impl Worker {
    async fn fetch(&self, fetcher: &Fetcher, p: &Planned) -> Fetched {
        fetch(&self.ctx, &self.actor, fetcher, p).await
    }

    /// One product, as one command. Errors that are about the product become its problems;
    /// the others (the database went away, …) are returned and stop the import.
    async fn apply(&self, p: &Planned, fetched: Fetched) -> Result<Done> {
        let ctx = &self.ctx;
        let mut problems: Vec<RowProblem> = fetched
            .problems
            .iter()
            .map(|(row, reason)| image_problem(&self.file, &p.record, *row, reason.clone()))
            .collect();
        let base = match &p.decision {
            Decision::Update { base, .. } => Some(&**base),
            _ => None,
        };
        let (image_ops, image_changes, created_images) = plan::image_ops(&fetched.resolved, base);
        let mut images_by_id = HashMap::new();
        for r in &fetched.resolved {
            if let Some(img) = base.and_then(|b| b.images.iter().find(|i| i.blob_key == r.key)) {
                images_by_id.insert(img.id, r.planned.row);
            }
        }
        let used: HashSet<Uuid> = image_ops.create.iter().map(|c| c.staged).collect();
        let unused = fetched
            .staged()
            .into_iter()
            .filter(|s| !used.contains(s))
            .collect();
        release(ctx, unused).await;
        let staged: Vec<Uuid> = used.into_iter().collect();
        let unchanged = |problems| Done {
            action: ImportAction::Unchanged,
            product: current_of(p),
            changes: None,
            problems,
        };
        if let Decision::Update {
            patch,
            move_category,
            ..
        } = &p.decision
        {
            if *patch == Default::default() && !move_category && image_ops.is_empty() {
                return Ok(unchanged(problems));
            }
        }
        let op_id = if fetched.missing.is_empty() {
            p.op_id
        } else {
            plan::op_id(&p.record, &fetched.missing)
        };
        // The plan looked up the content's own op id; another id (some images missing) may have
        // been applied by an earlier import of the file.
        if op_id != p.op_id
            && !repo::applied(&mut ctx.store.conn().await?, &[op_id])
                .await?
                .is_empty()
        {
            release(ctx, staged).await;
            return Ok(unchanged(problems));
        }
        let import = with_image_ops(self.command_body(p, image_ops.create.clone()), image_ops);
        let cmd = self.command(op_id, import);
        match commands::apply(ctx, &cmd).await {
            // The same content imported by another import running at the same time.
            Err(Error::BadInput(_))
                if !repo::applied(&mut ctx.store.conn().await?, &[op_id])
                    .await?
                    .is_empty() =>
            {
                release(ctx, staged).await;
                Ok(unchanged(problems))
            }
            Ok(Applied {
                outcome: Outcome::Import(done),
                ..
            }) => {
                let action = if done.created {
                    ImportAction::Create
                } else if Some(done.product.version) == current_of(p).map(|c| c.1) {
                    ImportAction::Unchanged
                } else {
                    ImportAction::Update
                };
                let mut changes = changes(p);
                changes.extend(image_changes);
                Ok(Done {
                    action,
                    product: Some((done.product.id, done.product.version)),
                    changes: Some(changes),
                    problems,
                })
            }
            Ok(other) => Err(commands::unexpected(&other.outcome)),
            Err(e) => {
                release(ctx, staged).await;
                let mut rows = rows_of(&self.file, p, created_images);
                rows.images = images_by_id;
                let (action, refusal) = refused(&rows, e)?;
                problems.extend(refusal);
                Ok(Done {
                    action,
                    product: current_of(p),
                    changes: None,
                    problems,
                })
            }
        }
    }

    /// The command body of a planned product (its images added by the caller).
    fn command_body(&self, p: &Planned, images: Vec<crate::model::NewImage>) -> ProductImport {
        let target = match &p.decision {
            Decision::Create { product } => ImportTarget::Create {
                product: product.clone(),
                images,
            },
            Decision::Update {
                product_id,
                expected_version,
                patch,
                move_category,
                ..
            } => ImportTarget::Update {
                product_id: *product_id,
                expected_version: *expected_version,
                patch: patch.clone(),
                move_category: *move_category,
            },
            Decision::Unchanged { .. } | Decision::NoBase { .. } => {
                unreachable!("only creates and updates become commands")
            }
        };
        ProductImport {
            source: source(&self.name, &p.record.rows),
            category: p.category.clone(),
            target,
        }
    }

    fn command(&self, op_id: Uuid, import: ProductImport) -> Command {
        Command {
            op_id,
            actor: self.actor.clone(),
            actor_id: self.actor_id,
            made_at: self.ctx.now(),
            kind: CommandKind::ImportProduct { import },
        }
    }
}

/// A refusal of a product's command as its problems; an error that is not about the product
/// is passed on.
fn refused(rows: &Rows<'_>, e: Error) -> Result<(ImportAction, Vec<RowProblem>)> {
    match e {
        Error::Conflict(report) => Ok((ImportAction::Conflict, rows.conflicts(&report))),
        Error::Validation(errors) => Ok((ImportAction::Invalid, rows.invalid(&errors))),
        e @ (Error::BadInput(_)
        | Error::NotFound { .. }
        | Error::InvalidState { .. }
        | Error::InsufficientStock { .. }) => {
            Ok((ImportAction::Invalid, vec![rows.refused(e.to_string())]))
        }
        other => Err(other),
    }
}

/// An image that could not be had, as its row's problem.
fn image_problem(file: &ReadFile, record: &ProductRecord, row: u32, reason: String) -> RowProblem {
    RowProblem {
        row,
        column: Some(file.column(super::columns::Field::ImageSrc)),
        reason,
        kind: ProblemKind::Image,
        handle: Some(record.handle.clone()),
    }
}

/// Where the parts of a planned product are in the file.
fn rows_of<'p>(
    file: &'p ReadFile,
    p: &'p Planned,
    created_images: HashMap<usize, u32>,
) -> Rows<'p> {
    Rows {
        file,
        handle: &p.record.handle,
        first: p.record.rows[0],
        variants: &p.variant_rows,
        images: HashMap::new(),
        created_images,
    }
}

/// An update's image changes go into its patch; a create's are its `images` already.
fn with_image_ops(mut import: ProductImport, ops: crate::model::ImageOps) -> ProductImport {
    if let ImportTarget::Update { patch, .. } = &mut import.target {
        patch.images = ops;
    }
    import
}

/// What a planned product changes, for the report.
fn changes(p: &Planned) -> Vec<String> {
    match &p.decision {
        Decision::Create { .. } => vec!["created".into()],
        Decision::Update { changes, .. } => changes.clone(),
        _ => Vec::new(),
    }
}

/// The product a planned update edits, as it is now.
fn current_of(p: &Planned) -> Option<(Uuid, i64)> {
    match &p.decision {
        Decision::Update {
            product_id, base, ..
        } => Some((*product_id, base.version)),
        Decision::Unchanged {
            product_id,
            version,
        }
        | Decision::NoBase {
            product_id,
            version,
        } => Some((*product_id, *version)),
        Decision::Create { .. } => None,
    }
}

/// "products.csv rows 2–5".
fn source(name: &str, rows: &[u32]) -> String {
    let (first, last) = (rows.first(), rows.last());
    match (first, last) {
        (Some(a), Some(b)) if a != b => format!("{name} rows {a}–{b}"),
        (Some(a), _) => format!("{name} row {a}"),
        _ => name.to_string(),
    }
}

/// The images of one product, read and (where the product lacks them) staged.
struct Fetched {
    resolved: Vec<ResolvedImage>,
    /// Sources that failed, and why, by row.
    problems: Vec<(u32, String)>,
    missing: Vec<String>,
}

impl Fetched {
    /// The uploads staged for it.
    fn staged(&self) -> Vec<Uuid> {
        self.resolved.iter().filter_map(|r| r.staged).collect()
    }
}

async fn fetch(ctx: &Ctx, actor: &str, fetcher: &Fetcher, p: &Planned) -> Fetched {
    let base: Option<&Product> = match &p.decision {
        Decision::Update { base, .. } => Some(&**base),
        _ => None,
    };
    let has = |key: &str| base.is_some_and(|b| b.images.iter().any(|i| i.blob_key == key));
    let results = futures::future::join_all(p.images.iter().map(|img| async move {
        let known = match &img.source {
            ImageSource::Blob(key) if has(key) => Some(key.clone()),
            _ => None,
        };
        if let Some(key) = known {
            return Ok((key, None));
        }
        let bytes = fetcher.bytes(ctx, &img.source).await?;
        let key = images::key_of(&bytes);
        if has(&key) {
            return Ok((key, None));
        }
        let staged = fetcher.stage(ctx, actor, &img.source, bytes).await?;
        Ok::<_, String>((staged.blob_key, Some(staged.id)))
    }))
    .await;
    let mut out = Fetched {
        resolved: Vec::new(),
        problems: Vec::new(),
        missing: Vec::new(),
    };
    for (img, result) in p.images.iter().zip(results) {
        match result {
            Ok((key, staged)) => out.resolved.push(ResolvedImage {
                planned: img.clone(),
                key,
                staged,
            }),
            Err(reason) => {
                out.problems.push((img.row, reason));
                out.missing.push(source_text(&img.source));
            }
        }
    }
    out
}

fn source_text(s: &ImageSource) -> String {
    match s {
        ImageSource::Blob(k) => format!("{}{k}", super::fetch::BLOB_PREFIX),
        ImageSource::Path(p) => p.display().to_string(),
        ImageSource::Url(u) => u.clone(),
    }
}

/// Gives back uploads a product did not use (a refusal, a cancel, bytes it had already).
async fn release(ctx: &Ctx, staged: Vec<Uuid>) {
    if staged.is_empty() {
        return;
    }
    if let Err(e) = images::release_staged(ctx, staged).await {
        tracing::warn!(error = %e, "could not release uploads; they expire on their own");
    }
}
