//! The one error type of the core. Every variant has a stable machine `code` that the UI and the
//! CLI's exit codes branch on; messages are for people and may change, codes never do.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use uuid::Uuid;

pub use crate::model::FieldError;
use crate::model::{ConflictReport, Inconsistency, VerifyReport};

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
    pub fn code(&self) -> &'static str {
        match self {
            Error::NotFound { .. } => "not_found",
            Error::Validation(_) => "validation",
            Error::BadInput(_) => "bad_input",
            Error::Conflict(_) => "conflict",
            Error::InsufficientStock { .. } => "insufficient_stock",
            Error::ReservationExpired { .. } => "reservation_expired",
            Error::InvalidState { .. } => "invalid_state",
            Error::Busy => "busy",
            Error::Inconsistent(_) => "inconsistent",
            Error::Storage(_) => "storage",
            Error::Migration(_) => "migration",
            Error::Io(_) => "io",
            Error::BlobsInconsistent(_) => "blobs_inconsistent",
        }
    }

    /// Structured facts for the UI (field errors, conflict report, available quantity).
    pub fn details(&self) -> Value {
        match self {
            Error::NotFound { entity, id } => json!({ "entity": entity, "id": id }),
            Error::Validation(errors) => json!({
                "field": errors[0].field,
                "reason": errors[0].reason,
                "errors": errors,
            }),
            Error::Conflict(report) => serde_json::to_value(report).unwrap_or(Value::Null),
            Error::BlobsInconsistent(report) => serde_json::to_value(report).unwrap_or(Value::Null),
            Error::InsufficientStock {
                variant_id,
                requested,
                available,
            } => {
                json!({ "variant_id": variant_id, "requested": requested, "available": available })
            }
            Error::ReservationExpired { order_id } => json!({ "order_id": order_id }),
            Error::Inconsistent(found) => json!({ "inconsistencies": found }),
            Error::InvalidState {
                entity,
                id,
                state,
                action,
            } => json!({ "entity": entity, "id": id, "state": state, "action": action }),
            // Database internals stay in the log, never in the UI.
            Error::BadInput(_)
            | Error::Busy
            | Error::Storage(_)
            | Error::Migration(_)
            | Error::Io(_) => json!({}),
        }
    }

    /// The process exit code the CLI uses for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Validation(_) | Error::BadInput(_) => 2,
            Error::Conflict(_) => 3,
            Error::NotFound { .. } => 4,
            Error::InsufficientStock { .. } | Error::ReservationExpired { .. } => 5,
            _ => 1,
        }
    }

    pub fn to_api(&self) -> ApiError {
        if let Error::Storage(e) = self {
            tracing::error!(error = %e, "storage failure");
        }
        ApiError {
            code: self.code().to_string(),
            message: self.to_string(),
            details: self.details(),
        }
    }
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        if crate::store::is_transient(&e) {
            return Error::Busy;
        }
        Error::Storage(e)
    }
}

/// The shape every error takes when it crosses to the UI or the CLI: `{code, message, details}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct ApiError {
    pub code: String,
    pub message: String,
    pub details: Value,
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        e.to_api()
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for ApiError {}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(v["code"], "insufficient_stock");
        assert_eq!(v["details"]["available"], 1);
        assert_eq!(v.as_object().unwrap().len(), 3);
    }

    #[test]
    fn exit_codes_follow_the_contract() {
        assert_eq!(Error::validation("a", "b").exit_code(), 2);
        assert_eq!(Error::BadInput("x".into()).exit_code(), 2);
        assert_eq!(Error::not_found("product", 1).exit_code(), 4);
        assert_eq!(Error::Busy.exit_code(), 1);
    }

    #[test]
    fn storage_errors_do_not_leak_sql() {
        let e = Error::Storage(sqlx::Error::Protocol("SELECT secret FROM x".into()));
        let api = e.to_api();
        assert_eq!(api.message, "storage failure");
        assert_eq!(api.details, json!({}));
    }
}
