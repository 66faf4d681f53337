//! The one entry point for writes: `apply` takes a `Command`, applies it in one transaction on
//! fresh data, records its outcome under its op id in the same transaction, and returns it. The
//! same op id applied again returns the first outcome and changes nothing. The desktop app's
//! commands, the CLI's write subcommands, `stockdesk apply` and (later) a terminal's queue all
//! come through here, so each write is defined once.
//!
//! What happens after a commit (deleting files an edit stopped using, telling the UI what
//! changed) happens here too, never inside a capability.

mod effects;
mod queued;

pub use queued::{apply_pushed, rerun, sets_aside, Pushed};

use tracing::Instrument;

use crate::ctx::{Ctx, Op};
use crate::error::{Error, Result};
use crate::model::PatchOutcome;
use crate::store::idempotency::{self, OpKey};
use crate::store::{with_retry, Tx};
use crate::{catalog, images, replica, reports, staff, stock};

pub use crate::model::command::*;

/// Applies `cmd` once: its outcome, or the outcome of its first application (`replayed`).
pub async fn apply(ctx: &Ctx, cmd: &Command) -> Result<Applied> {
    let span = tracing::info_span!(
        "command",
        kind = cmd.kind.name(),
        op_id = %cmd.op_id,
        actor = %cmd.actor,
    );
    check_actor(&cmd.actor)?;
    if let Some(r) = ctx
        .replica
        .as_ref()
        .filter(|_| replica::online_only(&cmd.kind))
    {
        // The handle sends these to the shop's server (`sync`); a replica never decides them.
        return Err(replica::needs_the_shop(
            &cmd.kind,
            &r.shop,
            "it was not sent there",
        ));
    }
    if ctx.replica.is_none() && replica::till_only(&cmd.kind) {
        return Err(Error::BadInput(format!(
            "a {} command comes from a terminal's queue (the shop decides it when the terminal \
             pushes it)",
            cmd.kind.name()
        )));
    }
    let fingerprint = fingerprint(&cmd.kind)?;
    let key = OpKey {
        id: cmd.op_id,
        kind: cmd.kind.name(),
        fingerprint: &fingerprint,
        actor: &cmd.actor,
        actor_id: cmd.actor_id,
    };
    let applied = async {
        match &cmd.kind {
            // Orders of one variant commit in shared turns outside a transaction of their own:
            // the person's role is read fresh just before.
            CommandKind::CreateOrder { order } => {
                staff::authorize(&mut ctx.store.conn().await?, who(cmd), &cmd.kind).await?;
                let (order, replayed) = stock::create_order(ctx, &key, &cmd.actor, order).await?;
                Ok((Outcome::Order(order), replayed, Vec::new()))
            }
            // A demo seed stages its images before its transaction and lets go of them after.
            CommandKind::Seed { products, seed } => {
                let photos = effects::stage_demo_images(ctx, &cmd.actor).await?;
                let opts = catalog::seed::SeedOptions {
                    products: *products as usize,
                    seed: *seed,
                };
                let result = in_transaction(ctx, cmd, &key, Body::Seed(&opts, &photos)).await;
                images::release_staged(ctx, photos.iter().map(|p| p.id).collect()).await?;
                result
            }
            kind => in_transaction(ctx, cmd, &key, Body::Kind(kind)).await,
        }
    }
    .instrument(span.clone())
    .await;
    // A conflicting edit rolls back; the reports still count it.
    if let Err(Error::Conflict(report)) = &applied {
        reports::record_conflict(ctx, cmd, report).await;
    }
    let (outcome, replayed, outbox) = applied.inspect_err(|e| {
        span.in_scope(|| tracing::debug!(code = e.code().as_str(), error = %e, "command refused"))
    })?;
    ctx.failpoint("commit.after_commit")?;
    // Files the edit stopped using: deleted now if possible, else by the sweeper.
    images::work_outbox_now(ctx, &outbox).instrument(span).await;
    if !replayed {
        effects::announce(ctx, cmd.op_id, &outcome);
    }
    Ok(Applied {
        op_id: cmd.op_id,
        replayed,
        outcome,
    })
}

