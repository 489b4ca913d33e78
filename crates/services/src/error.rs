//! The errors a service returns, and how each maps to a gRPC status (DESIGN §4). Store and broker error
//! text is logged, never sent: the client sees what it can act on.

use std::collections::HashMap;

use chrono::NaiveDate;
use oneledger_domain::{DomainError, Rule};
use oneledger_proto::convert::{WireError, bounded};
use oneledger_store::{AppendError, StoreError};
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// A field is missing or malformed: `INVALID_ARGUMENT` with a BadRequest naming the field.
    #[error("invalid {field}: {reason}")]
    Invalid {
        /// The field, as the request names it.
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// The domain refused the command: `FAILED_PRECONDITION` (stage and rule), `INVALID_ARGUMENT` or
    /// `PERMISSION_DENIED`, by the refusal's kind.
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// Another command changed the item first: `ABORTED`, with the current version.
    #[error("version conflict: the item is at version {current}, the command expected {expected}")]
    Conflict {
        /// What the command expected.
        expected: String,
        /// The item's current version.
        current: u64,
    },
    /// No such item: `NOT_FOUND`.
    #[error("{0} not found")]
    NotFound(String),
    /// Missing or bad credentials: `UNAUTHENTICATED`.
    #[error("{0}")]
    Unauthenticated(String),
    /// The caller may not do this: `PERMISSION_DENIED`.
    #[error("{0}")]
    PermissionDenied(String),
    /// The request id was used for another command: `ALREADY_EXISTS`.
    #[error("{0}")]
    AlreadyExists(String),
    /// The store is unreachable: `UNAVAILABLE` (retry with the same request id).
    #[error("store unavailable")]
    Unavailable(#[source] StoreError),
    /// Stored data could not be read: `INTERNAL` (a bug or tampering, never bad input).
    #[error("internal error: {0}")]
    Internal(String),
}

impl ServiceError {
    /// An invalid field.
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        ServiceError::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

impl From<WireError> for ServiceError {
    fn from(e: WireError) -> Self {
        ServiceError::Invalid {
            field: e.field,
            reason: e.reason,
        }
    }
}

impl From<oneledger_auth::AuthError> for ServiceError {
    fn from(e: oneledger_auth::AuthError) -> Self {
        match e {
            oneledger_auth::AuthError::Unauthenticated(m) => ServiceError::Unauthenticated(m),
            oneledger_auth::AuthError::PermissionDenied(m) => ServiceError::PermissionDenied(m),
        }
    }
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Corrupt(what) => ServiceError::Internal(what),
            other => ServiceError::Unavailable(other),
        }
    }
}

impl From<AppendError> for ServiceError {
    fn from(e: AppendError) -> Self {
        match e {
            AppendError::WrongExpectedVersion {
                expected, current, ..
            } => ServiceError::Conflict {
                expected: expected.to_string(),
                current,
            },
            AppendError::RequestIdReused { request_id } => ServiceError::AlreadyExists(format!(
                "request_id {request_id} was already used for a different command"
            )),
            AppendError::DuplicateEventId { event_id } => {
                ServiceError::Internal(format!("duplicate event id {event_id}"))
            }
            AppendError::Invalid { field, reason } => ServiceError::Internal(format!(
                "service built an invalid append: {field}: {reason}"
            )),
            AppendError::Store(e) => e.into(),
        }
    }
}

impl From<ServiceError> for Status {
    fn from(e: ServiceError) -> Status {
        match e {
            ServiceError::Invalid { field, reason } => WireError { field, reason }.into(),
            ServiceError::Domain(DomainError::Invalid { field, reason }) => WireError {
                field: field.to_owned(),
                reason,
            }
            .into(),
            ServiceError::Domain(DomainError::Refused {
                rule,
                stage,
                reason,
                deadline,
            }) => refused(rule, stage, reason, deadline),
            ServiceError::Domain(e @ DomainError::NotAuthorized { .. }) => {
                Status::permission_denied(bounded(&e.to_string()))
            }
            e @ ServiceError::Conflict { .. } => Status::aborted(e.to_string()),
            // Each may quote what the caller sent: a bounded prefix only.
            ServiceError::NotFound(what) => {
                Status::not_found(bounded(&format!("{what} not found")))
            }
            ServiceError::Unauthenticated(m) => Status::unauthenticated(bounded(&m)),
            ServiceError::PermissionDenied(m) => Status::permission_denied(bounded(&m)),
            ServiceError::AlreadyExists(m) => Status::already_exists(bounded(&m)),
            ServiceError::Unavailable(e) => {
                tracing::error!(error = %e, "store unavailable");
                Status::unavailable(
                    "the event store is unavailable; retry with the same request_id",
                )
            }
            ServiceError::Internal(m) => {
                tracing::error!(error = %m, "internal error");
                Status::internal("internal error; it has been logged")
            }
        }
    }
}

/// `FAILED_PRECONDITION` for a refusal: a PreconditionFailure (type = the rule's citation, subject = the
/// stage) and an ErrorInfo whose metadata a client reads without parsing text: `rule`, `stage` and, for a
/// missed window or limit, `deadline` (the ISO date it closed).
fn refused(rule: Rule, stage: String, reason: String, deadline: Option<NaiveDate>) -> Status {
    let reason = bounded(&reason);
    let message = format!("{reason} (stage: {stage}; rule: {rule})");
    let mut metadata = HashMap::from([
        ("rule".to_owned(), rule.citation().to_owned()),
        ("stage".to_owned(), stage.clone()),
    ]);
    if let Some(deadline) = deadline {
        metadata.insert("deadline".to_owned(), deadline.to_string());
    }
    let mut details =
        ErrorDetails::with_precondition_failure_violation(rule.citation(), stage, reason);
    details.set_error_info(REFUSED_BY_RULE, ERROR_DOMAIN, metadata);
    Status::with_error_details(Code::FailedPrecondition, message, details)
}

/// ErrorInfo reason of a domain refusal.
pub const REFUSED_BY_RULE: &str = "REFUSED_BY_RULE";
/// ErrorInfo domain of every oneledger error.
pub const ERROR_DOMAIN: &str = "oneledger";
