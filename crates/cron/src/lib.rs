//! Cron schedules as KSM v2.20 reads them for `kube_cronjob_next_schedule_time` and
//! `kube_cronjob_schedule_invalid` (ksm-behaviour.md §12.4).
//!
//! KSM parses `spec.schedule` (prefixed with `CRON_TZ=<spec.timeZone> ` when a zone is set)
//! with the *standard* parser of `github.com/netresearch/go-cron`, the maintained fork of
//! `robfig/cron` it switched to in v2.19, and asks the schedule for the first activation after
//! `status.lastScheduleTime` (else `metadata.creationTimestamp`). This crate reproduces that
//! parser and its `Next`:
//!
//! * five fields (minute, hour, day of month, month, day of week) with `*`/`?`, numbers,
//!   `a-b` ranges, `/step`s, comma lists, case-insensitive month/day names, `7` for Sunday;
//! * descriptors `@yearly`/`@annually`, `@monthly`, `@weekly`, `@daily`/`@midnight`,
//!   `@hourly`, `@every <Go duration>`, and `@triggered`/`@manual`/`@none` (never due);
//! * an optional leading `TZ=<zone>` or `CRON_TZ=<zone>` (the name may be quoted); without one
//!   the schedule runs in
//!   KSM's local zone, which was UTC for the reference output;
//! * the fork's stricter validation, which makes KSM reject schedules the API server accepts:
//!   a step must be smaller than its range (`*/60` minutes, `*/32` days), `@every` needs at
//!   least one second, a spec is at most 1024 bytes, a zone name at most 64 characters of
//!   `[A-Za-z0-9/_+:-]`;
//! * its matching rules: when both day fields are restricted a day must satisfy **both**
//!   (the fork's default since v0.9; classic cron used "either"); a time skipped by a DST
//!   spring-forward fires right after the jump; nothing found within five years gives Go's
//!   zero time (`-62135596800`).
//!
//! Time arithmetic follows Go's `time` package to the second, including how `time.Date`
//! resolves wall-clock times that a zone skips or repeats.

use std::fmt;

use chrono::{Offset, TimeZone};
use chrono_tz::Tz;
use kubestate_gotime::{
    civil_from_days, days_from_civil, parse_duration as go_duration, NANOS_PER_SEC,
};
use kubestate_objects::Time;

/// `time.Time{}.Unix()`: what KSM reports when a schedule never fires again.
pub const GO_ZERO_UNIX: i64 = -62_135_596_800;

/// The longest spec the parser accepts, in bytes.
const MAX_SPEC_LEN: usize = 1024;

/// How many years `Next` searches before giving up.
const SEARCH_YEARS: i64 = 5;

/// Marks a field written as `*` or `?` (kept, as in the Go parser, although the default
/// day matching no longer depends on it).
const STAR_BIT: u64 = 1 << 63;

/// Why a spec was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleError(String);

impl fmt::Display for ScheduleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ScheduleError {}

fn err<T>(msg: impl Into<String>) -> Result<T, ScheduleError> {
    Err(ScheduleError(msg.into()))
}

/// The spec KSM hands to the parser for a CronJob: the schedule, behind `CRON_TZ=<zone> `
/// when `spec.timeZone` is set (even to an empty string).
pub fn cronjob_spec(schedule: &str, time_zone: Option<&str>) -> String {
    match time_zone {
        Some(tz) => format!("CRON_TZ={tz} {schedule}"),
        None => schedule.to_string(),
    }
}

/// A parsed schedule.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule(Kind);

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Spec(Spec),
    /// `@every`: a fixed delay in whole seconds.
    Every(i64),
    /// `@triggered`, `@manual`, `@none`.
    Never,
}

/// Bit sets of the allowed values of each field, as in the Go parser.
#[derive(Debug, Clone, PartialEq)]
struct Spec {
    second: u64,
    minute: u64,
    hour: u64,
    dom: u64,
    month: u64,
    dow: u64,
    zone: Zone,
}

/// The zone a schedule is evaluated in.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Zone {
    Utc,
    Named(Tz),
}

impl Zone {
    /// Seconds east of UTC in effect at `unix`.
    fn offset(self, unix: i64) -> i64 {
        match self {
            Zone::Utc => 0,
            Zone::Named(tz) => match chrono::DateTime::from_timestamp(unix, 0) {
                Some(dt) => i64::from(
                    tz.offset_from_utc_datetime(&dt.naive_utc())
                        .fix()
                        .local_minus_utc(),
                ),
                None => 0,
            },
        }
    }

