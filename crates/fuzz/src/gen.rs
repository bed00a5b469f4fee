//! Seeded, reproducible adversarial worlds and KSM flags.
//!
//! A world is a list of API objects in the simulator's world format (what
//! `conformance/cases/*/objects.json` holds), drawn from the object shapes of the conformance
//! corpus (`templates.json`, one to eight distinct shapes per kind, all 39 kinds) and mutated
//! where exporters are most likely to disagree:
//!
//! * label and annotation keys built to collide after sanitization (case, dots, slashes,
//!   dashes, leading digits, non-ASCII, keys already ending in `_conflictN`, many keys mapping
//!   to one name), values with quotes, backslashes, newlines and long runs;
//! * quantities at every scale, including beyond `int64` and beyond `float64`, with milli,
//!   decimal and binary suffixes and exponent forms, plus extra extended resources;
//! * timestamps at the edges (year 1, 1969/1970, year 9999, fractions, offsets);
//! * cron schedules from the whole grammar (steps, ranges, lists, names, descriptors,
//!   `@every`, `TZ=`/`CRON_TZ=` prefixes, invalid ones) and time zones, valid and not;
//! * conditions with unknown statuses, types and reasons; owner references of every kind;
//! * enumerated strings swapped for values seen at the same place in the corpus, empty and
//!   absent fields, emptied and duplicated lists, flipped booleans, edge integers, very long
//!   strings.
//!
//! Mutations keep every value well-typed for its field (a quantity stays a valid quantity, a
//! timestamp a valid RFC 3339 time), because an undecodable object makes KSM drop the whole
//! list it came in (docs/migration.md, "Differential fuzzing").
//!
//! Every name and namespace of a world starts with [`PREFIX`]; [`crate::pack`] renames it when
//! several worlds are served together. The same seed always gives the same world and flags.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Map, Value};

/// The name prefix of every object and namespace of a generated world.
pub const PREFIX: &str = "fz-";

/// The namespaces a generated world uses (before packing).
pub const NAMESPACES: [&str; 3] = ["fz-a", "fz-b", "fz-c"];

/// A generated world: its seed and its objects (simulator world format).
#[derive(Clone, Debug, PartialEq)]
pub struct World {
    /// The seed it was generated from (`None` for a shrunk or loaded world).
    pub seed: Option<u64>,
    /// The objects, each with `apiVersion` and `kind`.
    pub objects: Vec<Value>,
}

/// The object shapes worlds are built from: a few distinct objects of each of the 39 kinds,
/// taken from the conformance corpus by `kubestate-fuzz templates`.
pub fn templates() -> &'static [Value] {
    static T: OnceLock<Vec<Value>> = OnceLock::new();
    T.get_or_init(|| {
        let v: Value =
            serde_json::from_str(include_str!("../templates.json")).unwrap_or(Value::Null);
        v["items"].as_array().cloned().unwrap_or_default()
    })
}

/// Every string value seen at each path (`Kind/a/b/c`, array indices dropped) of the
/// templates: what enumerated strings are swapped with.
fn pools() -> &'static BTreeMap<String, Vec<String>> {
    static P: OnceLock<BTreeMap<String, Vec<String>>> = OnceLock::new();
    P.get_or_init(|| {
        let mut sets: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for t in templates() {
            let kind = t["kind"].as_str().unwrap_or("").to_string();
            collect_strings(t, &mut kind.clone(), &mut sets);
        }
        sets.into_iter()
            .map(|(k, v)| (k, v.into_iter().collect()))
            .collect()
    })
}

