//! Staff profiles and roles: who may do what, checked in the core on every command.
//!
//! A shop without a live profile works as it always did: whoever runs Stockdesk acts as its
//! owner, under any name. The first profile (an owner) changes that for good: from then on every
//! command must name a live profile (`Command::actor_id`) whose role allows what it asks, read
//! fresh inside the command's own transaction, so a profile removed or a role changed on another
//! terminal counts at once. Signing in checks a PIN against its Argon2id hash; five wrong PINs in
//! a row lock the profile for five minutes. Sign-ins, wrong PINs and lockouts are recorded.

pub mod pin;
mod repo;
pub mod rules;

use chrono::{DateTime, TimeDelta, Utc};
use tracing::Instrument;
use uuid::Uuid;

use crate::ctx::{Ctx, Op, OpPrelude};
use crate::error::{Error, Result};
use crate::model::{
    CommandKind, NewStaff, Permission, Refusal, Role, Session as StaffSession, StaffEvent,
    StaffEventKind, StaffProfile, Withheld,
};
use crate::store::{with_retry, Backend, Session, Stmt, Tx};

/// Wrong PINs in a row that lock a profile.
pub const ATTEMPTS: i64 = 5;
/// How long a locked profile stays locked.
pub const LOCKED_FOR: TimeDelta = TimeDelta::minutes(5);

/// Who a command says it comes from.
#[derive(Debug, Clone, Copy)]
pub struct Who<'a> {
    pub actor: &'a str,
    pub actor_id: Option<Uuid>,
}

/// Refuses `kind` unless `who` may do it, on what `on` reads now (inside the command's
/// transaction, where the profile row is also locked against removal until it commits).
pub async fn authorize(on: &mut impl Session, who: Who<'_>, kind: &CommandKind) -> Result<()> {
    let standing = match who.actor_id {
        None => Standing::AnyLive(repo::any_live(on).await?),
        Some(id) => Standing::Profile(repo::get(on, id, true).await?),
    };
    decide(who, kind, standing)
}

/// Runs `claim` (the insert that claims a command's op id, `… ON CONFLICT DO NOTHING`) and, if
/// it claimed the id, `authorize`s the command; true if it claimed. On Postgres that is one
/// statement (the claim a data-modifying `WITH`, the profile read as `authorize` reads it): one
/// round trip fewer on every command. An id already claimed is a replay, which nobody authorizes.
pub async fn claim_and_authorize(
    tx: &mut Tx,
    claim: Stmt,
    who: Who<'_>,
    kind: &CommandKind,
) -> Result<bool> {
    if !tx.backend().writes_in_ctes() {
        if claim.run(tx).await? != 1 {
            return Ok(false);
        }
        authorize(tx, who, kind).await?;
        return Ok(true);
    }
    let (claimed, standing) = repo::claim_then_standing(tx, claim, who.actor_id).await?;
    if claimed {
        decide(who, kind, standing)?;
    }
    Ok(claimed)
}

/// `claim_and_authorize` for the body's first statement to run (Postgres: `Op::with_prelude`),
/// with what decides on what it found.
pub fn claim_prelude<'a>(
    backend: Backend,
    claim: Stmt,
    who: Who<'a>,
    kind: &'a CommandKind,
) -> OpPrelude<'a> {
    OpPrelude {
        ctes: repo::claim_prelude(claim, who.actor_id, backend.for_share()),
        settle: Box::new(move |found| {
            let (claimed, standing) = repo::prelude_found(found, who.actor_id)?;
            if claimed {
                decide(who, kind, standing)?;
            }
            Ok(claimed)
        }),
    }
}

/// What `authorize` decides on: without a profile named, whether the shop has any live one;
/// with one, that profile as it is now (none if it never existed).
pub(crate) enum Standing {
    AnyLive(bool),
    Profile(Option<StaffProfile>),
}

