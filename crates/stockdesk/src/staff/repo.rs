//! The `staff` and `staff_events` tables.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::model::{Role, StaffEvent, StaffEventKind, StaffProfile};
use crate::store::{Prelude, Session, Stmt, Tx};

const COLUMNS: &str = "id, name, role, created_at, created_by, locked_until, removed_at";

// Also read from the role check's JSON (`prelude_found`).
#[derive(sqlx::FromRow, serde::Deserialize)]
struct Row {
    id: Uuid,
    name: String,
    role: String,
    created_at: DateTime<Utc>,
    created_by: String,
    locked_until: Option<DateTime<Utc>>,
    removed_at: Option<DateTime<Utc>>,
}

impl Row {
    fn into_profile(self) -> Result<StaffProfile> {
        Ok(StaffProfile {
            role: Role::parse(&self.role)
                .ok_or_else(|| Error::Internal(format!("unknown role {:?}", self.role)))?,
            id: self.id,
            name: self.name,
            created_at: self.created_at,
            created_by: self.created_by,
            locked_until: self.locked_until,
            removed_at: self.removed_at,
        })
    }
}

/// `claim` (an `INSERT … ON CONFLICT DO NOTHING`), then what `authorize` reads for `actor_id`,
/// in one Postgres statement: whether it claimed, and the standing. The profile is share-locked
/// as `get` locks it; the live-profile check reads the statement's snapshot.
pub async fn claim_then_standing(
    tx: &mut Tx,
    claim: Stmt,
    actor_id: Option<Uuid>,
) -> Result<(bool, super::Standing)> {
    #[derive(sqlx::FromRow)]
    struct Found {
        claimed: i64,
        any_live: bool,
        id: Option<Uuid>,
        name: Option<String>,
        role: Option<String>,
        created_at: Option<DateTime<Utc>>,
        created_by: Option<String>,
        locked_until: Option<DateTime<Utc>>,
        removed_at: Option<DateTime<Utc>>,
    }
    let mut s = claim;
    let id = s.param(actor_id);
    let lock = tx.backend().for_share();
    let f: Found = s
        .wrap(|claim| {
            format!(
                "WITH claim AS ({claim} RETURNING 1), \
                 who AS (SELECT {COLUMNS} FROM staff WHERE id = {id}{lock}) \
                 SELECT (SELECT COUNT(*) FROM claim) AS claimed, \
                 EXISTS (SELECT 1 FROM staff WHERE removed_at IS NULL) AS any_live, who.* \
                 FROM (SELECT 1) AS one LEFT JOIN who ON true"
            )
        })
        .fetch_one(tx)
        .await?;
    let standing = match (actor_id, f.id) {
        (None, _) => super::Standing::AnyLive(f.any_live),
        (Some(_), None) => super::Standing::Profile(None),
        (Some(_), Some(id)) => {
            let row = Row {
                id,
                name: f.name.unwrap_or_default(),
                role: f.role.unwrap_or_default(),
                created_at: f.created_at.unwrap_or_default(),
                created_by: f.created_by.unwrap_or_default(),
                locked_until: f.locked_until,
                removed_at: f.removed_at,
            };
            super::Standing::Profile(Some(row.into_profile()?))
        }
    };
    Ok((f.claimed == 1, standing))
}

/// `claim_then_standing` as common table expressions for another statement to run first
/// (`store::Prelude`): `claim` and `who`, and a `prelude` column saying what they found, read
/// back by `prelude_found`.
pub fn claim_prelude(claim: Stmt, actor_id: Option<Uuid>, lock: &str) -> Prelude {
    let mut s = claim;
    let id = s.param(actor_id);
    Prelude {
        ctes: s.wrap(|claim| {
            format!(
                "claim AS ({claim} RETURNING 1), \
                 who AS (SELECT {COLUMNS} FROM staff WHERE id = {id}{lock})"
            )
        }),
        first: "(SELECT COUNT(*) FROM claim) >= 0",
        column: "json_build_object('claimed', (SELECT COUNT(*) FROM claim), \
             'any_live', EXISTS (SELECT 1 FROM staff WHERE removed_at IS NULL), \
             'who', (SELECT row_to_json(who) FROM who)) AS prelude",
    }
}

/// What a `claim_prelude` found: whether it claimed, and the standing.
pub fn prelude_found(
    found: serde_json::Value,
    actor_id: Option<Uuid>,
) -> Result<(bool, super::Standing)> {
    #[derive(serde::Deserialize)]
    struct Found {
        claimed: i64,
        any_live: bool,
        who: Option<Row>,
    }
    let f: Found = serde_json::from_value(found)
        .map_err(|e| Error::Internal(format!("role check unreadable: {e}")))?;
    let standing = match (actor_id, f.who) {
        (None, _) => super::Standing::AnyLive(f.any_live),
        (Some(_), None) => super::Standing::Profile(None),
        (Some(_), Some(row)) => super::Standing::Profile(Some(row.into_profile()?)),
    };
    Ok((f.claimed == 1, standing))
}

pub async fn any_live(on: &mut impl Session) -> Result<bool> {
    Stmt::new("SELECT COUNT(*) FROM (SELECT 1 FROM staff WHERE removed_at IS NULL LIMIT 1) s")
        .counts_any(on)
        .await
}

pub async fn live_owners(tx: &mut Tx) -> Result<i64> {
    Stmt::new("SELECT COUNT(*) FROM staff WHERE removed_at IS NULL AND role = 'owner'")
        .fetch_scalar(tx)
        .await
}

