//! Kubernetes timestamps (RFC 3339, second or microsecond precision).

use serde::{Deserialize, Deserializer};

/// A point in time as Unix seconds plus nanoseconds.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Time {
    /// Whole seconds since the Unix epoch (Go's `Time.Unix()`).
    pub secs: i64,
    /// Nanoseconds within the second.
    pub nanos: u32,
}

impl Time {
    /// Parses an RFC 3339 timestamp such as `2026-11-21T05:23:40Z` or
    /// `2026-11-21T05:23:40.123456Z`.
    pub fn parse(s: &str) -> Option<Time> {
        if let Some(t) = Time::parse_utc(s.as_bytes()) {
            return Some(t);
        }
        let t = chrono::DateTime::parse_from_rfc3339(s).ok()?;
        Some(Time {
            secs: t.timestamp(),
            nanos: t.timestamp_subsec_nanos(),
        })
    }

    /// The forms Kubernetes writes, `2006-01-02T15:04:05Z` and `2006-01-02T15:04:05.000000Z`,
    /// read without a general parser; `None` for anything else (including dates past the
    /// 28th and leap seconds), which the general parser then reads or rejects.
    fn parse_utc(b: &[u8]) -> Option<Time> {
        let micro = match b.len() {
            20 => false,
            27 if b[19] == b'.' => true,
            _ => return None,
        };
        if b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
            return None;
        }
        if b[b.len() - 1] != b'Z' {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> Option<i64> {
            b[r].iter().try_fold(0i64, |n, &c| {
                c.is_ascii_digit().then(|| n * 10 + i64::from(c - b'0'))
            })
        };
        let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
        if !(1..=12).contains(&mo) || !(1..=28).contains(&d) || h > 23 || mi > 59 || sec > 59 {
            return None;
        }
        let nanos = if micro { num(20..26)? * 1000 } else { 0 };
        let days = kubestate_gotime::days_from_civil(y, mo, d);
        Some(Time {
            secs: days * 86_400 + h * 3600 + mi * 60 + sec,
            nanos: nanos as u32,
        })
    }

    /// Whole Unix seconds as a float (what most KSM timestamp families print).
    pub fn unix(self) -> f64 {
        self.secs as f64
    }

    /// Whether this is Go's zero time (`0001-01-01T00:00:00Z`), which KSM treats as unset.
    pub fn is_zero(self) -> bool {
        self.secs == GO_ZERO_UNIX && self.nanos == 0
    }
}

/// `time.Time{}.Unix()` in Go.
pub(crate) const GO_ZERO_UNIX: i64 = -62_135_596_800;

/// The newtype-struct name under which a [`Time`] asks a deserializer for itself. A
/// deserializer that knows it (the protobuf one, `crate::proto`) may answer with
/// [`Time::to_wire`] through `visit_i128` instead of RFC 3339 text; every other one (JSON)
/// presents the newtype's content, the text.
pub(crate) const WIRE_NAME: &str = "$kubestate_objects::Time";

impl Time {
    /// Seconds and nanoseconds in one `i128`, the form a deserializer hands over under
    /// [`WIRE_NAME`].
    pub(crate) fn to_wire(self) -> i128 {
        (i128::from(self.secs) << 32) | i128::from(self.nanos)
    }

    fn from_wire(x: i128) -> Time {
        Time {
            secs: (x >> 32) as i64,
            nanos: (x & 0xffff_ffff) as u32,
        }
    }
}

impl<'de> Deserialize<'de> for Time {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Time, D::Error> {
        // A visitor rather than a `Cow<str>`: strings that are not borrowed from the input are
        // parsed without a copy.
        struct Text;
        impl serde::de::Visitor<'_> for Text {
            type Value = Time;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an RFC 3339 timestamp")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Time, E> {
                Time::parse(s).ok_or_else(|| E::custom(format!("invalid timestamp {s:?}")))
            }
        }
        struct Wire;
        impl<'de> serde::de::Visitor<'de> for Wire {
            type Value = Time;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an RFC 3339 timestamp")
            }
            fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Time, D::Error> {
                d.deserialize_str(Text)
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Time, E> {
                Text.visit_str(s)
            }
            fn visit_i128<E: serde::de::Error>(self, x: i128) -> Result<Time, E> {
                Ok(Time::from_wire(x))
            }
        }
        d.deserialize_newtype_struct(WIRE_NAME, Wire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rfc3339() {
        assert_eq!(
            Time::parse("1970-01-01T00:00:10Z"),
            Some(Time { secs: 10, nanos: 0 })
        );
        assert_eq!(
            Time::parse("1970-01-01T00:00:10.5Z"),
            Some(Time {
                secs: 10,
                nanos: 500_000_000
            })
        );
        assert!(Time::parse("0001-01-01T00:00:00Z").unwrap().is_zero());
        assert_eq!(Time::parse("yesterday"), None);
    }

    /// The fast path agrees with the general parser on every form it takes, and leaves the
    /// rest to it.
    #[test]
    fn fast_path_agrees_with_chrono() {
        let general = |s: &str| {
            chrono::DateTime::parse_from_rfc3339(s).ok().map(|t| Time {
                secs: t.timestamp(),
                nanos: t.timestamp_subsec_nanos(),
            })
        };
        let mut n = 0;
        for y in [0, 1, 1969, 1970, 2000, 2024, 2026, 9999] {
            for mo in 0..=13 {
                for d in [0, 1, 15, 28, 29, 31, 32] {
                    for (h, mi, s) in [(0, 0, 0), (23, 59, 59), (24, 0, 0), (12, 60, 0), (1, 2, 60)]
                    {
                        for frac in ["", ".000000", ".123456", ".999999", ".5"] {
                            let t = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}{frac}Z");
                            assert_eq!(Time::parse(&t), general(&t), "{t}");
                            n += usize::from(Time::parse_utc(t.as_bytes()).is_some());
                        }
                    }
                }
            }
        }
        assert!(n > 1000, "the fast path took {n} forms");
        for odd in [
            "2026-01-02T03:04:05+01:00",
            "2026-01-02t03:04:05Z",
            "2026-01-02T03:04:0xZ",
            "2026-01-02T03:04:05.12345xZ",
        ] {
            assert_eq!(Time::parse(odd), general(odd), "{odd}");
        }
    }
}
