//! Errors of one list or watch request.

use std::time::Duration;

/// Why a list or watch request failed. Every error is retried by [`crate::run`]; the variant
/// decides how.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The API server answered with a failure `Status`.
    #[error("API server answered {code} {reason}: {message}")]
    Api {
        /// HTTP status code (410 means the resourceVersion is too old).
        code: u16,
        /// The `Status` reason (`Expired`, `TooManyRequests`…).
        reason: String,
        /// The `Status` message.
        message: String,
        /// `Retry-After`, if the server sent one.
        retry_after: Option<Duration>,
    },
    /// The request could not be sent or the connection broke.
    #[error("request to the API server failed")]
    Transport(#[source] kube::Error),
    /// Reading the response body failed midway.
    #[error("reading the response body failed: {0}")]
    Body(String),
    /// The response was not what the protocol promises (bad JSON envelope, cut stream).
    #[error("malformed response: {0}")]
    Protocol(String),
}

impl Error {
    /// Whether the error means our resourceVersion or continue token is no longer served.
    pub fn is_gone(&self) -> bool {
        matches!(self, Error::Api { code: 410, .. })
    }

    /// The HTTP code, for API errors.
    pub fn code(&self) -> Option<u16> {
        match self {
            Error::Api { code, .. } => Some(*code),
            _ => None,
        }
    }
}
