//! Staff profiles: signing in, who is signed in, and adding or removing profiles.

use uuid::Uuid;

use crate::error::Result;
use crate::model::{CommandKind, NewStaff, Role, Session, StaffEvent, StaffProfile};
use crate::staff;
use crate::Stockdesk;

impl Stockdesk {
    /// Checks `pin` for the profile called `name` and returns a handle acting as that person.
    /// A wrong PIN is `forbidden` (with the tries left); the fifth in a row locks the profile
    /// for five minutes.
    pub async fn sign_in(&self, name: &str, pin: &str) -> Result<Stockdesk> {
        let profile = staff::sign_in(&self.ctx, name, pin).await?;
        Ok(Stockdesk {
            actor: profile.name,
            actor_id: Some(profile.id),
            ..self.clone()
        })
    }

    /// Who this handle acts as now, and what they may do (read fresh: a role changed on another
    /// terminal shows).
    pub async fn session(&self) -> Result<Session> {
        staff::session(
            &self.ctx,
            staff::Who {
                actor: &self.actor,
                actor_id: self.actor_id,
            },
        )
        .await
    }

    /// The shop's profiles by name; removed ones too when `removed`.
    pub async fn staff(&self, removed: bool) -> Result<Vec<StaffProfile>> {
        staff::list(&self.ctx, removed).await
    }

    /// The latest sign-ins, wrong PINs and lockouts, newest first.
    pub async fn staff_events(&self, limit: i64) -> Result<Vec<StaffEvent>> {
        staff::events(&self.ctx, limit).await
    }

    /// Adds a profile with `pin` (hashed here: the command carries only the hash). The shop's
    /// first profile must be an owner; after that only an owner may add one.
    pub async fn add_staff(
        &self,
        op_id: Option<Uuid>,
        name: &str,
        role: Role,
        pin: &str,
    ) -> Result<StaffProfile> {
        let op_id = op_id.unwrap_or_else(Uuid::now_v7);
        let staff = NewStaff {
            id: None,
            name: name.to_string(),
            role,
            pin_hash: staff::pin::hash(pin, Some(op_id)).await?,
        };
        self.write(Some(op_id), CommandKind::AddStaff { staff })
            .await
    }

    /// Removes the profile `staff_id` (not the last owner's).
    pub async fn remove_staff(&self, op_id: Option<Uuid>, staff_id: Uuid) -> Result<StaffProfile> {
        self.write(op_id, CommandKind::RemoveStaff { staff_id })
            .await
    }
}
