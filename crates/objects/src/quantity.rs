//! Kubernetes resource quantities (`250m`, `5Gi`, `1e3`, `0.5`), read the way KSM reads them.
//!
//! KSM turns a quantity into a number through apimachinery's `resource.Quantity`:
//! `Value()`, `MilliValue()` and `AsApproximateFloat64()`. For ordinary values these are the
//! value rounded up to whole units, to thousandths, and the value as a float. For values that
//! do not fit an `int64` (or have more than 18 digits, or a binary suffix with a fraction) the
//! Go type keeps an arbitrary-precision decimal, rounds it up to nanounits, caps binary-suffixed
//! values at 2^63-1, and its integer accessors then wrap around or round in ways that are
//! plain arithmetic accidents (`Value()` of `-1.5` with 19 digits is `0`, of `1e20` is the low
//! 64 bits of 10^20). kubestate promises KSM's numbers, so [`Quantity::parse`] follows that
//! code path step by step and keeps the three results; it needs a big integer only on the
//! rare slow path.
//!
//! One bound applies where Go has none: an exponent beyond ±[`MAX_EXPONENT`] (`1e999999999`)
//! would make Go build a number with that many digits; such a quantity is rejected instead
//! (docs/migration.md, "Differential fuzzing").

use num_bigint::{BigInt, Sign};
use num_integer::Integer;
use num_traits::{Signed, ToPrimitive, Zero};
use serde::de::{Deserializer, Visitor};
use serde::Deserialize;

/// The largest decimal exponent accepted (Go accepts any `int64` and then computes with it).
pub const MAX_EXPONENT: i64 = 4096;

/// A parsed quantity: what KSM reads from it.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Quantity {
    value: i64,
    milli: i64,
    /// `AsApproximateFloat64()`, as bits (so the struct stays `Eq`).
    approx: u64,
}

/// Go's internal form after `ParseQuantity`: an `int64Amount` (value × 10^scale) or an
/// `inf.Dec` (unscaled × 10^-scale).
enum Repr {
    Int { value: i64, scale: i32 },
    Dec { unscaled: BigInt, scale: i32 },
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Decimal,
    Binary,
}

impl Quantity {
    /// A whole number of units.
    pub fn from_i64(v: i64) -> Quantity {
        Quantity::from_repr(&Repr::Int { value: v, scale: 0 })
    }

    /// Parses the Kubernetes quantity grammar as apimachinery does: a signed decimal number
    /// followed by an optional binary-SI (`Ki`…`Ei`), decimal-SI (`n u m k M G T P E`) or
    /// exponent (`e3`, `E-2`) suffix. `None` where Go's `ParseQuantity` fails, and for an
    /// exponent beyond ±`MAX_EXPONENT` (4096).
    pub fn parse(s: &str) -> Option<Quantity> {
        match parse_repr(s, true)? {
            Parsed::Repr(r) => Some(Quantity::from_repr(&r)),
            Parsed::Huge { .. } => None,
        }
    }

    /// Go's `ParseQuantity(s)` followed by `AsApproximateFloat64()`, for any exponent: what
    /// custom resource state reads from a quantity string. Unlike [`Quantity::parse`], an
    /// exponent beyond ±4096 is accepted, with the float Go ends up with (an
    /// infinity, or a value rounded up to nanounits) but without building Go's huge number.
    /// `None` where `ParseQuantity` fails.
    pub fn approximate(s: &str) -> Option<f64> {
        match parse_repr(s, false)? {
            Parsed::Repr(r) => Some(approximate_float(&r)),
            Parsed::Huge {
                negative,
                zero,
                exponent,
            } => {
                if zero {
                    return Some(0.0);
                }
                // Rounded up (away from zero) to one nanounit when the exponent is negative.
                let magnitude = if exponent > 0 { f64::INFINITY } else { 1e-9 };
                Some(if negative { -magnitude } else { magnitude })
            }
        }
    }

    fn from_repr(r: &Repr) -> Quantity {
        Quantity {
            value: scaled_value(r, 0),
            milli: scaled_value(r, -3),
            approx: approximate_float(r).to_bits(),
        }
    }

    /// Go's `Quantity.Value()`: whole units, rounded up (with Go's overflow behaviour).
    pub fn value(self) -> i64 {
        self.value
    }

    /// Go's `Quantity.MilliValue()`: thousandths, rounded up (with Go's overflow behaviour).
    pub fn milli_value(self) -> i64 {
        self.milli
    }

    /// Go's `Quantity.AsApproximateFloat64()`.
    pub fn as_f64(self) -> f64 {
        f64::from_bits(self.approx)
    }
}