/// What `cmd` would do if applied now, on fresh data, without doing it: its body runs in a write
/// transaction that is then rolled back, so the answer is the real one (an edit's merge report,
/// or the conflict it would meet) and nothing is written, not even its op id. For a look before
/// saving (the editor's "Review now"). Orders and seeds, which commit outside one transaction of
/// their own, cannot be previewed.
pub async fn preview(ctx: &Ctx, cmd: &Command) -> Result<Outcome> {
    if matches!(
        cmd.kind,
        CommandKind::CreateOrder { .. } | CommandKind::Seed { .. }
    ) {
        return Err(Error::BadInput(format!(
            "a {} command cannot be previewed",
            cmd.kind.name()
        )));
    }
    check_actor(&cmd.actor)?;
    let span = tracing::info_span!("preview", kind = cmd.kind.name(), op_id = %cmd.op_id);
    with_retry(|| async {
        let mut tx = ctx.store.write().await?;
        let op = Op::new(ctx, cmd.op_id, &cmd.actor, ctx.now()).by(cmd.actor_id);
        let result = async {
            staff::authorize(&mut tx, who(cmd), &cmd.kind).await?;
            run(&mut tx, &op, &cmd.kind)
                .await
                .map(|(outcome, _)| outcome)
        }
        .await;
        tx.rollback().await?;
        result
    })
    .instrument(span)
    .await
}

/// What a command does inside its transaction gives its outcome, and the outbox entries of
/// blobs it stopped using.
pub(crate) type Done = (Outcome, Vec<uuid::Uuid>);

/// What runs inside a command's transaction.
enum Body<'a> {
    Kind(&'a CommandKind),
    /// A seed, with its staged demo images.
    Seed(
        &'a catalog::seed::SeedOptions,
        &'a [crate::model::StagedBlob],
    ),
}

async fn run_body(tx: &mut Tx, op: &Op<'_>, body: &Body<'_>) -> Result<Done> {
    match body {
        Body::Kind(kind) => run(tx, op, kind).await,
        Body::Seed(opts, photos) => {
            let summary = catalog::seed::seed(tx, op, opts, photos).await?;
            Ok((Outcome::Seed(summary), Vec::new()))
        }
    }
}

