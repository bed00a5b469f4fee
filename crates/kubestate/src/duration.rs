//! Go-style durations (`1m0s`, `5s`, `300ms`, `1h30m`), as KSM's timeout flags take them.

use std::time::Duration;

/// Parses a Go duration string (`1m0s`, `300ms`, `0`) as KSM's flags do: non-negative, with a
/// unit. The parsing is `kubestate_gotime`'s `time.ParseDuration`.
///
/// # Errors
/// Anything Go rejects, a negative duration, or a bare number without a unit; the message names
/// the input and what is wrong.
pub fn parse_go_duration(s: &str) -> Result<Duration, String> {
    kubestate_gotime::parse_std_duration(s, kubestate_gotime::BareNumber::Reject)
}

/// Writes a duration as Go's `time.Duration.String` does (`1m0s`, `5s`, `300ms`, `1h0m0s`), so
/// defaults read as in KSM's `--help`; durations beyond Go's range (≈292 years) saturate.
pub fn format_go_duration(d: Duration) -> String {
    kubestate_gotime::format_duration(i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        assert_eq!(parse_go_duration("1m0s"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_go_duration("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_go_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_go_duration("300ms"), Ok(Duration::from_millis(300)));
        assert_eq!(parse_go_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_go_duration("0"), Ok(Duration::ZERO));
        assert_eq!(parse_go_duration("+2s"), Ok(Duration::from_secs(2)));
        assert!(parse_go_duration("5").unwrap_err().contains("missing unit"));
        assert!(parse_go_duration("5x")
            .unwrap_err()
            .contains("unknown unit"));
        assert!(parse_go_duration("-5s").unwrap_err().contains("negative"));
        assert!(parse_go_duration("").is_err());
    }

    #[test]
    fn go_duration_strings() {
        for (d, s) in [
            (Duration::from_secs(60), "1m0s"),
            (Duration::from_secs(300), "5m0s"),
            (Duration::from_secs(5), "5s"),
            (Duration::from_secs(3600), "1h0m0s"),
            (Duration::from_millis(1500), "1.5s"),
            (Duration::from_millis(300), "300ms"),
            (Duration::from_micros(1500), "1.5ms"),
            (Duration::from_nanos(7), "7ns"),
            (Duration::ZERO, "0s"),
        ] {
            assert_eq!(format_go_duration(d), s);
            assert_eq!(parse_go_duration(s), Ok(d), "{s}");
        }
    }
}
