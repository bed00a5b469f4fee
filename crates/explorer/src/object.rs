//! One object's page: every series it has, and its owner chain through the owner families.

use serde::Serialize;

use crate::lines::{self, Labels};
use crate::snapshot::{Identity, Snapshot};

/// One family of an object with its series.
#[derive(Clone, Debug, Serialize)]
pub struct FamilySeries {
    /// Family name.
    pub name: String,
    /// HELP text.
    pub help: String,
    /// Metric type (`gauge`…).
    #[serde(rename = "type")]
    pub ty: String,
    /// Each series: its own labels (without the identity labels) and its value.
    pub series: Vec<(Vec<(String, String)>, f64)>,
}

/// A link of an owner chain.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Owner {
    /// Owner kind as the owner family labels it (`ReplicaSet`).
    pub kind: String,
    /// Owner name.
    pub name: String,
    /// The resource it would be in (`replicasets`).
    pub resource: String,
    /// Namespace (the owned object's).
    pub namespace: String,
    /// Whether the exporter holds that object.
    pub found: bool,
}

/// Everything the exporter holds about one object.
#[derive(Clone, Debug, Serialize)]
pub struct ObjectDetail {
    /// Resource.
    pub resource: String,
    /// Namespace, empty for cluster-scoped objects.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// Store key (the uid).
    pub uid: String,
    /// Identity labels, written first on every series.
    pub identity: Vec<(String, String)>,
    /// Number of series.
    pub series: usize,
    /// Families with at least one series, in the store's order.
    pub families: Vec<FamilySeries>,
    /// Owners, nearest first (pod → replicaset → deployment).
    pub owners: Vec<Owner>,
}

/// The resource an owner kind lives in.
pub fn kind_resource(kind: &str) -> String {
    let k = kind.to_ascii_lowercase();
    match k.as_str() {
        "endpoints" => k,
        _ if k.ends_with('s') => format!("{k}es"),
        _ if k.ends_with('y') => format!("{}ies", &k[..k.len() - 1]),
        _ => format!("{k}s"),
    }
}

/// The owner of an object named by an `*_owner` family (`owner_kind`, `owner_name`), if any.
fn owner_of(
    snap: &Snapshot,
    resource: &str,
    namespace: &str,
    name: &str,
) -> Option<(String, String)> {
    let (store, _, o) = snap.find(resource, namespace, name)?;
    let fam = store
        .families
        .iter()
        .position(|f| f.name.ends_with("_owner") && f.name.starts_with("kube_"))?;
    o.family(fam).find_map(|r| {
        let mut kind = None;
        let mut oname = None;
        for (k, v) in Labels::new(r) {
            match k {
                "owner_kind" => kind = Some(v.unescape().into_owned()),
                "owner_name" => oname = Some(v.unescape().into_owned()),
                _ => {}
            }
        }
        let (kind, oname) = (kind?, oname?);
        // KSM writes `<none>` for an object without owners.
        (kind != "<none>" && !kind.is_empty() && !oname.is_empty()).then_some((kind, oname))
    })
}

