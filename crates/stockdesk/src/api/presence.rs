//! Who is editing what (see `presence`).

use uuid::Uuid;

use crate::error::Result;
use crate::model::Editing;
use crate::sync::link::step;
use crate::{presence, Stockdesk};

impl Stockdesk {
    /// This terminal has `product_id` open with unsaved changes (`true`, every ~15 s), or no
    /// longer (`false`, when saved, reverted or closed).
    /// On a terminal's replica this goes to the shop's server, and only while it answers: who is
    /// editing is worth telling the others, never worth a queue.
    pub async fn set_editing(&self, product_id: Uuid, editing: bool) -> Result<()> {
        if self.ctx.replica.is_none() {
            return presence::set_editing(&self.ctx, &self.actor, product_id, editing).await;
        }
        let told = async {
            let up = self.link().await?.upstream().await?;
            step(presence::set_editing(
                &up.ctx,
                &self.actor,
                product_id,
                editing,
            ))
            .await
        };
        if let Err(e) = told.await {
            tracing::debug!(error = %e, "the shop's server did not hear who is editing");
        }
        Ok(())
    }

    /// What the shop's other terminals are editing now (nothing known while a replica's shop
    /// does not answer).
    pub async fn editors(&self) -> Result<Vec<Editing>> {
        if self.ctx.replica.is_none() {
            return presence::editors(&self.ctx).await;
        }
        let asked = async {
            let up = self.link().await?.upstream().await?;
            step(presence::editors(&up.ctx)).await
        };
        Ok(asked.await.unwrap_or_default())
    }
}
