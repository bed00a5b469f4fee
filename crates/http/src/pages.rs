//! The seam for pages mounted on the main server next to `/metrics` (the live explorer).

use std::future::Future;
use std::pin::Pin;

use bytes::Bytes;
use http::{header, HeaderValue, Request, Response, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};

/// A response body of the main server: streamed, fallible with an I/O error.
pub type Body = BoxBody<Bytes, std::io::Error>;

/// A complete response with a fixed body.
pub fn full(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<Bytes>,
) -> Response<Body> {
    let mut r = Response::new(
        Full::new(body.into())
            .map_err(|never| match never {})
            .boxed(),
    );
    *r.status_mut() = status;
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

/// Pages served on the main port beside `/metrics`. They sit behind the same TLS, basic auth,
/// extra headers and `--auth-filter` as `/metrics` (the filter is asked about the page's own
/// path and verb). Paths the pages do not claim keep their usual answer.
pub trait Pages: Send + Sync + 'static {
    /// Whether `path` is one of these pages (`/` included, if they take over the landing page).
    fn serves(&self, path: &str) -> bool;
    /// Answers a request whose path [`Pages::serves`].
    fn respond(&self, req: Request<()>) -> Pin<Box<dyn Future<Output = Response<Body>> + Send>>;
}