fn decide(who: Who<'_>, kind: &CommandKind, standing: Standing) -> Result<()> {
    let profile = match standing {
        // Without profiles whoever runs the shop is its owner (and may make the first one).
        Standing::AnyLive(false) => return Ok(()),
        Standing::AnyLive(true) => {
            return Err(refused(
                Refusal::NotSignedIn,
                "sign in first: this shop has staff profiles (on the command line, act as one \
                 with --as NAME)"
                    .into(),
            ))
        }
        Standing::Profile(found) => acting(found, who.actor_id)?,
    };
    if profile.name != who.actor {
        return Err(Error::BadInput(format!(
            "the command names {:?} but its profile is {:?}",
            who.actor, profile.name
        )));
    }
    for permission in rules::needs(kind) {
        if !profile.role.allows(permission) {
            return Err(role_refusal(&profile, permission));
        }
    }
    Ok(())
}

/// The live profile found for `id` (read with a share lock: it cannot be removed before the
/// reader's transaction ends); `forbidden` if it was removed or never existed.
fn acting(found: Option<StaffProfile>, id: Option<Uuid>) -> Result<StaffProfile> {
    match found {
        Some(p) if p.removed_at.is_none() => Ok(p),
        Some(p) => Err(refused(
            Refusal::Removed,
            format!("the profile {} was removed and can no longer act", p.name),
        )),
        None => Err(refused(
            Refusal::Removed,
            format!(
                "no staff profile {}: sign in again",
                id.map(|id| id.to_string()).unwrap_or_default()
            ),
        )),
    }
}

fn role_refusal(profile: &StaffProfile, permission: Permission) -> Error {
    let needs = permission.least_role();
    refused(
        Refusal::Role {
            role: profile.role,
            needs,
            permission,
        },
        format!(
            "{} ({}) may not {}: that needs {} {}",
            profile.name,
            profile.role,
            permission.describe(),
            if needs == Role::Owner { "the" } else { "a" },
            needs
        ),
    )
}

fn refused(refusal: Refusal, message: String) -> Error {
    Error::Forbidden { message, refusal }
}

/// The body of an `add_staff` command.
pub async fn add(tx: &mut Tx, op: &Op<'_>, new: &NewStaff) -> Result<StaffProfile> {
    let name = new.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(Error::validation("name", "1–100 characters"));
    }
    if let Some(problem) = crate::model::text_problem(name, false) {
        return Err(Error::validation("name", problem));
    }
    pin::check_hash(&new.pin_hash)?;
    if !repo::any_live(tx).await? && new.role != Role::Owner {
        return Err(Error::validation(
            "role",
            "the shop's first profile must be its owner",
        ));
    }
    if repo::live_by_name(tx, name, false).await?.is_some() {
        return Err(Error::validation("name", "already used by another profile"));
    }
    let profile = StaffProfile {
        id: new.id.unwrap_or_else(|| op.new_id()),
        name: name.to_string(),
        role: new.role,
        created_at: op.now,
        created_by: op.actor.to_string(),
        locked_until: None,
        removed_at: None,
    };
    repo::insert(tx, &profile, &new.pin_hash).await?;
    Ok(profile)
}

/// The body of a `remove_staff` command: the profile can no longer act or sign in.
pub async fn remove(tx: &mut Tx, op: &Op<'_>, id: Uuid) -> Result<StaffProfile> {
    let profile = repo::get(tx, id, true)
        .await?
        .filter(|p| p.removed_at.is_none())
        .ok_or_else(|| Error::not_found("staff profile", id))?;
    if profile.role == Role::Owner && repo::live_owners(tx).await? <= 1 {
        return Err(Error::InvalidState {
            entity: "staff profile",
            id,
            state: "the shop's last owner".into(),
            action: "remove it (add another owner first)",
        });
    }
    repo::mark_removed(tx, id, op.now).await?;
    Ok(StaffProfile {
        removed_at: Some(op.now),
        ..profile
    })
}