    /// Go's `time.LoadLocation`, with `Local` being KSM's UTC. Go's zone database also holds
    /// two files chrono-tz leaves out: `Factory` (UTC) and `posixrules` (New York's rules).
    fn load(name: &str) -> Option<Zone> {
        match name {
            "UTC" | "Local" | "Factory" => Some(Zone::Utc),
            "posixrules" => Some(Zone::Named(Tz::America__New_York)),
            _ => name.parse::<Tz>().ok().map(Zone::Named),
        }
    }
}

/// One value range of a field.
struct Bounds {
    min: u64,
    max: u64,
    names: &'static [(&'static str, u64)],
}

const SECONDS: Bounds = Bounds {
    min: 0,
    max: 59,
    names: &[],
};
const MINUTES: Bounds = Bounds {
    min: 0,
    max: 59,
    names: &[],
};
const HOURS: Bounds = Bounds {
    min: 0,
    max: 23,
    names: &[],
};
const DOM: Bounds = Bounds {
    min: 1,
    max: 31,
    names: &[],
};
const MONTHS: Bounds = Bounds {
    min: 1,
    max: 12,
    names: &[
        ("jan", 1),
        ("feb", 2),
        ("mar", 3),
        ("apr", 4),
        ("may", 5),
        ("jun", 6),
        ("jul", 7),
        ("aug", 8),
        ("sep", 9),
        ("oct", 10),
        ("nov", 11),
        ("dec", 12),
    ],
};
/// Day of week: 0 and 7 are both Sunday.
const DOW: Bounds = Bounds {
    min: 0,
    max: 7,
    names: &[
        ("sun", 0),
        ("mon", 1),
        ("tue", 2),
        ("wed", 3),
        ("thu", 4),
        ("fri", 5),
        ("sat", 6),
    ],
};

impl Schedule {
    /// Parses a spec with the standard parser (five fields or a descriptor, optional
    /// `TZ=`/`CRON_TZ=` prefix).
    ///
    /// # Errors
    /// The spec is not a schedule this parser accepts.
    pub fn parse(spec: &str) -> Result<Schedule, ScheduleError> {
        if spec.is_empty() {
            return err("empty spec string");
        }
        if spec.len() > MAX_SPEC_LEN {
            return err(format!("spec too long: {} > {MAX_SPEC_LEN}", spec.len()));
        }
        let (zone, spec) = split_zone(spec)?;
        if spec.starts_with('@') {
            return descriptor(spec, zone);
        }
        let fields: Vec<&str> = spec.split_whitespace().collect();
        if fields.len() != 5 {
            return err(format!("expected exactly 5 fields, found {}", fields.len()));
        }
        Ok(Schedule(Kind::Spec(Spec {
            second: field("0", &SECONDS)?,
            minute: field(fields[0], &MINUTES)?,
            hour: field(fields[1], &HOURS)?,
            dom: field(fields[2], &DOM)?,
            month: field(fields[3], &MONTHS)?,
            dow: sunday_as_zero(field(fields[4], &DOW)?),
            zone,
        })))
    }

    /// The first activation strictly after `after`, in Unix seconds ([`GO_ZERO_UNIX`] when
    /// there is none within the search window).
    pub fn next(&self, after: Time) -> i64 {
        match &self.0 {
            // Go: t.Add(delay - t.Nanosecond()), i.e. the whole second plus the delay.
            Kind::Every(secs) => after.secs.saturating_add(*secs),
            Kind::Spec(s) => s.next(after.secs),
            Kind::Never => GO_ZERO_UNIX,
        }
    }
}

