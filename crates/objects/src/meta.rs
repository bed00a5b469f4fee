//! Object metadata as the families read it.

use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;

use crate::time::Time;

/// Metadata shared by every kind. Fields no family reads (managedFields, finalizers' contents…)
/// are skipped without being allocated.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Meta {
    /// `metadata.name`
    pub name: Box<str>,
    /// `metadata.namespace` (empty for cluster-scoped kinds)
    pub namespace: Box<str>,
    /// `metadata.uid`
    pub uid: Box<str>,
    /// `metadata.resourceVersion`
    pub resource_version: Box<str>,
    /// `metadata.generation`
    pub generation: i64,
    /// `metadata.creationTimestamp`
    pub creation_timestamp: Option<Time>,
    /// `metadata.deletionTimestamp`
    pub deletion_timestamp: Option<Time>,
    /// `metadata.labels`, sorted by key
    pub labels: StrMap,
    /// `metadata.annotations`, sorted by key
    pub annotations: StrMap,
    /// `metadata.ownerReferences`
    pub owner_references: Vec<OwnerRef>,
}

/// The identifying metadata of any object (name, namespace, uid, resourceVersion), for
/// looking at an object before, or instead of, decoding it: everything else is skipped
/// unallocated. The one metadata peek of the workspace (the families key objects with it, the
/// engine routes the objects it is fed with it).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct MetaHead {
    /// `metadata.name`
    pub name: Box<str>,
    /// `metadata.namespace` (empty for cluster-scoped kinds)
    pub namespace: Box<str>,
    /// `metadata.uid`
    pub uid: Box<str>,
    /// `metadata.resourceVersion`
    pub resource_version: Box<str>,
}

/// An object of any kind with only its [`MetaHead`] decoded (JSON, or through
/// [`crate::proto::from_slice`] the protobuf message of a built-in kind).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct ObjectHead {
    /// `metadata`
    pub metadata: MetaHead,
}

/// One `metadata.ownerReferences` entry.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct OwnerRef {
    /// Owner kind, e.g. `ReplicaSet`.
    pub kind: Box<str>,
    /// Owner name.
    pub name: Box<str>,
    /// Whether the owner is the managing controller.
    pub controller: Option<bool>,
}

/// A string-to-string map (labels, annotations, selectors) held as a vector sorted by key:
/// smaller than a tree or hash map, and already in the order KSM writes dynamic labels.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct StrMap(pub Vec<(Box<str>, Box<str>)>);

impl StrMap {
    /// The value under `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .binary_search_by(|(k, _)| (**k).cmp(key))
            .ok()
            .map(|i| &*self.0[i].1)
    }

    /// Entries in key order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (&**k, &**v))
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the map is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'de> Deserialize<'de> for StrMap {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<StrMap, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = StrMap;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a map of strings")
            }
            fn visit_unit<E>(self) -> Result<StrMap, E> {
                Ok(StrMap::default())
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<StrMap, A::Error> {
                let mut v: Vec<(Box<str>, Box<str>)> =
                    Vec::with_capacity(m.size_hint().unwrap_or(0));
                while let Some((k, val)) = m.next_entry::<Box<str>, Option<Box<str>>>()? {
                    v.push((k, val.unwrap_or_default()));
                }
                v.sort_unstable_by(|a, b| a.0.cmp(&b.0));
                Ok(StrMap(v))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_metadata_and_sorts_maps() {
        let m: Meta = serde_json::from_str(
            r#"{"name":"a","namespace":"ns","uid":"u","resourceVersion":"12","generation":3,
                "creationTimestamp":"2026-11-21T05:23:40Z","labels":{"z":"1","a":"2"},
                "managedFields":[{"manager":"x"}],"ownerReferences":[{"kind":"ReplicaSet","name":"rs","controller":true}]}"#,
        )
        .unwrap();
        assert_eq!(&*m.name, "a");
        assert_eq!(
            m.labels.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            vec!["a", "z"]
        );
        assert_eq!(m.labels.get("z"), Some("1"));
        assert_eq!(m.creation_timestamp.map(|t| t.secs), Some(1_795_238_620));
        assert_eq!(m.owner_references[0].controller, Some(true));
    }

    #[test]
    fn null_maps_are_empty() {
        let m: Meta = serde_json::from_str(r#"{"labels":null}"#).unwrap();
        assert!(m.labels.is_empty());
    }
}
