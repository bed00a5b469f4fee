//! Go-compatible float formatting.
//!
//! KSM writes every value with Go's `strconv.AppendFloat(v, 'g', -1, 64)` plus fast paths for
//! 0, 1, -1, NaN and the infinities (ksm-behaviour.md §5.4). Shortest round-trip digits are laid
//! out in plain decimal when the decimal exponent is in `[-4, 6)` and in exponent form
//! (`d.ddde±XX`, at least two exponent digits) otherwise.

/// Appends `v` to `out` exactly as KSM prints a sample value.
pub fn write_float(out: &mut Vec<u8>, v: f64) {
    if v == 0.0 {
        out.push(b'0'); // also -0: KSM's fast path prints "0"
        return;
    }
    if v.is_nan() {
        out.extend_from_slice(b"NaN");
        return;
    }
    if v.is_infinite() {
        out.extend_from_slice(if v > 0.0 { b"+Inf" } else { b"-Inf" });
        return;
    }
    // Integers below 1e6 in magnitude are their own shortest form.
    if v.fract() == 0.0 && v.abs() < 1e6 {
        let mut b = itoa::Buffer::new();
        out.extend_from_slice(b.format(v as i64).as_bytes());
        return;
    }
    let mut digits = [0u8; 24];
    let (n, exp) = shortest_digits(v.abs(), &mut digits);
    let digits = &digits[..n];
    if v < 0.0 {
        out.push(b'-');
    }
    // `exp` is the decimal exponent of the first digit: value = d1.d2d3... × 10^exp.
    if !(-4..6).contains(&exp) {
        out.push(digits[0]);
        if digits.len() > 1 {
            out.push(b'.');
            out.extend_from_slice(&digits[1..]);
        }
        out.push(b'e');
        out.push(if exp < 0 { b'-' } else { b'+' });
        let e = exp.unsigned_abs();
        if e < 10 {
            out.push(b'0');
        }
        let mut b = itoa::Buffer::new();
        out.extend_from_slice(b.format(e).as_bytes());
    } else if exp < 0 {
        out.extend_from_slice(b"0.");
        for _ in 0..(-exp - 1) {
            out.push(b'0');
        }
        out.extend_from_slice(digits);
    } else {
        let int_len = exp as usize + 1;
        if digits.len() <= int_len {
            out.extend_from_slice(digits);
            for _ in digits.len()..int_len {
                out.push(b'0');
            }
        } else {
            out.extend_from_slice(&digits[..int_len]);
            out.push(b'.');
            out.extend_from_slice(&digits[int_len..]);
        }
    }
}

/// Formats `v` into a new string (convenience for tests and non-hot paths).
pub fn format_float(v: f64) -> String {
    let mut out = Vec::with_capacity(24);
    write_float(&mut out, v);
    // write_float only ever emits ASCII.
    String::from_utf8(out).expect("float formatting emits ASCII only")
}

/// Shortest round-trip decimal digits of a finite positive `v` (no leading/trailing zeros) and
/// the decimal exponent of the first digit.
fn shortest_digits(v: f64, digits: &mut [u8; 24]) -> (usize, i32) {
    // Whole numbers below 2^53 (timestamps, byte counts): neighbouring doubles are at most 1
    // apart, and any decimal with fewer significant digits is at least 1 away, so the
    // shortest round-trip digits are the integer's own (trailing zeros dropped).
    if v.fract() == 0.0 && v < 9_007_199_254_740_992.0 {
        let mut b = itoa::Buffer::new();
        let s = b.format(v as u64).as_bytes();
        digits[..s.len()].copy_from_slice(s);
        let mut n = s.len();
        while n > 1 && digits[n - 1] == b'0' {
            n -= 1;
        }
        return (n, s.len() as i32 - 1);
    }
    ryu_digits(v, digits)
}

/// [`shortest_digits`] through Ryu, for any finite positive `v`.
fn ryu_digits(v: f64, digits: &mut [u8; 24]) -> (usize, i32) {
    let mut buf = ryu::Buffer::new();
    let s = buf.format_finite(v).as_bytes();
    // ryu prints either "ddd.ddd" or "d.ddde[-]XX"; split mantissa and exponent.
    let (mant, exp10) = match s.iter().position(|&c| c == b'e') {
        Some(p) => (&s[..p], parse_exp(&s[p + 1..])),
        None => (s, 0),
    };
    let mut n = 0;
    let mut point: Option<i32> = None;
    let mut first_nonzero: Option<i32> = None; // position (in mantissa digits) of first non-zero
    let mut pos = 0i32;
    for &c in mant {
        if c == b'.' {
            point = Some(pos);
            continue;
        }
        if first_nonzero.is_none() {
            if c == b'0' {
                pos += 1;
                continue;
            }
            first_nonzero = Some(pos);
        }
        digits[n] = c;
        n += 1;
        pos += 1;
    }
    while n > 1 && digits[n - 1] == b'0' {
        n -= 1;
    }
    let point = point.unwrap_or(pos);
    let first = first_nonzero.unwrap_or(0);
    (n, point - first - 1 + exp10)
}