/// `parseQuantityString`: sign, numerator (leading zeros stripped), denominator, suffix.
struct Parts<'a> {
    positive: bool,
    /// The numeric prefix as written (sign, digits, point): what `inf.Dec` parses.
    value: &'a str,
    num: &'a str,
    denom: &'a str,
    suffix: &'a str,
}

fn split(s: &str) -> Option<Parts<'_>> {
    let b = s.as_bytes();
    let end = b.len();
    let mut pos = 0;
    let mut positive = true;
    match b.first() {
        Some(b'-') => {
            positive = false;
            pos += 1;
        }
        Some(b'+') => pos += 1,
        _ => {}
    }
    while pos < end && b[pos] == b'0' {
        pos += 1;
    }
    if pos >= end {
        return Some(Parts {
            positive,
            value: "0",
            num: "0",
            denom: "",
            suffix: "",
        });
    }
    let num_start = pos;
    while pos < end && b[pos].is_ascii_digit() {
        pos += 1;
    }
    if pos >= end {
        return Some(Parts {
            positive,
            value: s,
            num: &s[num_start..],
            denom: "",
            suffix: "",
        });
    }
    let num = if pos == num_start {
        "0"
    } else {
        &s[num_start..pos]
    };
    let mut denom = "";
    if b[pos] == b'.' {
        pos += 1;
        let d = pos;
        while pos < end && b[pos].is_ascii_digit() {
            pos += 1;
        }
        if pos >= end {
            return Some(Parts {
                positive,
                value: s,
                num,
                denom: &s[d..],
                suffix: "",
            });
        }
        denom = &s[d..pos];
    }
    let value = &s[..pos];
    let suffix_start = pos;
    while pos < end && b"eEinumkKMGTP".contains(&b[pos]) {
        pos += 1;
    }
    if pos < end && matches!(b[pos], b'-' | b'+') {
        pos += 1;
    }
    while pos < end && b[pos].is_ascii_digit() {
        pos += 1;
    }
    if pos < end {
        return None;
    }
    Some(Parts {
        positive,
        value,
        num,
        denom,
        suffix: &s[suffix_start..],
    })
}

/// The suffix as (base, exponent, format).
fn interpret(suffix: &str) -> Option<(u32, i64, Format)> {
    let dec = |e| Some((10, e, Format::Decimal));
    let bin = |e| Some((2, e, Format::Binary));
    match suffix {
        "" => dec(0),
        "n" => dec(-9),
        "u" => dec(-6),
        "m" => dec(-3),
        "k" => dec(3),
        "M" => dec(6),
        "G" => dec(9),
        "T" => dec(12),
        "P" => dec(15),
        "E" => dec(18),
        "Ki" => bin(10),
        "Mi" => bin(20),
        "Gi" => bin(30),
        "Ti" => bin(40),
        "Pi" => bin(50),
        "Ei" => bin(60),
        _ => {
            let rest = suffix.strip_prefix(['e', 'E']).filter(|r| !r.is_empty())?;
            // strconv.ParseInt(rest, 10, 64), then a conversion to int32 that wraps.
            let digits = rest.strip_prefix(['+', '-']).unwrap_or(rest);
            if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            let e: i64 = rest.parse().ok()?;
            Some((10, i64::from(e as i32), Format::Decimal))
        }
    }
}

/// What [`parse_repr`] found.
enum Parsed {
    /// Go's representation.
    Repr(Repr),
    /// A decimal on Go's arbitrary-precision path with an exponent beyond ±[`MAX_EXPONENT`]
    /// (only when not bounded): its sign, whether it is zero, and the exponent.
    Huge {
        negative: bool,
        zero: bool,
        exponent: i64,
    },
}

