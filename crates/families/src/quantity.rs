//! Resource-quantity helpers shared by node, pod, limit-range and quota families
//! (ksm-behaviour.md §5.5): the `unit` a resource name is reported in, the sanitised
//! `resource` label, and KSM's two ways of turning a quantity into a float.

use kubestate_metric::sanitize_name;
use kubestate_objects::Quantity;

/// The `unit` label KSM attaches to a resource value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// `core` (cpu).
    Core,
    /// `byte` (memory, storage, ephemeral-storage, hugepages-*, attachable-volumes-*).
    Byte,
    /// `integer` (pods, extended resources such as `nvidia.com/gpu`).
    Integer,
}

impl Unit {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Core => "core",
            Unit::Byte => "byte",
            Unit::Integer => "integer",
        }
    }
}

/// The unit of a resource of a container's requests/limits, or `None` when KSM drops the
/// resource: `cpu` → core; `memory`, `storage`, `ephemeral-storage`, `hugepages-*`,
/// `attachable-volumes-*` → byte; extended resources (`vendor.domain/name`) → integer.
/// Everything else (`pods`, `foo`, `kubernetes.io/bar`, `requests.x/y`…) is dropped; node
/// capacity adds `pods` → integer on top (see [`node_unit`]).
pub fn unit(name: &str) -> Option<Unit> {
    match name {
        "cpu" => Some(Unit::Core),
        "memory" | "storage" | "ephemeral-storage" => Some(Unit::Byte),
        _ if name.starts_with("hugepages-") || name.starts_with("attachable-volumes-") => {
            Some(Unit::Byte)
        }
        _ if is_extended(name) => Some(Unit::Integer),
        _ => None,
    }
}

/// [`unit()`] plus `pods` → integer: the classification of node capacity/allocatable.
pub fn node_unit(name: &str) -> Option<Unit> {
    if name == "pods" {
        Some(Unit::Integer)
    } else {
        unit(name)
    }
}

/// The `resource` label: the name with every character outside `[a-zA-Z0-9_]` replaced by
/// `_` (`nvidia.com/gpu` → `nvidia_com_gpu`).
pub fn resource_label(name: &str) -> String {
    let mut s = String::with_capacity(name.len());
    sanitize_name(&mut s, name);
    s
}

/// KSM's overflow-checked conversion: `MilliValue()/1000` (so `250m` → 0.25), or the whole
/// `Value()` when the value is too large for milli precision in an `i64` (> 9223372036854775).
pub fn milli_float(q: Quantity) -> f64 {
    const MAX_MILLI_VALUE: i64 = i64::MAX / 1000;
    let v = q.value();
    if v > MAX_MILLI_VALUE {
        v as f64
    } else {
        q.milli_value() as f64 / 1000.0
    }
}

/// Kubernetes' `IsExtendedResourceName`: not a native resource (a name without `/`, or one
/// containing `kubernetes.io/`), not `requests.`-prefixed, and `requests.<name>` is a valid
/// qualified name.
pub fn is_extended(name: &str) -> bool {
    if !name.contains('/') || name.contains("kubernetes.io/") || name.starts_with("requests.") {
        return false;
    }
    let Some((prefix, rest)) = name.split_once('/') else {
        return false;
    };
    if rest.contains('/') {
        return false;
    }
    // The prefix becomes `requests.<prefix>`, which must be a DNS-1123 subdomain.
    prefix.len() + "requests.".len() <= 253
        && prefix.split('.').all(is_dns_label)
        && is_qualified_name_part(rest)
}

/// One dot-separated piece of a DNS-1123 subdomain: `[a-z0-9]([-a-z0-9]*[a-z0-9])?`.
fn is_dns_label(s: &str) -> bool {
    let b = s.as_bytes();
    let edge = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    match (b.first(), b.last()) {
        (Some(f), Some(l)) => edge(f) && edge(l) && b.iter().all(|c| edge(c) || *c == b'-'),
        _ => false,
    }
}

/// The name part of a qualified name: at most 63 characters,
/// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`.
fn is_qualified_name_part(s: &str) -> bool {
    let b = s.as_bytes();
    match (b.first(), b.last()) {
        (Some(f), Some(l)) => {
            b.len() <= 63
                && f.is_ascii_alphanumeric()
                && l.is_ascii_alphanumeric()
                && b.iter()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units() {
        assert_eq!(unit("cpu"), Some(Unit::Core));
        assert_eq!(unit("ephemeral-storage"), Some(Unit::Byte));
        assert_eq!(unit("hugepages-2Mi"), Some(Unit::Byte));
        assert_eq!(unit("attachable-volumes-aws-ebs"), Some(Unit::Byte));
        assert_eq!(unit("nvidia.com/gpu"), Some(Unit::Integer));
        assert_eq!(unit("rdma/ib"), Some(Unit::Integer));
        assert_eq!(unit("pods"), None);
        assert_eq!(node_unit("pods"), Some(Unit::Integer));
        for dropped in [
            "foo",
            "kubernetes.io/bar",
            "requests.example.com/x",
            "Example.com/x",
            "a/b/c",
            "example.com/-x",
            "/x",
        ] {
            assert_eq!(unit(dropped), None, "{dropped}");
        }
    }

    #[test]
    fn milli_path() {
        let q = |s| Quantity::parse(s).unwrap();
        assert_eq!(milli_float(q("3920m")), 3.92);
        assert_eq!(milli_float(q("16374584Ki")), 16_767_574_016.0);
        assert_eq!(milli_float(q("7586630231654400m")), 7_586_630_231_654.4);
        assert_eq!(milli_float(q("10P")), 1e16);
        assert_eq!(resource_label("nvidia.com/gpu"), "nvidia_com_gpu");
    }
}