/// Strips a `TZ=`/`CRON_TZ=` prefix, returning the zone (UTC when absent) and the rest.
fn split_zone(spec: &str) -> Result<(Zone, &str), ScheduleError> {
    if !spec.starts_with("TZ=") && !spec.starts_with("CRON_TZ=") {
        return Ok((Zone::Utc, spec));
    }
    let Some(space) = spec.find(' ') else {
        return err("missing fields after timezone");
    };
    let eq = spec.find('=').unwrap_or(0);
    let mut name = &spec[eq + 1..space];
    // A matching pair of quotes around the name is dropped (`TZ="Europe/Berlin"`).
    let b = name.as_bytes();
    if b.len() >= 2 && (b[0] == b'"' || b[0] == b'\'') && b[b.len() - 1] == b[0] {
        name = &name[1..name.len() - 1];
    }
    if name.is_empty() {
        return err("empty timezone string");
    }
    if name.len() > 64 {
        return err("timezone string too long");
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-' | '+' | ':'))
    {
        return err(format!("invalid character in timezone {name:?}"));
    }
    let Some(zone) = Zone::load(name) else {
        return err(format!("unknown time zone {name:?}"));
    };
    let rest = spec[space..].trim();
    if rest.is_empty() {
        return err("missing fields after timezone");
    }
    Ok((zone, rest))
}

fn descriptor(spec: &str, zone: Zone) -> Result<Schedule, ScheduleError> {
    let all = |b: &Bounds| bits(b.min, b.max, 1) | STAR_BIT;
    let spec_of = |hour, dom, month, dow| {
        Ok(Schedule(Kind::Spec(Spec {
            second: 1,
            minute: 1,
            hour,
            dom,
            month,
            dow,
            zone,
        })))
    };
    match spec {
        "@yearly" | "@annually" => spec_of(1, 1 << 1, 1 << 1, all(&DOW)),
        "@monthly" => spec_of(1, 1 << 1, all(&MONTHS), all(&DOW)),
        "@weekly" => spec_of(1, all(&DOM), all(&MONTHS), 1),
        "@daily" | "@midnight" => spec_of(1, all(&DOM), all(&MONTHS), all(&DOW)),
        "@hourly" => spec_of(all(&HOURS), all(&DOM), all(&MONTHS), all(&DOW)),
        // Schedules that only run when triggered by hand: they never come due.
        "@triggered" | "@manual" | "@none" => Ok(Schedule(Kind::Never)),
        _ => match spec.strip_prefix("@every ") {
            Some(d) => {
                let Some(nanos) = go_duration(d) else {
                    return err(format!("failed to parse duration {spec}"));
                };
                if nanos < NANOS_PER_SEC {
                    return err(format!("@every duration must be at least 1s: {spec}"));
                }
                Ok(Schedule(Kind::Every(nanos / NANOS_PER_SEC)))
            }
            None => err(format!("unrecognized descriptor: {spec}")),
        },
    }
}

/// A comma-separated list of ranges; empty items are skipped as Go's `FieldsFunc` does.
fn field(text: &str, b: &Bounds) -> Result<u64, ScheduleError> {
    let mut acc = 0;
    for part in text.split(',').filter(|p| !p.is_empty()) {
        acc |= range(part, b)?;
    }
    Ok(acc)
}

/// `*`, `?`, `n`, `a-b`, each optionally `/step`; `n/step` runs from `n` to the maximum.
/// Ranges may wrap around the end of the field (`22-2` hours).
fn range(expr: &str, b: &Bounds) -> Result<u64, ScheduleError> {
    let range_and_step: Vec<&str> = expr.split('/').collect();
    let low_high: Vec<&str> = range_and_step[0].split('-').collect();
    let single = low_high.len() == 1;
    let (start, mut end, mut extra) = if low_high[0] == "*" || low_high[0] == "?" {
        (b.min, b.max, STAR_BIT)
    } else {
        let start = int_or_name(low_high[0], b)?;
        match low_high.len() {
            1 => (start, start, 0),
            2 => (start, int_or_name(low_high[1], b)?, 0),
            _ => return err(format!("too many hyphens: {expr:?}")),
        }
    };
    let step = match range_and_step.len() {
        1 => 1,
        2 => {
            let step = non_negative_int(range_and_step[1])?;
            if single {
                end = b.max;
            }
            if step > 1 {
                extra = 0;
            }
            step
        }
        _ => return err(format!("too many slashes: {expr:?}")),
    };
    if start < b.min {
        return err(format!(
            "beginning of range ({start}) below minimum: {expr:?}"
        ));
    }
    if end > b.max {
        return err(format!("end of range ({end}) above maximum: {expr:?}"));
    }
    if step == 0 {
        return err(format!("step of range must be a positive number: {expr:?}"));
    }
    let size = if start > end {
        // Go computes this in unsigned arithmetic; a start beyond the maximum wraps.
        (b.max.wrapping_sub(start).wrapping_add(1)).wrapping_add(end - b.min + 1)
    } else {
        end - start + 1
    };
    if step > 1 && step >= size {
        return err(format!(
            "step ({step}) must be less than range size ({size}): {expr:?}"
        ));
    }
    if start > end {
        let width = b.max - b.min + 1;
        let mut acc = 0u64;
        let mut i = start;
        while i <= end + width {
            let v = if i > b.max {
                (i - b.min) % width + b.min
            } else {
                i
            };
            acc |= 1u64.checked_shl(v as u32).unwrap_or(0);
            i = i.saturating_add(step);
        }
        return Ok(acc | extra);
    }
    Ok(bits(start, end, step) | extra)
}

/// Values `low..=high` every `step`.
fn bits(low: u64, high: u64, step: u64) -> u64 {
    let mut acc = 0u64;
    let mut i = low;
    while i <= high && i < 64 {
        acc |= 1 << i;
        i = i.saturating_add(step);
    }
    acc
}

fn int_or_name(s: &str, b: &Bounds) -> Result<u64, ScheduleError> {
    let lower = s.to_lowercase();
    if let Some((_, v)) = b.names.iter().find(|(n, _)| *n == lower) {
        return Ok(*v);
    }
    non_negative_int(s)
}

/// Go's `strconv.Atoi` (optional sign, decimal digits, 64-bit range), rejecting negatives.
fn non_negative_int(s: &str) -> Result<u64, ScheduleError> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return err(format!("failed to parse int from {s:?}"));
    }
    match s.parse::<i64>() {
        Ok(n) if n >= 0 => Ok(n as u64),
        Ok(n) => err(format!("negative number ({n}) not allowed: {s:?}")),
        Err(_) => err(format!("failed to parse int from {s:?}")),
    }
}

