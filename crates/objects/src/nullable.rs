//! `null` tolerance for fields Go serialises without `omitempty` (an empty slice becomes
//! `null`, e.g. EndpointSlice `endpoints`/`ports`, ClusterRole `rules`, HPA `currentMetrics`).

use serde::{Deserialize, Deserializer};

/// Deserialises `T`, mapping an explicit JSON `null` to `T::default()`. Use as
/// `#[serde(deserialize_with = "crate::nullable::or_default")]` on a field of a
/// `#[serde(default)]` struct (a missing field already takes the default).
///
/// # Errors
/// The value is neither `null` nor a valid `T`.
pub fn or_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Deserialize, Default)]
    #[serde(default)]
    struct S {
        #[serde(deserialize_with = "super::or_default")]
        v: Vec<u32>,
    }

    #[test]
    fn null_missing_and_present() {
        let s: S = serde_json::from_str(r#"{"v":null}"#).unwrap();
        assert!(s.v.is_empty());
        let s: S = serde_json::from_str(r#"{}"#).unwrap();
        assert!(s.v.is_empty());
        let s: S = serde_json::from_str(r#"{"v":[1,2]}"#).unwrap();
        assert_eq!(s.v, vec![1, 2]);
        assert!(serde_json::from_str::<S>(r#"{"v":"x"}"#).is_err());
    }
}
