//! Automatic sharding (KSM's `--pod`/`--pod-namespace`, ksm-behaviour.md §6.4): the shard is
//! this pod's ordinal in the StatefulSet that controls it, the number of shards its replica
//! count; a change of the replica count re-shards the running engine.

use kube::Client;
use serde::Deserialize;
use tokio::sync::watch;
use tracing::{info, warn};

use std::sync::Arc;

use parking_lot::Mutex;

use crate::{Live, Sharding};

/// Why the shard could not be worked out.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AutoshardError {
    /// The API server could not be asked.
    #[error(
        "reading {what} from the API server: {}",
        kubestate_watch::readable(source)
    )]
    Request {
        /// What was requested.
        what: String,
        /// Why it failed (shown as a one-line message, never kube's debug dump).
        source: kube::Error,
    },
    /// The pod or namespace name cannot be part of a request path.
    #[error("cannot request {path:?}: {message}")]
    BadName {
        /// The path.
        path: String,
        /// Why.
        message: String,
    },
    /// The pod is not controlled by an `apps/v1` StatefulSet.
    #[error("pod {namespace}/{pod} is not controlled by an apps/v1 StatefulSet; automatic sharding needs one (or use --shard/--total-shards)")]
    NotInStatefulSet {
        /// Namespace.
        namespace: String,
        /// Pod name.
        pod: String,
    },
    /// The pod name does not end in an ordinal after the StatefulSet's name.
    #[error("pod name {pod:?} is not {statefulset:?} followed by '-' and an ordinal")]
    NoOrdinal {
        /// Pod name.
        pod: String,
        /// StatefulSet name.
        statefulset: String,
    },
    /// The ordinal is not below the replica count.
    #[error("pod ordinal {ordinal} is not below the StatefulSet's {replicas} replicas")]
    OrdinalOutOfRange {
        /// The pod's ordinal.
        ordinal: u32,
        /// The replica count.
        replicas: u32,
    },
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Object {
    metadata: Meta,
    spec: Spec,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Meta {
    owner_references: Vec<Owner>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Owner {
    api_version: String,
    kind: String,
    name: String,
    controller: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Spec {
    replicas: Option<u32>,
}

/// The shard of pod `pod` in StatefulSet `statefulset` with `replicas` replicas (KSM treats
/// an unset replica count as 1).
///
/// # Errors
/// The pod name carries no ordinal, or the ordinal is out of range.
pub fn sharding_for(
    pod: &str,
    statefulset: &str,
    replicas: Option<u32>,
) -> Result<Sharding, AutoshardError> {
    let no_ordinal = || AutoshardError::NoOrdinal {
        pod: pod.to_string(),
        statefulset: statefulset.to_string(),
    };
    let ordinal: u32 = pod
        .strip_prefix(statefulset)
        .and_then(|rest| rest.strip_prefix('-'))
        .ok_or_else(no_ordinal)?
        .parse()
        .map_err(|_| no_ordinal())?;
    let total = replicas.unwrap_or(1).max(1);
    if ordinal >= total {
        return Err(AutoshardError::OrdinalOutOfRange {
            ordinal,
            replicas: total,
        });
    }
    Ok(Sharding {
        shard: ordinal,
        total,
    })
}

async fn get(client: &Client, path: String) -> Result<Object, AutoshardError> {
    let req = http::Request::get(&path)
        .body(Vec::new())
        .map_err(|e| AutoshardError::BadName {
            path: path.clone(),
            message: e.to_string(),
        })?;
    client
        .request::<Object>(req)
        .await
        .map_err(|source| AutoshardError::Request { what: path, source })
}

/// Finds the StatefulSet controlling `namespace/pod` and this pod's shard in it.
///
/// # Errors
/// The pod or StatefulSet cannot be read, or they do not describe a shard.
pub async fn discover(
    client: &Client,
    namespace: &str,
    pod: &str,
) -> Result<(Sharding, String), AutoshardError> {
    let p = get(client, format!("/api/v1/namespaces/{namespace}/pods/{pod}")).await?;
    let owner = p
        .metadata
        .owner_references
        .iter()
        .find(|o| o.controller == Some(true))
        .filter(|o| o.api_version == "apps/v1" && o.kind == "StatefulSet")
        .ok_or_else(|| AutoshardError::NotInStatefulSet {
            namespace: namespace.to_string(),
            pod: pod.to_string(),
        })?;
    let sts = get(
        client,
        format!(
            "/apis/apps/v1/namespaces/{namespace}/statefulsets/{}",
            owner.name
        ),
    )
    .await?;
    let sharding = sharding_for(pod, &owner.name, sts.spec.replicas)?;
    Ok((sharding, owner.name.clone()))
}

/// Passes the replica count of each StatefulSet event on.
struct Replicas(watch::Sender<Option<u32>>);

impl kubestate_watch::Handler for Replicas {
    fn event(&mut self, ev: kubestate_watch::Event<'_>) {
        if let kubestate_watch::Event::Listed(o) | kubestate_watch::Event::Applied(o) = ev {
            // The StatefulSet is watched with JSON only (the default options).
            if let Ok(obj) = serde_json::from_slice::<Object>(o.bytes) {
                let r = obj.spec.replicas;
                self.0
                    .send_if_modified(|cur| std::mem::replace(cur, r) != r);
            }
        }
    }
}

/// Starts `live`'s watches (unless running) and re-shards them whenever the StatefulSet's
/// replica count changes, until the returned task is aborted (which stops the watches too).
/// `live` stays shared, so a configuration reload can change the stores meanwhile.
pub fn supervise(
    client: Client,
    live: Arc<Mutex<Live>>,
    namespace: String,
    pod: String,
    statefulset: String,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        {
            let mut l = live.lock();
            if l.running.is_none() {
                l.running = Some(l.engine.spawn(client.clone()));
            }
        }
        let _stop_watches = StopOnDrop(live.clone());
        let (tx, mut rx) = watch::channel(None);
        let target = kubestate_watch::Target {
            group: "apps".into(),
            version: "v1".into(),
            plural: "statefulsets".into(),
            namespace: Some(namespace.clone()),
            field_selector: Some(format!("metadata.name={statefulset}")),
            label_selector: None,
        };
        let watcher_client = client.clone();
        let _stop_watcher = AbortOnDrop(tokio::spawn(async move {
            let opts = kubestate_watch::Options::default();
            kubestate_watch::run(&watcher_client, &target, &opts, &mut Replicas(tx)).await;
        }));
        while rx.changed().await.is_ok() {
            let replicas = *rx.borrow_and_update();
            let mut l = live.lock();
            let current = l.engine.config().sharding;
            match sharding_for(&pod, &statefulset, replicas) {
                Ok(s) if s != current => {
                    info!(
                        shard = s.shard,
                        total = s.total,
                        previous_total = current.total,
                        "StatefulSet scaled: re-sharding"
                    );
                    l.running = None;
                    l.engine.set_sharding(s);
                    l.running = Some(l.engine.spawn(client.clone()));
                }
                Ok(_) => {}
                Err(e) => warn!(error = %e, "keeping the current shard"),
            }
        }
    })
}

/// Stops the watches of a [`Live`] engine when dropped.
struct StopOnDrop(Arc<Mutex<Live>>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.lock().running = None;
    }
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinals_and_replicas() {
        assert_eq!(
            sharding_for("ksm-2", "ksm", Some(3)).unwrap(),
            Sharding { shard: 2, total: 3 }
        );
        assert_eq!(
            sharding_for("ksm-0", "ksm", None).unwrap(),
            Sharding { shard: 0, total: 1 }
        );
        assert!(matches!(
            sharding_for("ksm-3", "ksm", Some(3)),
            Err(AutoshardError::OrdinalOutOfRange { .. })
        ));
        assert!(matches!(
            sharding_for("other-1", "ksm", Some(3)),
            Err(AutoshardError::NoOrdinal { .. })
        ));
        assert!(matches!(
            sharding_for("ksm-x", "ksm", Some(3)),
            Err(AutoshardError::NoOrdinal { .. })
        ));
        assert!(matches!(
            sharding_for("ksm1", "ksm", Some(3)),
            Err(AutoshardError::NoOrdinal { .. })
        ));
    }
}
