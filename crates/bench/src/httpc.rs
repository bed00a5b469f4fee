//! A small blocking HTTP/1.1 client for scraping: keep-alive connections, `Content-Length` and
//! chunked bodies, the body kept as received (gzip is not decoded on the timed path).
//!
//! A dedicated client keeps the measurement free of async-runtime scheduling: each scraper is
//! one OS thread with one connection, as Prometheus holds one connection per target.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};

/// One response.
#[derive(Debug, Default)]
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// `Content-Type`.
    pub content_type: String,
    /// `Content-Encoding`.
    pub content_encoding: String,
    /// The body exactly as received (compressed if the server compressed it).
    pub body: Vec<u8>,
    /// From writing the request to the last body byte.
    pub elapsed: Duration,
    /// From writing the request to the first byte of the status line.
    pub first_byte: Duration,
}

impl Reply {
    /// The body, gunzipped when it was gzip-encoded.
    pub fn decoded(&self) -> anyhow::Result<Vec<u8>> {
        if self.content_encoding.eq_ignore_ascii_case("gzip") {
            let mut out = Vec::with_capacity(self.body.len() * 8);
            flate2::read::MultiGzDecoder::new(self.body.as_slice())
                .read_to_end(&mut out)
                .context("gunzipping the body")?;
            Ok(out)
        } else {
            Ok(self.body.clone())
        }
    }
}

/// A keep-alive connection to one server; reconnects when the server closed it.
pub struct Conn {
    addr: SocketAddr,
    stream: Option<BufReader<TcpStream>>,
    timeout: Duration,
}

impl Conn {
    /// A connection to `addr` (opened lazily).
    pub fn new(addr: SocketAddr, timeout: Duration) -> Conn {
        Conn {
            addr,
            stream: None,
            timeout,
        }
    }

    fn connect(&mut self) -> anyhow::Result<&mut BufReader<TcpStream>> {
        if self.stream.is_none() {
            let s = TcpStream::connect_timeout(&self.addr, self.timeout)
                .with_context(|| format!("connecting to {}", self.addr))?;
            s.set_nodelay(true).ok();
            s.set_read_timeout(Some(self.timeout)).ok();
            s.set_write_timeout(Some(self.timeout)).ok();
            self.stream = Some(BufReader::with_capacity(256 * 1024, s));
        }
        self.stream
            .as_mut()
            .ok_or_else(|| anyhow::anyhow!("no connection"))
    }

    /// `GET path` with optional `Accept-Encoding: gzip`. Retries once on a stale keep-alive
    /// connection.
    pub fn get(&mut self, path: &str, gzip: bool) -> anyhow::Result<Reply> {
        self.get_accept(path, "text/plain", gzip)
    }

    /// `GET path` with this `Accept` header.
    pub fn get_accept(&mut self, path: &str, accept: &str, gzip: bool) -> anyhow::Result<Reply> {
        let reused = self.stream.is_some();
        match self.get_once(path, accept, gzip) {
            Ok(r) => Ok(r),
            // A kept-alive connection the server had closed: try once on a fresh one.
            Err(_) if reused && self.stream.is_none() => self.get_once(path, accept, gzip),
            Err(e) => Err(e),
        }
    }

    fn get_once(&mut self, path: &str, accept: &str, gzip: bool) -> anyhow::Result<Reply> {
        let addr = self.addr;
        let req = format!(
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: kubestate-bench\r\nAccept: {accept}\r\n{}Connection: keep-alive\r\n\r\n",
            if gzip { "Accept-Encoding: gzip\r\n" } else { "" }
        );
        let r = self.connect()?;
        let t0 = Instant::now();
        let res = (|| -> anyhow::Result<(Reply, bool)> {
            r.get_mut()
                .write_all(req.as_bytes())
                .context("writing the request")?;
            read_response(r, t0)
        })();
        match res {
            Ok((reply, keep)) => {
                if !keep {
                    self.stream = None;
                }
                Ok(reply)
            }
            Err(e) => {
                self.stream = None;
                Err(e.context(format!("GET http://{addr}{path}")))
            }
        }
    }
}

fn read_line(r: &mut BufReader<TcpStream>, line: &mut String) -> anyhow::Result<()> {
    line.clear();
    let n = r.read_line(line).context("reading from the server")?;
    if n == 0 {
        bail!("connection closed by the server");
    }
    Ok(())
}

fn read_response(r: &mut BufReader<TcpStream>, t0: Instant) -> anyhow::Result<(Reply, bool)> {
    let mut line = String::new();
    read_line(r, &mut line)?;
    let first_byte = t0.elapsed();
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("bad status line {line:?}"))?;
    let mut reply = Reply {
        status,
        first_byte,
        ..Reply::default()
    };
    let mut length: Option<usize> = None;
    let mut chunked = false;
    let mut keep = !line.starts_with("HTTP/1.0");
    loop {
        read_line(r, &mut line)?;
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        let Some((k, v)) = l.split_once(':') else {
            continue;
        };
        let v = v.trim();
        match k.to_ascii_lowercase().as_str() {
            "content-length" => length = v.parse().ok(),
            "transfer-encoding" => chunked = v.to_ascii_lowercase().contains("chunked"),
            "content-type" => reply.content_type = v.to_string(),
            "content-encoding" => reply.content_encoding = v.to_string(),
            "connection" => keep = !v.eq_ignore_ascii_case("close"),
            _ => {}
        }
    }
    if chunked {
        loop {
            read_line(r, &mut line)?;
            let size_text = line.trim().split(';').next().unwrap_or("");
            let size = usize::from_str_radix(size_text, 16)
                .with_context(|| format!("bad chunk size {line:?}"))?;
            if size == 0 {
                // Trailers until the empty line.
                loop {
                    read_line(r, &mut line)?;
                    if line.trim_end().is_empty() {
                        break;
                    }
                }
                break;
            }
            let start = reply.body.len();
            reply.body.resize(start + size, 0);
            r.read_exact(&mut reply.body[start..])
                .context("reading a chunk")?;
            read_line(r, &mut line)?;
        }
    } else if let Some(n) = length {
        reply.body.resize(n, 0);
        r.read_exact(&mut reply.body).context("reading the body")?;
    } else {
        r.read_to_end(&mut reply.body).context("reading the body")?;
        keep = false;
    }
    reply.elapsed = t0.elapsed();
    Ok((reply, keep))
}

/// One-shot GET on a fresh connection.
pub fn get(addr: SocketAddr, path: &str, timeout: Duration) -> anyhow::Result<Reply> {
    Conn::new(addr, timeout).get(path, false)
}
