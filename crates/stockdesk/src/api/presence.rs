//! Who is editing what (see `presence`).

use uuid::Uuid;

use crate::error::Result;
use crate::model::Editing;
use crate::{presence, Stockdesk};

impl Stockdesk {
    /// This terminal has `product_id` open with unsaved changes (`true`, every ~15 s), or no
    /// longer (`false`, when saved, reverted or closed).
    pub async fn set_editing(&self, product_id: Uuid, editing: bool) -> Result<()> {
        presence::set_editing(&self.ctx, &self.actor, product_id, editing).await
    }

    /// What the shop's other terminals are editing now.
    pub async fn editors(&self) -> Result<Vec<Editing>> {
        presence::editors(&self.ctx).await
    }
}
