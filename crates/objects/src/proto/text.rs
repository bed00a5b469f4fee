//! How the JSON form writes values protobuf carries as bytes or numbers: base64 for `[]byte`,
//! RFC 3339 for times (without allocating).

use super::wire::{utf8, Error, Result};

/// Standard base64 with padding (Go's JSON form of `[]byte`).
pub(super) fn base64_encode(b: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(b.len().div_ceil(3) * 4);
    for c in b.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        out.push(A[(n >> 18) as usize & 63] as char);
        out.push(A[(n >> 12) as usize & 63] as char);
        out.push(if c.len() > 1 {
            A[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if c.len() > 2 {
            A[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

/// `2006-01-02T15:04:05Z` (or with `.000000` microseconds) into `buf`, without allocating.
pub(super) fn format_rfc3339(
    secs: i64,
    nanos: i32,
    micro: bool,
    buf: &mut [u8; 40],
) -> Result<&str> {
    fn digits(out: &mut [u8], mut v: u64) {
        for b in out.iter_mut().rev() {
            *b = b'0' + (v % 10) as u8;
            v /= 10;
        }
    }
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400) as u64;
    let (y, mo, d) = kubestate_gotime::civil_from_days(days);
    if !(0..=9999).contains(&y) {
        return Err(Error::new("timestamp out of range"));
    }
    buf[..20].copy_from_slice(b"0000-00-00T00:00:00Z");
    digits(&mut buf[0..4], y as u64);
    digits(&mut buf[5..7], mo as u64);
    digits(&mut buf[8..10], d as u64);
    digits(&mut buf[11..13], rem / 3600);
    digits(&mut buf[14..16], rem / 60 % 60);
    digits(&mut buf[17..19], rem % 60);
    let n = if micro {
        buf[19] = b'.';
        digits(&mut buf[20..26], (nanos.max(0) as u64 / 1000) % 1_000_000);
        buf[26] = b'Z';
        27
    } else {
        20
    };
    utf8(&buf[..n])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_durations() {
        let mut b = [0u8; 40];
        assert_eq!(
            format_rfc3339(0, 0, false, &mut b).unwrap(),
            "1970-01-01T00:00:00Z"
        );
        assert_eq!(
            format_rfc3339(1_795_238_620, 0, false, &mut b).unwrap(),
            "2026-11-21T05:23:40Z"
        );
        assert_eq!(
            format_rfc3339(1_795_238_620, 123_456_000, true, &mut b).unwrap(),
            "2026-11-21T05:23:40.123456Z"
        );
        assert_eq!(
            format_rfc3339(-62_135_596_800, 0, false, &mut b).unwrap(),
            "0001-01-01T00:00:00Z"
        );
        assert_eq!(base64_encode(b"hello"), "aGVsbG8=");
        assert_eq!(base64_encode(b""), "");
        assert_eq!(base64_encode(b"ab"), "YWI=");
    }
}