/// The profile `id`, share-locked when `lock` (on Postgres).
pub async fn get(on: &mut impl Session, id: Uuid, lock: bool) -> Result<Option<StaffProfile>> {
    let lock = if lock { on.backend().for_share() } else { "" };
    Stmt::new(format!("SELECT {COLUMNS} FROM staff WHERE id = $1{lock}"))
        .arg(id)
        .fetch_optional::<Row>(on)
        .await?
        .map(Row::into_profile)
        .transpose()
}

/// The live profile called `name` (any case), locked for update when `lock`.
pub async fn live_by_name(tx: &mut Tx, name: &str, lock: bool) -> Result<Option<StaffProfile>> {
    let lock = if lock { tx.backend().for_update() } else { "" };
    // Compared in Rust as well: SQLite's lower() folds ASCII only.
    let rows: Vec<Row> = Stmt::new(format!(
        "SELECT {COLUMNS} FROM staff WHERE removed_at IS NULL AND lower(name) = lower($1){lock}"
    ))
    .arg(name)
    .fetch(tx)
    .await?;
    let found = match rows.into_iter().next() {
        Some(row) => Some(row),
        None => Stmt::new(format!(
            "SELECT {COLUMNS} FROM staff WHERE removed_at IS NULL{lock}"
        ))
        .fetch::<Row>(tx)
        .await?
        .into_iter()
        .find(|r| r.name.to_lowercase() == name.to_lowercase()),
    };
    found.map(Row::into_profile).transpose()
}

pub async fn insert(tx: &mut Tx, p: &StaffProfile, pin_hash: &str) -> Result<()> {
    Stmt::new(
        "INSERT INTO staff (id, name, role, pin_hash, created_at, created_by) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .arg(p.id)
    .arg(p.name.as_str())
    .arg(p.role.as_str())
    .arg(pin_hash)
    .arg(p.created_at)
    .arg(p.created_by.as_str())
    .run(tx)
    .await
    .map_err(|e| match e {
        // Two terminals adding the same name at once: the unique index decides.
        Error::Storage(sqlx::Error::Database(db)) if db.is_unique_violation() => {
            Error::validation("name", "already used by another profile")
        }
        e => e,
    })?;
    Ok(())
}

pub async fn mark_removed(tx: &mut Tx, id: Uuid, at: DateTime<Utc>) -> Result<()> {
    Stmt::new("UPDATE staff SET removed_at = $2 WHERE id = $1")
        .arg(id)
        .arg(at)
        .run(tx)
        .await?;
    Ok(())
}

pub async fn pin_hash(tx: &mut Tx, id: Uuid) -> Result<String> {
    Stmt::new("SELECT pin_hash FROM staff WHERE id = $1")
        .arg(id)
        .fetch_scalar(tx)
        .await
}

pub async fn failed_attempts(tx: &mut Tx, id: Uuid) -> Result<i64> {
    Stmt::new("SELECT failed_attempts FROM staff WHERE id = $1")
        .arg(id)
        .fetch_scalar(tx)
        .await
}

pub async fn set_attempts(
    tx: &mut Tx,
    id: Uuid,
    failed: i64,
    locked_until: Option<DateTime<Utc>>,
) -> Result<()> {
    Stmt::new("UPDATE staff SET failed_attempts = $2, locked_until = $3 WHERE id = $1")
        .arg(id)
        .arg(failed)
        .arg(locked_until)
        .run(tx)
        .await?;
    Ok(())
}

pub async fn record_event(
    tx: &mut Tx,
    ctx: &Ctx,
    p: &StaffProfile,
    kind: StaffEventKind,
    at: DateTime<Utc>,
) -> Result<()> {
    Stmt::new(
        "INSERT INTO staff_events (id, staff_id, name, kind, terminal, at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .arg(Uuid::now_v7())
    .arg(p.id)
    .arg(p.name.as_str())
    .arg(kind.as_str())
    .arg(ctx.terminal)
    .arg(at)
    .run(tx)
    .await?;
    Ok(())
}

pub async fn list(on: &mut impl Session, removed: bool) -> Result<Vec<StaffProfile>> {
    let filter = if removed {
        ""
    } else {
        " WHERE removed_at IS NULL"
    };
    Stmt::new(format!(
        "SELECT {COLUMNS} FROM staff{filter} ORDER BY lower(name), id"
    ))
    .fetch::<Row>(on)
    .await?
    .into_iter()
    .map(Row::into_profile)
    .collect()
}

#[derive(sqlx::FromRow)]
struct EventRow {
    staff_id: Uuid,
    name: String,
    kind: String,
    terminal: Option<Uuid>,
    at: DateTime<Utc>,
}

pub async fn events(on: &mut impl Session, limit: i64) -> Result<Vec<StaffEvent>> {
    let rows: Vec<EventRow> = Stmt::new(
        "SELECT staff_id, name, kind, terminal, at FROM staff_events ORDER BY at DESC, id DESC \
         LIMIT $1",
    )
    .arg(limit)
    .fetch(on)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(StaffEvent {
                kind: StaffEventKind::parse(&r.kind)
                    .ok_or_else(|| Error::Internal(format!("unknown staff event {:?}", r.kind)))?,
                staff_id: r.staff_id,
                name: r.name,
                terminal: r.terminal,
                at: r.at,
            })
        })
        .collect()
}
