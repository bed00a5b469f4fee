//! Go's `time` formats, implemented once for the whole workspace.
//!
//! kube-state-metrics is a Go program: its flags take Go durations (`1m0s`), cron's `@every`
//! takes one, protobuf carries `metav1.Duration` as nanoseconds that JSON prints with Go's
//! `Duration.String()`, and timestamps are civil dates. This crate holds those routines, and
//! nothing else, so that every crate reads and writes them the same way:
//!
//! * [`parse_duration`]: Go's `time.ParseDuration`, to the nanosecond, with its overflow
//!   rules; [`parse_std_duration`] for flags and settings (non-negative, optionally plain
//!   seconds);
//! * [`format_duration`]: Go's `Duration.String()`;
//! * [`days_from_civil`] and [`civil_from_days`]: proleptic Gregorian dates and day counts
//!   since 1970-01-01; [`format_rfc3339_utc`] on top of them.
//!
//! No dependencies, no I/O.
//!
//! # Example
//!
//! ```
//! use kubestate_gotime::{format_duration, parse_duration};
//!
//! let n = parse_duration("1h2m3.5s").unwrap();
//! assert_eq!(format_duration(n), "1h2m3.5s");
//! ```
#![deny(missing_docs)]

use std::time::Duration;

/// Nanoseconds in a second.
pub const NANOS_PER_SEC: i64 = 1_000_000_000;

/// Go's `time.ParseDuration`, in nanoseconds (`1h2m3.5s`, `300ms`, `-1.5h`, `.5us`, `0`);
/// `None` where Go returns an error (no unit, unknown unit, overflow).
pub fn parse_duration(s: &str) -> Option<i64> {
    const LIMIT: u64 = 1 << 63;
    let (neg, mut s) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if s == "0" {
        return Some(0);
    }
    if s.is_empty() {
        return None;
    }
    let mut total: u64 = 0;
    while !s.is_empty() {
        let first = s.as_bytes()[0];
        if !(first == b'.' || first.is_ascii_digit()) {
            return None;
        }
        // Integer part.
        let int_len = s.bytes().take_while(u8::is_ascii_digit).count();
        let mut v: u64 = 0;
        for c in s[..int_len].bytes() {
            if v > LIMIT / 10 {
                return None;
            }
            v = v * 10 + u64::from(c - b'0');
            if v > LIMIT {
                return None;
            }
        }
        let pre = int_len > 0;
        s = &s[int_len..];
        // Fraction.
        let (mut frac, mut scale, mut post) = (0u64, 1f64, false);
        if let Some(rest) = s.strip_prefix('.') {
            let frac_len = rest.bytes().take_while(u8::is_ascii_digit).count();
            let mut overflow = false;
            for c in rest[..frac_len].bytes() {
                if overflow {
                    continue;
                }
                if frac > (LIMIT - 1) / 10 {
                    overflow = true;
                    continue;
                }
                let y = frac * 10 + u64::from(c - b'0');
                if y > LIMIT {
                    overflow = true;
                    continue;
                }
                frac = y;
                scale *= 10.0;
            }
            post = frac_len > 0;
            s = &rest[frac_len..];
        }
        if !pre && !post {
            return None;
        }
        // Unit: everything up to the next digit or dot.
        let unit_len = s
            .bytes()
            .take_while(|c| *c != b'.' && !c.is_ascii_digit())
            .count();
        if unit_len == 0 {
            return None;
        }
        let unit: u64 = match &s[..unit_len] {
            "ns" => 1,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return None,
        };
        s = &s[unit_len..];
        if v > LIMIT / unit {
            return None;
        }
        v *= unit;
        if frac > 0 {
            v += (frac as f64 * (unit as f64 / scale)) as u64;
            if v > LIMIT {
                return None;
            }
        }
        total += v;
        if total > LIMIT {
            return None;
        }
    }
    if neg {
        // -2^63 is representable.
        return Some(0i64.wrapping_sub_unsigned(total));
    }
    i64::try_from(total).ok()
}

/// Whether a bare number (no unit) means seconds in [`parse_std_duration`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BareNumber {
    /// Rejected, as Go rejects it (KSM's flags).
    Reject,
    /// Seconds (the simulator's and the check's settings).
    Seconds,
}

/// A non-negative Go duration as a [`Duration`], for flags and settings; with
/// [`BareNumber::Seconds`], a plain number (`3`, `0.5`) is seconds too.
///
/// # Errors
/// A message naming the input and what is wrong with it.
pub fn parse_std_duration(s: &str, bare: BareNumber) -> Result<Duration, String> {
    let s = s.trim();
    if bare == BareNumber::Seconds {
        if let Ok(secs) = s.parse::<f64>() {
            return if secs.is_finite() && secs >= 0.0 {
                Ok(Duration::from_secs_f64(secs))
            } else {
                Err(format!(
                    "invalid duration {s:?}: must be a non-negative number of seconds"
                ))
            };
        }
    }
    let hint = "use a number with a unit, like 15s, 500ms or 1m30s";
    match parse_duration(s) {
        Some(n) if n < 0 => Err(format!("invalid duration {s:?}: must not be negative")),
        Some(n) => Ok(Duration::from_nanos(n.unsigned_abs())),
        None if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit() || b == b'.') => {
            Err(format!("invalid duration {s:?}: missing unit ({hint})"))
        }
        None => match unknown_unit(s) {
            Some(u) => Err(format!(
                "invalid duration {s:?}: unknown unit {u:?} ({hint})"
            )),
            None => Err(format!("invalid duration {s:?}: {hint}")),
        },
    }
}

