//! The one error type of the core. Every variant has a stable machine `code` that the UI and the
//! CLI's exit codes branch on; messages are for people and may change, codes never do. Errors
//! cross to the UI and the CLI as `ApiError`: `{code, message, details}`, where `details` has
//! one type per code (the TypeScript bindings carry the union, so the UI branches without casts).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use crate::model::FieldError;
use crate::model::{BackupProblem, ConflictReport, Inconsistency, Refusal, VerifyReport};

mod api;

pub use api::*;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{entity} {id} not found")]
    NotFound { entity: &'static str, id: String },

    #[error("invalid {}: {}", .0[0].field, .0[0].reason)]
    Validation(Vec<FieldError>),

    #[error("bad input: {0}")]
    BadInput(String),

    #[error("changed by someone else since version {}", .0.expected_version)]
    Conflict(Box<ConflictReport>),

    #[error("only {available} left")]
    InsufficientStock {
        variant_id: Uuid,
        requested: i64,
        available: i64,
    },

    /// Offline, a till sells only what the shop holds for it (its allotment), unless the shop
    /// lets counter sales go beyond it ("sell anyway").
    #[error(
        "offline, this till sells only its allotment: it holds {allotted} of variant \
         {variant_id}, {requested} asked ({reason})"
    )]
    BeyondAllotment {
        variant_id: Uuid,
        requested: i64,
        allotted: i64,
        reason: String,
    },

    #[error("the reservation of order {order_id} expired and the stock is no longer available")]
    ReservationExpired { order_id: Uuid },

    #[error("{entity} {id} is {state}; cannot {action}")]
    InvalidState {
        entity: &'static str,
        id: Uuid,
        state: String,
        action: &'static str,
    },

    #[error("the database stayed busy; try again")]
    Busy,

    #[error("{0}")]
    Timeout(String),

    /// The database server did not answer (down, no network, wrong host or port): unlike
    /// `busy`, waiting a moment will not help; the terminal is offline.
    #[error("cannot reach the database at {database}: {reason}")]
    Unreachable { database: String, reason: String },

    /// The person acting may not do this (or nobody is signed in, or the PIN was wrong): nothing
    /// was changed.
    #[error("{message}")]
    Forbidden { message: String, refusal: Refusal },

    #[error("{} stock inconsistencies found", .0.len())]
    Inconsistent(Vec<Inconsistency>),

    #[error("storage failure")]
    Storage(#[source] sqlx::Error),

    #[error("could not prepare the database: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),

    #[error("file error: {0}")]
    Io(#[from] std::io::Error),

    #[error(
        "image files are not consistent: {} missing, {} corrupt, {} orphaned",
        .0.missing.len(), .0.corrupt.len(), .0.orphans.len()
    )]
    BlobsInconsistent(Box<VerifyReport>),

    /// A backup could not be made or restored (a tool missing, a damaged file, a replica with
    /// unsent commands, …): `BackupProblem` says which.
    #[error("{message}")]
    Backup {
        message: String,
        problem: BackupProblem,
    },

    /// Something that should not happen did (a front end's own failure, a bug): the message says
    /// what, for a report.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    pub fn validation(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Validation(vec![FieldError {
            field: field.into(),
            reason: reason.into(),
        }])
    }

    pub fn not_found(entity: &'static str, id: impl ToString) -> Self {
        Error::NotFound {
            entity,
            id: id.to_string(),
        }
    }

    /// The stable code. Never rename one: scripts and the UI depend on them.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::NotFound { .. } => ErrorCode::NotFound,
            Error::Validation(_) => ErrorCode::Validation,
            Error::BadInput(_) => ErrorCode::BadInput,
            Error::Conflict(_) => ErrorCode::Conflict,
            Error::InsufficientStock { .. } => ErrorCode::InsufficientStock,
            Error::ReservationExpired { .. } => ErrorCode::ReservationExpired,
            Error::BeyondAllotment { .. } => ErrorCode::BeyondAllotment,
            Error::InvalidState { .. } => ErrorCode::InvalidState,
            Error::Busy => ErrorCode::Busy,
            Error::Timeout(_) => ErrorCode::Timeout,
            Error::Unreachable { .. } => ErrorCode::Unreachable,
            Error::Forbidden { .. } => ErrorCode::Forbidden,
            Error::Inconsistent(_) => ErrorCode::Inconsistent,
            Error::Storage(_) => ErrorCode::Storage,
            Error::Migration(_) => ErrorCode::Migration,
            Error::Io(_) => ErrorCode::Io,
            Error::BlobsInconsistent(_) => ErrorCode::BlobsInconsistent,
            Error::Backup { .. } => ErrorCode::Backup,
            Error::Internal(_) => ErrorCode::Internal,
        }
    }

    /// The process exit code the CLI uses for this error.
    pub fn exit_code(&self) -> i32 {
        self.code().exit_code()
    }

    pub fn to_api(&self) -> ApiError {
        if let Error::Storage(e) = self {
            tracing::error!(error = %e, "storage failure");
        }
        let message = self.to_string();
        match self {
            Error::NotFound { entity, id } => ApiError::NotFound {
                message,
                details: NotFoundDetails {
                    entity: entity.to_string(),
                    id: id.clone(),
                },
            },
            Error::Validation(errors) => ApiError::Validation {
                message,
                details: ValidationDetails {
                    field: errors[0].field.clone(),
                    reason: errors[0].reason.clone(),
                    errors: errors.clone(),
                },
            },
            Error::Conflict(report) => ApiError::Conflict {
                message,
                details: report.clone(),
            },
            Error::InsufficientStock {
                variant_id,
                requested,
                available,
            } => ApiError::InsufficientStock {
                message,
                details: InsufficientStockDetails {
                    variant_id: *variant_id,
                    requested: *requested,
                    available: *available,
                },
            },
            Error::BeyondAllotment {
                variant_id,
                requested,
                allotted,
                ..
            } => ApiError::BeyondAllotment {
                message,
                details: BeyondAllotmentDetails {
                    variant_id: *variant_id,
                    requested: *requested,
                    allotted: *allotted,
                },
            },
            Error::ReservationExpired { order_id } => ApiError::ReservationExpired {
                message,
                details: ReservationExpiredDetails {
                    order_id: *order_id,
                },
            },
            Error::InvalidState {
                entity,
                id,
                state,
                action,
            } => ApiError::InvalidState {
                message,
                details: InvalidStateDetails {
                    entity: entity.to_string(),
                    id: *id,
                    state: state.clone(),
                    action: action.to_string(),
                },
            },
            Error::Inconsistent(found) => ApiError::Inconsistent {
                message,
                details: InconsistentDetails {
                    inconsistencies: found.clone(),
                },
            },
            Error::BlobsInconsistent(report) => ApiError::BlobsInconsistent {
                message,
                details: report.clone(),
            },
            Error::Backup { problem, .. } => ApiError::Backup {
                message,
                details: problem.clone(),
            },
            // Database internals stay in the log, never in the UI.
            Error::BadInput(_) => ApiError::BadInput {
                message,
                details: NoDetails {},
            },
            Error::Busy => ApiError::Busy {
                message,
                details: NoDetails {},
            },
            Error::Timeout(_) => ApiError::Timeout {
                message,
                details: NoDetails {},
            },
            Error::Unreachable { database, .. } => ApiError::Unreachable {
                message,
                details: UnreachableDetails {
                    database: database.clone(),
                },
            },
            Error::Forbidden { refusal, .. } => ApiError::Forbidden {
                message,
                details: refusal.clone(),
            },
            Error::Storage(_) => ApiError::Storage {
                message,
                details: NoDetails {},
            },
            Error::Migration(_) => ApiError::Migration {
                message,
                details: NoDetails {},
            },
            Error::Io(_) => ApiError::Io {
                message,
                details: NoDetails {},
            },
            Error::Internal(_) => ApiError::Internal {
                message,
                details: NoDetails {},
            },
        }
    }
}

