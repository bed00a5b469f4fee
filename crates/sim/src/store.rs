//! The world: every object per resource store, the global resourceVersion counter and a
//! bounded ring of recent events per store (what watches replay from).

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use bytes::Bytes;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;

use crate::kinds::{Registry, ResourceType};
use crate::object::{rfc3339, uuid_from, ObjRef, StoredObject};

/// Watch event types that come from changes (bookmarks and errors are made by the server).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EventKind {
    Added,
    Modified,
    Deleted,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Added => "ADDED",
            EventKind::Modified => "MODIFIED",
            EventKind::Deleted => "DELETED",
        }
    }
}

/// One change of one object.
#[derive(Debug)]
pub(crate) struct Event {
    /// resourceVersion of the change.
    pub rv: u64,
    pub kind: EventKind,
    /// The object after the change (for DELETED: the last state, with the deletion's RV).
    pub obj: ObjRef,
    /// The object before the change (None for ADDED).
    pub prev: Option<ObjRef>,
}

/// Key of an object inside its store: (namespace, name).
pub(crate) type ObjKey = (String, String);

/// Objects and recent events of one resource.
#[derive(Debug, Default)]
pub(crate) struct Store {
    pub objects: BTreeMap<ObjKey, ObjRef>,
    pub events: VecDeque<Arc<Event>>,
    /// Watches may start at any RV >= this one: every event after it is still in `events`.
    pub compacted_rv: u64,
}

/// Why an apply or delete was refused.
#[derive(Debug, thiserror::Error)]
pub enum WorldError {
    /// The object is not something the simulator can store.
    #[error("invalid object: {0}")]
    Invalid(String),
    /// No served type has this apiVersion/kind or resource name.
    #[error("unknown resource type: {0}")]
    UnknownType(String),
}

/// All objects of the simulated cluster.
#[derive(Debug)]
pub(crate) struct World {
    /// The current (latest) resourceVersion.
    pub rv: u64,
    pub registry: Registry,
    pub stores: Vec<Store>,
    /// Events retained per store.
    pub window: usize,
    uid_rng: ChaCha8Rng,
}

/// Serialize a value compactly. Serialization of a `Value` cannot fail.
/// The buffer is shrunk to its length: `Bytes::from(Vec)` would keep the spare capacity.
pub(crate) fn to_bytes(v: &Value) -> Bytes {
    Bytes::from(serde_json::to_vec(v).unwrap_or_default().into_boxed_slice())
}

impl World {
    /// An empty world.
    pub fn new(window: usize, seed: u64) -> World {
        let registry = Registry::builtin();
        let stores = (0..registry.stores).map(|_| Store::default()).collect();
        World {
            rv: 0,
            registry,
            stores,
            window: window.max(1),
            uid_rng: ChaCha8Rng::seed_from_u64(seed ^ 0x5151_d00d),
        }
    }

    fn ensure_stores(&mut self) {
        while self.stores.len() < self.registry.stores {
            self.stores.push(Store {
                compacted_rv: self.rv,
                ..Store::default()
            });
        }
    }

    /// Resolve an object's type from its apiVersion/kind.
    pub fn type_of(&self, v: &Value) -> Result<Arc<ResourceType>, WorldError> {
        let api_version = v.get("apiVersion").and_then(Value::as_str).unwrap_or("");
        let kind = v.get("kind").and_then(Value::as_str).unwrap_or("");
        if api_version.is_empty() || kind.is_empty() {
            return Err(WorldError::Invalid(
                "object has no apiVersion or kind".to_string(),
            ));
        }
        self.registry
            .by_kind(api_version, kind)
            .cloned()
            .ok_or_else(|| {
                WorldError::UnknownType(format!(
                    "{api_version} {kind} (not a built-in kind and no CRD defines it)"
                ))
            })
    }

    /// Insert an object loaded at startup: no event, its resourceVersion is kept as is.
    /// `json` must be the compact serialization of `v`.
    pub fn load(&mut self, v: &Value, json: Bytes) -> Result<(), WorldError> {
        let t = self.type_of(v)?;
        if t.kind == "CustomResourceDefinition" {
            self.registry.register_crd(v).map_err(WorldError::Invalid)?;
            self.ensure_stores();
        }
        let obj = StoredObject::from_value(v, &t.kind, json);
        if obj.name.is_empty() {
            return Err(WorldError::Invalid("object has no metadata.name".into()));
        }
        if t.namespaced && obj.namespace.is_empty() {
            return Err(WorldError::Invalid(format!(
                "{} {} is namespaced but has no metadata.namespace",
                t.kind, obj.name
            )));
        }
        self.rv = self.rv.max(obj.rv);
        let key = (obj.namespace.clone(), obj.name.clone());
        self.stores[t.store].objects.insert(key, Arc::new(obj));
        Ok(())
    }

