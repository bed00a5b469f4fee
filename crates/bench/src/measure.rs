//! One measured run of one exporter against a fresh world: initial sync, steady memory,
//! scrapes, change delay and churn.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use serde::{Deserialize, Serialize};

use crate::exporter::Exporter;
use crate::httpc::{self, Conn};
use crate::procfs::{self, Foreign, RssPoint, Sampler};
use crate::world::{Expect, SimWorld};

/// How a run is measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Params {
    /// Pause between two completeness polls of `/metrics` during the initial sync.
    pub poll_ms: u64,
    /// Idle time after the initial sync before the steady RSS is read.
    #[serde(default = "nan", deserialize_with = "nan_if_null")]
    pub settle_secs: f64,
    /// Sequential scrapes per encoding.
    pub scrapes: usize,
    /// Concurrent scrapers.
    pub concurrency: usize,
    /// Scrapes per concurrent scraper and encoding.
    pub scrapes_per_scraper: usize,
    /// Churn rate (simulator changes per second).
    #[serde(default = "nan", deserialize_with = "nan_if_null")]
    pub churn: f64,
    /// Length of the churn window.
    #[serde(default = "nan", deserialize_with = "nan_if_null")]
    pub churn_secs: f64,
    /// Marker objects whose delay to `/metrics` is measured (idle, and again under churn).
    pub markers: usize,
    /// Give up on an initial sync after this long.
    #[serde(default = "nan", deserialize_with = "nan_if_null")]
    pub sync_timeout_secs: f64,
}

/// Latency and size figures of one series of scrapes.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Latency {
    /// Number of scrapes.
    pub n: usize,
    /// Median seconds to the last byte.
    #[serde(default = "nan", deserialize_with = "nan_if_null")]
    pub p50: f64,
    /// 99th percentile (nearest rank).
    #[serde(default = "nan", deserialize_with = "nan_if_null")]
    pub p99: f64,
    /// Slowest.
    #[serde(default = "nan", deserialize_with = "nan_if_null")]
    pub max: f64,
    /// Median seconds to the first byte.
    #[serde(default = "nan", deserialize_with = "nan_if_null")]
    pub ttfb_p50: f64,
    /// Median body bytes as sent.
    pub bytes: u64,
    /// Wall time of the whole series.
    #[serde(default = "nan", deserialize_with = "nan_if_null")]
    pub wall: f64,
    /// `Content-Encoding` of the replies (empty: identity).
    pub encoding: String,
    /// Exporter CPU seconds per scrape (the server's own cost, free of client and loopback
    /// costs, which share the machine's cores).
    #[serde(default = "nan", deserialize_with = "nan_if_null")]
    pub cpu_per_scrape: f64,
    /// Every latency, in order.
    pub samples: Vec<f64>,
}

/// JSON has no NaN: serde_json writes it as `null`; read `null` (or a missing field) back as
/// NaN.
fn nan_if_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

fn nan() -> f64 {
    f64::NAN
}

/// Nearest-rank percentile of sorted values.
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

impl Latency {
    fn from(replies: &[(f64, f64, u64, String)], wall: f64) -> Latency {
        let mut l: Vec<f64> = replies.iter().map(|r| r.0).collect();
        let samples = l.clone();
        l.sort_by(f64::total_cmp);
        let mut f: Vec<f64> = replies.iter().map(|r| r.1).collect();
        f.sort_by(f64::total_cmp);
        let mut b: Vec<u64> = replies.iter().map(|r| r.2).collect();
        b.sort_unstable();
        Latency {
            n: l.len(),
            p50: percentile(&l, 0.5),
            p99: percentile(&l, 0.99),
            max: l.last().copied().unwrap_or(f64::NAN),
            ttfb_p50: percentile(&f, 0.5),
            bytes: b.get(b.len() / 2).copied().unwrap_or(0),
            wall,
            encoding: replies.first().map(|r| r.3.clone()).unwrap_or_default(),
            cpu_per_scrape: f64::NAN,
            samples,
        }
    }
}

/// Delays from a change in the simulator to its line in `/metrics`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Delay {
    /// Markers measured.
    pub n: usize,
    /// Median seconds.
    #[serde(default = "nan", deserialize_with = "nan_if_null")]
    pub p50: f64,
    /// Slowest.
    #[serde(default = "nan", deserialize_with = "nan_if_null")]
    pub max: f64,
}