/// Every code there is: the core's one list, also of the codes only a front end raises
/// (`timeout` when a database does not answer, `internal` for the front end's own failures).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    NotFound,
    Validation,
    BadInput,
    Conflict,
    InsufficientStock,
    ReservationExpired,
    BeyondAllotment,
    InvalidState,
    Busy,
    Timeout,
    Unreachable,
    Forbidden,
    Inconsistent,
    Storage,
    Migration,
    Io,
    BlobsInconsistent,
    Backup,
    Internal,
}

impl ErrorCode {
    /// Every code, for the documentation and the tests.
    pub const ALL: [ErrorCode; 19] = [
        ErrorCode::NotFound,
        ErrorCode::Validation,
        ErrorCode::BadInput,
        ErrorCode::Conflict,
        ErrorCode::InsufficientStock,
        ErrorCode::ReservationExpired,
        ErrorCode::BeyondAllotment,
        ErrorCode::InvalidState,
        ErrorCode::Busy,
        ErrorCode::Timeout,
        ErrorCode::Unreachable,
        ErrorCode::Forbidden,
        ErrorCode::Inconsistent,
        ErrorCode::Storage,
        ErrorCode::Migration,
        ErrorCode::Io,
        ErrorCode::BlobsInconsistent,
        ErrorCode::Backup,
        ErrorCode::Internal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::NotFound => "not_found",
            ErrorCode::Validation => "validation",
            ErrorCode::BadInput => "bad_input",
            ErrorCode::Conflict => "conflict",
            ErrorCode::InsufficientStock => "insufficient_stock",
            ErrorCode::ReservationExpired => "reservation_expired",
            ErrorCode::BeyondAllotment => "beyond_allotment",
            ErrorCode::InvalidState => "invalid_state",
            ErrorCode::Busy => "busy",
            ErrorCode::Timeout => "timeout",
            ErrorCode::Unreachable => "unreachable",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::Inconsistent => "inconsistent",
            ErrorCode::Storage => "storage",
            ErrorCode::Migration => "migration",
            ErrorCode::Io => "io",
            ErrorCode::BlobsInconsistent => "blobs_inconsistent",
            ErrorCode::Backup => "backup",
            ErrorCode::Internal => "internal",
        }
    }

    /// The CLI's exit code for errors with this code (README, "Command line").
    pub fn exit_code(self) -> i32 {
        match self {
            ErrorCode::Validation | ErrorCode::BadInput => 2,
            ErrorCode::Conflict => 3,
            ErrorCode::NotFound => 4,
            ErrorCode::InsufficientStock
            | ErrorCode::ReservationExpired
            | ErrorCode::BeyondAllotment => 5,
            ErrorCode::Unreachable => 6,
            ErrorCode::Forbidden => 7,
            _ => 1,
        }
    }
}

