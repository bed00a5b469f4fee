//! Kubernetes resource quantities (`250m`, `5Gi`, `1e3`, `0.5`), held exactly.

use serde::de::{Deserializer, Visitor};
use serde::Deserialize;

/// An exact quantity: `mantissa × 10^exp10`. Binary suffixes are folded into the mantissa, so
/// `1Ki` is `1024 × 10^0` and `250m` is `250 × 10^-3`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Quantity {
    /// Digits of the value, including the sign.
    pub mantissa: i128,
    /// Decimal exponent applied to the mantissa.
    pub exp10: i32,
}

impl Quantity {
    /// Parses the Kubernetes quantity grammar: a signed decimal number followed by an optional
    /// binary-SI (`Ki`…`Ei`), decimal-SI (`n u m k M G T P E`) or exponent (`e3`, `E-2`) suffix.
    pub fn parse(s: &str) -> Option<Quantity> {
        let s = s.trim();
        let bytes = s.as_bytes();
        let mut i = 0;
        let neg = match bytes.first() {
            Some(b'-') => {
                i += 1;
                true
            }
            Some(b'+') => {
                i += 1;
                false
            }
            _ => false,
        };
        let mut mantissa: i128 = 0;
        let mut exp10: i32 = 0;
        let mut digits = 0;
        let mut seen_point = false;
        while i < bytes.len() {
            match bytes[i] {
                c @ b'0'..=b'9' => {
                    if mantissa < i128::MAX / 100 {
                        mantissa = mantissa * 10 + i128::from(c - b'0');
                        if seen_point {
                            exp10 -= 1;
                        }
                    } else if !seen_point {
                        exp10 += 1; // precision beyond i128: drop the digit, keep the magnitude
                    }
                    digits += 1;
                }
                b'.' if !seen_point => seen_point = true,
                _ => break,
            }
            i += 1;
        }
        if digits == 0 {
            return None;
        }
        let suffix = &s[i..];
        match suffix {
            "" => {}
            "Ki" | "Mi" | "Gi" | "Ti" | "Pi" | "Ei" => {
                let n = match suffix {
                    "Ki" => 1,
                    "Mi" => 2,
                    "Gi" => 3,
                    "Ti" => 4,
                    "Pi" => 5,
                    _ => 6,
                };
                mantissa = mantissa.checked_mul(1i128 << (10 * n))?;
            }
            "n" => exp10 -= 9,
            "u" => exp10 -= 6,
            "m" => exp10 -= 3,
            "k" => exp10 += 3,
            "M" => exp10 += 6,
            "G" => exp10 += 9,
            "T" => exp10 += 12,
            "P" => exp10 += 15,
            "E" => exp10 += 18,
            _ => {
                let rest = suffix.strip_prefix(['e', 'E'])?;
                let e: i32 = rest.parse().ok()?;
                exp10 = exp10.checked_add(e)?;
            }
        }
        if neg {
            mantissa = -mantissa;
        }
        Some(Quantity { mantissa, exp10 })
    }

    /// The value rounded up to a whole multiple of `10^scale` and expressed in those units
    /// (Go's `ScaledValue`), saturating at the `i64` range.
    pub fn ceil_scaled(self, scale: i32) -> i64 {
        let shift = self.exp10 - scale;
        let v: i128 = if shift >= 0 {
            let mut v = self.mantissa;
            for _ in 0..shift {
                v = match v.checked_mul(10) {
                    Some(x) => x,
                    None => {
                        return if self.mantissa < 0 {
                            i64::MIN
                        } else {
                            i64::MAX
                        }
                    }
                };
            }
            v
        } else {
            let mut div: i128 = 1;
            for _ in 0..(-shift).min(38) {
                div *= 10;
            }
            let q = self.mantissa / div;
            let r = self.mantissa % div;
            if r > 0 {
                q + 1
            } else {
                q
            }
        };
        v.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
    }

    /// Whether the magnitude is beyond the `i64` range (Go's int64 conversions of such a
    /// decimal quantity wrap around).
    pub fn exceeds_i64(self) -> bool {
        if self.mantissa == 0 {
            return false;
        }
        let mut v = self.mantissa.unsigned_abs();
        let mut e = self.exp10;
        while e < 0 && v > 0 {
            v /= 10;
            e += 1;
        }
        while e > 0 {
            match v.checked_mul(10) {
                Some(x) => v = x,
                None => return true,
            }
            e -= 1;
        }
        v > i64::MAX as u128
    }

    /// Go's `Quantity.Value()`: whole units, rounded up.
    pub fn value(self) -> i64 {
        self.ceil_scaled(0)
    }

    /// Go's `Quantity.MilliValue()`: thousandths, rounded up.
    pub fn milli_value(self) -> i64 {
        self.ceil_scaled(-3)
    }

    /// The value as a float (Go's `AsApproximateFloat64`).
    pub fn as_f64(self) -> f64 {
        self.mantissa as f64 * 10f64.powi(self.exp10)
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
                Ok(Quantity {
                    mantissa: i128::from(v),
                    exp10: 0,
                })
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Quantity, E> {
                Ok(Quantity {
                    mantissa: i128::from(v),
                    exp10: 0,
                })
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
        assert_eq!(q("8Ei").value(), i64::MAX);
        assert!(q("1e400").exceeds_i64() && q("1e19").exceeds_i64() && q("-1e19").exceeds_i64());
        assert!(
            !q("9e18").exceeds_i64() && !q("1e-400").exceeds_i64() && !q("0e900").exceeds_i64()
        );
    }

    #[test]
    fn rejects_garbage() {
        for s in ["", "abc", "1Q", "1.2.3", "Ki"] {
            assert_eq!(Quantity::parse(s), None, "{s}");
        }
    }

    #[test]
    fn decodes_json_strings_and_numbers() {
        let v: Vec<Quantity> = serde_json::from_str(r#"["100m", 3]"#).unwrap();
        assert_eq!(v[0].milli_value(), 100);
        assert_eq!(v[1].value(), 3);
    }
}