/// The churn window.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Churn {
    /// Requested changes per second.
    #[serde(default = "nan", deserialize_with = "nan_if_null")]
    pub rate: f64,
    /// Seconds of churn.
    #[serde(default = "nan", deserialize_with = "nan_if_null")]
    pub seconds: f64,
    /// Simulator changes made.
    pub changes: usize,
    /// Watch events they caused (resourceVersion increments; every one is on a watched kind).
    pub events: u64,
    /// Exporter CPU seconds from the start of churn until it went idle again.
    #[serde(default = "nan", deserialize_with = "nan_if_null")]
    pub cpu: f64,
    /// Seconds from the end of churn until the exporter went idle.
    #[serde(default = "nan", deserialize_with = "nan_if_null")]
    pub drain: f64,
    /// `cpu` per 10,000 events.
    #[serde(default = "nan", deserialize_with = "nan_if_null")]
    pub cpu_per_10k: f64,
    /// Highest sampled RSS during churn.
    pub peak_rss: u64,
    /// Exporter CPU rate when idle (cores), measured during the settle window.
    #[serde(default = "nan", deserialize_with = "nan_if_null")]
    pub idle_cores: f64,
}

/// Everything measured in one run of one exporter.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Run {
    /// `kubestate` or `ksm`.
    pub exporter: String,
    /// 1-based run number.
    pub run: usize,
    /// Load averages before the run.
    pub load_before: [f64; 3],
    /// Load averages after the run.
    pub load_after: [f64; 3],
    /// Cores used by other processes during the initial sync.
    #[serde(default = "nan", deserialize_with = "nan_if_null")]
    pub foreign_cores_sync: f64,
    /// Cores used by other processes during the whole run.
    #[serde(default = "nan", deserialize_with = "nan_if_null")]
    pub foreign_cores_run: f64,
    /// Seconds from process start to the first complete `/metrics`.
    #[serde(default = "nan", deserialize_with = "nan_if_null")]
    pub first_complete: f64,
    /// Seconds from process start to the first complete body of each resource.
    pub complete_by_resource: BTreeMap<String, f64>,
    /// Completeness polls made.
    pub polls: usize,
    /// `VmHWM` when the first complete body arrived.
    pub peak_rss_sync: u64,
    /// Median `VmRSS` over the last third of the settle window.
    pub steady_rss: u64,
    /// CPU seconds of the process when the first complete body arrived.
    #[serde(default = "nan", deserialize_with = "nan_if_null")]
    pub sync_cpu: f64,
    /// Sample lines of a full plain body.
    pub series: usize,
    /// Scrapes one at a time, plain.
    pub seq_plain: Latency,
    /// Scrapes one at a time, gzip.
    pub seq_gzip: Latency,
    /// Concurrent scrapes, plain.
    pub conc_plain: Latency,
    /// Concurrent scrapes, gzip.
    pub conc_gzip: Latency,
    /// Highest sampled RSS while scraping.
    pub peak_rss_scrape: u64,
    /// Sample lines of a gzip body once decompressed (checks that gzip bodies are complete).
    pub series_gzip: usize,
    /// Delay of a change while idle.
    pub delay_idle: Delay,
    /// Delay of a change during churn.
    pub delay_churn: Delay,
    /// The churn window.
    pub churn: Churn,
    /// RSS over the run (thinned to at most ~2,000 points).
    pub rss_timeline: Vec<RssPoint>,
    /// Second (from process start) at which each phase began.
    pub phases: BTreeMap<String, f64>,
    /// Resource responses the simulator answered in protobuf during this run (0 against a
    /// real API server, where the harness cannot count them).
    #[serde(default)]
    pub served_protobuf: u64,
    /// Resource responses the simulator answered in JSON during this run.
    #[serde(default)]
    pub served_json: u64,
}

/// Counts the lines of each counted family in a body.
fn count_lines(body: &[u8], families: &HashMap<&str, usize>, counts: &mut [usize]) -> usize {
    let mut series = 0;
    for line in body.split(|b| *b == b'\n') {
        if line.is_empty() || line[0] == b'#' {
            continue;
        }
        series += 1;
        let end = line
            .iter()
            .position(|b| *b == b'{' || *b == b' ')
            .unwrap_or(line.len());
        if let Ok(name) = std::str::from_utf8(&line[..end]) {
            if let Some(&i) = families.get(name) {
                counts[i] += 1;
            }
        }
    }
    series
}

