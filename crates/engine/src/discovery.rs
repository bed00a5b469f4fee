//! API discovery: which of the planned resources the API server serves, asked at startup and
//! then periodically, so stores of unserved kinds make no requests (and do not hold readiness)
//! until their API appears.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;
use std::time::Duration;

use http::Request;
use http_body_util::BodyExt;
use parking_lot::Mutex;
use serde::Deserialize;
use tokio::sync::watch;
use tracing::{debug, info};

use crate::telemetry::{StoreStats, SyncState, Telemetry};

/// A group and version (`("", "v1")`, `("apps", "v1")`).
type GroupVersion = (String, String);

/// What discovery says about one group-version.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Listing {
    /// The resources served there (sub-resources left out).
    Served(BTreeSet<String>),
    /// The group-version is not served at all (404).
    Absent,
    /// Discovery failed (403, 5xx, timeout): assume served and let list/watch find out.
    Unknown,
}

/// The latest discovery round, `None` before the first one completed.
type Snapshot = Option<Arc<BTreeMap<GroupVersion, Listing>>>;

/// Shared by the stores' tasks: the latest discovery and who was already told.
pub(crate) struct Discovery {
    rx: watch::Receiver<Snapshot>,
    interval: Duration,
    /// Resources whose "not served" line was logged (one line per resource).
    logged: Mutex<HashSet<String>>,
}

/// Whether a resource can be listed, per the latest discovery round.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verdict {
    Pending,
    Served,
    NotServed,
}

impl Discovery {
    /// Starts the discovery task for `group_versions`; the task ends with the returned handle.
    pub(crate) fn start(
        client: kube::Client,
        group_versions: BTreeSet<GroupVersion>,
        interval: Duration,
    ) -> (Arc<Discovery>, tokio::task::JoinHandle<()>) {
        let (tx, rx) = watch::channel(None);
        let task = tokio::spawn(async move {
            loop {
                let listings =
                    futures::future::join_all(group_versions.iter().map(|gv| fetch(&client, gv)))
                        .await;
                let round: BTreeMap<GroupVersion, Listing> =
                    group_versions.iter().cloned().zip(listings).collect();
                let changed = tx.borrow().as_deref() != Some(&round);
                if changed {
                    tx.send_replace(Some(Arc::new(round)));
                }
                tokio::time::sleep(interval).await;
            }
        });
        let d = Arc::new(Discovery {
            rx,
            interval,
            logged: Mutex::default(),
        });
        (d, task)
    }

    fn verdict(snapshot: &Snapshot, group: &str, version: &str, plural: &str) -> Verdict {
        let Some(s) = snapshot else {
            return Verdict::Pending;
        };
        match s.get(&(group.to_string(), version.to_string())) {
            Some(Listing::Served(set)) if !set.contains(plural) => Verdict::NotServed,
            Some(Listing::Absent) => Verdict::NotServed,
            _ => Verdict::Served,
        }
    }

    /// Returns once discovery lists `plural` in `group/version` (or cannot tell); meanwhile
    /// the store is [`SyncState::NotServed`] and one line says so.
    pub(crate) async fn wait_served(
        &self,
        group: &str,
        version: &str,
        plural: &str,
        stats: &StoreStats,
        telemetry: &Telemetry,
    ) {
        let mut rx = self.rx.clone();
        let mut waited = false;
        loop {
            let verdict = Discovery::verdict(&rx.borrow_and_update(), group, version, plural);
            match verdict {
                Verdict::Served => {
                    if waited {
                        info!(resource = %plural, "the API server now serves this resource; starting list/watch");
                    }
                    return;
                }
                Verdict::NotServed => {
                    if !waited && self.logged.lock().insert(plural.to_string()) {
                        let gv = if group.is_empty() {
                            version.to_string()
                        } else {
                            format!("{group}/{version}")
                        };
                        info!(
                            resource = %plural,
                            "skipping resource \"{plural}\": API discovery shows the API server does not serve it in {gv}; checking again every {:?}",
                            self.interval
                        );
                    }
                    waited = true;
                    if stats.set_state(SyncState::NotServed) {
                        telemetry.notify_synced();
                    }
                }
                Verdict::Pending => {}
            }
            if rx.changed().await.is_err() {
                return;
            }
        }
    }
}

#[derive(Deserialize)]
struct ResourceList {
    #[serde(default)]
    resources: Vec<ResourceEntry>,
}

#[derive(Deserialize)]
struct ResourceEntry {
    name: String,
}

/// One discovery document (`/api/v1`, `/apis/<group>/<version>`).
async fn fetch(client: &kube::Client, (group, version): &GroupVersion) -> Listing {
    let path = if group.is_empty() {
        format!("/api/{version}")
    } else {
        format!("/apis/{group}/{version}")
    };
    let Ok(req) = Request::get(&path)
        .header(http::header::ACCEPT, "application/json")
        .body(kube::client::Body::empty())
    else {
        return Listing::Unknown;
    };
    let resp = match tokio::time::timeout(Duration::from_secs(15), client.send(req)).await {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => {
            debug!(%path, error = %kubestate_watch::readable(&e), "API discovery failed");
            return Listing::Unknown;
        }
        Err(_) => {
            debug!(%path, "API discovery timed out");
            return Listing::Unknown;
        }
    };
    let status = resp.status();
    if status == http::StatusCode::NOT_FOUND {
        return Listing::Absent;
    }
    if !status.is_success() {
        debug!(%path, %status, "API discovery failed");
        return Listing::Unknown;
    }
    let body = match tokio::time::timeout(Duration::from_secs(15), resp.into_body().collect()).await
    {
        Ok(Ok(b)) => b.to_bytes(),
        _ => return Listing::Unknown,
    };
    match serde_json::from_slice::<ResourceList>(&body) {
        Ok(list) => Listing::Served(
            list.resources
                .into_iter()
                .map(|r| r.name)
                .filter(|n| !n.contains('/'))
                .collect(),
        ),
        Err(e) => {
            debug!(%path, error = %e, "API discovery answered an unreadable document");
            Listing::Unknown
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts() {
        let mut m = BTreeMap::new();
        m.insert(
            ("".to_string(), "v1".to_string()),
            Listing::Served(["pods".to_string()].into()),
        );
        m.insert(("batch".to_string(), "v1".to_string()), Listing::Absent);
        m.insert(("apps".to_string(), "v1".to_string()), Listing::Unknown);
        let s: Snapshot = Some(Arc::new(m));
        assert_eq!(
            Discovery::verdict(&None, "", "v1", "pods"),
            Verdict::Pending
        );
        assert_eq!(Discovery::verdict(&s, "", "v1", "pods"), Verdict::Served);
        assert_eq!(
            Discovery::verdict(&s, "", "v1", "nodes"),
            Verdict::NotServed
        );
        assert_eq!(
            Discovery::verdict(&s, "batch", "v1", "jobs"),
            Verdict::NotServed
        );
        assert_eq!(
            Discovery::verdict(&s, "apps", "v1", "deployments"),
            Verdict::Served
        );
        // A group-version discovery was not asked about: assume served.
        assert_eq!(Discovery::verdict(&s, "x", "v1", "y"), Verdict::Served);
    }
}
