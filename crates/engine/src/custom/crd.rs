//! Discovery: the CRD list/watch handler and the slim decoding of a CRD into its served
//! versions.

use std::collections::BTreeMap;
use std::sync::Arc;

use kubestate_watch::{Event, Handler, RequestKind};
use serde::Deserialize;
use tracing::warn;

use super::resolve::Served;
use super::Shared;

/// The CRD list/watch handler.
pub(super) struct CrdWatch {
    pub(super) shared: Arc<Shared>,
    /// CRDs of a (re)list in progress.
    pub(super) listing: Option<BTreeMap<String, Vec<Served>>>,
    pub(super) failures: u64,
}

impl Handler for CrdWatch {
    fn event(&mut self, ev: Event<'_>) {
        match ev {
            Event::RelistStarted => self.listing = Some(BTreeMap::new()),
            Event::Listed(o) => {
                if let (Some(l), Some((name, served))) = (self.listing.as_mut(), parse_crd(o.bytes))
                {
                    l.insert(name, served);
                }
            }
            Event::RelistDone => {
                let listed = self.listing.take().unwrap_or_default();
                self.shared.replace_crds(listed);
            }
            Event::Applied(o) => {
                if let Some((name, served)) = parse_crd(o.bytes) {
                    self.shared.apply_crd(name, served);
                }
            }
            Event::Deleted(o) => {
                if let Some((name, _)) = parse_crd(o.bytes) {
                    self.shared.delete_crd(&name);
                }
            }
        }
    }

    fn request(&mut self, kind: RequestKind, result: Result<(), &kubestate_watch::Error>) {
        match result {
            Ok(()) => self.failures = 0,
            Err(e) => {
                self.failures += 1;
                // The first failure and then every tenth: discovery retries with backoff.
                if self.failures % 10 == 1 {
                    warn!(error = %e, ?kind, failures = self.failures, "custom resource state: CRD list/watch failed (needs list/watch on customresourcedefinitions.apiextensions.k8s.io)");
                }
            }
        }
    }

    fn retrying(&mut self, e: &kubestate_watch::Error, _delay: std::time::Duration) {
        // The readiness policy: a 403/404 will not go away soon, so readiness stops waiting
        // for the first CRD list (it is still retried, and its stores start when it works).
        if e.is_forbidden() || e.is_not_found() {
            self.shared.state.lock().startup.take();
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct CrdObject {
    metadata: CrdMeta,
    spec: Option<CrdSpec>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct CrdMeta {
    name: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct CrdSpec {
    group: Option<String>,
    names: Option<CrdNames>,
    scope: String,
    versions: Option<Vec<CrdVersion>>,
}

/// One entry of `spec.versions`; its schema is skipped unread.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct CrdVersion {
    name: Option<serde_json::Value>,
    served: Option<serde_json::Value>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct CrdNames {
    kind: Option<String>,
    plural: Option<String>,
}

/// A CRD's name and served versions (none when the object lacks what is needed, as KSM
/// skips such CRDs). `None` only when it is not an object at all.
pub(super) fn parse_crd(json: &[u8]) -> Option<(String, Vec<Served>)> {
    let crd: CrdObject = match serde_json::from_slice(json) {
        Ok(c) => c,
        Err(e) => {
            warn!(error = %e, "custom resource state: skipping an undecodable CRD");
            return None;
        }
    };
    let name = crd.metadata.name;
    let usable = crd.spec.and_then(|spec| {
        let group = spec.group?;
        let names = spec.names?;
        Some((
            group,
            names.kind?,
            names.plural?,
            spec.versions?,
            spec.scope != "Cluster",
        ))
    });
    let Some((group, kind, plural, versions, namespaced)) = usable else {
        warn!(crd = %name, "custom resource state: CRD lacks spec.group, spec.names or spec.versions; skipped");
        return Some((name, Vec::new()));
    };
    let served = versions
        .iter()
        .filter_map(|v| {
            let version = v.name.as_ref()?.as_str()?;
            // `served` is required; absent counts as served, a non-boolean as not.
            let served = v
                .served
                .as_ref()
                .map_or(Some(true), serde_json::Value::as_bool);
            (served == Some(true)).then(|| Served {
                group: group.clone(),
                version: version.to_string(),
                kind: kind.clone(),
                plural: plural.clone(),
                namespaced,
            })
        })
        .collect();
    Some((name, served))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crds_yield_their_served_versions() {
        let crd = br#"{"metadata":{"name":"widgets.a.io"},"spec":{"group":"a.io","scope":"Cluster",
            "names":{"kind":"Widget","plural":"widgets"},
            "versions":[{"name":"v1","served":true},{"name":"v2","served":false},{"name":"v3"},{"name":"v4","served":"yes"}]}}"#;
        let (name, s) = parse_crd(crd).unwrap();
        assert_eq!(name, "widgets.a.io");
        let versions: Vec<&str> = s.iter().map(|x| x.version.as_str()).collect();
        assert_eq!(versions, vec!["v1", "v3"]);
        assert!(!s[0].namespaced && s[0].plural == "widgets");
        let (_, none) = parse_crd(br#"{"metadata":{"name":"x"},"spec":{"group":"a"}}"#).unwrap();
        assert!(none.is_empty());
        assert!(parse_crd(b"\"text\"").is_none());
        assert!(parse_crd(b"{").is_none());
    }
}