/// Checks `pin` for the live profile called `name` (any case) and returns it. A wrong PIN is
/// counted (and recorded) even though the sign-in fails; the fifth in a row locks the profile.
pub async fn sign_in(ctx: &Ctx, name: &str, pin: &str) -> Result<StaffProfile> {
    let span = tracing::info_span!("sign_in", name);
    with_retry(|| async {
        let mut tx = ctx.store.write().await?;
        let now = ctx.now();
        let profile = match repo::live_by_name(&mut tx, name.trim(), true).await {
            Ok(Some(p)) => p,
            Ok(None) => {
                tx.rollback().await?;
                return Err(Error::not_found("staff profile", name.trim()));
            }
            Err(e) => return tx.finish(Err(e)).await,
        };
        let (event, outcome) = check_pin(&mut tx, &profile, pin, now).await?;
        repo::record_event(&mut tx, ctx, &profile, event, now).await?;
        // The attempt is recorded whether or not the PIN was right.
        tx.commit().await?;
        outcome
    })
    .instrument(span)
    .await
}

/// Decides one sign-in attempt and records its effect on the profile's counter.
async fn check_pin(
    tx: &mut Tx,
    profile: &StaffProfile,
    pin: &str,
    now: DateTime<Utc>,
) -> Result<(StaffEventKind, Result<StaffProfile>)> {
    if let Some(until) = profile.locked_until.filter(|u| *u > now) {
        return Ok((StaffEventKind::RefusedLocked, Err(locked(profile, until))));
    }
    let hash = repo::pin_hash(tx, profile.id).await?;
    if pin::matches(&hash, pin).await? {
        repo::set_attempts(tx, profile.id, 0, None).await?;
        let profile = StaffProfile {
            locked_until: None,
            ..profile.clone()
        };
        return Ok((StaffEventKind::SignedIn, Ok(profile)));
    }
    let failed = repo::failed_attempts(tx, profile.id).await? + 1;
    if failed >= ATTEMPTS {
        let until = now + LOCKED_FOR;
        repo::set_attempts(tx, profile.id, 0, Some(until)).await?;
        return Ok((StaffEventKind::LockedOut, Err(locked(profile, until))));
    }
    repo::set_attempts(tx, profile.id, failed, None).await?;
    let left = ATTEMPTS - failed;
    Ok((
        StaffEventKind::WrongPin,
        Err(refused(
            Refusal::WrongPin {
                attempts_left: left,
            },
            format!(
                "wrong PIN for {}: {left} {} left before the profile locks for {} minutes",
                profile.name,
                if left == 1 { "try" } else { "tries" },
                LOCKED_FOR.num_minutes()
            ),
        )),
    ))
}

fn locked(profile: &StaffProfile, until: DateTime<Utc>) -> Error {
    refused(
        Refusal::Locked { until },
        format!(
            "{} is locked after {ATTEMPTS} wrong PINs until {} UTC",
            profile.name,
            until.format("%H:%M:%S")
        ),
    )
}

/// Who `who` is now and what they may do (for the app to show and to hide what they cannot).
pub async fn session(ctx: &Ctx, who: Who<'_>) -> Result<StaffSession> {
    let mut conn = ctx.store.conn().await?;
    let shop_has_profiles = repo::any_live(&mut conn).await?;
    let profile = match who.actor_id {
        Some(id) => repo::get(&mut conn, id, false)
            .await?
            .filter(|p| p.removed_at.is_none()),
        None => None,
    };
    let permissions = match (&profile, shop_has_profiles) {
        (Some(p), _) => p.role.permissions(),
        (None, false) => Role::Owner.permissions(),
        (None, true) => Vec::new(),
    };
    let withheld = Permission::ALL
        .into_iter()
        .filter(|p| !permissions.contains(p))
        .map(|permission| Withheld {
            permission,
            needs: permission.least_role(),
        })
        .collect();
    Ok(StaffSession {
        withheld,
        actor: profile
            .as_ref()
            .map_or_else(|| who.actor.to_string(), |p| p.name.clone()),
        profile,
        shop_has_profiles,
        permissions,
    })
}

/// The shop's profiles, by name (removed ones too when `removed`).
pub async fn list(ctx: &Ctx, removed: bool) -> Result<Vec<StaffProfile>> {
    repo::list(&mut ctx.store.conn().await?, removed).await
}

/// The latest sign-ins, wrong PINs and lockouts, newest first.
pub async fn events(ctx: &Ctx, limit: i64) -> Result<Vec<StaffEvent>> {
    repo::events(&mut ctx.store.conn().await?, limit.clamp(1, 1000)).await
}