/// Polls `/metrics?resources=<incomplete ones>` until every resource holds its objects.
fn wait_complete(
    ex: &mut Exporter,
    expect: &[Expect],
    t0: Instant,
    p: &Params,
    run: &mut Run,
) -> anyhow::Result<()> {
    let families: HashMap<&str, usize> = expect
        .iter()
        .enumerate()
        .map(|(i, e)| (e.family.as_str(), i))
        .collect();
    let mut done = vec![false; expect.len()];
    let mut conn = Conn::new(ex.metrics, Duration::from_secs(120));
    let deadline = Duration::from_secs_f64(p.sync_timeout_secs);
    let mut last_report = 0.0;
    loop {
        if t0.elapsed() > deadline {
            let missing: Vec<&str> = expect
                .iter()
                .zip(&done)
                .filter(|(_, d)| !**d)
                .map(|(e, _)| e.resource.as_str())
                .collect();
            bail!(
                "{} did not export every object within {:.0} s (incomplete: {})",
                ex.name,
                p.sync_timeout_secs,
                missing.join(",")
            );
        }
        ex.check_alive()?;
        let wanted: Vec<&str> = expect
            .iter()
            .zip(&done)
            .filter(|(_, d)| !**d)
            .map(|(e, _)| e.resource.as_str())
            .collect();
        let path = format!("/metrics?resources={}", wanted.join(","));
        let reply = conn.get(&path, false);
        // The body is complete when its last byte has arrived; the harness's own counting
        // of its lines comes after and is not the exporter's time.
        let now = t0.elapsed().as_secs_f64();
        match reply {
            Ok(r) if r.status == 200 => {
                run.polls += 1;
                let mut counts = vec![0; expect.len()];
                count_lines(&r.body, &families, &mut counts);
                for (i, e) in expect.iter().enumerate() {
                    if !done[i] && counts[i] >= e.count {
                        done[i] = true;
                        run.complete_by_resource.insert(e.resource.clone(), now);
                    }
                }
                if done.iter().all(|d| *d) {
                    run.first_complete = now;
                    return Ok(());
                }
                if now - last_report >= 10.0 {
                    last_report = now;
                    let missing: Vec<String> = expect
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| !done[*i])
                        .map(|(i, e)| format!("{} {}/{}", e.resource, counts[i], e.count))
                        .collect();
                    eprintln!(
                        "  {:.0} s: {} still incomplete: {}",
                        now,
                        ex.name,
                        missing.join(", ")
                    );
                }
            }
            // Not listening yet, or not ready: poll again.
            Ok(_) | Err(_) => {}
        }
        std::thread::sleep(Duration::from_millis(p.poll_ms));
    }
}

/// `n` scrapes of `/metrics` back to back on `c`: seconds to the last and to the first body
/// byte, body bytes and `Content-Encoding` of each.
fn scrapes(c: &mut Conn, n: usize, gzip: bool) -> anyhow::Result<Vec<(f64, f64, u64, String)>> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let r = c.get("/metrics", gzip)?;
        if r.status != 200 {
            bail!("/metrics answered {}", r.status);
        }
        out.push((
            r.elapsed.as_secs_f64(),
            r.first_byte.as_secs_f64(),
            r.body.len() as u64,
            r.content_encoding,
        ));
    }
    Ok(out)
}

/// Sequential scrapes of `/metrics`.
fn scrape_seq(addr: SocketAddr, pid: u32, n: usize, gzip: bool) -> anyhow::Result<Latency> {
    let mut c = Conn::new(addr, Duration::from_secs(300));
    // One warm-up scrape (connection, first-use allocations).
    c.get("/metrics", gzip)?;
    let cpu0 = procfs::cpu_seconds(pid)?;
    let t0 = Instant::now();
    let out = scrapes(&mut c, n, gzip)?;
    let mut l = Latency::from(&out, t0.elapsed().as_secs_f64());
    l.cpu_per_scrape = (procfs::cpu_seconds(pid)? - cpu0) / n.max(1) as f64;
    Ok(l)
}

