//! How KSM reads values out of a custom resource: the number a field stands for (Go's
//! `toFloat64` in `pkg/customresourcestate`), the text of a label (Go's `%v`), and the string
//! forms it understands (RFC 3339 times, Kubernetes quantities, percentages, Go floats).

use std::borrow::Cow;
use std::fmt::Write as _;

use serde_json::Value;

/// The number `v` stands for.
///
/// * `null` (or a path that resolved to nothing): 0 with `nil_is_zero`, else an error;
/// * booleans: 1 or 0; numbers as they are;
/// * strings, first match wins: `true`/`yes` → 1 and `false`/`no`/`unknown` → 0 (any case),
///   an RFC 3339 time → Unix seconds, a Kubernetes quantity (`250m`, `5Gi`, `1e3`) → its
///   approximate float, `NN%` → NN/100, else a Go float (`Inf`, `NaN`, `0x1p-2`, `1_000`);
/// * lists and maps: an error.
pub(crate) fn to_float(v: Option<&Value>, nil_is_zero: bool) -> Result<f64, String> {
    match v {
        None | Some(Value::Null) => {
            if nil_is_zero {
                Ok(0.0)
            } else {
                Err("expected number but found nil value".into())
            }
        }
        Some(Value::Bool(b)) => Ok(if *b { 1.0 } else { 0.0 }),
        Some(Value::Number(n)) => n
            .as_f64()
            .ok_or_else(|| format!("expected number but was {n}")),
        Some(Value::String(s)) => str_to_float(s),
        Some(other) => Err(format!("expected number but was {}", go_text(other))),
    }
}

/// The string rules of [`to_float`].
pub(crate) fn str_to_float(s: &str) -> Result<f64, String> {
    // Go lower-cases with full Unicode rules; only these five words matter.
    if s.len() <= 24 {
        match s.to_lowercase().as_str() {
            "true" | "yes" => return Ok(1.0),
            "false" | "no" | "unknown" => return Ok(0.0),
            _ => {}
        }
    }
    if let Some(t) = rfc3339_unix(s) {
        return Ok(t as f64);
    }
    if let Some(q) = quantity_approx(s) {
        return Ok(q);
    }
    if let Some(digits) = s.strip_suffix('%') {
        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            return go_parse_float(digits)
                .map(|f| f / 100.0)
                .ok_or_else(|| format!("strconv.ParseFloat: parsing {digits:?}: invalid syntax"));
        }
    }
    go_parse_float(s).ok_or_else(|| format!("strconv.ParseFloat: parsing {s:?}: invalid syntax"))
}

/// A label value: strings as they are, everything else as Go's `%v` prints the decoded JSON
/// (`map[a:1 b:x]`, `[1 2]`, `<nil>`, `1.5e+06`).
pub(crate) fn label_text(v: &Value) -> Cow<'_, str> {
    match v {
        Value::String(s) => Cow::Borrowed(s),
        other => Cow::Owned(go_text(other)),
    }
}

/// Go's `fmt.Sprintf("%v", v)` of a JSON value decoded the way client-go decodes custom
/// resources (integers as `int64`, other numbers as `float64`).
pub(crate) fn go_text(v: &Value) -> String {
    let mut out = String::new();
    write_go_text(v, &mut out);
    out
}

fn write_go_text(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("<nil>"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => match n.as_i64() {
            Some(i) => {
                let _ = write!(out, "{i}");
            }
            None => out.push_str(&go_float_text(n.as_f64().unwrap_or(f64::NAN))),
        },
        Value::String(s) => out.push_str(s),
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                write_go_text(x, out);
            }
            out.push(']');
        }
        Value::Object(m) => {
            // fmt prints maps with their keys sorted.
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push_str("map[");
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(k);
                out.push(':');
                if let Some(x) = m.get(k) {
                    write_go_text(x, out);
                }
            }
            out.push(']');
        }
    }
}

/// `%v` of a float64: shortest round-trip digits, exponent form below 1e-4 and from 1e21 on…
/// exactly `strconv.FormatFloat(f, 'g', -1, 64)`, which keeps the sign of zero.
fn go_float_text(f: f64) -> String {
    if f == 0.0 && f.is_sign_negative() {
        return "-0".into();
    }
    kubestate_metric::format_float(f)
}

