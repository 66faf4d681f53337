//! Orders, reservations and stock figures.

use chrono::TimeDelta;
use tracing::Instrument;
use uuid::Uuid;

use crate::error::Result;
use crate::model::*;
use crate::{stock, Stockdesk};

impl Stockdesk {
    /// Takes an order: reserves every line or nothing. With `op_id`, a retried create returns
    /// the first order and reserves nothing again.
    pub async fn create_order(&self, order: NewOrder, op_id: Option<Uuid>) -> Result<Order> {
        self.write(op_id, CommandKind::CreateOrder { order }).await
    }

    pub async fn get_order(&self, id: Uuid) -> Result<Order> {
        stock::get_order(&self.ctx, id)
            .instrument(tracing::debug_span!("get_order", order_id = %id))
            .await
    }

    /// Orders, newest first.
    pub async fn list_orders(&self, query: OrderQuery) -> Result<Vec<Order>> {
        stock::list_orders(&self.ctx, &query)
            .instrument(tracing::debug_span!("list_orders", status = ?query.status))
            .await
    }

    /// Confirms payment: the reservations become a sale.
    pub async fn pay_order(&self, order_id: Uuid) -> Result<PaymentOutcome> {
        self.write(None, CommandKind::PayOrder { order_id }).await
    }

    /// Cancels a pending order and gives its stock back.
    pub async fn cancel_order(&self, order_id: Uuid) -> Result<Order> {
        self.write(None, CommandKind::CancelOrder { order_id })
            .await
    }

    /// Gives a pending order more time to pay.
    pub async fn extend_order(&self, order_id: Uuid, by: TimeDelta) -> Result<ExtendOutcome> {
        let by_secs = by.num_seconds();
        self.write(None, CommandKind::ExtendOrder { order_id, by_secs })
            .await
    }

    /// Expires up to `limit` overdue pending orders (what the sweeper does, one batch).
    pub async fn expire_overdue_orders(&self, limit: i64) -> Result<ExpiryBatch> {
        let (batch, expired) = stock::expire_overdue_orders(&self.ctx, &self.actor, limit)
            .instrument(tracing::info_span!("expire_overdue_orders", limit))
            .await?;
        for id in expired {
            self.ctx.emit(ChangeEvent::Order { id });
        }
        Ok(batch)
    }

    /// On hand, reserved and available for one variant, right now.
    pub async fn stock_level(&self, variant_id: Uuid) -> Result<StockLevel> {
        stock::stock_level(&self.ctx, variant_id)
            .instrument(tracing::debug_span!("stock_level", %variant_id))
            .await
    }

    /// The variant's ledger, oldest first.
    pub async fn stock_movements(&self, variant_id: Uuid) -> Result<Vec<Movement>> {
        stock::stock_movements(&self.ctx, variant_id)
            .instrument(tracing::debug_span!("stock_movements", %variant_id))
            .await
    }

    /// Goods arrived: on hand rises by `quantity`.
    pub async fn receive_stock(
        &self,
        variant_id: Uuid,
        quantity: i64,
        reason: Option<&str>,
    ) -> Result<StockChange> {
        let kind = CommandKind::ReceiveStock {
            variant_id,
            quantity,
            reason: reason.map(str::to_string),
        };
        self.write(None, kind).await
    }

    /// A manual correction with a reason.
    pub async fn adjust_stock(
        &self,
        variant_id: Uuid,
        delta: i64,
        reason: &str,
    ) -> Result<StockChange> {
        let kind = CommandKind::AdjustStock {
            variant_id,
            delta,
            reason: reason.to_string(),
        };
        self.write(None, kind).await
    }

    /// A stock count (see `stock::count_stock`).
    pub async fn count_stock(
        &self,
        variant_id: Uuid,
        counted: i64,
        expected: Option<i64>,
    ) -> Result<StockChange> {
        let kind = CommandKind::CountStock {
            variant_id,
            counted,
            expected,
        };
        self.write(None, kind).await
    }

    /// Lists every inconsistency in stock, orders and reservations; empty when all is well.
    pub async fn check_invariants(&self) -> Result<Vec<Inconsistency>> {
        crate::check::check_invariants(&self.ctx).await
    }
}