/// Go's `ParseQuantity`. With `bounded`, an exponent beyond ±[`MAX_EXPONENT`] is rejected
/// outright; without, only the arbitrary-precision path stops short of it ([`Parsed::Huge`]).
fn parse_repr(s: &str, bounded: bool) -> Option<Parsed> {
    if s.is_empty() {
        return None;
    }
    if s == "0" {
        return Some(Parsed::Repr(Repr::Int { value: 0, scale: 0 }));
    }
    let p = split(s)?;
    let (base, exponent, format) = interpret(p.suffix)?;
    if bounded && exponent.abs() > MAX_EXPONENT {
        return None;
    }
    let digits = (p.num.len() + p.denom.len()) as i64;
    let (mut scale, mantissa, precision) = match format {
        Format::Decimal => (exponent, 1i64, 18 - digits),
        Format::Binary if p.denom.is_empty() => {
            // Go: 15 - len(num) - int32(float32(exponent)*3/10) - 1.
            let approx = (exponent as f32 * 3.0 / 10.0) as i64;
            (0, 1i64 << exponent, 15 - p.num.len() as i64 - approx - 1)
        }
        Format::Binary => (0, 1, -1),
    };
    if precision >= 0 {
        scale -= p.denom.len() as i64;
        if scale >= -9 {
            let shifted: i64 = format!("{}{}", p.num, p.denom).parse().ok()?;
            if let Some(r) = go_int64_multiply(shifted, mantissa) {
                let value = if p.positive { r } else { r.wrapping_neg() };
                return Some(Parsed::Repr(Repr::Int {
                    value,
                    scale: scale as i32,
                }));
            }
        }
    }
    // The arbitrary-precision path.
    if exponent.abs() > MAX_EXPONENT {
        return Some(Parsed::Huge {
            negative: !p.positive,
            zero: p.num.bytes().chain(p.denom.bytes()).all(|c| c == b'0'),
            exponent,
        });
    }
    let (mut unscaled, mut dec_scale) = parse_decimal(p.value)?;
    if base == 10 {
        dec_scale -= exponent;
    } else {
        unscaled *= BigInt::from(1) << (exponent as usize);
    }
    let negative = unscaled.is_negative();
    let mut magnitude = unscaled.abs();
    if !magnitude.is_zero() {
        // Rounded up to nanounits: scale 9 exactly.
        if dec_scale <= 9 {
            magnitude *= pow10((9 - dec_scale) as u32);
        } else {
            let (q, r) = magnitude.div_rem(&pow10((dec_scale - 9) as u32));
            magnitude = if r.is_zero() { q } else { q + 1 };
        }
        dec_scale = 9;
    }
    if format == Format::Binary && magnitude > scaled(i64::MAX, dec_scale) {
        magnitude = BigInt::from(i64::MAX);
        dec_scale = 0;
    }
    let unscaled = if negative { -magnitude } else { magnitude };
    Some(Parsed::Repr(Repr::Dec {
        unscaled,
        scale: dec_scale as i32,
    }))
}

/// `n` × 10^scale as the unscaled value at `scale` (for comparing with a whole number).
fn scaled(n: i64, scale: i64) -> BigInt {
    if scale >= 0 {
        BigInt::from(n) * pow10(scale as u32)
    } else {
        BigInt::from(n)
    }
}