    /// Mark the end of the initial load: watches can start from the current RV.
    pub fn finish_load(&mut self) {
        let rv = self.rv;
        for s in &mut self.stores {
            s.compacted_rv = rv;
        }
    }

    fn new_uid(&mut self) -> String {
        let hi: u64 = self.uid_rng.gen();
        let lo: u64 = self.uid_rng.gen();
        uuid_from(hi, lo)
    }

    fn push_event(&mut self, store: usize, ev: Event) {
        let window = self.window;
        let s = &mut self.stores[store];
        s.events.push_back(Arc::new(ev));
        while s.events.len() > window {
            if let Some(old) = s.events.pop_front() {
                s.compacted_rv = old.rv;
            }
        }
    }

    /// Create or update an object: bumps the resourceVersion, fills uid and
    /// creationTimestamp when missing (keeping the existing object's), emits ADDED/MODIFIED.
    pub fn apply(
        &mut self,
        mut v: Value,
        now_secs: i64,
    ) -> Result<(EventKind, ObjRef), WorldError> {
        let t = self.type_of(&v)?;
        let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) else {
            return Err(WorldError::Invalid("object has no metadata object".into()));
        };
        let mut name = meta
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if name.is_empty() {
            let gen = meta
                .get("generateName")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            if gen.is_empty() {
                return Err(WorldError::Invalid(
                    "object has neither metadata.name nor metadata.generateName".into(),
                ));
            }
            const ALPHA: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
            let suffix: String = (0..5)
                .map(|_| ALPHA[self.uid_rng.gen_range(0..ALPHA.len())] as char)
                .collect();
            name = format!("{gen}{suffix}");
        }
        let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) else {
            return Err(WorldError::Invalid("object has no metadata object".into()));
        };
        meta.insert("name".into(), Value::String(name.clone()));
        let ns = if t.namespaced {
            let ns = meta
                .get("namespace")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .unwrap_or("default")
                .to_string();
            meta.insert("namespace".into(), Value::String(ns.clone()));
            ns
        } else {
            meta.remove("namespace");
            String::new()
        };
        let key = (ns, name);
        let prev = self.stores[t.store].objects.get(&key).cloned();
        let prev_meta = prev.as_ref().and_then(|p| {
            serde_json::from_slice::<Value>(&p.json)
                .ok()
                .and_then(|pv| pv.get("metadata").cloned())
        });
        let needs_uid = !meta.get("uid").is_some_and(Value::is_string);
        let needs_ts = !meta.get("creationTimestamp").is_some_and(Value::is_string);
        let uid = if needs_uid {
            match prev_meta
                .as_ref()
                .and_then(|m| m.get("uid"))
                .and_then(Value::as_str)
            {
                Some(u) => u.to_string(),
                None => self.new_uid(),
            }
        } else {
            String::new()
        };
        let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) else {
            return Err(WorldError::Invalid("object has no metadata object".into()));
        };
        if needs_uid {
            meta.insert("uid".into(), Value::String(uid));
        }
        if needs_ts {
            let ts = prev_meta
                .as_ref()
                .and_then(|m| m.get("creationTimestamp"))
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| rfc3339(now_secs));
            meta.insert("creationTimestamp".into(), Value::String(ts));
        }
        self.rv += 1;
        let rv = self.rv;
        meta.insert("resourceVersion".into(), Value::String(rv.to_string()));
        if t.kind == "CustomResourceDefinition" {
            self.registry
                .register_crd(&v)
                .map_err(WorldError::Invalid)?;
            self.ensure_stores();
        }
        let json = to_bytes(&v);
        let obj = Arc::new(StoredObject::from_value(&v, &t.kind, json));
        let kind = if prev.is_some() {
            EventKind::Modified
        } else {
            EventKind::Added
        };
        self.stores[t.store].objects.insert(key, obj.clone());
        self.push_event(
            t.store,
            Event {
                rv,
                kind,
                obj: obj.clone(),
                prev,
            },
        );
        Ok((kind, obj))
    }

    /// Delete an object; the DELETED event carries its last state with the deletion's RV.
    pub fn delete(&mut self, store: usize, namespace: &str, name: &str) -> Option<ObjRef> {
        let key = (namespace.to_string(), name.to_string());
        let old = self.stores.get_mut(store)?.objects.remove(&key)?;
        self.rv += 1;
        let rv = self.rv;
        let mut v: Value = serde_json::from_slice(&old.json).unwrap_or(Value::Null);
        if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.insert("resourceVersion".into(), Value::String(rv.to_string()));
        }
        let kind = self
            .registry
            .all()
            .iter()
            .find(|t| t.store == store)
            .map(|t| t.kind.clone())
            .unwrap_or_default();
        let obj = Arc::new(StoredObject::from_value(&v, &kind, to_bytes(&v)));
        self.push_event(
            store,
            Event {
                rv,
                kind: EventKind::Deleted,
                obj: obj.clone(),
                prev: Some(old),
            },
        );
        Some(obj)
    }

    /// Jump the resourceVersion (as after an etcd restore): every retained event is dropped,
    /// so every watch or exact list at an older RV answers 410.
    pub fn new_epoch(&mut self, jump: u64) {
        self.rv += jump;
        let rv = self.rv;
        for s in &mut self.stores {
            s.events.clear();
            s.compacted_rv = rv;
        }
    }

    /// Objects of one store as they were at `rv` (rolling retained events back).
    /// `None` when `rv` is older than the retained window.
    pub fn objects_at(&self, store: usize, rv: u64) -> Option<BTreeMap<ObjKey, ObjRef>> {
        let s = self.stores.get(store)?;
        if rv < s.compacted_rv {
            return None;
        }
        let mut objects = s.objects.clone();
        for ev in s.events.iter().rev() {
            if ev.rv <= rv {
                break;
            }
            let key = (ev.obj.namespace.clone(), ev.obj.name.clone());
            match (ev.kind, &ev.prev) {
                (EventKind::Added, _) => {
                    objects.remove(&key);
                }
                (_, Some(prev)) => {
                    objects.insert(key, prev.clone());
                }
                (_, None) => {}
            }
        }
        Some(objects)
    }

    /// Total number of objects.
    pub fn object_count(&self) -> usize {
        self.stores.iter().map(|s| s.objects.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(name: &str, phase: &str) -> Value {
        json!({"apiVersion":"v1","kind":"Pod","metadata":{"name":name,"namespace":"ns"},
            "status":{"phase":phase}})
    }

    #[test]
    fn apply_delete_and_rollback() {
        let mut w = World::new(100, 1);
        let pods = w.registry.by_path("", "v1", "pods").unwrap().store;
        let (k, a) = w.apply(pod("a", "Pending"), 0).unwrap();
        assert_eq!(k, EventKind::Added);
        assert_eq!(a.rv, 1);
        let (k, a2) = w.apply(pod("a", "Running"), 0).unwrap();
        assert_eq!(k, EventKind::Modified);
        assert_eq!(a2.rv, 2);
        let v: Value = serde_json::from_slice(&a2.json).unwrap();
        let v1: Value = serde_json::from_slice(&a.json).unwrap();
        assert_eq!(v["metadata"]["uid"], v1["metadata"]["uid"], "uid is kept");
        w.apply(pod("b", "Running"), 0).unwrap();
        let d = w.delete(pods, "ns", "a").unwrap();
        assert_eq!(d.rv, 4);
        assert_eq!(w.stores[pods].objects.len(), 1);
        let at1 = w.objects_at(pods, 1).unwrap();
        assert_eq!(at1.len(), 1);
        assert_eq!(at1[&("ns".to_string(), "a".to_string())].rv, 1);
        let at3 = w.objects_at(pods, 3).unwrap();
        assert_eq!(at3.len(), 2);
        assert!(w.objects_at(pods, 4).unwrap().len() == 1);
    }

    #[test]
    fn window_compacts() {
        let mut w = World::new(2, 1);
        let pods = w.registry.by_path("", "v1", "pods").unwrap().store;
        for i in 0..5 {
            w.apply(pod(&format!("p{i}"), "Running"), 0).unwrap();
        }
        assert_eq!(w.stores[pods].events.len(), 2);
        assert_eq!(w.stores[pods].compacted_rv, 3);
        assert!(w.objects_at(pods, 2).is_none());
        assert_eq!(w.objects_at(pods, 3).unwrap().len(), 3);
        w.new_epoch(1000);
        assert_eq!(w.rv, 1005);
        assert!(w.objects_at(pods, 5).is_none());
    }

    #[test]
    fn unknown_kind_and_missing_name_are_errors() {
        let mut w = World::new(2, 1);
        assert!(matches!(
            w.apply(
                json!({"apiVersion":"x/v1","kind":"Y","metadata":{"name":"a"}}),
                0
            ),
            Err(WorldError::UnknownType(_))
        ));
        assert!(matches!(
            w.apply(json!({"apiVersion":"v1","kind":"Pod","metadata":{}}), 0),
            Err(WorldError::Invalid(_))
        ));
        let (_, o) = w
            .apply(
                json!({"apiVersion":"v1","kind":"Pod","metadata":{"generateName":"web-"}}),
                0,
            )
            .unwrap();
        assert!(o.name.starts_with("web-") && o.name.len() == 9);
        assert_eq!(o.namespace, "default");
    }
}
