//! Startup time, memory and list throughput of synthesized worlds.
//!
//! `cargo run --release -p kubestate-sim --example bench -- small medium large xl`
//!
//! The server runs on a current-thread tokio runtime (one core); the client is a plain
//! blocking socket on another thread that reads and discards the bytes.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Instant;

use kubestate_sim::{Sim, SimConfig, SynthSpec, WorldSource};

fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// GET `path`, read everything; returns (status line, bytes of the response).
fn fetch(addr: SocketAddr, path: &str) -> (String, u64) {
    let mut s = TcpStream::connect(addr).expect("connect");
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .expect("write");
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    let mut head = Vec::new();
    loop {
        let n = s.read(&mut buf).expect("read");
        if n == 0 {
            break;
        }
        if head.len() < 64 {
            head.extend_from_slice(&buf[..n.min(64)]);
        }
        total += n as u64;
    }
    let status = String::from_utf8_lossy(&head)
        .lines()
        .next()
        .unwrap_or("")
        .to_string();
    (status, total)
}

/// GET `path` and read until `marker` appears; returns (bytes, seconds until then).
fn fetch_until(addr: SocketAddr, path: &str, marker: &[u8]) -> (u64, f64) {
    let t = Instant::now();
    let mut s = TcpStream::connect(addr).expect("connect");
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .expect("write");
    let mut buf = vec![0u8; 1 << 20];
    let mut tail: Vec<u8> = Vec::new();
    let mut total = 0u64;
    loop {
        let n = s.read(&mut buf).expect("read");
        if n == 0 {
            return (total, t.elapsed().as_secs_f64());
        }
        total += n as u64;
        tail.extend_from_slice(&buf[n.saturating_sub(256)..n]);
        if tail.windows(marker.len()).any(|w| w == marker) {
            return (total, t.elapsed().as_secs_f64());
        }
        let keep = tail.len().saturating_sub(marker.len());
        tail.drain(..keep);
    }
}

/// Page through a list like client-go's pager (limit=500); returns total bytes.
fn paged(addr: SocketAddr, path: &str) -> u64 {
    let mut total = 0;
    let mut cont = String::new();
    loop {
        let mut s = TcpStream::connect(addr).expect("connect");
        let q = if cont.is_empty() {
            format!("{path}?limit=500")
        } else {
            format!("{path}?limit=500&continue={cont}")
        };
        write!(
            s,
            "GET {q} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        .expect("write");
        let mut body = Vec::new();
        s.read_to_end(&mut body).expect("read");
        total += body.len() as u64;
        // The continue token is in the list metadata near the start of the body.
        let head = String::from_utf8_lossy(&body[..body.len().min(2048)]).to_string();
        match head.split("\"continue\":\"").nth(1) {
            Some(rest) => cont = rest.split('"').next().unwrap_or("").to_string(),
            None => return total,
        }
    }
}

fn main() {
    let presets: Vec<String> = {
        let a: Vec<String> = std::env::args().skip(1).collect();
        if a.is_empty() {
            vec!["small".into(), "medium".into()]
        } else {
            a
        }
    };
    println!("| preset | pods | objects | build s | RSS MiB | serialized MiB | pods list MiB | list MB/s (1 core) | paged limit=500 MB/s | watch-list MB/s |");
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for p in presets {
        let Some(spec) = SynthSpec::preset(&p) else {
            eprintln!("unknown preset {p}");
            continue;
        };
        measure(&p, &spec);
    }
}

/// Builds a world of `spec`, measures it and prints one table row named `p`.
fn measure(p: &str, spec: &SynthSpec) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let rss0 = rss_bytes();
    let t = Instant::now();
    let sim = rt
        .block_on(Sim::start(SimConfig {
            world: WorldSource::Synthesize(spec.clone()),
            ..SimConfig::default()
        }))
        .expect("start");
    let build = t.elapsed().as_secs_f64();
    let snap = sim.snapshot();
    let serialized: u64 = snap.objects.iter().map(|o| o.json.len() as u64).sum();
    let objects = snap.objects.len();
    drop(snap);
    let rss = rss_bytes().saturating_sub(rss0);
    let addr = sim.addr();
    // Serve on this thread's runtime while a client thread measures.
    let client = std::thread::spawn(move || {
        let mut best = 0.0f64;
        let mut bytes = 0;
        for _ in 0..3 {
            let t = Instant::now();
            let (status, n) = fetch(addr, "/api/v1/pods");
            assert!(status.contains("200"), "{status}");
            bytes = n;
            best = best.max(n as f64 / t.elapsed().as_secs_f64());
        }
        let t = Instant::now();
        let pn = paged(addr, "/api/v1/pods");
        let paged_rate = pn as f64 / t.elapsed().as_secs_f64();
        // WatchList: initial events up to the initial-events-end bookmark.
        let (wn, secs) = fetch_until(
            addr,
            "/api/v1/pods?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true",
            b"initial-events-end",
        );
        let watch_rate = wn as f64 / secs.max(1e-6);
        (bytes, best, paged_rate, watch_rate)
    });
    let (bytes, best, paged_rate, watch_rate) = rt.block_on(async {
        loop {
            if client.is_finished() {
                return client.join().expect("client");
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    });
    println!(
        "| {p} | {} | {objects} | {build:.2} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} |",
        spec.pods,
        rss as f64 / 1048576.0,
        serialized as f64 / 1048576.0,
        bytes as f64 / 1048576.0,
        best / 1e6,
        paged_rate / 1e6,
        watch_rate / 1e6,
    );
    rt.block_on(sim.shutdown());
}

#[cfg(test)]
mod tests {
    /// The example runs (`[[example]] test = true`) on a small world.
    #[test]
    fn measures_a_small_world() {
        super::measure("test", &kubestate_sim::SynthSpec::for_pods(60));
    }
}