/// Unix seconds of a time in Go's `time.RFC3339` layout (`2006-01-02T15:04:05Z07:00`, an
/// optional fraction after the seconds), or `None`.
pub(crate) fn rfc3339_unix(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = b.get(r)?;
        if part.is_empty() || !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        part.iter()
            .try_fold(0i64, |acc, d| Some(acc * 10 + i64::from(d - b'0')))
    };
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' {
        return None;
    }
    let year = num(0..4)?;
    let month = num(5..7)?;
    let day = num(8..10)?;
    // The general parser (Go's fallback) takes a one-digit hour too.
    let hour_len = if b.get(12) == Some(&b':') { 1 } else { 2 };
    let hour = num(11..11 + hour_len)?;
    let mut i = 11 + hour_len;
    if b.get(i) != Some(&b':') {
        return None;
    }
    let minute = num(i + 1..i + 3)?;
    i += 3;
    if b.get(i) != Some(&b':') {
        return None;
    }
    let second = num(i + 1..i + 3)?;
    i += 3;
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let date = chrono::NaiveDate::from_ymd_opt(
        i32::try_from(year).ok()?,
        u32::try_from(month).ok()?,
        u32::try_from(day).ok()?,
    )?;
    // An optional fraction: '.' (or ',' in the general parser) and at least one digit.
    if matches!(b.get(i), Some(b'.' | b',')) && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
        i += 1;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
    }
    let offset = match &b[i..] {
        [b'Z'] => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let h = num(i + 1..i + 3)?;
            let m = num(i + 4..i + 6)?;
            if h > 23 || m > 59 {
                return None;
            }
            let o = (h * 60 + m) * 60;
            if *sign == b'-' {
                -o
            } else {
                o
            }
        }
        _ => return None,
    };
    let days = date
        .signed_duration_since(chrono::NaiveDate::from_ymd_opt(1970, 1, 1)?)
        .num_days();
    Some(days * 86_400 + hour * 3_600 + minute * 60 + second - offset)
}

/// The float Kubernetes' `resource.ParseQuantity(s)` followed by `AsApproximateFloat64()`
/// yields, or `None` when `s` is not a quantity (the objects crate follows the Go code step
/// by step, so even the approximation matches).
pub(crate) fn quantity_approx(s: &str) -> Option<f64> {
    kubestate_objects::Quantity::approximate(s)
}

/// Go's `strconv.ParseFloat(s, 64)` (`None` for its errors, including out of range).
pub(crate) fn go_parse_float(s: &str) -> Option<f64> {
    let (sign, rest) = match s.as_bytes().first() {
        Some(b'+') => (1.0, &s[1..]),
        Some(b'-') => (-1.0, &s[1..]),
        _ => (1.0, s),
    };
    let lower = rest.to_ascii_lowercase();
    if lower == "inf" || lower == "infinity" {
        return Some(sign * f64::INFINITY);
    }
    if lower == "nan" {
        // Go takes no sign before NaN.
        return (rest.len() == s.len()).then_some(f64::NAN);
    }
    let cleaned: Cow<'_, str> = if rest.contains('_') {
        if !underscores_ok(s) {
            return None;
        }
        Cow::Owned(rest.replace('_', ""))
    } else {
        Cow::Borrowed(rest)
    };
    let magnitude = if let Some(hex) = cleaned
        .strip_prefix("0x")
        .or_else(|| cleaned.strip_prefix("0X"))
    {
        parse_hex_float(hex)?
    } else {
        if !cleaned
            .bytes()
            .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-'))
        {
            return None;
        }
        let f: f64 = cleaned.parse().ok()?;
        if f.is_infinite() {
            return None; // out of range
        }
        f
    };
    Some(sign * magnitude)
}

/// Go's rule for `_` in numbers: only between digits (or after a base prefix).
fn underscores_ok(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i = 1;
    }
    let mut saw = b'^';
    let mut hex = false;
    if b.len() - i >= 2 && b[i] == b'0' && matches!(b[i + 1] | 0x20, b'b' | b'o' | b'x') {
        hex = (b[i + 1] | 0x20) == b'x';
        i += 2;
        saw = b'0';
    }
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_digit() || (hex && c.is_ascii_hexdigit()) {
            saw = b'0';
        } else if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else {
            if saw == b'_' {
                return false;
            }
            saw = b'!';
        }
        i += 1;
    }
    saw != b'_'
}