pub(crate) async fn run(tx: &mut Tx, op: &Op<'_>, kind: &CommandKind) -> Result<Done> {
    let edited = |e: catalog::Edited| (Outcome::Patch(e.outcome), e.outbox);
    Ok(match kind {
        CommandKind::CreateCategory { category } => (
            Outcome::Category(catalog::create_category(tx, op, category).await?),
            Vec::new(),
        ),
        CommandKind::CreateProduct { product } => (
            Outcome::Product(catalog::create_product(tx, op, product).await?),
            Vec::new(),
        ),
        CommandKind::PatchProduct {
            product_id,
            expected_version,
            patch,
            base,
        } => edited(
            catalog::patch_product_on(
                tx,
                op,
                *product_id,
                *expected_version,
                patch,
                base.as_deref(),
            )
            .await?,
        ),
        CommandKind::RestoreProduct {
            product_id,
            expected_version,
            to_version,
        } => edited(
            catalog::restore_product(tx, op, *product_id, *expected_version, *to_version).await?,
        ),
        CommandKind::AddImages {
            product_id,
            expected_version,
            staged,
        } => edited(catalog::add_images(tx, op, *product_id, *expected_version, staged).await?),
        CommandKind::ReplaceImageFile {
            product_id,
            expected_version,
            image_id,
            staged,
        } => edited(
            catalog::replace_image_file(tx, op, *product_id, *expected_version, *image_id, *staged)
                .await?,
        ),
        CommandKind::PayOrder { order_id } => (
            Outcome::Payment(stock::pay_order(tx, op, *order_id).await?),
            Vec::new(),
        ),
        CommandKind::CancelOrder { order_id } => (
            Outcome::Order(stock::cancel_order(tx, op, *order_id).await?),
            Vec::new(),
        ),
        CommandKind::ExtendOrder { order_id, by_secs } => (
            Outcome::Extension(stock::extend_order(tx, op, *order_id, *by_secs).await?),
            Vec::new(),
        ),
        CommandKind::ReceiveStock {
            variant_id,
            quantity,
            reason,
        } => (
            Outcome::Stock(
                stock::receive_stock(tx, op, *variant_id, *quantity, reason.as_deref()).await?,
            ),
            Vec::new(),
        ),
        CommandKind::AdjustStock {
            variant_id,
            delta,
            reason,
        } => (
            Outcome::Stock(stock::adjust_stock(tx, op, *variant_id, *delta, reason).await?),
            Vec::new(),
        ),
        CommandKind::CountStock {
            variant_id,
            counted,
            expected,
        } => (
            Outcome::Stock(stock::count_stock(tx, op, *variant_id, *counted, *expected).await?),
            Vec::new(),
        ),
        CommandKind::AddStaff { staff } => {
            (Outcome::Staff(staff::add(tx, op, staff).await?), Vec::new())
        }
        CommandKind::RemoveStaff { staff_id } => (
            Outcome::Staff(staff::remove(tx, op, *staff_id).await?),
            Vec::new(),
        ),
        CommandKind::ImportProduct { import } => {
            let imported = catalog::import_product(tx, op, import).await?;
            (Outcome::Import(imported.outcome), imported.outbox)
        }
        CommandKind::Allot {
            terminal,
            variant_id,
            units,
        } => (
            Outcome::Allotments(stock::allot::allot(tx, op, terminal, *variant_id, *units).await?),
            Vec::new(),
        ),
        CommandKind::RevokeAllotments {
            terminal,
            variant_id,
        } => (
            Outcome::Allotments(stock::allot::revoke(tx, op, terminal, *variant_id).await?),
            Vec::new(),
        ),
        CommandKind::SetAllotmentPolicy {
            variant_id,
            keep_units,
        } => (
            Outcome::AllotmentPolicy(
                stock::allot::set_policy(tx, op, *variant_id, *keep_units).await?,
            ),
            Vec::new(),
        ),
        CommandKind::SetSellAnyway { on } => (
            Outcome::SellAnyway(stock::allot::set_sell_anyway(tx, *on).await?),
            Vec::new(),
        ),
        CommandKind::ResolveException {
            exception_id,
            resolution,
        } => (
            Outcome::Exception(
                stock::exceptions::resolve(tx, op, *exception_id, resolution).await?,
            ),
            Vec::new(),
        ),
        // On the terminal's replica the till's allotment must cover it (or "sell anyway");
        // on the shop it is recorded whatever the shop can cover.
        CommandKind::TillOrder {
            terminal_id,
            order,
            paid,
        } => {
            let strict = op.ctx.replica.is_some();
            let order =
                stock::allot::till_order(tx, op, *terminal_id, order, *paid, strict).await?;
            (Outcome::Order(order), Vec::new())
        }
        CommandKind::TillPay { order_id } => (
            Outcome::Payment(stock::pay_order(tx, op, *order_id).await?),
            Vec::new(),
        ),
        CommandKind::TillCancel { order_id } => (
            Outcome::Order(stock::cancel_order(tx, op, *order_id).await?),
            Vec::new(),
        ),
        CommandKind::CreateOrder { .. } | CommandKind::Seed { .. } => {
            unreachable!("applied by their own paths in `apply`")
        }
    })
}

/// Runs `body` in a write transaction that first claims the op id (a replay returns the first
/// outcome instead) and records the outcome before it commits; retried whole on a transient
/// database error, so every attempt decides on fresh data. Rolls back at once on failure.
async fn in_transaction(
    ctx: &Ctx,
    cmd: &Command,
    key: &OpKey<'_>,
    body: Body<'_>,
) -> Result<(Outcome, bool, Vec<uuid::Uuid>)> {
    with_retry(|| async {
        let mut tx = ctx.store.write().await?;
        let now = ctx.now();
        let op = Op::new(ctx, cmd.op_id, &cmd.actor, now).by(cmd.actor_id);
        // A replica's queue records an outcome of its own (`queue_locally`).
        let op = if ctx.replica.is_none() {
            op.recording_outcome()
        } else {
            op
        };
        // On fresh data, in this transaction: a role changed or a profile removed on another
        // terminal a moment ago counts. An edit on Postgres leaves the claim and the check to
        // the first statement of its body (its locked read): one round trip fewer.
        let claim = idempotency::claim_stmt(key, now);
        let (op, claim) = match &body {
            Body::Kind(kind @ CommandKind::PatchProduct { .. })
                if tx.backend().writes_in_ctes() && ctx.replica.is_none() =>
            {
                let prelude = staff::claim_prelude(tx.backend(), claim, who(cmd), kind);
                (op.with_prelude(prelude), None)
            }
            _ => (op, Some(claim)),
        };
        let result = async {
            if let Some(claim) = claim {
                if !staff::claim_and_authorize(&mut tx, claim, who(cmd), &cmd.kind).await? {
                    let first = idempotency::first_outcome::<Outcome>(&mut tx, key).await?;
                    return Ok((replayed(first), true, Vec::new()));
                }
            }
            let ran = match &body {
                Body::Kind(kind) if ctx.replica.is_some() => {
                    queued::queue_locally(&mut tx, &op, cmd, kind).await
                }
                body => run_body(&mut tx, &op, body).await,
            };
            if op.found_replay() {
                let first = idempotency::first_outcome::<Outcome>(&mut tx, key).await?;
                return Ok((replayed(first), true, Vec::new()));
            }
            let (outcome, outbox) = ran?;
            if op.prelude_pending() {
                return Err(Error::Internal(format!(
                    "{} did not claim its op id",
                    cmd.kind.name()
                )));
            }
            if !op.outcome_is_recorded() {
                idempotency::finish(&mut tx, cmd.op_id, &outcome).await?;
            }
            ctx.failpoint("commit.in_tx")?;
            Ok((outcome, false, outbox))
        }
        .await;
        tx.finish(result).await
    })
    .await
}

