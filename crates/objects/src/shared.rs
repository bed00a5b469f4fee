//! Pieces of spec and status that several kinds share.

use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;

use crate::{Quantity, Time};

/// A resource list (`requests`, `limits`, `capacity`, `hard`…): resource name → quantity,
/// sorted by name. Entries whose quantity does not parse are dropped rather than failing the
/// whole object, and counted (see [`take_malformed_quantities`]).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ResourceList(pub Vec<(Box<str>, Quantity)>);

impl ResourceList {
    /// Entries in name order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, Quantity)> {
        self.0.iter().map(|(k, q)| (&**k, *q))
    }

    /// The quantity of `name`.
    pub fn get(&self, name: &str) -> Option<Quantity> {
        self.0.iter().find(|(k, _)| &**k == name).map(|(_, q)| *q)
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'de> Deserialize<'de> for ResourceList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<ResourceList, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ResourceList;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a map of resource quantities")
            }
            fn visit_unit<E>(self) -> Result<ResourceList, E> {
                Ok(ResourceList::default())
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<ResourceList, A::Error> {
                let mut v = Vec::with_capacity(m.size_hint().unwrap_or(0));
                while let Some((k, q)) = m.next_entry::<Box<str>, Lenient>()? {
                    if let Some(q) = q.0 {
                        v.push((k, q));
                    }
                }
                v.sort_by(|a: &(Box<str>, Quantity), b| a.0.cmp(&b.0));
                Ok(ResourceList(v))
            }
        }
        d.deserialize_any(V)
    }
}

thread_local! {
    static MALFORMED: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// Quantities of resource lists dropped on this thread since the last call because they do
/// not parse (Go's `ParseQuantity` would fail): callers decode an object, then take the count
/// to report it. Quantities that parse but exceed the `int64` range are kept: their values
/// follow Go's conversions, as KSM prints them.
pub fn take_malformed_quantities() -> u32 {
    MALFORMED.with(|c| c.replace(0))
}

/// Adds `n` dropped quantities to this thread's count (the hand-written decoders count once
/// the whole object has decoded).
pub(crate) fn count_malformed(n: u32) {
    if n > 0 {
        MALFORMED.with(|c| c.set(c.get().saturating_add(n)));
    }
}

fn malformed() -> Lenient {
    MALFORMED.with(|c| c.set(c.get().saturating_add(1)));
    Lenient(None)
}

/// A quantity string as a list entry: `None` (counted) when it does not parse.
fn lenient_str(s: &str) -> Lenient {
    match Quantity::parse(s) {
        Some(q) => Lenient(Some(q)),
        None => malformed(),
    }
}

/// A quantity that decodes to `None` instead of failing when it is not one, without building
/// an intermediate JSON value.
struct Lenient(Option<Quantity>);

impl<'de> Deserialize<'de> for Lenient {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Lenient, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Lenient;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a quantity")
            }
            fn visit_str<E>(self, s: &str) -> Result<Lenient, E> {
                Ok(lenient_str(s))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Lenient, E> {
                Ok(Lenient(Some(Quantity::from_i64(v))))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Lenient, E> {
                Ok(Lenient(Quantity::parse(&v.to_string())))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Lenient, E> {
                Ok(lenient_str(&v.to_string()))
            }
            fn visit_unit<E>(self) -> Result<Lenient, E> {
                Ok(Lenient(None))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Lenient, E> {
                Ok(malformed())
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<Lenient, A::Error> {
                while a.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(malformed())
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Lenient, A::Error> {
                while a
                    .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
                    .is_some()
                {}
                Ok(malformed())
            }
        }
        d.deserialize_any(V)
    }
}

/// A status condition (`type`, `status`, `reason`, times), the shape shared by nodes,
/// deployments, pods, jobs, HPAs, PVCs, namespaces and others.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Condition {
    /// Condition type, e.g. `Ready`.
    #[serde(rename = "type")]
    pub type_: Box<str>,
    /// `True`, `False` or `Unknown`.
    pub status: Box<str>,
    /// Machine-readable reason.
    pub reason: Box<str>,
    /// Human-readable message.
    pub message: Box<str>,
    /// Last transition.
    pub last_transition_time: Option<Time>,
    /// Last probe (nodes, pods).
    pub last_probe_time: Option<Time>,
    /// Last heartbeat (nodes).
    pub last_heartbeat_time: Option<Time>,
}

/// A label selector (`matchLabels` only; expressions are not read by any family).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct LabelSelector {
    /// `matchLabels`
    pub match_labels: crate::StrMap,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_lists_sort_and_skip_bad_entries() {
        let r: ResourceList = serde_json::from_str(
            r#"{"memory":"1Gi","cpu":"250m","bad":"x1","pods":110,"odd":{"a":[1]}}"#,
        )
        .unwrap();
        let names: Vec<_> = r.iter().map(|(k, _)| k).collect();
        assert_eq!(names, vec!["cpu", "memory", "pods"]);
        assert_eq!(r.get("cpu").map(Quantity::milli_value), Some(250));
    }
}