/// Day-of-week bit 7 (Sunday written as 7) folded into bit 0.
fn sunday_as_zero(dow: u64) -> u64 {
    if dow & (1 << 7) != 0 {
        (dow | 1) & !(1 << 7)
    } else {
        dow
    }
}

/// A wall-clock reading of an instant in a zone.
#[derive(Debug, Clone, Copy)]
struct Civil {
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
    /// 0 = Sunday.
    weekday: i64,
}

impl Zone {
    fn civil(self, unix: i64) -> Civil {
        let local = unix + self.offset(unix);
        let days = local.div_euclid(86_400);
        let secs = local.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        Civil {
            year,
            month,
            day,
            hour: secs / 3600,
            minute: secs / 60 % 60,
            second: secs % 60,
            weekday: (days + 4).rem_euclid(7),
        }
    }

    /// Go's `time.Date`: out-of-range months and days roll over; a wall time the zone skips
    /// or repeats resolves exactly as Go resolves it.
    fn date(self, year: i64, month: i64, day: i64, hour: i64, minute: i64, second: i64) -> i64 {
        let m0 = month - 1;
        let year = year + m0.div_euclid(12);
        let month = m0.rem_euclid(12) + 1;
        let local = (days_from_civil(year, month, 1) + day - 1) * 86_400
            + hour * 3600
            + minute * 60
            + second;
        // Go looks up the offset at the wall time read as UTC, then corrects it with the
        // offset in effect at the instant that first guess designates.
        let guess = local - self.offset(local);
        local - self.offset(guess)
    }

    /// Go's `t.AddDate(years, months, days)`.
    fn add_date(self, unix: i64, months: i64, days: i64) -> i64 {
        let c = self.civil(unix);
        self.date(
            c.year,
            c.month + months,
            c.day + days,
            c.hour,
            c.minute,
            c.second,
        )
    }
}

fn has(bits: u64, v: i64) -> bool {
    (0..64).contains(&v) && bits & (1 << v) != 0
}

impl Spec {
    fn day_matches(&self, c: &Civil) -> bool {
        has(self.dom, c.day) && has(self.dow, c.weekday)
    }

    /// go-cron's `SpecSchedule.Next`, step for step (whole seconds: Kubernetes times carry
    /// none, and the first candidate is the next whole second anyway).
    fn next(&self, after: i64) -> i64 {
        let z = self.zone;
        let mut t = after + 1;
        let year_limit = z.civil(t).year + SEARCH_YEARS;
        let mut added = false;
        // Every loop step spends one unit. A normal search needs far fewer; the budget only
        // stops zones whose calendar jumps make Go's loop spin forever (Pacific/Apia skipped
        // 2011-12-30 entirely), where KSM would never produce a value either.
        let mut budget: u32 = 5_000_000;
        let mut spend = move || {
            budget = budget.saturating_sub(1);
            budget == 0
        };
        'wrap: loop {
            if spend() {
                return GO_ZERO_UNIX;
            }
            let c = z.civil(t);
            if c.year > year_limit {
                return GO_ZERO_UNIX;
            }
            if !has(self.month, c.month) {
                if !added {
                    added = true;
                    t = z.date(c.year, c.month, 1, 0, 0, 0);
                }
                loop {
                    if spend() {
                        return GO_ZERO_UNIX;
                    }
                    t = z.add_date(t, 1, 0);
                    let c = z.civil(t);
                    if c.month == 1 {
                        continue 'wrap;
                    }
                    if has(self.month, c.month) {
                        break;
                    }
                }
            }
            if !self.day_matches(&z.civil(t)) {
                if !added {
                    added = true;
                    let c = z.civil(t);
                    t = z.date(c.year, c.month, c.day, 0, 0, 0);
                }
                loop {
                    if spend() {
                        return GO_ZERO_UNIX;
                    }
                    t = z.add_date(t, 0, 1);
                    t = normalize_midnight(z, t);
                    let c = z.civil(t);
                    if c.day == 1 {
                        continue 'wrap;
                    }
                    if self.day_matches(&c) {
                        break;
                    }
                }
            }
            if !has(self.hour, z.civil(t).hour) {
                if !added {
                    added = true;
                    let c = z.civil(t);
                    t = z.date(c.year, c.month, c.day, c.hour, 0, 0);
                }
                loop {
                    if spend() {
                        return GO_ZERO_UNIX;
                    }
                    let prev = z.civil(t).hour;
                    t += 3600;
                    let cur = z.civil(t).hour;
                    // A spring-forward jump skipped a wanted hour: fire right after it.
                    if cur - prev == 2 && has(self.hour, cur - 1) {
                        break;
                    }
                    if cur == 0 {
                        continue 'wrap;
                    }
                    if has(self.hour, cur) {
                        break;
                    }
                }
            }
            while !has(self.minute, z.civil(t).minute) {
                if !added {
                    added = true;
                    t -= t.rem_euclid(60);
                }
                t += 60;
                if z.civil(t).minute == 0 {
                    continue 'wrap;
                }
            }
            // Go discards the `added` flag of the seconds step.
            while !has(self.second, z.civil(t).second) {
                t += 1;
                if z.civil(t).second == 0 {
                    continue 'wrap;
                }
            }
            return t;
        }
    }
}

