//! Terminal allotments, their policy, "sell anyway", oversell exceptions, and a sale paid at the
//! counter (docs/orders.md, "Allotments").

use tracing::Instrument;
use uuid::Uuid;

use crate::error::Result;
use crate::model::*;
use crate::stock::{allot, exceptions};
use crate::Stockdesk;

impl Stockdesk {
    /// Sets terminal `terminal`'s allotment of a variant to `units` (decided on the shop;
    /// `insufficient_stock` when free stock cannot cover an increase).
    pub async fn allot(
        &self,
        terminal: &str,
        variant_id: Uuid,
        units: i64,
    ) -> Result<Vec<Allotment>> {
        let kind = CommandKind::Allot {
            terminal: terminal.to_string(),
            variant_id,
            units,
        };
        self.write(None, kind).await
    }

    /// Revokes terminal `terminal`'s allotments (of one variant, or all): the units are free
    /// again at once.
    pub async fn revoke_allotments(
        &self,
        terminal: &str,
        variant_id: Option<Uuid>,
    ) -> Result<Vec<Allotment>> {
        let kind = CommandKind::RevokeAllotments {
            terminal: terminal.to_string(),
            variant_id,
        };
        self.write(None, kind).await
    }

    /// Every terminal's allotments (of one terminal when given), as this database has them.
    pub async fn allotments(&self, terminal_id: Option<Uuid>) -> Result<Vec<Allotment>> {
        allot::list(&mut self.ctx.store.conn().await?, terminal_id)
            .instrument(tracing::debug_span!("allotments"))
            .await
    }

    /// On a terminal's replica: what this till holds of each variant (empty elsewhere).
    pub async fn own_allotments(&self) -> Result<Vec<Allotment>> {
        match &self.ctx.replica {
            Some(r) => self.allotments(Some(r.terminal_id)).await,
            None => Ok(Vec::new()),
        }
    }

    /// "Keep `keep_units` at each till" for a variant (None removes the policy).
    pub async fn set_allotment_policy(
        &self,
        variant_id: Uuid,
        keep_units: Option<i64>,
    ) -> Result<AllotmentPolicy> {
        let kind = CommandKind::SetAllotmentPolicy {
            variant_id,
            keep_units,
        };
        self.write(None, kind).await
    }

    pub async fn allotment_policies(&self) -> Result<Vec<AllotmentPolicy>> {
        allot::policies(&mut self.ctx.store.conn().await?).await
    }

    /// Lets (or stops letting) a till's counter sale go beyond its allotment offline.
    pub async fn set_sell_anyway(&self, on: bool) -> Result<bool> {
        self.write(None, CommandKind::SetSellAnyway { on }).await
    }

    pub async fn sell_anyway(&self) -> Result<bool> {
        allot::sell_anyway(&mut self.ctx.store.conn().await?).await
    }

    /// Oversell exceptions, oldest first (the open ones only, or all).
    pub async fn oversell_exceptions(&self, open_only: bool) -> Result<Vec<OversellException>> {
        exceptions::list(&mut self.ctx.store.conn().await?, open_only)
            .instrument(tracing::debug_span!("oversell_exceptions", open_only))
            .await
    }

    /// Settles an oversell exception (a recorded command, decided on the shop).
    pub async fn resolve_exception(
        &self,
        exception_id: Uuid,
        resolution: ExceptionResolution,
    ) -> Result<OversellException> {
        let kind = CommandKind::ResolveException {
            exception_id,
            resolution,
        };
        self.write(None, kind).await
    }

    /// A sale at the counter, paid at once: online, the shop takes the order and its payment as
    /// it does any; on a terminal that cannot reach the shop, it is sold from the till's
    /// allotment (or beyond it, if the shop allows "sell anyway") and queued.
    pub async fn sell_now(&self, order: NewOrder, op_id: Option<Uuid>) -> Result<Order> {
        if self.ctx.replica.is_some() {
            let link = self.link().await?;
            let cmd = self.command(
                op_id,
                CommandKind::CreateOrder {
                    order: order.clone(),
                },
            );
            let sold = crate::sync::sell_now(&link, &cmd).await?;
            let unexpected = crate::commands::unexpected(&sold.outcome);
            return match sold.outcome {
                Outcome::Order(o) => Ok(o),
                Outcome::Payment(p) => Ok(p.order),
                _ => Err(unexpected),
            };
        }
        let taken = self.create_order(order, op_id).await?;
        Ok(self.pay_order(taken.id).await?.order)
    }
}