/// Codes compare with their names (`err.code() == "conflict"`), as scripts see them.
impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn api_error_shape_is_pinned() {
        let e = Error::validation("variants.x.sku", "already used by another variant");
        let v = serde_json::to_value(e.to_api()).unwrap();
        assert_eq!(
            v,
            json!({
                "code": "validation",
                "message": "invalid variants.x.sku: already used by another variant",
                "details": {
                    "field": "variants.x.sku",
                    "reason": "already used by another variant",
                    "errors": [{"field": "variants.x.sku", "reason": "already used by another variant"}]
                }
            })
        );
        let id = Uuid::nil();
        let v = serde_json::to_value(
            Error::InsufficientStock {
                variant_id: id,
                requested: 3,
                available: 1,
            }
            .to_api(),
        )
        .unwrap();
        assert_eq!(
            v,
            json!({
                "code": "insufficient_stock",
                "message": "only 1 left",
                "details": {"variant_id": id, "requested": 3, "available": 1}
            })
        );
        let busy = serde_json::to_value(Error::Busy.to_api()).unwrap();
        assert_eq!(
            busy,
            json!({"code": "busy", "message": "the database stayed busy; try again", "details": {}})
        );
    }

    #[test]
    fn every_code_serialises_as_its_name_and_reads_back() {
        for code in ErrorCode::ALL {
            assert_eq!(serde_json::to_value(code).unwrap(), json!(code.as_str()));
        }
        let api = Error::not_found("product", 7).to_api();
        let text = serde_json::to_string(&api).unwrap();
        assert_eq!(serde_json::from_str::<ApiError>(&text).unwrap(), api);
        assert_eq!(api.code(), ErrorCode::NotFound);
    }

    #[test]
    fn exit_codes_follow_the_contract() {
        assert_eq!(Error::validation("a", "b").exit_code(), 2);
        assert_eq!(Error::BadInput("x".into()).exit_code(), 2);
        assert_eq!(Error::not_found("product", 1).exit_code(), 4);
        assert_eq!(Error::Busy.exit_code(), 1);
        assert_eq!(Error::Timeout("no answer".into()).exit_code(), 1);
        let refused = Error::Forbidden {
            message: "no".into(),
            refusal: Refusal::NotSignedIn,
        };
        assert_eq!(refused.exit_code(), 7);
    }

    #[test]
    fn forbidden_shape_is_pinned() {
        let e = Error::Forbidden {
            message: "Sam (staff) may not change prices: that needs a manager".into(),
            refusal: Refusal::Role {
                role: crate::model::Role::Staff,
                needs: crate::model::Role::Manager,
                permission: crate::model::Permission::EditPrices,
            },
        };
        assert_eq!(
            serde_json::to_value(e.to_api()).unwrap(),
            json!({
                "code": "forbidden",
                "message": "Sam (staff) may not change prices: that needs a manager",
                "details": {"reason": "role", "role": "staff", "needs": "manager",
                            "permission": "edit_prices"}
            })
        );
    }

    #[test]
    fn storage_errors_do_not_leak_sql() {
        let e = Error::Storage(sqlx::Error::Protocol("SELECT secret FROM x".into()));
        let api = e.to_api();
        assert_eq!(api.message(), "storage failure");
        assert_eq!(serde_json::to_value(&api).unwrap()["details"], json!({}));
    }
}
