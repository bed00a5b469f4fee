//! A tiny raw HTTP/1.1 client for the sim's own tests (no kube, no hyper client): one
//! request per connection, Content-Length and chunked bodies, and an incremental reader for
//! watch streams.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// A complete response.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// False when the connection ended before the announced body was complete.
    pub complete: bool,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body[..self.body.len().min(300)])
            )
        })
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

async fn send_request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> BufReader<TcpStream> {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some(b) = body {
        req.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            b.len()
        ));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).await.expect("write");
    if let Some(b) = body {
        s.write_all(b).await.expect("write body");
    }
    BufReader::new(s)
}

async fn read_head(r: &mut BufReader<TcpStream>) -> (u16, Vec<(String, String)>) {
    let mut line = String::new();
    r.read_line(&mut line).await.expect("status line");
    let status: u16 = line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {line:?}"));
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        r.read_line(&mut h).await.expect("header");
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    (status, headers)
}

/// Send a request and read the whole response.
pub async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> Resp {
    let mut r = send_request(addr, method, path, headers, body).await;
    let (status, headers) = read_head(&mut r).await;
    let h = |n: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(n))
            .map(|(_, v)| v.clone())
    };
    let mut body = Vec::new();
    let mut complete = true;
    if h("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        let mut c = Chunked;
        loop {
            match c.next_chunk(&mut r).await {
                Ok(Some(b)) => body.extend_from_slice(&b),
                Ok(None) => break,
                Err(_) => {
                    complete = false;
                    break;
                }
            }
        }
    } else if let Some(len) = h("content-length").and_then(|v| v.parse::<usize>().ok()) {
        body.resize(len, 0);
        let mut got = 0;
        while got < len {
            match r.read(&mut body[got..]).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got += n,
            }
        }
        complete = got == len;
        body.truncate(got);
    } else {
        let _ = r.read_to_end(&mut body).await;
    }
    Resp {
        status,
        headers,
        body,
        complete,
    }
}

pub async fn get(addr: SocketAddr, path: &str) -> Resp {
    request(addr, "GET", path, &[], None).await
}

pub async fn post_json(addr: SocketAddr, path: &str, v: &Value) -> Resp {
    let b = serde_json::to_vec(v).expect("json");
    request(addr, "POST", path, &[], Some(&b)).await
}

#[derive(Default)]
struct Chunked;

impl Chunked {
    /// Next chunk; Ok(None) at the terminating chunk; Err on a cut connection.
    async fn next_chunk(
        &mut self,
        r: &mut BufReader<TcpStream>,
    ) -> std::io::Result<Option<Vec<u8>>> {
        let mut line = String::new();
        let n = r.read_line(&mut line).await?;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "eof",
            ));
        }
        let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
            .map_err(|_| std::io::Error::other(format!("bad chunk size {line:?}")))?;
        if size == 0 {
            let mut crlf = String::new();
            let _ = r.read_line(&mut crlf).await;
            return Ok(None);
        }
        let mut buf = vec![0u8; size];
        r.read_exact(&mut buf).await?;
        let mut crlf = [0u8; 2];
        r.read_exact(&mut crlf).await?;
        Ok(Some(buf))
    }
}

/// What the next read of a watch stream produced.
#[derive(Debug)]
pub enum Next {
    Event(Value),
    /// The stream ended cleanly (terminating chunk).
    End,
    /// The connection broke; carries the partial line received, if any.
    Cut(Vec<u8>),
    Timeout,
}

/// An open watch.
pub struct Watch {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    r: BufReader<TcpStream>,
    pending: Vec<u8>,
    ended: bool,
}

impl Watch {
    pub async fn open(addr: SocketAddr, path: &str) -> Watch {
        Watch::open_with(addr, path, &[]).await
    }

    pub async fn open_with(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> Watch {
        let mut r = send_request(addr, "GET", path, headers, None).await;
        let (status, headers) = read_head(&mut r).await;
        Watch {
            status,
            headers,
            r,
            pending: Vec::new(),
            ended: false,
        }
    }

    /// The next event (or end/cut/timeout).
    pub async fn next(&mut self, timeout: Duration) -> Next {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(pos) = self.pending.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.pending.drain(..=pos).collect();
                let v: Value =
                    serde_json::from_slice(&line[..line.len() - 1]).unwrap_or_else(|e| {
                        panic!(
                            "watch line is not JSON ({e}): {}",
                            String::from_utf8_lossy(&line)
                        )
                    });
                return Next::Event(v);
            }
            if self.ended {
                return Next::End;
            }
            let mut c = Chunked;
            match tokio::time::timeout_at(deadline, c.next_chunk(&mut self.r)).await {
                Err(_) => return Next::Timeout,
                Ok(Ok(Some(b))) => self.pending.extend_from_slice(&b),
                Ok(Ok(None)) => {
                    self.ended = true;
                    if self.pending.is_empty() {
                        return Next::End;
                    }
                    return Next::Cut(std::mem::take(&mut self.pending));
                }
                Ok(Err(_)) => return Next::Cut(std::mem::take(&mut self.pending)),
            }
        }
    }

    /// The next length-prefixed frame of a protobuf watch stream (without its 4-byte length);
    /// `None` when the stream ended, broke or stayed silent for `timeout`.
    pub async fn frame(&mut self, timeout: Duration) -> Option<Vec<u8>> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(h) = self.pending.get(..4) {
                let n = u32::from_be_bytes([h[0], h[1], h[2], h[3]]) as usize;
                if self.pending.len() >= 4 + n {
                    let f: Vec<u8> = self.pending.drain(..4 + n).skip(4).collect();
                    return Some(f);
                }
            }
            if self.ended {
                return None;
            }
            let mut c = Chunked;
            match tokio::time::timeout_at(deadline, c.next_chunk(&mut self.r)).await {
                Err(_) => return None,
                Ok(Ok(Some(b))) => self.pending.extend_from_slice(&b),
                Ok(Ok(None)) | Ok(Err(_)) => self.ended = true,
            }
        }
    }

    /// The next chunk of the body as it came, `None` at the end or after `timeout`.
    pub async fn frame_raw(&mut self, timeout: Duration) -> Option<Vec<u8>> {
        let mut c = Chunked;
        match tokio::time::timeout(timeout, c.next_chunk(&mut self.r)).await {
            Ok(Ok(Some(b))) => Some(b),
            _ => None,
        }
    }

    /// The next event, panicking on anything else.
    pub async fn event(&mut self) -> Value {
        match self.next(Duration::from_secs(10)).await {
            Next::Event(v) => v,
            other => panic!("expected a watch event, got {other:?}"),
        }
    }

    /// Events until the stream ends (or 10 s pass).
    pub async fn until_end(&mut self) -> Vec<Value> {
        let mut out = Vec::new();
        loop {
            match self.next(Duration::from_secs(10)).await {
                Next::Event(v) => out.push(v),
                Next::End => return out,
                other => panic!("expected events then a clean end, got {other:?} after {out:?}"),
            }
        }
    }
}

/// A namespaced pod.
pub fn pod(ns: &str, name: &str, labels: Value) -> Value {
    serde_json::json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": ns, "labels": labels},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]},
        "status": {"phase": "Running"}})
}