fn collect_strings(v: &Value, path: &mut String, out: &mut BTreeMap<String, BTreeSet<String>>) {
    match v {
        Value::String(s) => {
            out.entry(path.clone()).or_default().insert(s.clone());
        }
        Value::Array(a) => a.iter().for_each(|x| collect_strings(x, path, out)),
        Value::Object(m) => {
            for (k, x) in m {
                let len = path.len();
                path.push('/');
                path.push_str(k);
                collect_strings(x, path, out);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

/// Picks the templates of the 39 kinds in turn, so every kind shows up in every few worlds.
fn kinds() -> &'static [String] {
    static K: OnceLock<Vec<String>> = OnceLock::new();
    K.get_or_init(|| {
        let set: BTreeSet<String> = templates()
            .iter()
            .filter_map(|t| t["kind"].as_str().map(str::to_string))
            .collect();
        set.into_iter().collect()
    })
}

/// The world of `seed`: 4 to 24 mutated objects of random kinds, names and namespaces with
/// [`PREFIX`].
pub fn world(seed: u64) -> World {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n = rng.gen_range(4..=24);
    let mut objects = Vec::with_capacity(n);
    let kinds = kinds();
    for i in 0..n {
        // Every world covers a rotating window of kinds plus random ones.
        let kind = if i < 3 {
            &kinds[(seed as usize * 3 + i) % kinds.len()]
        } else {
            &kinds[rng.gen_range(0..kinds.len())]
        };
        let shapes: Vec<&Value> = templates()
            .iter()
            .filter(|t| t["kind"].as_str() == Some(kind))
            .collect();
        let Some(template) = shapes.choose(&mut rng) else {
            continue;
        };
        let mut obj = (*template).clone();
        Mutator { rng: &mut rng }.object(&mut obj, i);
        keep_ksm_alive(&mut obj);
        avoid_zone_table_ends(&mut obj);
        objects.push(obj);
    }
    // The first Namespace objects take the world's namespace names, so namespaced objects
    // have their Namespace next to them; further ones keep their unique names.
    let mut free = NAMESPACES.iter();
    for o in objects.iter_mut().filter(|o| o["kind"] == "Namespace") {
        if let Some(ns) = free.next() {
            o["metadata"]["name"] = json!(ns);
        }
    }
    World {
        seed: Some(seed),
        objects,
    }
}

struct Mutator<'r> {
    rng: &'r mut ChaCha8Rng,
}

/// Maps whose values are quantities keyed by resource name.
const RESOURCE_MAPS: &[&str] = &[
    "capacity",
    "allocatable",
    "requests",
    "limits",
    "hard",
    "used",
    "min",
    "max",
    "default",
    "defaultRequest",
    "maxLimitRequestRatio",
    "overhead",
    "allocatedResources",
];

/// Fields holding an int-or-string: never turned into quantities.
const INT_OR_STRING: &[&str] = &[
    "maxUnavailable",
    "maxSurge",
    "minAvailable",
    "targetPort",
    "port",
    "partition",
];

/// Resource names added to resource maps next to the template's own.
const EXTRA_RESOURCES: &[&str] = &[
    "cpu",
    "memory",
    "storage",
    "ephemeral-storage",
    "pods",
    "nvidia.com/gpu",
    "example.com/fuzz-widget",
    "hugepages-2Mi",
    "hugepages-1Gi",
    "attachable-volumes-aws-ebs",
    "requests.example.com/x",
    "kubernetes.io/fuzz",
    "count/pods",
    "requests.cpu",
    "limits.memory",
    "services.loadbalancers",
    "Example.com/Upper",
    "a/b/c",
];

/// Kinds an owner reference may name.
const OWNER_KINDS: &[&str] = &[
    "ReplicaSet",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "Job",
    "CronJob",
    "ReplicationController",
    "Node",
    "Pod",
    "Namespace",
    "PersistentVolumeClaim",
    "Service",
    "CustomThing",
    "<none>",
    "",
];

impl Mutator<'_> {
    fn chance(&mut self, p: f64) -> bool {
        self.rng.gen_bool(p)
    }

    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.rng.gen_range(0..xs.len())]
    }

    /// Mutates one object of the world (the `index`th).
    fn object(&mut self, obj: &mut Value, index: usize) {
        let kind = obj["kind"].as_str().unwrap_or("").to_string();
        let namespaced = obj["metadata"].get("namespace").is_some();
        let mut path = kind.clone();
        if let Some(m) = obj.as_object_mut() {
            for (k, v) in m.iter_mut() {
                if k != "metadata" && k != "apiVersion" && k != "kind" {
                    let len = path.len();
                    path.push('/');
                    path.push_str(k);
                    self.value(k, v, &mut path);
                    path.truncate(len);
                }
            }
            let deletable: Vec<String> = m
                .keys()
                .filter(|k| !matches!(k.as_str(), "metadata" | "apiVersion" | "kind"))
                .cloned()
                .collect();
            for k in deletable {
                if self.chance(0.06) {
                    m.remove(&k);
                }
            }
        }
        let name = self.name(&kind, index);
        let meta = obj
            .as_object_mut()
            .map(|m| m.entry("metadata").or_insert_with(|| json!({})));
        let Some(Value::Object(meta)) = meta else {
            return;
        };
        meta.insert("name".into(), Value::String(name));
        if namespaced {
            let ns = self.pick(&NAMESPACES).to_string();
            meta.insert("namespace".into(), Value::String(ns));
        }
        let uid = self.uid();
        meta.insert("uid".into(), Value::String(uid));
        meta.insert(
            "resourceVersion".into(),
            Value::String(self.rng.gen_range(1..100_000_000u64).to_string()),
        );
        self.metadata(meta);
    }

    fn name(&mut self, kind: &str, index: usize) -> String {
        let abbrev: String = kind
            .chars()
            .filter(char::is_ascii_uppercase)
            .collect::<String>()
            .to_ascii_lowercase();
        let mut name = format!("{PREFIX}{abbrev}{index}");
        match self.rng.gen_range(0..10) {
            0 => {
                // As long as a name may be.
                while name.len() < 253 {
                    name.push_str(".long-name-part");
                }
                name.truncate(253);
                name = name.trim_end_matches(['.', '-']).to_string();
            }
            1 => name.push_str(".with.dots"),
            2 => name.push_str("-0"),
            _ => {}
        }
        name
    }

    fn uid(&mut self) -> String {
        let b: [u8; 16] = self.rng.gen();
        let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
        format!(
            "{}-{}-{}-{}-{}",
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        )
    }

    fn metadata(&mut self, meta: &mut Map<String, Value>) {
        meta.remove("managedFields");
        if self.chance(0.8) {
            let labels = self.string_map();
            meta.insert("labels".into(), labels);
        } else if self.chance(0.5) {
            meta.remove("labels");
        }
        if self.chance(0.7) {
            let annotations = self.string_map();
            meta.insert("annotations".into(), annotations);
        } else if self.chance(0.5) {
            meta.remove("annotations");
        }
        if self.chance(0.5) {
            let owners = self.owner_refs();
            meta.insert("ownerReferences".into(), owners);
        }
        match self.rng.gen_range(0..6) {
            0 => {
                meta.remove("creationTimestamp");
            }
            1..=3 => {
                let t = self.timestamp();
                meta.insert("creationTimestamp".into(), Value::String(t));
            }
            _ => {}
        }
        if self.chance(0.15) {
            let t = self.timestamp();
            meta.insert("deletionTimestamp".into(), Value::String(t));
        }
        if self.chance(0.2) {
            let g = self.edge_int();
            meta.insert("generation".into(), json!(g));
        }
    }

    /// Label or annotation map: keys built to collide after sanitization.
    fn string_map(&mut self) -> Value {
        let n = self.rng.gen_range(0..12);
        let mut m = Map::new();
        for _ in 0..n {
            let k = self.label_key();
            let v = self.label_value();
            m.insert(k, Value::String(v));
        }
        Value::Object(m)
    }

    fn label_key(&mut self) -> String {
        let mut key = self.pick(LABEL_KEYS).to_string();
        // Variations that keep the sanitized name, or move it onto another key's name.
        match self.rng.gen_range(0..12) {
            0 => key = key.replace('_', "."),
            1 => key = key.replace('.', "/"),
            2 => key = key.replace(['.', '/'], "-"),
            3 => key = key.to_ascii_uppercase(),
            4 => {
                let n = self.rng.gen_range(1..4);
                key = format!("{key}_conflict{n}");
            }
            5 => {
                let n = self.rng.gen_range(1..4);
                key = format!("{key}.conflict{n}");
            }
            6 => {
                let mut c = key.chars();
                key = match c.next() {
                    Some(f) => f.to_uppercase().chain(c).collect(),
                    None => key,
                };
            }
            7 => key = format!("{key}_"),
            _ => {}
        }
        key
    }

    fn label_value(&mut self) -> String {
        match self.rng.gen_range(0..14) {
            0 => String::new(),
            1 => "quote\"back\\slash\nnewline".into(),
            2 => "x".repeat(self.rng.gen_range(64..2000)),
            3 => "ünïcødé ✓ 日本".into(),
            4 => "true".into(),
            5 => "1e3".into(),
            6 => " padded ".into(),
            7 => "tab\there".into(),
            _ => format!("v{}", self.rng.gen_range(0..50)),
        }
    }

    fn owner_refs(&mut self) -> Value {
        let n = self.rng.gen_range(0..4);
        let refs: Vec<Value> = (0..n)
            .map(|i| {
                let kind = self.pick(OWNER_KINDS).to_string();
                let mut r = json!({
                    "apiVersion": "apps/v1",
                    "kind": kind,
                    "name": format!("owner-{i}"),
                    "uid": self.uid(),
                });
                match self.rng.gen_range(0..3) {
                    0 => r["controller"] = json!(true),
                    1 => r["controller"] = json!(false),
                    _ => {}
                }
                if self.chance(0.3) {
                    r["name"] = json!("");
                }
                r
            })
            .collect();
        Value::Array(refs)
    }

    /// One value at `path` (its key is `key`).
    fn value(&mut self, key: &str, v: &mut Value, path: &mut String) {
        match v {
            Value::Object(m) => {
                if RESOURCE_MAPS.contains(&key) && self.chance(0.6) {
                    self.resource_map(m);
                    return;
                }
                if key == "labels" || key == "annotations" || key == "nodeSelector" {
                    if self.chance(0.3) {
                        *v = self.string_map();
                    }
                    return;
                }
                for (k, x) in m.iter_mut() {
                    let len = path.len();
                    path.push('/');
                    path.push_str(k);
                    self.value(k, x, path);
                    path.truncate(len);
                }
                let keys: Vec<String> = m.keys().cloned().collect();
                for k in keys {
                    if self.chance(0.05) {
                        m.remove(&k);
                    }
                }
            }
            Value::Array(a) => {
                if key == "conditions" {
                    for c in a.iter_mut() {
                        self.condition(c);
                    }
                }
                if key == "ownerReferences" && self.chance(0.5) {
                    *v = self.owner_refs();
                    return;
                }
                // Elements are not the member itself: an object in a `limits` list is not
                // a resource map.
                let element_key = if key == "conditions" { "" } else { key };
                for x in a.iter_mut() {
                    let k = if x.is_object() { "" } else { element_key };
                    self.value(k, x, path);
                }
                if !a.is_empty() && self.chance(0.05) {
                    a.clear();
                } else if !a.is_empty() && self.chance(0.05) {
                    let dup = a[0].clone();
                    a.push(dup);
                }
            }
            Value::String(s) => {
                if let Some(new) = self.string(key, s, path) {
                    *s = new;
                }
            }
            Value::Number(n) => {
                if n.is_i64() && self.chance(0.12) {
                    *v = json!(self.edge_int());
                }
            }
            Value::Bool(b) => {
                if self.chance(0.15) {
                    *b = !*b;
                }
            }
            Value::Null => {}
        }
    }

    fn string(&mut self, key: &str, s: &str, path: &str) -> Option<String> {
        if key == "schedule" {
            return self.chance(0.9).then(|| self.cron());
        }
        if key == "timeZone" {
            return self.chance(0.6).then(|| self.time_zone());
        }
        if is_timestamp(s) {
            return self.chance(0.5).then(|| self.timestamp());
        }
        // A member of a resource map is a quantity whatever the template wrote: anything else
        // there makes KSM drop the whole list (docs/migration.md, "Differential fuzzing").
        let parent = path.rsplit('/').nth(1).unwrap_or("");
        if RESOURCE_MAPS.contains(&parent) || matches!(key, "storage" | "sizeLimit") {
            return self.chance(0.5).then(|| self.quantity());
        }
        if is_quantity(s) {
            if INT_OR_STRING.contains(&key) {
                return None;
            }
            return self.chance(0.5).then(|| self.quantity());
        }
        match self.rng.gen_range(0..100) {
            0..=14 => {
                let pool = pools().get(path)?;
                Some(self.pick(pool).clone())
            }
            15..=16 => Some(String::new()),
            17 => Some("y".repeat(self.rng.gen_range(300..3000))),
            18 => Some("Fuzz\"Value\\\n".into()),
            _ => None,
        }
    }

    fn resource_map(&mut self, m: &mut Map<String, Value>) {
        for v in m.values_mut() {
            if self.chance(0.7) {
                *v = Value::String(self.quantity());
            }
        }
        for _ in 0..self.rng.gen_range(0..4) {
            let name = self.pick(EXTRA_RESOURCES).to_string();
            let q = self.quantity();
            m.insert(name, Value::String(q));
        }
    }

    fn condition(&mut self, c: &mut Value) {
        let Some(m) = c.as_object_mut() else { return };
        if self.chance(0.5) {
            let s = *self.pick(&["True", "False", "Unknown", "", "Bogus", "true", "FALSE"]);
            m.insert("status".into(), json!(s));
        }
        if self.chance(0.2) {
            let t = *self.pick(&["FuzzCondition", "", "Ready", "ready", "Progressing"]);
            m.insert("type".into(), json!(t));
        }
        if self.chance(0.2) {
            let r = *self.pick(&["", "Fuzz Reason", "Évicted", "NodeLost"]);
            m.insert("reason".into(), json!(r));
        }
        if self.chance(0.1) {
            m.remove("status");
        }
    }

    /// A valid Kubernetes quantity, at any scale.
    fn quantity(&mut self) -> String {
        let sign = match self.rng.gen_range(0..12) {
            0 => "-",
            1 => "+",
            _ => "",
        };
        let number = match self.rng.gen_range(0..10) {
            0 => "0".to_string(),
            1 => format!("{}", self.rng.gen_range(1..1000)),
            2 => format!(
                "{}.{}",
                self.rng.gen_range(0..100),
                self.rng.gen_range(0..1000)
            ),
            3 => format!(".{}", self.rng.gen_range(1..1000)),
            4 => format!("{}.", self.rng.gen_range(1..100)),
            5 => "9223372036854775807".into(),
            6 => "9223372036854775808".into(),
            7 => "99999999999999999999999999999".into(),
            8 => format!("{}", self.rng.gen::<u64>()),
            _ => format!(
                "{}.{:06}",
                self.rng.gen_range(0..10_000_000),
                self.rng.gen_range(0..1_000_000)
            ),
        };
        let suffix = match self.rng.gen_range(0..22) {
            0..=5 => String::new(),
            6 => "m".into(),
            7 => "n".into(),
            8 => "u".into(),
            9 => "k".into(),
            10 => "M".into(),
            11 => "G".into(),
            12 => "T".into(),
            13 => "P".into(),
            14 => "E".into(),
            15 => "Ki".into(),
            16 => "Mi".into(),
            17 => "Gi".into(),
            18 => "Ei".into(),
            19 => format!("e{}", self.rng.gen_range(-20..40)),
            20 => format!("E{}", self.rng.gen_range(0..320)),
            _ => format!("e-{}", self.rng.gen_range(0..30)),
        };
        format!("{sign}{number}{suffix}")
    }

    fn timestamp(&mut self) -> String {
        match self.rng.gen_range(0..14) {
            0 => "0001-01-01T00:00:00Z".into(),
            1 => "0001-01-01T00:00:01Z".into(),
            2 => "1970-01-01T00:00:00Z".into(),
            3 => "1969-12-31T23:59:59Z".into(),
            4 => "9999-12-31T23:59:59Z".into(),
            5 => "2262-04-11T23:47:17Z".into(),
            6 => "1677-09-21T00:12:43Z".into(),
            7 => format!(
                "2026-0{}-1{}T0{}:30:00.{}Z",
                self.rng.gen_range(1..10),
                self.rng.gen_range(0..10),
                self.rng.gen_range(0..10),
                self.rng.gen_range(1..999_999)
            ),
            8 => "2026-11-21T05:24:31+14:00".into(),
            9 => "2026-11-21T05:24:31.999999999Z".into(),
            _ => {
                let secs: i64 = self.rng.gen_range(0..2_000_000_000);
                chrono::DateTime::from_timestamp(secs, 0)
                    .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
                    .unwrap_or_else(|| "2026-01-01T00:00:00Z".into())
            }
        }
    }

    fn time_zone(&mut self) -> String {
        (*self.pick(&[
            "UTC",
            "Etc/UTC",
            "Europe/Berlin",
            "America/New_York",
            "Asia/Kolkata",
            "Australia/Lord_Howe",
            "Pacific/Chatham",
            "America/St_Johns",
            "Asia/Kathmandu",
            "Pacific/Kiritimati",
            "Europe/London",
            "Mars/Olympus_Mons",
            "",
            "Local",
            "EST",
            "Etc/GMT+12",
        ]))
        .to_string()
    }

    fn cron(&mut self) -> String {
        let prefix = match self.rng.gen_range(0..10) {
            0 => format!("CRON_TZ={} ", self.time_zone()),
            1 => format!("TZ={} ", self.time_zone()),
            _ => String::new(),
        };
        let body = match self.rng.gen_range(0..12) {
            0 => (*self.pick(&[
                "@yearly",
                "@annually",
                "@monthly",
                "@weekly",
                "@daily",
                "@midnight",
                "@hourly",
                "@reboot",
                "@every 1h30m",
                "@every 90s",
                "@every 500ms",
                "@every 0s",
                "@every 1.5h",
                "@every -1s",
                "@triggered",
                "@fortnightly",
            ]))
            .to_string(),
            1 => (*self.pick(&[
                "",
                "* * * *",
                "* * * * * *",
                "61 * * * *",
                "*/0 * * * *",
                "a-b * * * *",
                "1-2-3 * * * *",
                "* * 0 * *",
                "* * * 13 *",
                "* * * * 8",
                "5/ * * * *",
                "L * * * *",
                "H * * * *",
                "*/60 * * * *",
                "0 0 30 2 *",
                "0 0 31 4,6,9,11 *",
            ]))
            .to_string(),
            _ => {
                let fields = [
                    self.cron_field(0, 59, &[]),
                    self.cron_field(0, 23, &[]),
                    self.cron_field(1, 31, &[]),
                    self.cron_field(1, 12, MONTHS),
                    self.cron_field(0, 7, DAYS),
                ];
                fields.join(" ")
            }
        };
        format!("{prefix}{body}")
    }

    fn cron_field(&mut self, lo: u32, hi: u32, names: &[&str]) -> String {
        if self.chance(0.3) {
            return if self.chance(0.8) { "*" } else { "?" }.into();
        }
        let n = self.rng.gen_range(1..4);
        let parts: Vec<String> = (0..n)
            .map(|_| {
                let v = |m: &mut Self| -> String {
                    let x = m.rng.gen_range(lo..=hi);
                    if !names.is_empty() && m.chance(0.3) {
                        let i =
                            (x.saturating_sub(if lo == 1 { 1 } else { 0 }) as usize) % names.len();
                        let name = names[i];
                        if m.chance(0.5) {
                            name.to_ascii_uppercase()
                        } else {
                            name.to_string()
                        }
                    } else {
                        x.to_string()
                    }
                };
                let base = match self.rng.gen_range(0..4) {
                    0 => "*".to_string(),
                    1 => v(self),
                    _ => format!("{}-{}", v(self), v(self)),
                };
                if self.chance(0.4) {
                    let step = self.rng.gen_range(1..=(hi - lo + 2));
                    format!("{base}/{step}")
                } else {
                    base
                }
            })
            .collect();
        parts.join(",")
    }

    fn edge_int(&mut self) -> i64 {
        *self.pick(&[0, 1, -1, 2, 7, 100, 2_147_483_647, -2_147_483_648])
    }
}

