//! The `Stockdesk` handle's methods, by capability: reads call the capability directly; every
//! write is built as a `Command` from this handle's actor and goes through `commands::apply`,
//! so a method here is never a second way to write.

mod allot;
mod backup;
mod catalog;
mod feed;
mod images;
mod presence;
mod reports;
mod staff;
mod stock;
mod sweeper;
mod sync;
mod transfer;

pub use sync::Resolved;

use uuid::Uuid;

use crate::commands;
use crate::error::Result;
use crate::model::{Applied, Command, CommandKind, FromOutcome};
use crate::Stockdesk;

impl Stockdesk {
    /// A command of this handle's actor, made now, under `op_id` (a new one when None).
    pub fn command(&self, op_id: Option<Uuid>, kind: CommandKind) -> Command {
        Command {
            op_id: op_id.unwrap_or_else(Uuid::now_v7),
            actor: self.actor.clone(),
            actor_id: self.actor_id,
            made_at: self.ctx.now(),
            kind,
        }
    }

    /// What `cmd` would do now, written nowhere (see `commands::preview`).
    pub async fn preview(&self, cmd: &Command) -> Result<crate::model::Outcome> {
        self.check_own(cmd)?;
        commands::preview(&self.ctx, cmd).await
    }

    fn check_own(&self, cmd: &Command) -> Result<()> {
        if cmd.actor_id.is_some() && cmd.actor_id != self.actor_id {
            return Err(crate::Error::Forbidden {
                message: format!(
                    "this command was made by {}; only they can apply it (sign in as them)",
                    cmd.actor
                ),
                refusal: crate::model::Refusal::NotYours,
            });
        }
        Ok(())
    }

    /// Applies `cmd` once (see `commands::apply`). A handle applies only its own person's
    /// commands: one signed in as a helper cannot pass on a command naming the owner.
    /// On a terminal's replica, a command only the shop's server decides (an order, a payment,
    /// a staff change) goes to the shop; every other write is queued here (`sync`).
    pub async fn apply(&self, cmd: &Command) -> Result<Applied> {
        self.check_own(cmd)?;
        if self.ctx.replica.is_some() && crate::replica::online_only(&cmd.kind) {
            return crate::sync::forward(&*self.link().await?, cmd).await;
        }
        commands::apply(&self.ctx, cmd).await
    }

    /// Applies a command of `kind` and takes its outcome as `T`.
    async fn write<T: FromOutcome>(&self, op_id: Option<Uuid>, kind: CommandKind) -> Result<T> {
        let applied = self.apply(&self.command(op_id, kind)).await?;
        let unexpected = commands::unexpected(&applied.outcome);
        T::from_outcome(applied.outcome).ok_or(unexpected)
    }
}