/// `inf.Dec.SetString`: optional sign, digits with at most one point.
fn parse_decimal(s: &str) -> Option<(BigInt, i64)> {
    let (neg, rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let (int, frac) = rest.split_once('.').unwrap_or((rest, ""));
    let digits = format!("{int}{frac}");
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let mut v = BigInt::parse_bytes(digits.as_bytes(), 10)?;
    if neg {
        v = -v;
    }
    Some((v, frac.len() as i64))
}

fn pow10(n: u32) -> BigInt {
    num_traits::pow(BigInt::from(10), n as usize)
}

/// Go's `int64Multiply`: the product, or `None` on overflow.
fn go_int64_multiply(a: i64, b: i64) -> Option<i64> {
    if a == 0 || b == 0 || a == 1 || b == 1 {
        return Some(a.wrapping_mul(b));
    }
    if a == i64::MIN || b == i64::MIN {
        return None;
    }
    a.checked_mul(b)
}

/// Go's `big.Int.Int64()`: the low 64 bits of the magnitude, negated for negatives.
fn low_i64(x: &BigInt) -> i64 {
    let (sign, digits) = x.to_u64_digits();
    let low = digits.first().copied().unwrap_or(0) as i64;
    if sign == Sign::Minus {
        low.wrapping_neg()
    } else {
        low
    }
}

/// Go's `Quantity.ScaledValue(scale)` (`scale` 0 for `Value`, -3 for `MilliValue`).
fn scaled_value(r: &Repr, scale: i32) -> i64 {
    match r {
        Repr::Int { value, scale: s } => {
            if *s < scale {
                negative_scale(*value, scale - s)
            } else {
                positive_scale(*value, s - scale)
            }
        }
        Repr::Dec { unscaled, scale: s } => {
            // scaledValue(unscaled, dec scale, -scale).
            let dif = i64::from(*s) + i64::from(scale);
            if dif == 0 {
                return low_i64(unscaled);
            }
            if dif < 0 {
                let factor = go_f64_to_i64(go_pow10(-dif));
                return low_i64(unscaled).wrapping_mul(factor);
            }
            if *unscaled < BigInt::from(i64::MAX) && dif < 19 {
                let v = low_i64(unscaled);
                let d = 10i64.pow(dif as u32);
                let (q, m) = (v.wrapping_div(d), v.wrapping_rem(d));
                return if m != 0 { q.wrapping_add(1) } else { q };
            }
            // big.Int.DivMod: Euclidean division (remainder never negative).
            let d = pow10(dif as u32);
            let (q, m) = unscaled.div_mod_floor(&d);
            if m.is_zero() {
                low_i64(&q)
            } else {
                low_i64(&q).wrapping_add(1)
            }
        }
    }
}

/// `positiveScaleInt64`: value × 10^scale; the wrapped product for the unrolled scales,
/// zero for the others, on overflow.
fn positive_scale(base: i64, scale: i32) -> i64 {
    // The unrolled multiplications return the wrapped product on overflow, except for
    // math.MinInt64, which gives zero.
    let times = |m: i64| -> i64 {
        if base == i64::MIN {
            0
        } else {
            base.wrapping_mul(m)
        }
    };
    match scale {
        0 => base,
        1 => times(10),
        2 => times(100),
        3 => times(1000),
        6 => times(1_000_000),
        9 => times(1_000_000_000),
        _ => {
            let mut v = base;
            for _ in 0..scale {
                if v == 0 || v == 1 {
                    v *= 10;
                    continue;
                }
                if v == i64::MIN {
                    return 0;
                }
                match v.checked_mul(10) {
                    Some(x) => v = x,
                    None => return 0,
                }
            }
            v
        }
    }
}

/// `negativeScaleInt64`: value / 10^scale, rounded away from zero.
fn negative_scale(base: i64, scale: i32) -> i64 {
    let mut v = base;
    let mut fraction = false;
    for _ in 0..scale {
        if !fraction && v % 10 != 0 {
            fraction = true;
        }
        v /= 10;
        if v == 0 {
            return match (fraction, base > 0) {
                (false, _) => 0,
                (true, true) => 1,
                (true, false) => -1,
            };
        }
    }
    if fraction {
        if base > 0 {
            v += 1;
        } else {
            v -= 1;
        }
    }
    v
}

/// `AsApproximateFloat64`.
fn approximate_float(r: &Repr) -> f64 {
    let (base, exponent) = match r {
        Repr::Int { value, scale } => (*value as f64, i64::from(*scale)),
        Repr::Dec { unscaled, scale } => (
            unscaled.to_f64().unwrap_or(if unscaled.is_negative() {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            }),
            -i64::from(*scale),
        ),
    };
    if exponent == 0 {
        base
    } else {
        base * go_pow10(exponent)
    }
}

/// Go's `math.Pow10`, table for table (so the products round the same way).
fn go_pow10(n: i64) -> f64 {
    const TAB: [f64; 32] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
        1e17, 1e18, 1e19, 1e20, 1e21, 1e22, 1e23, 1e24, 1e25, 1e26, 1e27, 1e28, 1e29, 1e30, 1e31,
    ];
    const POS32: [f64; 10] = [
        1e0, 1e32, 1e64, 1e96, 1e128, 1e160, 1e192, 1e224, 1e256, 1e288,
    ];
    const NEG32: [f64; 11] = [
        1e-0, 1e-32, 1e-64, 1e-96, 1e-128, 1e-160, 1e-192, 1e-224, 1e-256, 1e-288, 1e-320,
    ];
    if (0..=308).contains(&n) {
        return POS32[(n / 32) as usize] * TAB[(n % 32) as usize];
    }
    if (-323..=0).contains(&n) {
        let m = -n;
        return NEG32[(m / 32) as usize] / TAB[(m % 32) as usize];
    }
    if n > 0 {
        f64::INFINITY
    } else {
        0.0
    }
}