const MONTHS: &[&str] = &[
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const DAYS: &[&str] = &["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

/// Repairs what a real API server's validation would have rejected and KSM v2.20 crashes
/// on (a nil-pointer panic that takes the whole process down, docs/migration.md
/// "Differential fuzzing"): an HPA metric whose `type` names a source member that is absent,
/// an ingress path with no backend. Such entries are dropped.
pub fn keep_ksm_alive(obj: &mut Value) {
    if obj["kind"] == "Ingress" {
        // An ingress path whose backend has neither a service nor a resource.
        for rule in obj["spec"]["rules"].as_array_mut().into_iter().flatten() {
            if let Some(paths) = rule["http"]["paths"].as_array_mut() {
                paths.retain(|p| {
                    p["backend"]["service"].is_object() || p["backend"]["resource"].is_object()
                });
            }
        }
    }
    if obj["kind"] != "HorizontalPodAutoscaler" {
        return;
    }
    for (section, list) in [("spec", "metrics"), ("status", "currentMetrics")] {
        if let Some(a) = obj
            .get_mut(section)
            .and_then(|s| s.get_mut(list))
            .and_then(Value::as_array_mut)
        {
            a.retain(|m| {
                let member = match m["type"].as_str() {
                    Some("Object") => "object",
                    Some("Pods") => "pods",
                    Some("Resource") => "resource",
                    Some("ContainerResource") => "containerResource",
                    Some("External") => "external",
                    _ => return true,
                };
                m.get(member).is_some_and(Value::is_object)
            });
        }
    }
}

/// Keeps the times a zoned CronJob's next activation is computed from within 1900–2099.
///
/// Beyond the transition tables kubestate's time-zone data (chrono-tz) carries, Go extends a
/// zone's current daylight-saving rule forever and reads the host's tzdata for the distant
/// past, so `kube_cronjob_next_schedule_time` can differ by an hour there
/// (docs/migration.md, "Differential fuzzing"). UTC schedules keep every edge time.
pub fn avoid_zone_table_ends(obj: &mut Value) {
    if obj["kind"] != "CronJob" {
        return;
    }
    let schedule = obj["spec"]["schedule"].as_str().unwrap_or("");
    let zoned = obj["spec"]["timeZone"]
        .as_str()
        .is_some_and(|z| !z.is_empty())
        || schedule.starts_with("TZ=")
        || schedule.starts_with("CRON_TZ=");
    if !zoned {
        return;
    }
    // Go's zero time means "unset" here and is kept.
    let far = |v: &Value| {
        v.as_str()
            .filter(|s| *s != "0001-01-01T00:00:00Z")
            .and_then(|s| s.get(..4))
            .and_then(|y| y.parse::<u32>().ok())
            .is_some_and(|y| !(1900..2100).contains(&y))
    };
    for (section, field) in [
        ("metadata", "creationTimestamp"),
        ("status", "lastScheduleTime"),
    ] {
        if let Some(t) = obj.get_mut(section).and_then(|s| s.get_mut(field)) {
            if far(t) {
                *t = json!("2026-06-15T12:34:56Z");
            }
        }
    }
}

/// Keys that sanitize onto each other (and onto their `_conflictN` renamings).
const LABEL_KEYS: &[&str] = &[
    "app",
    "App",
    "a.b",
    "a/b",
    "a_b",
    "a-b",
    "A_b",
    "aB",
    "a_b_conflict1",
    "a_b_conflict2",
    "a.b_conflict1",
    "app.kubernetes.io/name",
    "app_kubernetes_io_name",
    "App.Kubernetes.IO/Name",
    "appKubernetesIoName",
    "1abc",
    "_leading",
    "héllo",
    "日本",
    "x--y",
    "camelCaseKey",
    "camel_case_key",
    "HTTPServer",
    "h_t_t_p_server",
    "team",
    "tier",
    "example.com/owner",
    "example.com/Owner",
    "k8s.io/a1B2",
    "conflict",
    "_conflict1",
    "label",
];

fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 20
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
}

/// Whether `s` is a quantity as the template wrote it (digits with an optional suffix).
fn is_quantity(s: &str) -> bool {
    let t = s.trim_start_matches(['+', '-']);
    let digits = t.trim_start_matches(|c: char| c.is_ascii_digit() || c == '.');
    if digits.len() == t.len() {
        return false;
    }
    matches!(
        digits,
        "" | "m"
            | "n"
            | "u"
            | "k"
            | "M"
            | "G"
            | "T"
            | "P"
            | "E"
            | "Ki"
            | "Mi"
            | "Gi"
            | "Ti"
            | "Pi"
            | "Ei"
    )
}

/// `n` cron schedules as the generator writes them (for comparing parsers directly).
pub fn schedules(seed: u64, n: usize) -> Vec<String> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut m = Mutator { rng: &mut rng };
    (0..n).map(|_| m.cron()).collect()
}

