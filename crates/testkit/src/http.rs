//! A minimal HTTP client for tests.

use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// A response: status, headers, body.
#[derive(Debug)]
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// Headers.
    pub headers: http::HeaderMap,
    /// Body bytes (as received: still gzip-compressed if the server compressed it).
    pub body: Vec<u8>,
}

impl Reply {
    /// The body as UTF-8 (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// A header value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body, gunzipped when `Content-Encoding: gzip`.
    ///
    /// # Panics
    /// On a corrupt gzip body.
    pub fn decoded(&self) -> Vec<u8> {
        if self.header("content-encoding") == Some("gzip") {
            use std::io::Read;
            let mut out = Vec::new();
            flate2::read::MultiGzDecoder::new(&self.body[..])
                .read_to_end(&mut out)
                .expect("valid gzip body");
            out
        } else {
            self.body.clone()
        }
    }
}

/// `GET url` with extra headers, within `timeout`.
///
/// # Errors
/// Connection failure or timeout, as a message.
pub async fn get(url: &str, headers: &[(&str, &str)], timeout: Duration) -> Result<Reply, String> {
    request("GET", url, headers, Vec::new(), timeout).await
}

/// `METHOD url` with extra headers and a body, within `timeout` (plain HTTP).
///
/// # Errors
/// A bad method, connection failure or timeout, as a message.
pub async fn request(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
    timeout: Duration,
) -> Result<Reply, String> {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<bytes::Bytes>>();
    send(&client, method, url, headers, body, timeout).await
}

/// Sends one request with any `hyper` client (plain or TLS) and collects the reply.
pub(crate) async fn send<C>(
    client: &Client<C, Full<bytes::Bytes>>,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
    timeout: Duration,
) -> Result<Reply, String>
where
    C: hyper_util::client::legacy::connect::Connect + Clone + Send + Sync + 'static,
{
    let method = http::Method::from_bytes(method.as_bytes()).map_err(|e| e.to_string())?;
    let mut req = http::Request::builder().method(method.clone()).uri(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req
        .body(Full::new(bytes::Bytes::from(body)))
        .map_err(|e| e.to_string())?;
    let fut = async {
        let resp = client
            .request(req)
            .await
            .map_err(|e| format!("{method} {url}: {e}"))?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("{method} {url} body: {e}"))?
            .to_bytes()
            .to_vec();
        Ok(Reply {
            status,
            headers,
            body,
        })
    };
    tokio::time::timeout(timeout, fut)
        .await
        .map_err(|_| format!("{method} {url}: timed out after {timeout:?}"))?
}

/// An `Authorization: Basic …` header value for `user` and `password`.
pub fn basic_auth(user: &str, password: &str) -> String {
    const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let b = format!("{user}:{password}").into_bytes();
    let mut out = String::from("Basic ");
    for c in b.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            out.push(if i <= c.len() {
                T[((n >> (18 - 6 * i)) & 63) as usize] as char
            } else {
                '='
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn basic_auth_matches_known_encodings() {
        // RFC 7617's example, and padding cases.
        assert_eq!(
            super::basic_auth("Aladdin", "open sesame"),
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
        assert_eq!(super::basic_auth("scraper", "pw"), "Basic c2NyYXBlcjpwdw==");
        assert_eq!(super::basic_auth("a", "b"), "Basic YTpi");
    }
}