fn parse_exp(s: &[u8]) -> i32 {
    let (neg, rest) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let mut e = 0i32;
    for &c in rest {
        e = e * 10 + i32::from(c - b'0');
    }
    if neg {
        -e
    } else {
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn golden_table() {
        let cases: &[(f64, &str)] = &[
            (0.0, "0"),
            (-0.0, "0"),
            (1.0, "1"),
            (-1.0, "-1"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
            (1_501_777_018.0, "1.501777018e+09"),
            (1.5e9, "1.5e+09"),
            (1e8, "1e+08"),
            (3e8, "3e+08"),
            (1_234_567.0, "1.234567e+06"),
            (123_456.0, "123456"),
            (999_999.0, "999999"),
            (1e6, "1e+06"),
            (0.2, "0.2"),
            (0.25, "0.25"),
            (43.21, "43.21"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (0.000123, "0.000123"),
            (2.38272279311849e14, "2.38272279311849e+14"),
            (268_435_456.0, "2.68435456e+08"),
            (68_719_476_736.0, "6.8719476736e+10"),
            (-6.21355968e10, "-6.21355968e+10"),
            (9.223372036854776e18, "9.223372036854776e+18"),
            (1.795236714e9, "1.795236714e+09"),
            (1e21, "1e+21"),
            (1e100, "1e+100"),
            (5e-324, "5e-324"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (123456.5, "123456.5"),
            (9007199254740993.0, "9.007199254740992e+15"),
            (0.1 + 0.2, "0.30000000000000004"),
            (100.0, "100"),
            (-2.5, "-2.5"),
            (12.0, "12"),
        ];
        for (v, want) in cases {
            assert_eq!(format_float(*v), *want, "formatting {v:e}");
        }
    }

    /// Whether `ours` and `theirs` are the two shortest strings of an exact tie for `v`, both
    /// round-tripping, with `ours` ending in the even digit.
    fn is_even_tie_break(ours: &str, theirs: &str, v: f64) -> bool {
        let (a, b) = (ours.as_bytes(), theirs.as_bytes());
        let Some(i) = a.iter().zip(b).position(|(x, y)| x != y) else {
            return false;
        };
        let rest_equal = a.len() == b.len() && a[i + 1..] == b[i + 1..];
        let one_apart = a[i].abs_diff(b[i]) == 1 && a[i].is_ascii_digit() && b[i].is_ascii_digit();
        let round_trip = ours.parse::<f64>() == Ok(v) && theirs.parse::<f64>() == Ok(v);
        rest_equal && one_apart && round_trip && (a[i] - b'0') % 2 == 0
    }

    #[test]
    fn exact_ties_keep_the_even_digit_like_go() {
        // -167634489370132.625 lies exactly between ...262e+14 and ...263e+14; Go prints 262.
        assert_eq!(
            format_float(f64::from_bits(14_043_084_342_173_680_276)),
            "-1.6763448937013262e+14"
        );
    }

    /// Reference layout built from Rust's own shortest `{:e}` output, independent of ryu.
    fn reference(v: f64) -> String {
        if v == 0.0 {
            return "0".into();
        }
        let s = format!("{:e}", v.abs());
        let (m, e) = s.split_once('e').expect("{:e} has an exponent");
        let e: i32 = e.parse().expect("exponent is an integer");
        let digits: String = m.chars().filter(|c| *c != '.').collect();
        let sign = if v < 0.0 { "-" } else { "" };
        if !(-4..6).contains(&e) {
            let mant = if digits.len() > 1 {
                format!("{}.{}", &digits[..1], &digits[1..])
            } else {
                digits.clone()
            };
            format!(
                "{sign}{mant}e{}{:02}",
                if e < 0 { '-' } else { '+' },
                e.abs()
            )
        } else if e < 0 {
            format!("{sign}0.{}{}", "0".repeat((-e - 1) as usize), digits)
        } else {
            let il = e as usize + 1;
            if digits.len() <= il {
                format!("{sign}{digits}{}", "0".repeat(il - digits.len()))
            } else {
                format!("{sign}{}.{}", &digits[..il], &digits[il..])
            }
        }
    }

    proptest! {
        #[test]
        fn matches_reference_layout(bits in any::<u64>()) {
            let v = f64::from_bits(bits);
            prop_assume!(v.is_finite());
            let (ours, theirs) = (format_float(v), reference(v));
            if ours != theirs {
                // Rust's `{:e}` and Go (Ryu) agree except on exact ties between two shortest
                // candidates, where Go keeps the even last digit.
                prop_assert!(is_even_tie_break(&ours, &theirs, v), "{ours} vs {theirs}");
            }
        }

        #[test]
        fn whole_numbers_take_the_integer_path_with_ryus_digits(k in 1u64..(1u64 << 53), shift in 0u32..8) {
            // Multiples of powers of ten too (trailing zeros), as far as 2^53.
            let v = (k / 10u64.pow(shift)).max(1) * 10u64.pow(shift);
            let v = v as f64;
            let (mut a, mut b) = ([0u8; 24], [0u8; 24]);
            let (na, ea) = shortest_digits(v, &mut a);
            let (nb, eb) = ryu_digits(v, &mut b);
            prop_assert_eq!((&a[..na], ea), (&b[..nb], eb), "{}", v);
        }

        #[test]
        fn integers_near_2_pow_53(k in -1000i64..1000) {
            let v = (9_007_199_254_740_992i64 + k) as f64;
            prop_assert_eq!(format_float(v), reference(v));
        }

        #[test]
        fn around_1e6_boundary(k in -100_000i64..100_000) {
            let v = 1e6 + k as f64 / 7.0;
            prop_assert_eq!(format_float(v), reference(v));
        }

        #[test]
        fn subnormals(m in 1u64..(1u64 << 52)) {
            let v = f64::from_bits(m);
            prop_assert_eq!(format_float(v), reference(v));
        }

        #[test]
        fn round_trips(bits in any::<u64>()) {
            let v = f64::from_bits(bits);
            prop_assume!(v.is_finite());
            let s = format_float(v);
            let back: f64 = s.parse().expect("output parses as f64");
            prop_assert!(back == v || (v == 0.0 && back == 0.0));
        }
    }
}