/// `k` scrapers at once, each scraping `n` times back to back.
fn scrape_conc(
    addr: SocketAddr,
    pid: u32,
    k: usize,
    n: usize,
    gzip: bool,
) -> anyhow::Result<Latency> {
    let barrier = Arc::new(Barrier::new(k + 1));
    let mut threads = Vec::with_capacity(k);
    for _ in 0..k {
        let b = barrier.clone();
        threads.push(std::thread::spawn(
            move || -> anyhow::Result<Vec<(f64, f64, u64, String)>> {
                let mut c = Conn::new(addr, Duration::from_secs(600));
                let warm = c.get("/healthz", false);
                b.wait();
                warm?;
                scrapes(&mut c, n, gzip)
            },
        ));
    }
    let cpu0 = procfs::cpu_seconds(pid)?;
    barrier.wait();
    let t0 = Instant::now();
    let mut all = Vec::with_capacity(k * n);
    for t in threads {
        let v = t
            .join()
            .map_err(|_| anyhow::anyhow!("a scraper thread panicked"))??;
        all.extend(v);
    }
    let mut l = Latency::from(&all, t0.elapsed().as_secs_f64());
    l.cpu_per_scrape = (procfs::cpu_seconds(pid)? - cpu0) / all.len().max(1) as f64;
    Ok(l)
}