/// The page of `resource` `namespace`/`name`, or `None` if the exporter does not hold it.
pub fn detail(
    snap: &Snapshot,
    resource: &str,
    namespace: &str,
    name: &str,
) -> Option<ObjectDetail> {
    let (store, uid, o) = snap.find(resource, namespace, name)?;
    let ident = o.identity();
    let mut families = Vec::new();
    let mut series = 0;
    for (i, f) in store.families.iter().enumerate() {
        let rows: Vec<_> = o
            .family(i)
            .filter_map(|r| {
                let labels = Labels::new(r)
                    .map(|(k, v)| (k.to_string(), v.unescape().into_owned()))
                    .collect();
                lines::value(r).map(|v| (labels, v))
            })
            .collect();
        if rows.is_empty() {
            continue;
        }
        series += rows.len();
        families.push(FamilySeries {
            name: f.name.clone(),
            help: f.help.clone(),
            ty: f.ty.as_str().to_string(),
            series: rows,
        });
    }
    let mut owners: Vec<Owner> = Vec::new();
    let (mut r, mut n) = (resource.to_string(), name.to_string());
    while owners.len() < 8 {
        let Some((kind, oname)) = owner_of(snap, &r, namespace, &n) else {
            break;
        };
        let res = kind_resource(&kind);
        let found =
            snap.find(&res, namespace, &oname).is_some() || snap.find(&res, "", &oname).is_some();
        if owners.iter().any(|o| o.resource == res && o.name == oname) {
            break;
        }
        owners.push(Owner {
            kind,
            name: oname.clone(),
            resource: res.clone(),
            namespace: namespace.to_string(),
            found,
        });
        if !found {
            break;
        }
        (r, n) = (res, oname);
    }
    let id = Identity::of(ident);
    Some(ObjectDetail {
        resource: resource.to_string(),
        namespace: id
            .namespace
            .map(|v| v.unescape().into_owned())
            .unwrap_or_default(),
        name: name.to_string(),
        uid: uid.to_string(),
        identity: Labels::new(ident)
            .map(|(k, v)| (k.to_string(), v.unescape().into_owned()))
            .collect(),
        series,
        families,
        owners,
    })
}

/// Objects of `resource` whose `namespace/name` contains `needle` (case-insensitive), sorted,
/// at most `limit`; and how many matched in all.
pub fn search(
    snap: &Snapshot,
    resource: &str,
    needle: &str,
    limit: usize,
) -> (Vec<(String, String)>, usize) {
    let needle = needle.to_lowercase();
    let mut out = Vec::new();
    let mut total = 0;
    for s in snap.resource(resource) {
        for (_, o) in s.view.objects() {
            let id = Identity::of(o.identity());
            let ns = id
                .namespace
                .map(|v| v.unescape().into_owned())
                .unwrap_or_default();
            let name = id
                .name
                .map(|v| v.unescape().into_owned())
                .unwrap_or_default();
            let hay = format!("{ns}/{name}").to_lowercase();
            if hay.contains(&needle) {
                total += 1;
                out.push((ns, name));
            }
        }
    }
    out.sort();
    out.truncate(limit);
    (out, total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing;

    #[test]
    fn an_object_with_its_series_and_owner_chain() {
        let w = testing::small();
        let snap = w.snapshot();
        let d = detail(&snap, "pods", "a", "web-2").expect("pod");
        assert_eq!(d.series, 12);
        assert_eq!(d.uid, "uid-a-web-2");
        assert_eq!(d.families.len(), 6);
        assert_eq!(d.families[0].name, "kube_pod_info");
        assert_eq!(
            d.families[0].series,
            vec![(
                vec![
                    ("node".to_string(), "n1".to_string()),
                    ("host_ip".to_string(), "10.0.0.1".to_string())
                ],
                1.0
            )]
        );
        let chain: Vec<_> = d
            .owners
            .iter()
            .map(|o| {
                (
                    o.kind.as_str(),
                    o.name.as_str(),
                    o.resource.as_str(),
                    o.found,
                )
            })
            .collect();
        assert_eq!(
            chain,
            vec![
                ("ReplicaSet", "web-rs", "replicasets", true),
                ("Deployment", "web", "deployments", true)
            ]
        );
        // No owner: `<none>` is not a link.
        assert!(detail(&snap, "pods", "b", "db-0")
            .unwrap()
            .owners
            .is_empty());
        assert!(detail(&snap, "pods", "b", "say \"hi\"").is_some());
        assert!(detail(&snap, "pods", "a", "db-0").is_none());
        assert_eq!(detail(&snap, "nodes", "", "n2").unwrap().namespace, "");
        let (found, total) = search(&snap, "pods", "WEB", 1);
        assert_eq!((found, total), (vec![("a".into(), "web-1".into())], 2));
        assert_eq!(kind_resource("ReplicaSet"), "replicasets");
        assert_eq!(kind_resource("Ingress"), "ingresses");
        assert_eq!(kind_resource("NetworkPolicy"), "networkpolicies");
    }
}
