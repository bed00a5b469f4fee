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
    #[error("request to the API server failed: {}", readable(.0))]
    Transport(kube::Error),
    /// Reading the response body failed midway.
    #[error("reading the response body failed: {0}")]
    Body(String),
    /// The response was not what the protocol promises (bad JSON envelope, cut stream).
    #[error("malformed response: {0}")]
    Protocol(String),
    /// One event of a watch stream could not be decoded (not JSON, a corrupt protobuf frame).
    /// The stream is abandoned and the resource relisted, as client-go's reflector does.
    #[error("undecodable watch event: {0}")]
    Undecodable(String),
}

impl Error {
    /// Whether the error means our resourceVersion or continue token is no longer served.
    pub fn is_gone(&self) -> bool {
        matches!(self, Error::Api { code: 410, .. })
    }

    /// Whether the error means the caller lacks permission (401, 403): retrying helps only
    /// once someone changes RBAC.
    pub fn is_forbidden(&self) -> bool {
        matches!(self.code(), Some(401 | 403))
    }

    /// Whether the API server does not serve the resource (404).
    pub fn is_not_found(&self) -> bool {
        matches!(self.code(), Some(404))
    }

    /// The HTTP code, for API errors.
    pub fn code(&self) -> Option<u16> {
        match self {
            Error::Api { code, .. } => Some(*code),
            _ => None,
        }
    }
}

/// A one-line message for a kube client error and its causes (`a: b: c`), never a debug dump.
pub fn readable(e: &kube::Error) -> String {
    // kube's own Display of API errors appends the Rust debug form of the response.
    if let kube::Error::Api(r) = e {
        return format!("API server answered {} {}: {}", r.code, r.reason, r.message);
    }
    let mut out = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// API errors print as one readable line, never as the Rust debug form kube's own
    /// `Display` appends (`… (Status { status: Some(Failure), … })`).
    #[test]
    fn api_errors_read_as_messages() {
        let status = kube::core::Status::failure(
            "pods is forbidden: User \"x\" cannot list resource \"pods\"",
            "Forbidden",
        )
        .with_code(403);
        let e = kube::Error::Api(Box::new(status));
        let text = readable(&e);
        assert_eq!(
            text,
            "API server answered 403 Forbidden: pods is forbidden: User \"x\" cannot list resource \"pods\""
        );
        let wrapped = Error::Transport(e).to_string();
        assert!(
            !wrapped.contains("Status {") && !wrapped.contains("Some("),
            "{wrapped}"
        );
        assert!(wrapped.contains("403 Forbidden"), "{wrapped}");
    }
}