pub(crate) fn who(cmd: &Command) -> staff::Who<'_> {
    staff::Who {
        actor: &cmd.actor,
        actor_id: cmd.actor_id,
    }
}

/// What a command only the shop decides becomes on a terminal's replica that cannot reach the
/// shop, when the till may decide it from its allotment (terminal `terminal_id`): an order
/// (`till_order`; `paid`: a counter sale paid at once), or the payment or cancellation of an
/// order the till took from its allotment. None: it must wait for the shop.
pub async fn till_form(
    local: &Ctx,
    terminal_id: uuid::Uuid,
    kind: &CommandKind,
    paid: bool,
) -> Result<Option<CommandKind>> {
    let own = |order_id: uuid::Uuid| async move {
        let mut conn = local.store.conn().await?;
        let t = stock::allot::terminal_of_order(&mut conn, order_id).await?;
        Ok::<_, Error>(t == Some(terminal_id))
    };
    Ok(match kind {
        CommandKind::CreateOrder { order } => Some(CommandKind::TillOrder {
            terminal_id,
            order: order.clone(),
            paid,
        }),
        CommandKind::PayOrder { order_id } => {
            own(*order_id).await?.then_some(CommandKind::TillPay {
                order_id: *order_id,
            })
        }
        CommandKind::CancelOrder { order_id } => {
            own(*order_id).await?.then_some(CommandKind::TillCancel {
                order_id: *order_id,
            })
        }
        _ => None,
    })
}

/// On the shop, as terminal `terminal_id` syncs: its allotments brought to the shop's
/// per-variant policy (`stock::allot::right_size`); the variants it changed.
pub async fn right_size_allotments(
    shop: &Ctx,
    terminal_id: uuid::Uuid,
    terminal: &str,
) -> Result<Vec<uuid::Uuid>> {
    stock::allot::right_size(shop, terminal_id, terminal).await
}

/// A first outcome handed out again: an edit's says so itself (`PatchOutcome::replayed`).
pub(crate) fn replayed(first: Outcome) -> Outcome {
    match first {
        Outcome::Patch(p) => Outcome::Patch(PatchOutcome {
            replayed: true,
            ..p
        }),
        other => other,
    }
}

/// What exactly a command asks for, as a short text: the SHA-256 of its kind's JSON (fields in
/// declaration order, so the same command always reads the same).
pub(crate) fn fingerprint(kind: &CommandKind) -> Result<String> {
    use sha2::{Digest, Sha256};
    let json = serde_json::to_vec(kind)
        .map_err(|e| Error::Internal(format!("command not serialisable: {e}")))?;
    Ok(format!("{:x}", Sha256::digest(json)))
}

/// Longest name an actor may have.
const MAX_ACTOR: usize = 200;

/// Who acts is recorded on every row a command writes: a name a person can read.
pub(crate) fn check_actor(actor: &str) -> Result<()> {
    if actor.trim().is_empty() || actor.chars().count() > MAX_ACTOR {
        return Err(Error::validation(
            "actor",
            format!("1–{MAX_ACTOR} characters"),
        ));
    }
    if let Some(problem) = crate::model::text_problem(actor, false) {
        return Err(Error::validation("actor", problem));
    }
    Ok(())
}

/// `bad_input` for an outcome of another kind than the caller expected (an op id reused for a
/// different command is refused before this).
pub fn unexpected(outcome: &Outcome) -> Error {
    Error::BadInput(format!("unexpected outcome {outcome:?}"))
}