/// The first unit of `s` (a run of characters between numbers) that Go does not know.
fn unknown_unit(s: &str) -> Option<&str> {
    let s = s.trim_start_matches(['+', '-']);
    s.split(|c: char| c.is_ascii_digit() || c == '.').find(|u| {
        !u.is_empty()
            && !matches!(
                *u,
                "ns" | "us" | "\u{b5}s" | "\u{3bc}s" | "ms" | "s" | "m" | "h"
            )
    })
}

/// Go's `time.Duration.String()` of `n` nanoseconds (`1h2m3s`, `1.5s`, `300ms`, `0s`).
pub fn format_duration(n: i64) -> String {
    if n == 0 {
        return "0s".into();
    }
    let neg = n < 0;
    let u = n.unsigned_abs();
    let mut s = String::new();
    if neg {
        s.push('-');
    }
    let frac = |v: u64, digits: u32| -> String {
        let p = 10u64.pow(digits);
        let (whole, f) = (v / p, v % p);
        if f == 0 {
            whole.to_string()
        } else {
            let fs = format!("{f:0width$}", width = digits as usize);
            format!("{whole}.{}", fs.trim_end_matches('0'))
        }
    };
    if u < 1_000 {
        s.push_str(&format!("{u}ns"));
    } else if u < 1_000_000 {
        s.push_str(&frac(u, 3));
        s.push_str("µs");
    } else if u < 1_000_000_000 {
        s.push_str(&frac(u, 6));
        s.push_str("ms");
    } else {
        let total_secs = u / 1_000_000_000;
        let h = total_secs / 3600;
        let m = total_secs / 60 % 60;
        let sec_ns = u - (h * 3600 + m * 60) * 1_000_000_000;
        if h > 0 {
            s.push_str(&format!("{h}h"));
        }
        if h > 0 || m > 0 {
            s.push_str(&format!("{m}m"));
        }
        s.push_str(&frac(sec_ns, 9));
        s.push('s');
    }
    s
}

/// Days since 1970-01-01 of a proleptic Gregorian date (month 1..=12).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian date (year, month 1..=12, day 1..=31) of a day count since
/// 1970-01-01; the inverse of [`days_from_civil`].
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

/// Seconds since the Unix epoch as `2006-01-02T15:04:05Z` (UTC, whole seconds).
pub fn format_rfc3339_utc(secs: i64) -> String {
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_like_go() {
        assert_eq!(parse_duration("0"), Some(0));
        assert_eq!(parse_duration("1h2m3s"), Some(3_723_000_000_000));
        assert_eq!(parse_duration("1.5h"), Some(5_400_000_000_000));
        assert_eq!(parse_duration("-1.5s"), Some(-1_500_000_000));
        assert_eq!(parse_duration("100\u{b5}s"), Some(100_000));
        assert_eq!(parse_duration("100\u{3bc}s"), Some(100_000));
        assert_eq!(parse_duration(".5ms"), Some(500_000));
        assert_eq!(parse_duration("300ms"), Some(300_000_000));
        assert_eq!(parse_duration("1"), None);
        assert_eq!(parse_duration("1d"), None);
        assert_eq!(parse_duration(""), None);
        assert_eq!(parse_duration("."), None);
        assert_eq!(parse_duration("9999999999999h"), None);
        assert_eq!(parse_duration("-9223372036854775808ns"), Some(i64::MIN));
        assert_eq!(parse_duration("9223372036854775808ns"), None);
    }

    #[test]
    fn std_durations_for_flags() {
        let flag = |s| parse_std_duration(s, BareNumber::Reject);
        assert_eq!(flag("1m0s"), Ok(Duration::from_secs(60)));
        assert_eq!(flag("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(flag(" 1.5s "), Ok(Duration::from_millis(1500)));
        assert_eq!(flag("0"), Ok(Duration::ZERO));
        assert!(flag("5").unwrap_err().contains("missing unit"));
        assert!(flag("5x").unwrap_err().contains("unknown unit \"x\""));
        assert!(flag("1m5d").unwrap_err().contains("unknown unit \"d\""));
        assert!(!flag("1..5s").unwrap_err().contains("unknown unit"));
        assert!(flag("").is_err());
        assert!(flag("-1s").unwrap_err().contains("negative"));
        let setting = |s| parse_std_duration(s, BareNumber::Seconds);
        assert_eq!(setting("3"), Ok(Duration::from_secs(3)));
        assert_eq!(setting("0.5"), Ok(Duration::from_millis(500)));
        assert_eq!(setting("2m"), Ok(Duration::from_secs(120)));
        assert!(setting("-1").is_err());
        assert!(setting("x").is_err());
    }

    #[test]
    fn formats_like_go() {
        assert_eq!(format_duration(3_723_000_000_000), "1h2m3s");
        assert_eq!(format_duration(1_500_000_000), "1.5s");
        assert_eq!(format_duration(300_000_000), "300ms");
        assert_eq!(format_duration(1_500), "1.5\u{b5}s");
        assert_eq!(format_duration(60_000_000_000), "1m0s");
        assert_eq!(format_duration(-5), "-5ns");
        assert_eq!(format_duration(0), "0s");
        for n in [
            1,
            999,
            1_000_001,
            59_999_999_999,
            3_600_000_000_001,
            -7_200_500_000_000,
        ] {
            assert_eq!(parse_duration(&format_duration(n)), Some(n), "{n}");
        }
    }

    #[test]
    fn civil_dates_round_trip() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(days_from_civil(2024, 2, 29)), (2024, 2, 29));
        for z in (-800_000..800_000).step_by(997) {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
        assert_eq!(format_rfc3339_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_rfc3339_utc(1_700_000_045), "2023-11-14T22:14:05Z");
        assert_eq!(format_rfc3339_utc(-1), "1969-12-31T23:59:59Z");
    }
}
