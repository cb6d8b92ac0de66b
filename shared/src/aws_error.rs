//! How the DynamoDB and SQS adapters read an SDK error: by code only, never the service's
//! message (it may quote attribute values, i.e. personal data).

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

/// The service's error code, for the few codes an adapter handles itself.
pub(crate) fn code<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> Option<&str> {
    match err {
        SdkError::ServiceError(e) => e.err().code(),
        _ => None,
    }
}

/// A failed call: wrong in itself (`Invalid`) or worth retrying later (`Unavailable`).
pub(crate) enum Failure {
    Invalid(String),
    Unavailable(String),
}

pub(crate) fn classify<E: ProvideErrorMetadata, R>(
    service: &str,
    op: &str,
    err: &SdkError<E, R>,
) -> Failure {
    match err {
        SdkError::ServiceError(e) => {
            let code = e.err().code().unwrap_or("unknown service error");
            match code {
                "ValidationException" | "SerializationException" => {
                    Failure::Invalid(format!("{service} {op}: {code}"))
                }
                _ => Failure::Unavailable(format!("{service} {op}: {code}")),
            }
        }
        SdkError::ConstructionFailure(_) => {
            Failure::Invalid(format!("{service} {op}: cannot build request"))
        }
        SdkError::TimeoutError(_) => Failure::Unavailable(format!("{service} {op}: timeout")),
        SdkError::DispatchFailure(_) => {
            Failure::Unavailable(format!("{service} {op}: cannot reach the service"))
        }
        SdkError::ResponseError(_) => {
            Failure::Unavailable(format!("{service} {op}: unreadable response"))
        }
        _ => Failure::Unavailable(format!("{service} {op}: request failed")),
    }
}
