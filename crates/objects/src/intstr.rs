//! `IntOrString` fields (`maxUnavailable`, `maxSurge`, `minAvailable`, `targetPort`…).

use serde::de::{Deserializer, Visitor};
use serde::Deserialize;

/// A value that is either an integer or a string (usually a percentage such as `25%`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IntOrString {
    /// A JSON number.
    Int(i32),
    /// A JSON string.
    Str(Box<str>),
}

impl IntOrString {
    /// Kubernetes' `GetScaledValueFromIntOrPercent`: an integer as is; `N%` as `N * total / 100`
    /// rounded up or down; `None` for a string that is not an integer percentage (the Go
    /// function's error case).
    pub fn scaled(&self, total: i64, round_up: bool) -> Option<i64> {
        match self {
            IntOrString::Int(v) => Some(i64::from(*v)),
            IntOrString::Str(s) => {
                let pct = go_atoi(s.strip_suffix('%')?)?;
                let v = pct as f64 * total as f64 / 100.0;
                Some(if round_up { v.ceil() } else { v.floor() } as i64)
            }
        }
    }
}

/// Go's `strconv.Atoi`: optional sign, decimal digits only, 64-bit range.
fn go_atoi(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

impl<'de> Deserialize<'de> for IntOrString {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<IntOrString, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = IntOrString;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an integer or a string")
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<IntOrString, E> {
                i32::try_from(v)
                    .map(IntOrString::Int)
                    .map_err(|_| E::custom("integer out of int32 range"))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<IntOrString, E> {
                i32::try_from(v)
                    .map(IntOrString::Int)
                    .map_err(|_| E::custom("integer out of int32 range"))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<IntOrString, E> {
                Ok(IntOrString::Str(v.into()))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(json: &str) -> IntOrString {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn scales_percentages() {
        assert_eq!(p("3").scaled(10, true), Some(3));
        assert_eq!(p(r#""25%""#).scaled(3, false), Some(0));
        assert_eq!(p(r#""25%""#).scaled(3, true), Some(1));
        assert_eq!(p(r#""10%""#).scaled(10, false), Some(1));
        assert_eq!(p(r#""+50%""#).scaled(3, true), Some(2));
        assert_eq!(p(r#""5""#).scaled(10, true), None);
        assert_eq!(p(r#""x%""#).scaled(10, true), None);
        assert_eq!(p(r#""%""#).scaled(10, true), None);
        assert!(serde_json::from_str::<IntOrString>("1.5").is_err());
    }
}