/// KSM flags for one run, written for the names of an unpacked world (namespaces
/// [`NAMESPACES`]); [`crate::pack::flags`] expands them for a packed world.
pub fn flags(seed: u64) -> Vec<String> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed_f1a6);
    let mut m = Mutator { rng: &mut rng };
    let all: Vec<&str> = kubestate_families::resources()
        .iter()
        .map(|r| r.name())
        .collect();
    let mut args = Vec::new();
    let resources: Vec<&str> = if m.chance(0.8) {
        all.clone()
    } else {
        let mut r: Vec<&str> = all.iter().copied().filter(|_| m.chance(0.5)).collect();
        if r.is_empty() {
            r.push("pods");
        }
        r
    };
    args.push(format!("--resources={}", resources.join(",")));
    for flag in ["metric-labels-allowlist", "metric-annotations-allowlist"] {
        if let Some(list) = allowlist(&mut m, &all) {
            args.push(format!("--{flag}={list}"));
        }
    }
    match m.rng.gen_range(0..10) {
        0 => args.push(format!(
            "--metric-allowlist={}",
            m.pick(&[
                "kube_pod_.*,kube_node_.*",
                "kube_.*_labels,kube_.*_annotations",
                ".*_info,.*created",
                "kube_cronjob_.*,kube_job_.*",
            ])
        )),
        1 => args.push(format!(
            "--metric-denylist={}",
            m.pick(&[
                "kube_pod_.*",
                "kube_.*_labels",
                ".*_created,.*_metadata_resource_version",
                "kube_node_status_.*",
            ])
        )),
        _ => {}
    }
    if m.chance(0.6) {
        args.push(
            "--metric-opt-in-list=kube_pod_nodeselectors,kube_persistentvolume_csi_attributes"
                .into(),
        );
    }
    match m.rng.gen_range(0..10) {
        0 => args.push(format!("--namespaces={},{}", NAMESPACES[0], NAMESPACES[2])),
        1 => args.push(format!("--namespaces-denylist={}", NAMESPACES[1])),
        _ => {}
    }
    if m.chance(0.12) {
        let total = m.rng.gen_range(2..4);
        let shard = m.rng.gen_range(0..total);
        args.push(format!("--total-shards={total}"));
        args.push(format!("--shard={shard}"));
    }
    args
}

