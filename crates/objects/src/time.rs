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
        let t = chrono::DateTime::parse_from_rfc3339(s).ok()?;
        Some(Time {
            secs: t.timestamp(),
            nanos: t.timestamp_subsec_nanos(),
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
const GO_ZERO_UNIX: i64 = -62_135_596_800;

impl<'de> Deserialize<'de> for Time {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Time, D::Error> {
        // A visitor rather than a `Cow<str>`: strings that are not borrowed from the input
        // (the protobuf decoder formats timestamps on the stack) are parsed without a copy.
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Time;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an RFC 3339 timestamp")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Time, E> {
                Time::parse(s).ok_or_else(|| E::custom(format!("invalid timestamp {s:?}")))
            }
        }
        d.deserialize_str(V)
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
}