/// Adds marker namespaces one at a time and measures how long each takes to appear.
fn delays(world: &SimWorld, ex: &Exporter, tag: &str, n: usize) -> anyhow::Result<Delay> {
    let mut c = Conn::new(ex.metrics, Duration::from_secs(30));
    let mut d = Vec::with_capacity(n);
    for i in 0..n {
        let name = format!("bench-{tag}-{i}");
        let needle = format!("kube_namespace_created{{namespace=\"{name}\"}}");
        let t = Instant::now();
        world.add_namespace(&name)?;
        loop {
            let r = c.get("/metrics?resources=namespaces", false)?;
            if contains(&r.body, needle.as_bytes()) {
                d.push(t.elapsed().as_secs_f64());
                break;
            }
            if t.elapsed() > Duration::from_secs(60) {
                bail!("{}: namespace {name} did not appear within 60 s", ex.name);
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        world.delete_namespace(&name)?;
        std::thread::sleep(Duration::from_millis(100));
    }
    d.sort_by(f64::total_cmp);
    Ok(Delay {
        n: d.len(),
        p50: percentile(&d, 0.5),
        max: d.last().copied().unwrap_or(f64::NAN),
    })
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

/// Drives the simulator's churn at `rate` changes per second for `secs` seconds.
fn drive_churn(world: &SimWorld, rate: f64, secs: f64) -> anyhow::Result<usize> {
    let t0 = Instant::now();
    let mut made = 0usize;
    let mut due_done = 0u64;
    while t0.elapsed().as_secs_f64() < secs {
        let due = (t0.elapsed().as_secs_f64() * rate) as u64;
        let n = due.saturating_sub(due_done);
        if n > 0 {
            made += world.churn(n as usize)?;
            due_done = due;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(made)
}

/// Waits until the process uses less than 2 % of a core over 500 ms (or `limit` passes).
fn wait_idle(pid: u32, limit: Duration) -> anyhow::Result<()> {
    let t0 = Instant::now();
    let mut prev = procfs::cpu_seconds(pid)?;
    while t0.elapsed() < limit {
        std::thread::sleep(Duration::from_millis(500));
        let now = procfs::cpu_seconds(pid)?;
        if now - prev < 0.01 {
            return Ok(());
        }
        prev = now;
    }
    Ok(())
}

fn thin(points: Vec<RssPoint>, max: usize) -> Vec<RssPoint> {
    if points.len() <= max {
        return points;
    }
    let step = points.len().div_ceil(max);
    // Keep each bucket's highest point, so peaks survive thinning.
    points
        .chunks(step)
        .filter_map(|c| c.iter().copied().max_by_key(|p| p.rss))
        .collect()
}

/// Runs one exporter against `world` and measures everything.
pub fn run_one(
    expect: &[Expect],
    sim: Option<&SimWorld>,
    mut ex: Exporter,
    run_no: usize,
    p: &Params,
    log: &mut dyn FnMut(&str),
) -> anyhow::Result<Run> {
    let mut run = Run {
        exporter: ex.name.clone(),
        run: run_no,
        load_before: procfs::loadavg()?,
        ..Run::default()
    };
    let t0 = ex.started;
    let pid = ex.pid;
    let foreign_run = Foreign::start(pid);
    let sampler = Sampler::start(pid, t0, Duration::from_millis(10));
    let result = (|| -> anyhow::Result<()> {
        let foreign_sync = Foreign::start(pid);
        wait_complete(&mut ex, expect, t0, p, &mut run)?;
        run.sync_cpu = procfs::cpu_seconds(pid)?;
        run.peak_rss_sync = procfs::mem(pid)?.hwm;
        run.foreign_cores_sync = foreign_sync.cores();
        log(&format!(
            "{} run {run_no}: complete after {:.2} s ({} polls), peak RSS {:.0} MiB, CPU {:.2} s",
            ex.name,
            run.first_complete,
            run.polls,
            mib(run.peak_rss_sync),
            run.sync_cpu
        ));

        // Verify a full body once (not timed).
        let full = httpc::get(ex.metrics, "/metrics", Duration::from_secs(300))?;
        let families: HashMap<&str, usize> = expect
            .iter()
            .enumerate()
            .map(|(i, e)| (e.family.as_str(), i))
            .collect();
        let mut counts = vec![0; expect.len()];
        run.series = count_lines(&full.body, &families, &mut counts);
        for (e, c) in expect.iter().zip(&counts) {
            if *c != e.count {
                log(&format!(
                    "  note: {} has {c} {} lines, the world {}",
                    ex.name, e.family, e.count
                ));
            }
        }
        drop(full);

        // Settle, then steady RSS.
        let settle_from = t0.elapsed().as_secs_f64();
        run.phases.insert("settle".into(), settle_from);
        let cpu_a = procfs::cpu_seconds(pid)?;
        std::thread::sleep(Duration::from_secs_f64(p.settle_secs));
        let cpu_b = procfs::cpu_seconds(pid)?;
        run.churn.idle_cores = (cpu_b - cpu_a) / p.settle_secs.max(1e-3);
        let settle_to = t0.elapsed().as_secs_f64();
        let mut tail: Vec<u64> = sampler
            .points()
            .iter()
            .filter(|x| x.t >= settle_to - (settle_to - settle_from) / 3.0)
            .map(|x| x.rss)
            .collect();
        tail.sort_unstable();
        run.steady_rss = tail
            .get(tail.len() / 2)
            .copied()
            .unwrap_or(procfs::mem(pid)?.rss);
        log(&format!(
            "{} run {run_no}: steady RSS {:.0} MiB",
            ex.name,
            mib(run.steady_rss)
        ));

        // Scrapes.
        let s0 = t0.elapsed().as_secs_f64();
        run.phases.insert("scrapes".into(), s0);
        run.seq_plain = scrape_seq(ex.metrics, pid, p.scrapes, false)?;
        run.seq_gzip = scrape_seq(ex.metrics, pid, p.scrapes, true)?;
        let (k, n) = (p.concurrency, p.scrapes_per_scraper);
        run.conc_plain = scrape_conc(ex.metrics, pid, k, n, false)?;
        run.conc_gzip = scrape_conc(ex.metrics, pid, k, n, true)?;
        run.peak_rss_scrape = sampler.max_between(s0, t0.elapsed().as_secs_f64());
        let gz = httpc::Conn::new(ex.metrics, Duration::from_secs(300)).get("/metrics", true)?;
        let plain = gz.decoded()?;
        run.series_gzip = count_lines(&plain, &HashMap::new(), &mut []);
        if gz.content_encoding != "gzip" {
            log(&format!(
                "  note: {} answered a gzip request with Content-Encoding {:?}",
                ex.name, gz.content_encoding
            ));
        }
        log(&format!(
            "{} run {run_no}: scrape p99 seq {:.3}/{:.3} s, {}x concurrent {:.3}/{:.3} s (plain/gzip), {} / {} bytes",
            ex.name,
            run.seq_plain.p99,
            run.seq_gzip.p99,
            p.concurrency,
            run.conc_plain.p99,
            run.conc_gzip.p99,
            run.seq_plain.bytes,
            run.seq_gzip.bytes
        ));
        wait_idle(pid, Duration::from_secs(30))?;

        let Some(world) = sim else {
            // A real API server: the harness changes nothing in it.
            run.foreign_cores_run = foreign_run.cores();
            return Ok(());
        };
        // Delay of a change, idle.
        run.phases
            .insert("delay".into(), t0.elapsed().as_secs_f64());
        run.delay_idle = delays(world, &ex, &format!("{}-{run_no}-idle", ex.name), p.markers)?;

        // Churn: CPU per event, then delay under churn.
        if p.churn > 0.0 && p.churn_secs > 0.0 {
            wait_idle(pid, Duration::from_secs(30))?;
            let c0 = t0.elapsed().as_secs_f64();
            run.phases.insert("churn".into(), c0);
            let rv0 = world.resource_version()?;
            let cpu0 = procfs::cpu_seconds(pid)?;
            let changes = drive_churn(world, p.churn, p.churn_secs)?;
            let rv1 = world.resource_version()?;
            let end = Instant::now();
            wait_idle(pid, Duration::from_secs(60))?;
            let cpu1 = procfs::cpu_seconds(pid)?;
            let events = rv1.saturating_sub(rv0);
            run.churn = Churn {
                rate: p.churn,
                seconds: p.churn_secs,
                changes,
                events,
                cpu: cpu1 - cpu0,
                drain: end.elapsed().as_secs_f64(),
                cpu_per_10k: if events > 0 {
                    (cpu1 - cpu0) * 10_000.0 / events as f64
                } else {
                    f64::NAN
                },
                peak_rss: sampler.max_between(c0, t0.elapsed().as_secs_f64()),
                idle_cores: run.churn.idle_cores,
            };
            log(&format!(
                "{} run {run_no}: churn {changes} changes, {events} events, {:.2} CPU s ({:.2} per 10k events), peak RSS {:.0} MiB",
                ex.name,
                run.churn.cpu,
                run.churn.cpu_per_10k,
                mib(run.churn.peak_rss)
            ));
            // Delay while churning.
            run.phases
                .insert("delay-churn".into(), t0.elapsed().as_secs_f64());
            let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
            let delay = std::thread::scope(|s| {
                let st = stop.clone();
                let churner = s.spawn(move || -> anyhow::Result<()> {
                    while !st.load(std::sync::atomic::Ordering::Relaxed) {
                        drive_churn(world, p.churn, 1.0)?;
                    }
                    Ok(())
                });
                let d = delays(
                    world,
                    &ex,
                    &format!("{}-{run_no}-churn", ex.name),
                    p.markers,
                );
                stop.store(true, std::sync::atomic::Ordering::Relaxed);
                let c = churner
                    .join()
                    .map_err(|_| anyhow::anyhow!("the churn thread panicked"));
                d.and_then(|d| c.and_then(|r| r.map(|_| d)))
            })?;
            run.delay_churn = delay;
        }
        run.foreign_cores_run = foreign_run.cores();
        Ok(())
    })();
    let points = sampler.finish();
    run.rss_timeline = thin(points, 2_000);
    run.load_after = procfs::loadavg().unwrap_or_default();
    let stopped = ex.stop();
    result.with_context(|| format!("measuring {} (log: {})", ex.name, ex.log.display()))?;
    stopped?;
    Ok(run)
}

/// Bytes as MiB.
pub fn mib(b: u64) -> f64 {
    b as f64 / (1024.0 * 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nan_survives_json() {
        let d = Delay {
            n: 0,
            p50: f64::NAN,
            max: 1.0,
        };
        let back: Delay = serde_json::from_str(&serde_json::to_string(&d).unwrap()).unwrap();
        assert!(back.p50.is_nan());
        assert_eq!(back.max, 1.0);
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 0.5), 50.0);
        assert_eq!(percentile(&v, 0.99), 99.0);
        assert_eq!(percentile(&v[..10], 0.99), 10.0);
        assert!(percentile(&[], 0.5).is_nan());
    }

    #[test]
    fn counts_family_lines() {
        let body = b"# HELP kube_pod_created x\n# TYPE kube_pod_created gauge\nkube_pod_created{namespace=\"a\",pod=\"b\"} 1\nkube_pod_created_x{a=\"b\"} 1\nkube_node_created{node=\"n\"} 2\n";
        let f: HashMap<&str, usize> = [("kube_pod_created", 0), ("kube_node_created", 1)]
            .into_iter()
            .collect();
        let mut c = vec![0; 2];
        assert_eq!(count_lines(body, &f, &mut c), 3);
        assert_eq!(c, vec![1, 1]);
    }

    #[test]
    fn thinning_keeps_peaks() {
        let pts: Vec<RssPoint> = (0..10_000)
            .map(|i| RssPoint {
                t: i as f64,
                rss: if i == 4321 { 999 } else { 1 },
            })
            .collect();
        let t = thin(pts, 100);
        assert!(t.len() <= 100);
        assert!(t.iter().any(|p| p.rss == 999));
    }
}
