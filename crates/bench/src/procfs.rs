//! What the harness reads from `/proc`: resident memory, CPU time, machine load.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::Context as _;

/// Clock ticks per second of `/proc/<pid>/stat` times (`getconf CLK_TCK`, else 100).
pub fn clk_tck() -> f64 {
    static TCK: OnceLock<f64> = OnceLock::new();
    *TCK.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse::<f64>().ok())
            .filter(|t| *t > 0.0)
            .unwrap_or(100.0)
    })
}

/// Memory figures of `/proc/<pid>/status`, in bytes.
#[derive(Debug, Clone, Copy, Default)]
pub struct Mem {
    /// `VmRSS`: resident now.
    pub rss: u64,
    /// `VmHWM`: the highest resident size since the process started.
    pub hwm: u64,
}

/// Reads `VmRSS` and `VmHWM` of `pid`.
pub fn mem(pid: u32) -> anyhow::Result<Mem> {
    let path = format!("/proc/{pid}/status");
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    let mut m = Mem::default();
    for line in text.lines() {
        let kb = |l: &str| -> u64 {
            l.split_whitespace()
                .nth(1)
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
                * 1024
        };
        if line.starts_with("VmRSS:") {
            m.rss = kb(line);
        } else if line.starts_with("VmHWM:") {
            m.hwm = kb(line);
        }
    }
    Ok(m)
}

/// User + system CPU seconds of `pid` (all its threads).
pub fn cpu_seconds(pid: u32) -> anyhow::Result<f64> {
    let path = format!("/proc/{pid}/stat");
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    // The command name is in parentheses and may contain spaces: fields start after ')'.
    let rest = text
        .rsplit_once(')')
        .map(|(_, r)| r)
        .with_context(|| format!("{path} has no command field"))?;
    let f: Vec<&str> = rest.split_whitespace().collect();
    // After ')': state is field 3 of the man page, utime 14, stime 15 → indexes 11 and 12.
    let utime: f64 = f
        .get(11)
        .and_then(|v| v.parse().ok())
        .with_context(|| format!("{path}: no utime"))?;
    let stime: f64 = f
        .get(12)
        .and_then(|v| v.parse().ok())
        .with_context(|| format!("{path}: no stime"))?;
    Ok((utime + stime) / clk_tck())
}

/// CPU seconds of this process.
pub fn own_cpu_seconds() -> f64 {
    cpu_seconds(std::process::id()).unwrap_or(0.0)
}

/// The 1-, 5- and 15-minute load averages.
pub fn loadavg() -> anyhow::Result<[f64; 3]> {
    let text = std::fs::read_to_string("/proc/loadavg").context("reading /proc/loadavg")?;
    let v: Vec<f64> = text
        .split_whitespace()
        .take(3)
        .filter_map(|x| x.parse().ok())
        .collect();
    match v.as_slice() {
        [a, b, c] => Ok([*a, *b, *c]),
        _ => anyhow::bail!("unexpected /proc/loadavg: {text:?}"),
    }
}

/// Busy CPU seconds of the whole machine so far (all cores; user, nice, system, irq,
/// softirq, steal).
pub fn machine_busy_seconds() -> anyhow::Result<f64> {
    let text = std::fs::read_to_string("/proc/stat").context("reading /proc/stat")?;
    let line = text
        .lines()
        .next()
        .filter(|l| l.starts_with("cpu "))
        .context("/proc/stat has no cpu line")?;
    let v: Vec<f64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal
    let busy: f64 = [0usize, 1, 2, 5, 6, 7]
        .iter()
        .filter_map(|&i| v.get(i))
        .sum();
    Ok(busy / clk_tck())
}

/// CPU used on the machine by processes other than the harness and one exporter, measured
/// between [`Foreign::start`] and [`Foreign::cores`]. This is the noise a figure was taken in.
#[derive(Debug, Clone, Copy)]
pub struct Foreign {
    t0: Instant,
    busy0: f64,
    ours0: f64,
    pid: u32,
}