/// After adding a day: when midnight does not exist (a DST jump at 00:00), move back to the
/// start of the day, or forward to the next one when the clock reads past noon.
fn normalize_midnight(z: Zone, t: i64) -> i64 {
    let h = z.civil(t).hour;
    if h == 0 {
        t
    } else if h > 12 {
        t + (24 - h) * 3600
    } else {
        t - h * 3600
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Time {
        Time::parse(s).unwrap()
    }

    fn iso(unix: i64) -> String {
        chrono::DateTime::from_timestamp(unix, 0)
            .unwrap()
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string()
    }

    /// Next activation after `from` (UTC, RFC 3339), as RFC 3339 UTC.
    fn next(spec: &str, from: &str) -> String {
        let s = Schedule::parse(spec).unwrap_or_else(|e| panic!("{spec}: {e}"));
        let n = s.next(at(from));
        if n == GO_ZERO_UNIX {
            "zero".into()
        } else {
            iso(n)
        }
    }

    fn invalid(spec: &str) -> bool {
        Schedule::parse(spec).is_err()
    }

    #[test]
    fn conformance_cases() {
        // jobs-cronjobs: Berlin nightly backup, last run 02:00 CET.
        assert_eq!(
            next("CRON_TZ=Europe/Berlin 0 2 * * *", "2026-11-21T01:00:00Z"),
            "2026-11-22T01:00:00Z"
        );
        // Business hours in New York, counted from a Friday-evening run.
        assert_eq!(
            next(
                "CRON_TZ=America/New_York */15 9-17 * * 1-5",
                "2026-11-20T21:45:00Z"
            ),
            "2026-11-20T22:00:00Z"
        );
        assert_eq!(
            next("@hourly", "2026-11-21T05:25:26Z"),
            "2026-11-21T06:00:00Z"
        );
        // Feb 29 from a 2024 run: the next leap day.
        assert_eq!(
            next("30 6 29 2 *", "2024-02-29T06:30:00Z"),
            "2028-02-29T06:30:00Z"
        );
        assert_eq!(
            next("CRON_TZ=Europe/London 30 2 * * *", "2026-11-21T02:30:00Z"),
            "2026-11-22T02:30:00Z"
        );
        assert_eq!(
            next("0 4 * * 0", "2026-11-16T04:00:00Z"),
            "2026-11-22T04:00:00Z"
        );
    }

    #[test]
    fn fields_ranges_steps_lists() {
        assert_eq!(
            next("* * * * *", "2026-01-01T00:00:00Z"),
            "2026-01-01T00:01:00Z"
        );
        assert_eq!(
            next("* * * * *", "2026-01-01T00:00:30Z"),
            "2026-01-01T00:01:00Z"
        );
        assert_eq!(
            next("*/20 * * * *", "2026-01-01T00:41:00Z"),
            "2026-01-01T01:00:00Z"
        );
        assert_eq!(
            next("5/20 * * * *", "2026-01-01T00:26:00Z"),
            "2026-01-01T00:45:00Z"
        );
        assert_eq!(
            next("10-30/10 * * * *", "2026-01-01T00:31:00Z"),
            "2026-01-01T01:10:00Z"
        );
        assert_eq!(
            next("0 1,13 * * *", "2026-01-01T02:00:00Z"),
            "2026-01-01T13:00:00Z"
        );
        assert_eq!(
            next("0 0 1 */3 *", "2026-02-10T00:00:00Z"),
            "2026-04-01T00:00:00Z"
        );
        assert_eq!(
            next("? ? ? ? ?", "2026-01-01T00:00:00Z"),
            "2026-01-01T00:01:00Z"
        );
        // Empty list items are ignored.
        assert_eq!(
            next("0,,30 * * * *", "2026-01-01T00:10:00Z"),
            "2026-01-01T00:30:00Z"
        );
        // A range wrapping past midnight.
        assert_eq!(
            next("0 22-2 * * *", "2026-01-01T03:00:00Z"),
            "2026-01-01T22:00:00Z"
        );
        assert_eq!(
            next("0 22-2 * * *", "2026-01-01T23:30:00Z"),
            "2026-01-02T00:00:00Z"
        );
    }

    #[test]
    fn names_and_sunday() {
        // 2026-01-01 is a Thursday.
        assert_eq!(
            next("0 9 * * mon", "2026-01-01T00:00:00Z"),
            "2026-01-05T09:00:00Z"
        );
        assert_eq!(
            next("0 9 * * THU", "2026-01-01T10:00:00Z"),
            "2026-01-08T09:00:00Z"
        );
        assert_eq!(
            next("0 9 * * Sat-Sun", "2026-01-01T00:00:00Z"),
            "2026-01-03T09:00:00Z"
        );
        assert_eq!(
            next("0 0 1 JUN *", "2026-01-01T00:00:00Z"),
            "2026-06-01T00:00:00Z"
        );
        assert_eq!(
            next("0 0 * * 7", "2026-01-01T00:00:00Z"),
            "2026-01-04T00:00:00Z"
        );
        // 1/2 runs to 7, so Sunday is included.
        assert_eq!(
            next("0 0 * * 1/2", "2026-01-02T00:00:00Z"),
            "2026-01-04T00:00:00Z"
        );
    }

    #[test]
    fn both_day_fields_must_match() {
        // The 13th falling on a Friday: 2026-02-13.
        assert_eq!(
            next("0 0 13 * 5", "2026-01-01T00:00:00Z"),
            "2026-02-13T00:00:00Z"
        );
        // First Monday of the month.
        assert_eq!(
            next("0 8 1-7 * 1", "2026-01-06T00:00:00Z"),
            "2026-02-02T08:00:00Z"
        );
    }

    #[test]
    fn descriptors() {
        let from = "2026-05-17T10:20:30Z"; // a Sunday
        assert_eq!(next("@yearly", from), "2027-01-01T00:00:00Z");
        assert_eq!(next("@annually", from), "2027-01-01T00:00:00Z");
        assert_eq!(next("@monthly", from), "2026-06-01T00:00:00Z");
        assert_eq!(next("@weekly", from), "2026-05-24T00:00:00Z");
        assert_eq!(next("@daily", from), "2026-05-18T00:00:00Z");
        assert_eq!(next("@midnight", from), "2026-05-18T00:00:00Z");
        assert_eq!(next("@hourly", from), "2026-05-17T11:00:00Z");
        assert_eq!(next("@every 1h30m", from), "2026-05-17T11:50:30Z");
        assert_eq!(next("@every 90s", from), "2026-05-17T10:22:00Z");
        assert_eq!(next("@every 1.5s", from), "2026-05-17T10:20:31Z");
        assert_eq!(
            next("CRON_TZ=Asia/Tokyo @daily", from),
            "2026-05-17T15:00:00Z"
        );
    }

    #[test]
    fn time_zones() {
        // Shanghai is UTC+8: midnight there is 16:00 UTC.
        assert_eq!(
            next("CRON_TZ=Asia/Shanghai 0 */6 * * *", "2018-03-11T04:34:56Z"),
            "2018-03-11T10:00:00Z"
        );
        assert_eq!(
            next("TZ=Asia/Kolkata 0 9 * * *", "2026-01-01T00:00:00Z"),
            "2026-01-01T03:30:00Z"
        );
        assert_eq!(
            next("CRON_TZ=UTC 15 3 * * *", "2026-11-20T03:15:00Z"),
            "2026-11-21T03:15:00Z"
        );
        assert_eq!(
            next("CRON_TZ=Etc/GMT+5 0 0 * * *", "2026-01-01T06:00:00Z"),
            "2026-01-02T05:00:00Z"
        );
    }

    #[test]
    fn dst_spring_forward_fires_after_the_jump() {
        // Berlin 2026-03-29: 02:00 CET jumps to 03:00 CEST (01:00 UTC).
        assert_eq!(
            next("CRON_TZ=Europe/Berlin 30 2 * * *", "2026-03-28T01:30:00Z"),
            "2026-03-29T01:30:00Z"
        );
        assert_eq!(
            next("CRON_TZ=Europe/Berlin 0 2 * * *", "2026-03-28T01:00:00Z"),
            "2026-03-29T01:00:00Z"
        );
        // The day after, 02:30 exists again.
        assert_eq!(
            next("CRON_TZ=Europe/Berlin 30 2 * * *", "2026-03-29T01:30:00Z"),
            "2026-03-30T00:30:00Z"
        );
        // New York 2026-03-08: 02:00 EST jumps to 03:00 EDT (07:00 UTC).
        assert_eq!(
            next(
                "CRON_TZ=America/New_York 30 2 * * *",
                "2026-03-07T07:30:00Z"
            ),
            "2026-03-08T07:30:00Z"
        );
    }

    #[test]
    fn dst_fall_back_repeats_the_hour() {
        // Berlin 2026-10-25: 03:00 CEST falls back to 02:00 CET (01:00 UTC). Next() returns
        // the first 02:30, then the second one.
        assert_eq!(
            next("CRON_TZ=Europe/Berlin 30 2 * * *", "2026-10-24T00:30:00Z"),
            "2026-10-25T00:30:00Z"
        );
        assert_eq!(
            next("CRON_TZ=Europe/Berlin 30 2 * * *", "2026-10-25T00:30:00Z"),
            "2026-10-25T01:30:00Z"
        );
        // New York 2026-11-01: 02:00 EDT falls back to 01:00 EST (06:00 UTC).
        assert_eq!(
            next(
                "CRON_TZ=America/New_York 30 1 * * *",
                "2026-10-31T05:30:00Z"
            ),
            "2026-11-01T05:30:00Z"
        );
        assert_eq!(
            next("CRON_TZ=America/New_York 0 * * * *", "2026-11-01T05:00:00Z"),
            "2026-11-01T06:00:00Z"
        );
    }

    #[test]
    fn never_fires() {
        assert_eq!(next("0 0 30 2 *", "2026-01-01T00:00:00Z"), "zero");
        assert_eq!(next(", * * * *", "2026-01-01T00:00:00Z"), "zero");
        assert_eq!(
            Schedule::parse("0 0 31 4 *")
                .unwrap()
                .next(at("2026-01-01T00:00:00Z")),
            GO_ZERO_UNIX
        );
    }

    #[test]
    fn rejected_specs() {
        for spec in [
            "",
            "* * * *",
            "* * * * * *",
            "60 * * * *",
            "* 24 * * *",
            "* * 0 * *",
            "* * 32 * *",
            "* * * 13 *",
            "* * * * 8",
            "*/60 * * * *",
            "*/120 4-22 * * *",
            "0 1 */32,1-7 * 3",
            "0 */24 * * *",
            "1-5/5 * * * *",
            "*/0 * * * *",
            "1-2-3 * * * *",
            "1/2/3 * * * *",
            "-1 * * * *",
            "a * * * *",
            "0 0 L * *",
            "0 0 * * FRI#3",
            "H * * * *",
            "@every 500ms",
            "@every 0s",
            "@every -1m",
            "@every",
            "@every 1x",
            "@every .s",
            "@reboot",
            " @daily",
            "CRON_TZ=Invalid/Zone 0 * * * *",
            "CRON_TZ= 0 * * * *",
            "TZ=Europe/Berlin",
            "TZ=Europe/Berlin   ",
            "CRON_TZ=Europe/Berlin TZ=UTC 0 * * * *",
            "TZ=Bad.Zone 0 * * * *",
            "TZ=utc 0 * * * *",
            "TZ=\"UTC' 0 * * * *",
        ] {
            assert!(invalid(spec), "{spec:?} should be rejected");
        }
        assert!(invalid(&format!("0 0 * * *{}", " ".repeat(1020))));
    }

    #[test]
    fn accepted_edge_specs() {
        for spec in [
            "*/59 * * * *",
            "0 0 */30 * *",
            "0 0 * */11 *",
            "0 0 * * */7",
            "+5 * * * *",
            "05 * * * *",
            "*-5 * * * *",
            "@every 1s",
            "@every 1m0.5s",
            "@every +2h",
            "TZ=UTC @hourly",
            "CRON_TZ=America/Argentina/Buenos_Aires 0 0 * * *",
            "CRON_TZ=US/Eastern 0 0 * * *",
            "CRON_TZ=\"Asia/Calcutta\" 0 0 * * *",
            "TZ=Factory 0 0 * * *",
            "\t0\t0 * * *",
        ] {
            assert!(!invalid(spec), "{spec:?} should parse");
        }
    }

    /// Spec, start (Unix s), next (Unix s; `None` = rejected), as computed by go-cron v0.15.1
    /// itself (the library KSM v2.20.0 links); DST zones with odd shifts (Lord Howe's half
    /// hour, Chatham, Havana's midnight jumps) and wrap-around ranges.
    const REFERENCE: &[(&str, i64, Option<i64>)] = &[
        (
            "CRON_TZ=Australia/Lord_Howe 59 0-5 15,16 * 0",
            1774164543,
            Some(1786804140),
        ),
        (
            "CRON_TZ=Pacific/Chatham 0 1 * nov-feb 5",
            1892978558,
            Some(1893064500),
        ),
        (
            "CRON_TZ=America/St_Johns 5,35 1,13 13 nov-feb 0",
            1591789496,
            Some(1607834100),
        ),
        (
            "CRON_TZ=Australia/Lord_Howe 5,35 1 29 2 */2",
            1580632106,
            Some(1582898700),
        ),
        (
            "CRON_TZ=Africa/Casablanca 30 */6 */2 */3 fri-mon",
            1960256694,
            Some(1964561400),
        ),
        (
            "CRON_TZ=America/Santiago 0 12 1-7 3,10 fri-mon",
            1819284841,
            Some(1822402800),
        ),
        (
            "CRON_TZ=Pacific/Chatham 0 12 29 */3 */2",
            2047633596,
            Some(2061414900),
        ),
        (
            "CRON_TZ=America/Sao_Paulo 45 1,13 1 3,10 *",
            2047219679,
            Some(2056337100),
        ),
        (
            "CRON_TZ=Pacific/Chatham */7 22-2 */2 nov-feb 5",
            1879713114,
            Some(1888827300),
        ),
        (
            "CRON_TZ=America/Havana */15 * 31 * *",
            1653134159,
            Some(1653969600),
        ),
        (
            "CRON_TZ=Australia/Lord_Howe 45 23 1-7 * 1-5",
            1686172068,
            Some(1688390100),
        ),
        (
            "CRON_TZ=Australia/Lord_Howe 45 1 1-7 3 */2",
            1614057064,
            Some(1614609900),
        ),
        (
            "CRON_TZ=America/Havana 0-10 12 1-7 * fri-mon",
            1731137534,
            Some(1733072400),
        ),
        (
            "CRON_TZ=Pacific/Chatham * 0-5 30 2 sat,sun",
            1633164412,
            Some(-62135596800),
        ),
        (
            "TZ=Australia/Lord_Howe 59-58 7/1,*/8,* 11,?,29-19 7 6-thu",
            1635795352,
            Some(1656682200),
        ),
        (
            "TZ=America/New_York 0-10 2 * */3 sat,sun",
            1540795685,
            Some(1546671600),
        ),
        ("TZ=Asia/Kolkata @every 2h30m", 1540483874, Some(1540492874)),
        (
            "CRON_TZ=America/Havana 0-10 2 1-7 * 0",
            1616945556,
            Some(1617516000),
        ),
        ("CRON_TZ=Etc/GMT-14 @weekly", 1047964671, Some(1048327200)),
        (
            "CRON_TZ=America/Havana *,27-17,42 * * */3 6,5-Thu",
            1635568474,
            Some(1635568500),
        ),
        (
            "TZ=America/New_York 52 *,11-21 12-15 jun-May *",
            1366614862,
            Some(1368334320),
        ),
        (
            "46/20,49/12,15/10 */45 2-2,*/6 5/7,*,3 6-4",
            1616935270,
            None,
        ),
        (
            "32-57/30,*,* 20-19,20-4,17-20/6 25-21 feb-2,1-4 2",
            1635768462,
            None,
        ),
        ("? 10,*,*/0 ?,21-18,26-25 8-aug 4", 1616940239, None),
        ("*,38-5,59 */20 20-29/45 sep-2,jan 4-7", 1289589161, None),
        ("5,35 0-5 15,L */3 0", 1344706817, None),
    ];

    #[test]
    fn agrees_with_the_reference_library() {
        for (spec, from, want) in REFERENCE {
            let got = Schedule::parse(spec).ok().map(|s| {
                s.next(Time {
                    secs: *from,
                    nanos: 0,
                })
            });
            assert_eq!(got, *want, "{spec} from {from}");
        }
    }

    #[test]
    fn cronjob_specs() {
        assert_eq!(cronjob_spec("0 2 * * *", None), "0 2 * * *");
        assert_eq!(
            cronjob_spec("0 2 * * *", Some("Europe/Berlin")),
            "CRON_TZ=Europe/Berlin 0 2 * * *"
        );
        assert!(invalid(&cronjob_spec("0 2 * * *", Some(""))));
    }
}
