//! Go-style durations (`1m0s`, `5s`, `300ms`, `1h30m`), as KSM's timeout flags take them.

use std::time::Duration;

/// Parses a non-negative Go duration string (a bare number other than `0` is an error, as in
/// Go); the parser is `kubestate_gotime`'s.
///
/// # Errors
/// Anything that is not a sequence of `<number><unit>` with units `ns us µs ms s m h`.
pub fn parse_go_duration(s: &str) -> Result<Duration, String> {
    kubestate_gotime::parse_std_duration(s, kubestate_gotime::BareNumber::Reject)
}