impl Foreign {
    /// Starts measuring (`pid` is the exporter).
    pub fn start(pid: u32) -> Foreign {
        Foreign {
            t0: Instant::now(),
            busy0: machine_busy_seconds().unwrap_or(0.0),
            ours0: own_cpu_seconds() + cpu_seconds(pid).unwrap_or(0.0),
            pid,
        }
    }

    /// Average cores used by other processes since `start`.
    pub fn cores(&self) -> f64 {
        let dt = self.t0.elapsed().as_secs_f64().max(1e-3);
        let busy = machine_busy_seconds().unwrap_or(0.0) - self.busy0;
        let ours = own_cpu_seconds() + cpu_seconds(self.pid).unwrap_or(0.0) - self.ours0;
        ((busy - ours) / dt).max(0.0)
    }
}

/// Total memory and CPU model of the machine.
pub fn machine() -> (usize, u64, String) {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
        })
        .unwrap_or(0)
        * 1024;
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".to_string());
    (cores, mem, model)
}

/// One memory sample.
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
pub struct RssPoint {
    /// Seconds since the exporter was started.
    pub t: f64,
    /// Resident bytes.
    pub rss: u64,
}

/// Samples a process's `VmRSS` on its own thread at a fixed interval.
pub struct Sampler {
    points: Arc<Mutex<Vec<RssPoint>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Sampler {
    /// Starts sampling `pid`, times relative to `t0`.
    pub fn start(pid: u32, t0: Instant, every: Duration) -> Sampler {
        let points = Arc::new(Mutex::new(Vec::with_capacity(16_384)));
        let stop = Arc::new(AtomicBool::new(false));
        let (p, s) = (points.clone(), stop.clone());
        let thread = std::thread::Builder::new()
            .name("rss-sampler".into())
            .spawn(move || {
                while !s.load(Ordering::Relaxed) {
                    match mem(pid) {
                        Ok(m) => {
                            if let Ok(mut v) = p.lock() {
                                v.push(RssPoint {
                                    t: t0.elapsed().as_secs_f64(),
                                    rss: m.rss,
                                });
                            }
                        }
                        Err(_) => break,
                    }
                    std::thread::sleep(every);
                }
            })
            .ok();
        Sampler {
            points,
            stop,
            thread,
        }
    }

    /// Every sample so far.
    pub fn points(&self) -> Vec<RssPoint> {
        self.points.lock().map(|v| v.clone()).unwrap_or_default()
    }

    /// The highest sample taken between `from` and `to` seconds.
    pub fn max_between(&self, from: f64, to: f64) -> u64 {
        self.points
            .lock()
            .map(|v| {
                v.iter()
                    .filter(|p| p.t >= from && p.t <= to)
                    .map(|p| p.rss)
                    .max()
                    .unwrap_or(0)
            })
            .unwrap_or(0)
    }

    /// Stops sampling and returns every sample.
    pub fn finish(mut self) -> Vec<RssPoint> {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        self.points()
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Waits until the 1-minute load average is below `max`, checking every 10 s, for at most
/// `timeout`. Returns the load average seen last.
pub fn wait_for_quiet(max: f64, timeout: Duration, quiet: bool) -> anyhow::Result<[f64; 3]> {
    let t0 = Instant::now();
    let mut announced = false;
    loop {
        let l = loadavg()?;
        if l[0] < max {
            return Ok(l);
        }
        if t0.elapsed() >= timeout {
            anyhow::bail!(
                "the 1-minute load average stayed at or above {max} for {:.0} s (now {:.2}); other work on this machine would distort the figures. Retry later, or raise --max-load / --load-wait",
                timeout.as_secs_f64(),
                l[0]
            );
        }
        if !announced && !quiet {
            eprintln!(
                "  waiting for the machine to quieten: load average {:.2} ≥ {max} (up to {:.0} s)",
                l[0],
                timeout.as_secs_f64()
            );
            announced = true;
        }
        std::thread::sleep(Duration::from_secs(10));
    }
}