/// Go's `int64(f)` on amd64: out-of-range values (and NaN) become `math.MinInt64`.
fn go_f64_to_i64(f: f64) -> i64 {
    // 2^63 is exactly representable; every float in [-2^63, 2^63) converts.
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if !(-TWO_63..TWO_63).contains(&f) {
        i64::MIN
    } else {
        f as i64
    }
}

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Quantity, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Quantity;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a Kubernetes quantity")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Quantity, E> {
                Quantity::parse(s).ok_or_else(|| E::custom(format!("invalid quantity {s:?}")))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Quantity, E> {
                Ok(Quantity::from_i64(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Quantity, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Quantity, E> {
                self.visit_str(&v.to_string())
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> Quantity {
        Quantity::parse(s).unwrap()
    }

    #[test]
    fn parses_suffixes() {
        assert_eq!(q("250m").milli_value(), 250);
        assert_eq!(q("250m").value(), 1);
        assert_eq!(q("2").milli_value(), 2000);
        assert_eq!(q("1Ki").value(), 1024);
        assert_eq!(q("5Gi").value(), 5 * 1024 * 1024 * 1024);
        assert_eq!(q("1.5Gi").value(), 1_610_612_736);
        assert_eq!(q("100M").value(), 100_000_000);
        assert_eq!(q("1e3").value(), 1000);
        assert_eq!(q("1E-2").milli_value(), 10);
        assert_eq!(q("0.5").milli_value(), 500);
        assert_eq!(q("100n").milli_value(), 1);
        assert_eq!(q("1.1").value(), 2);
        assert_eq!(q("-1").value(), -1);
        assert_eq!(q("129e6").value(), 129_000_000);
        assert_eq!(q("5.").value(), 5);
        assert_eq!(q(".5").milli_value(), 500);
        assert_eq!(q("0.000000000001").value(), 1);
    }

    /// Values past `int64`, as apimachinery v0.36 computes them (checked against Go).
    #[test]
    fn beyond_int64_like_go() {
        // Binary suffixes are capped at 2^63-1; MilliValue then wraps (× 1000).
        assert_eq!(q("8Ei").value(), i64::MAX);
        assert_eq!(q("8Ei").milli_value(), i64::MAX.wrapping_mul(1000));
        // 1e20 stays an int64 amount with scale 20: scaling it overflows, which gives 0.
        assert_eq!(q("1e20").value(), 0);
        // 10^20 written out has 21 digits: the decimal path, whose Value is the low 64 bits.
        let big = num_traits::pow(BigInt::from(10), 20);
        assert_eq!(q("100000000000000000000").value(), low_i64(&big));
        // 19 digits leave the fast path; a negative fraction rounds "up" to zero there.
        assert_eq!(q("-1.500000000000000000").value(), 0);
        assert_eq!(q("-1.5").value(), -2);
        // The int64 fast path wraps on MilliValue overflow for the unrolled scales.
        assert_eq!(
            q("9223372036854775807").milli_value(),
            i64::MAX.wrapping_mul(1000)
        );
        assert_eq!(q("1e300").as_f64(), 1e300);
        assert!(q("1e400").as_f64().is_infinite());
    }

    #[test]
    fn rejects_garbage() {
        for s in [
            "",
            "abc",
            "1Q",
            "1.2.3",
            "1e",
            "1e+",
            "1e99999999999",
            "1e4097",
            "1E-5000",
        ] {
            assert_eq!(Quantity::parse(s), None, "{s}");
        }
        // A suffix without digits is zero to Go.
        assert_eq!(Quantity::parse("Ki"), Some(Quantity::from_i64(0)));
    }

    /// What custom resource state reads: Go's float for every exponent, the huge ones
    /// included, and the same float as [`Quantity::parse`] elsewhere.
    #[test]
    fn approximate_floats_for_any_exponent() {
        for s in [
            "250m", "1.1Ki", "-0.5Mi", "1e400", "16Ei", "100n", "k", "+", "1e4096",
        ] {
            assert_eq!(Quantity::approximate(s), Some(q(s).as_f64()), "{s}");
        }
        assert_eq!(Quantity::approximate("1e5000"), Some(f64::INFINITY));
        assert_eq!(
            Quantity::approximate("-1e99999999"),
            Some(f64::NEG_INFINITY)
        );
        // 19 digits take Go's arbitrary-precision path: rounded up to nanounits.
        assert_eq!(
            Quantity::approximate("1.000000000000000000e-5000"),
            Some(1e-9)
        );
        assert_eq!(
            Quantity::approximate("-1.000000000000000000e-5000"),
            Some(-1e-9)
        );
        assert_eq!(
            Quantity::approximate("-0.000000000000000000e9000"),
            Some(0.0)
        );
        assert_eq!(
            Quantity::approximate("1.000000000000000000e9000"),
            Some(f64::INFINITY)
        );
        for s in ["", "abc", "1e", "1.2.3", "1Q"] {
            assert_eq!(Quantity::approximate(s), None, "{s}");
        }
    }

    #[test]
    fn decodes_json_strings_and_numbers() {
        let v: Vec<Quantity> = serde_json::from_str(r#"["100m", 3]"#).unwrap();
        assert_eq!(v[0].milli_value(), 100);
        assert_eq!(v[1].value(), 3);
    }

    #[test]
    fn go_pow10_matches_tables() {
        assert_eq!(go_pow10(0), 1.0);
        assert_eq!(go_pow10(-3), 0.001);
        assert_eq!(go_pow10(309), f64::INFINITY);
        assert_eq!(go_pow10(-324), 0.0);
    }
}
