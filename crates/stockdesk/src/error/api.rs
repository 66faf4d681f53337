//! `ApiError`: how an error crosses to the UI and the CLI — `{code, message, details}` with one
//! details type per code.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Error, ErrorCode, FieldError};
use crate::model::{BackupProblem, ConflictReport, Inconsistency, Refusal, VerifyReport};

/// The shape every error takes when it crosses to the UI or the CLI:
/// `{"code": …, "message": …, "details": …}`, with `details` typed by `code`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum ApiError {
    NotFound {
        message: String,
        details: NotFoundDetails,
    },
    Validation {
        message: String,
        details: ValidationDetails,
    },
    BadInput {
        message: String,
        details: NoDetails,
    },
    Conflict {
        message: String,
        details: Box<ConflictReport>,
    },
    InsufficientStock {
        message: String,
        details: InsufficientStockDetails,
    },
    ReservationExpired {
        message: String,
        details: ReservationExpiredDetails,
    },
    BeyondAllotment {
        message: String,
        details: BeyondAllotmentDetails,
    },
    InvalidState {
        message: String,
        details: InvalidStateDetails,
    },
    Busy {
        message: String,
        details: NoDetails,
    },
    Timeout {
        message: String,
        details: NoDetails,
    },
    Unreachable {
        message: String,
        details: UnreachableDetails,
    },
    Forbidden {
        message: String,
        details: Refusal,
    },
    Inconsistent {
        message: String,
        details: InconsistentDetails,
    },
    Storage {
        message: String,
        details: NoDetails,
    },
    Migration {
        message: String,
        details: NoDetails,
    },
    Io {
        message: String,
        details: NoDetails,
    },
    BlobsInconsistent {
        message: String,
        details: Box<VerifyReport>,
    },
    Backup {
        message: String,
        details: BackupProblem,
    },
    Internal {
        message: String,
        details: NoDetails,
    },
}

impl ApiError {
    pub fn code(&self) -> ErrorCode {
        match self {
            ApiError::NotFound { .. } => ErrorCode::NotFound,
            ApiError::Validation { .. } => ErrorCode::Validation,
            ApiError::BadInput { .. } => ErrorCode::BadInput,
            ApiError::Conflict { .. } => ErrorCode::Conflict,
            ApiError::InsufficientStock { .. } => ErrorCode::InsufficientStock,
            ApiError::ReservationExpired { .. } => ErrorCode::ReservationExpired,
            ApiError::BeyondAllotment { .. } => ErrorCode::BeyondAllotment,
            ApiError::InvalidState { .. } => ErrorCode::InvalidState,
            ApiError::Busy { .. } => ErrorCode::Busy,
            ApiError::Timeout { .. } => ErrorCode::Timeout,
            ApiError::Unreachable { .. } => ErrorCode::Unreachable,
            ApiError::Forbidden { .. } => ErrorCode::Forbidden,
            ApiError::Inconsistent { .. } => ErrorCode::Inconsistent,
            ApiError::Storage { .. } => ErrorCode::Storage,
            ApiError::Migration { .. } => ErrorCode::Migration,
            ApiError::Io { .. } => ErrorCode::Io,
            ApiError::BlobsInconsistent { .. } => ErrorCode::BlobsInconsistent,
            ApiError::Backup { .. } => ErrorCode::Backup,
            ApiError::Internal { .. } => ErrorCode::Internal,
        }
    }

    pub fn message(&self) -> &str {
        match self {
            ApiError::NotFound { message, .. }
            | ApiError::Validation { message, .. }
            | ApiError::BadInput { message, .. }
            | ApiError::Conflict { message, .. }
            | ApiError::InsufficientStock { message, .. }
            | ApiError::ReservationExpired { message, .. }
            | ApiError::BeyondAllotment { message, .. }
            | ApiError::InvalidState { message, .. }
            | ApiError::Busy { message, .. }
            | ApiError::Timeout { message, .. }
            | ApiError::Unreachable { message, .. }
            | ApiError::Forbidden { message, .. }
            | ApiError::Inconsistent { message, .. }
            | ApiError::Storage { message, .. }
            | ApiError::Migration { message, .. }
            | ApiError::Io { message, .. }
            | ApiError::BlobsInconsistent { message, .. }
            | ApiError::Backup { message, .. }
            | ApiError::Internal { message, .. } => message,
        }
    }
}

/// Details of codes that have none: `{}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct NoDetails {}

/// Which database could not be reached (its URL with the password hidden).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct UnreachableDetails {
    pub database: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct NotFoundDetails {
    pub entity: String,
    pub id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct ValidationDetails {
    /// The first broken rule's field and reason (`errors` has them all).
    pub field: String,
    pub reason: String,
    pub errors: Vec<FieldError>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct InsufficientStockDetails {
    pub variant_id: Uuid,
    pub requested: i64,
    pub available: i64,
}

/// What a till asked for offline, and what it holds of the variant for itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct BeyondAllotmentDetails {
    pub variant_id: Uuid,
    pub requested: i64,
    pub allotted: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct ReservationExpiredDetails {
    pub order_id: Uuid,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct InvalidStateDetails {
    pub entity: String,
    pub id: Uuid,
    pub state: String,
    pub action: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct InconsistentDetails {
    pub inconsistencies: Vec<Inconsistency>,
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        e.to_api()
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code(), self.message())
    }
}

impl std::error::Error for ApiError {}