/// A `resource=[keys]` allowlist, or none.
fn allowlist(m: &mut Mutator<'_>, resources: &[&str]) -> Option<String> {
    match m.rng.gen_range(0..6) {
        0 => None,
        1 => Some("*=[*]".into()),
        _ => {
            let n = m.rng.gen_range(1..6);
            let entries: Vec<String> = (0..n)
                .map(|_| {
                    let res = if m.chance(0.15) {
                        "*".to_string()
                    } else {
                        m.pick(resources).to_string()
                    };
                    let k = m.rng.gen_range(1..5);
                    let keys: Vec<String> = (0..k).map(|_| allow_key(m)).collect();
                    format!("{res}=[{}]", keys.join(","))
                })
                .collect();
            Some(entries.join(","))
        }
    }
}

fn allow_key(m: &mut Mutator<'_>) -> String {
    let mut key = m.label_key();
    // KSM's allowlist parser mixes byte and character offsets, so a non-ASCII key garbles
    // or rejects the whole flag (docs/migration.md, "Differential fuzzing").
    while !key.is_ascii() {
        key = m.label_key();
    }
    match m.rng.gen_range(0..8) {
        0 => "*".into(),
        1 => {
            let cut = key
                .char_indices()
                .nth(key.chars().count() / 2)
                .map_or(0, |(i, _)| i);
            format!("{}*", &key[..cut])
        }
        2 => {
            let cut = key
                .char_indices()
                .nth(key.chars().count() / 2)
                .map_or(0, |(i, _)| i);
            format!("*{}", &key[cut..])
        }
        3 => {
            let chars: Vec<char> = key.chars().collect();
            if chars.len() > 2 {
                format!("{}*{}", chars[0], chars[chars.len() - 1])
            } else {
                key
            }
        }
        _ => key,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_world() {
        assert_eq!(world(17), world(17));
        assert_ne!(world(17).objects, world(18).objects);
        assert_eq!(flags(5), flags(5));
    }

    #[test]
    fn templates_cover_all_kinds() {
        assert_eq!(kinds().len(), 39, "{:?}", kinds());
    }

    #[test]
    fn every_object_is_prefixed_and_unique() {
        for seed in 0..200 {
            let w = world(seed);
            let mut seen = BTreeSet::new();
            for o in &w.objects {
                let name = o["metadata"]["name"].as_str().unwrap();
                assert!(name.starts_with(PREFIX), "{name}");
                if let Some(ns) = o["metadata"]["namespace"].as_str() {
                    assert!(NAMESPACES.contains(&ns), "{ns}");
                }
                let key = (o["kind"].clone(), o["metadata"]["namespace"].clone(), name);
                assert!(seen.insert(format!("{key:?}")), "duplicate {key:?}");
            }
        }
    }

    #[test]
    fn quantities_and_timestamps_are_recognized() {
        assert!(is_quantity("250m") && is_quantity("16374584Ki") && is_quantity("1"));
        assert!(!is_quantity("v1") && !is_quantity("25%") && !is_quantity("m"));
        assert!(is_timestamp("2026-11-21T05:24:31Z") && !is_timestamp("2026"));
    }
}