/// A hexadecimal float body (after `0x`): hex digits with an optional point, then a
/// mandatory binary exponent `p±N`.
fn parse_hex_float(s: &str) -> Option<f64> {
    let (mant, exp) = s.split_once(['p', 'P'])?;
    let exp: i32 = exp.parse().ok()?;
    let (int, frac) = mant.split_once('.').unwrap_or((mant, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let mut value = 0f64;
    for c in int.chars() {
        value = value * 16.0 + f64::from(c.to_digit(16)?);
    }
    let mut scale = 1.0 / 16.0;
    for c in frac.chars() {
        value += f64::from(c.to_digit(16)?) * scale;
        scale /= 16.0;
    }
    let f = value * 2f64.powi(exp);
    f.is_finite().then_some(f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn f(v: Value) -> Result<f64, String> {
        to_float(Some(&v), false)
    }

    #[test]
    fn scalars_and_nil() {
        assert_eq!(f(json!(true)), Ok(1.0));
        assert_eq!(f(json!(false)), Ok(0.0));
        assert_eq!(f(json!(3)), Ok(3.0));
        assert_eq!(f(json!(-2.5)), Ok(-2.5));
        assert!(to_float(None, false).is_err());
        assert_eq!(to_float(None, true), Ok(0.0));
        assert_eq!(to_float(Some(&Value::Null), true), Ok(0.0));
        assert!(f(json!([1])).is_err());
        assert!(f(json!({"a": 1})).is_err());
    }

    #[test]
    fn boolean_words_any_case() {
        for (s, want) in [
            ("true", 1.0),
            ("True", 1.0),
            ("YES", 1.0),
            ("false", 0.0),
            ("No", 0.0),
            ("Unknown", 0.0),
        ] {
            assert_eq!(str_to_float(s), Ok(want), "{s}");
        }
        assert!(str_to_float("maybe").is_err());
    }

    #[test]
    fn rfc3339_times() {
        assert_eq!(str_to_float("2024-01-02T03:04:05Z"), Ok(1_704_164_645.0));
        assert_eq!(
            rfc3339_unix("2024-01-02T03:04:05.999Z"),
            Some(1_704_164_645)
        );
        assert_eq!(
            rfc3339_unix("2024-01-02T03:04:05+01:00"),
            Some(1_704_161_045)
        );
        assert_eq!(
            rfc3339_unix("2024-01-02T03:04:05-00:30"),
            Some(1_704_166_445)
        );
        assert_eq!(rfc3339_unix("1969-12-31T23:59:59.5Z"), Some(-1));
        assert_eq!(rfc3339_unix("2024-01-02T3:04:05Z"), Some(1_704_164_645));
        assert_eq!(rfc3339_unix("2024-02-30T00:00:00Z"), None);
        assert_eq!(rfc3339_unix("2024-01-02t03:04:05Z"), None);
        assert_eq!(rfc3339_unix("2024-01-02T03:04:60Z"), None);
        assert_eq!(rfc3339_unix("2024-01-02T03:04:05"), None);
        assert_eq!(rfc3339_unix("2024-01-02 03:04:05Z"), None);
    }

    #[test]
    fn quantities_as_go_approximates_them() {
        for (s, want) in [
            ("250m", 0.25),
            ("5Gi", 5_368_709_120.0),
            ("1.5Gi", 1_610_612_736.0),
            ("1e3", 1000.0),
            ("1E3", 1000.0),
            ("2.75", 2.75),
            ("0.1", 0.1),
            ("-1.5", -1.5),
            ("1k", 1000.0),
            ("1E", 1e18),
            ("100n", 1.0000000000000001e-7),
            ("1e-10", 1e-9), // rounded up to nano precision
            ("1.1Ki", 1126.4),
            ("-0.5Mi", -524_288.0),
            ("007", 7.0),
            (".5", 0.5),
            ("1.", 1.0),
            ("k", 0.0),
            ("e3", 0.0),
            ("+", 0.0),
            ("1e400", f64::INFINITY),
        ] {
            assert_eq!(quantity_approx(s), Some(want), "{s}");
        }
        for s in [
            "", "5%", "1.5.5", "abc", "1e", "in", "1 ", " 1", "0x10", "Pending",
        ] {
            assert_eq!(quantity_approx(s), None, "{s}");
        }
        assert_eq!(quantity_approx("16Ei"), Some(9_223_372_036_854_775_807.0));
        // Values Go computes through its arbitrary-precision path (mantissa × 2^exp, as Go
        // prints them with %b).
        let bits = |m: f64, e: i32| m * 2f64.powi(e);
        assert_eq!(
            quantity_approx("12345678901234567890"),
            Some(bits(6_028_163_525_993_442.0, 11))
        );
        assert_eq!(
            quantity_approx("123456789012345678901234567890.123"),
            Some(bits(7_017_705_969_039_167.0, 44))
        );
    }

    #[test]
    fn percentages_and_go_floats() {
        assert_eq!(str_to_float("50%"), Ok(0.5));
        assert_eq!(str_to_float("150%"), Ok(1.5));
        assert!(str_to_float("5.5%").is_err());
        assert_eq!(str_to_float("Inf"), Ok(f64::INFINITY));
        assert_eq!(str_to_float("-infinity"), Ok(f64::NEG_INFINITY));
        assert!(str_to_float("nan").is_ok_and(f64::is_nan));
        assert!(str_to_float("+nan").is_err());
        assert_eq!(str_to_float("1_000"), Ok(1000.0));
        assert!(str_to_float("1__0").is_err());
        assert!(str_to_float("_1").is_err());
        assert_eq!(str_to_float("0x1p-2"), Ok(0.25));
        assert!(str_to_float("0x10").is_err());
        assert!(str_to_float("Ready").is_err());
    }

    #[test]
    fn label_text_is_go_percent_v() {
        assert_eq!(label_text(&json!("x")), "x");
        assert_eq!(label_text(&json!(3)), "3");
        assert_eq!(label_text(&json!(-3)), "-3");
        assert_eq!(label_text(&json!(1.5)), "1.5");
        assert_eq!(label_text(&json!(3.0)), "3");
        assert_eq!(label_text(&json!(1_234_567.5)), "1.2345675e+06");
        assert_eq!(label_text(&json!(0.00001)), "1e-05");
        assert_eq!(label_text(&json!(true)), "true");
        assert_eq!(label_text(&Value::Null), "<nil>");
        assert_eq!(
            label_text(&json!([1, "a", null, {"b": 2, "a": 1.5}])),
            "[1 a <nil> map[a:1.5 b:2]]"
        );
        assert_eq!(label_text(&json!({})), "map[]");
    }
}
