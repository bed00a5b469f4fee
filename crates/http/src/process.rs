//! `process_*` self-metrics, read from `/proc` at each scrape, under the names and types the
//! Prometheus Go client's process collector uses (dashboards for every exporter read them).
//! On systems without `/proc` nothing is written.

use std::sync::OnceLock;

use kubestate_metric::{write_header as header, write_sample as sample};

/// Clock ticks per second of `/proc/<pid>/stat` (Linux's `USER_HZ`, 100 on every common
/// architecture; the Go client assumes the same).
const USER_HZ: f64 = 100.0;

/// Appends the process families.
pub(crate) fn write_text(out: &mut Vec<u8>) {
    let Some(stat) = read_stat() else {
        return;
    };
    let page = page_size();
    let fds = std::fs::read_dir("/proc/self/fd").map(|d| d.count()).ok();
    let max_fds = max_open_files();
    let start = boot_time().map(|b| b + stat.start_ticks as f64 / USER_HZ);
    let rows: [(&str, &str, &str, Option<f64>); 6] = [
        (
            "process_cpu_seconds_total",
            "User and system CPU time the process has used, in seconds.",
            "counter",
            Some((stat.utime + stat.stime) as f64 / USER_HZ),
        ),
        (
            "process_open_fds",
            "File descriptors the process has open.",
            "gauge",
            fds.map(|n| n as f64),
        ),
        (
            "process_max_fds",
            "The process's limit on open file descriptors.",
            "gauge",
            max_fds,
        ),
        (
            "process_virtual_memory_bytes",
            "Size of the process's virtual address space, in bytes.",
            "gauge",
            Some(stat.vsize as f64),
        ),
        (
            "process_resident_memory_bytes",
            "Memory the process has resident, in bytes.",
            "gauge",
            Some((stat.rss_pages * page) as f64),
        ),
        (
            "process_start_time_seconds",
            "When the process started, in seconds since the Unix epoch.",
            "gauge",
            start,
        ),
    ];
    for (name, help, ty, v) in rows {
        if let Some(v) = v {
            header(out, name, help, ty);
            sample(out, name, &[], v);
        }
    }
}

/// The fields of `/proc/self/stat` the metrics need.
#[derive(Debug, PartialEq, Eq)]
struct Stat {
    utime: u64,
    stime: u64,
    start_ticks: u64,
    vsize: u64,
    rss_pages: u64,
}

fn read_stat() -> Option<Stat> {
    parse_stat(&std::fs::read_to_string("/proc/self/stat").ok()?)
}

/// Parses `/proc/<pid>/stat`: the command name is in parentheses and may hold spaces, so
/// fields are counted from the last `)` (field 3, `state`, comes first after it).
fn parse_stat(text: &str) -> Option<Stat> {
    let rest = &text[text.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // After ')': index 0 is field 3; field N is index N - 3.
    let n = |field: usize| f.get(field - 3).and_then(|v| v.parse::<u64>().ok());
    Some(Stat {
        utime: n(14)?,
        stime: n(15)?,
        start_ticks: n(22)?,
        vsize: n(23)?,
        rss_pages: n(24)?,
    })
}

/// System boot time (`btime` of `/proc/stat`), in seconds since the epoch.
fn boot_time() -> Option<f64> {
    static BOOT: OnceLock<Option<f64>> = OnceLock::new();
    *BOOT.get_or_init(|| {
        std::fs::read_to_string("/proc/stat")
            .ok()?
            .lines()
            .find_map(|l| l.strip_prefix("btime "))
            .and_then(|v| v.trim().parse::<f64>().ok())
    })
}

/// The soft "Max open files" limit of `/proc/self/limits` (`unlimited` as Go's client shows
/// it: the largest 64-bit value).
fn max_open_files() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    let soft = line["Max open files".len()..].split_whitespace().next()?;
    if soft == "unlimited" {
        return Some(u64::MAX as f64);
    }
    soft.parse::<f64>().ok()
}

/// The memory page size: from the `KernelPageSize` of `/proc/self/smaps_rollup`'s
/// neighbour `/proc/self/smaps` when readable, else 4 KiB.
fn page_size() -> u64 {
    static PAGE: OnceLock<u64> = OnceLock::new();
    *PAGE.get_or_init(|| {
        std::fs::read_to_string("/proc/self/smaps")
            .ok()
            .and_then(|t| {
                t.lines()
                    .find_map(|l| l.strip_prefix("KernelPageSize:"))
                    .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
            })
            .map_or(4096, |kb| kb * 1024)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_after_the_command_name() {
        let line = "1234 (kube state (x)) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 9 0 5000 123456789 2500 18446744073709551615";
        assert_eq!(
            parse_stat(line),
            Some(Stat {
                utime: 250,
                stime: 75,
                start_ticks: 5000,
                vsize: 123_456_789,
                rss_pages: 2500,
            })
        );
        assert_eq!(parse_stat("garbage"), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_process_has_every_family() {
        let mut out = Vec::new();
        write_text(&mut out);
        let text = String::from_utf8(out).unwrap();
        for name in [
            "process_cpu_seconds_total",
            "process_open_fds",
            "process_max_fds",
            "process_virtual_memory_bytes",
            "process_resident_memory_bytes",
            "process_start_time_seconds",
        ] {
            let line = text
                .lines()
                .find(|l| l.starts_with(&format!("{name} ")))
                .unwrap_or_else(|| panic!("{name} missing in\n{text}"));
            let v: f64 = line[name.len() + 1..].parse().unwrap();
            // A young test process may not have used a full clock tick of CPU yet.
            if name == "process_cpu_seconds_total" {
                assert!(v >= 0.0, "{line}");
            } else {
                assert!(v > 0.0, "{line}");
            }
        }
        assert!(text.contains("# TYPE process_cpu_seconds_total counter"));
    }
}
