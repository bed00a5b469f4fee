//! The API server the exporters run against: the simulator in this process, or a real
//! cluster from a kubeconfig, and what a complete `/metrics` must contain for it.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use serde_json::Value;

use crate::httpc;

/// One resource of the world and the family that has exactly one sample per object.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Expect {
    /// Plural resource name (`pods`).
    pub resource: String,
    /// The counted family (`kube_pod_created`).
    pub family: String,
    /// How many samples of it a complete body holds.
    pub count: usize,
}

/// Whether an object emits a sample of the counted family.
type Emits = fn(&Value) -> bool;

/// The family counted for `resource`, and whether an object emits it.
fn counting_family(resource: &str) -> Option<(String, Emits)> {
    let r = kubestate_families::resource(resource)?;
    let kind = r.kind().to_ascii_lowercase();
    let kind = match kind.as_str() {
        // KSM names the Endpoints family `kube_endpoint_*`.
        "endpoints" => "endpoint".to_string(),
        _ => kind,
    };
    let has_created: Emits = |v| {
        v.pointer("/metadata/creationTimestamp")
            .and_then(Value::as_str)
            .is_some_and(|s| !s.is_empty())
    };
    Some(match resource {
        "leases" => ("kube_lease_renew_time".to_string(), |v| {
            v.pointer("/spec/renewTime")
                .and_then(Value::as_str)
                .is_some_and(|s| !s.is_empty())
        }),
        "networkpolicies" => ("kube_networkpolicy_created".to_string(), |_| true),
        _ => (format!("kube_{kind}_created"), has_created),
    })
}

/// Whether the exporters watch `resource` with no `--resources` flag.
fn default_enabled(resource: &str) -> bool {
    kubestate_families::resource(resource).is_some_and(|r| r.default_enabled())
}

fn expectations<'a>(objects: impl Iterator<Item = (&'a str, Value)>) -> Vec<Expect> {
    let mut by: BTreeMap<String, Expect> = BTreeMap::new();
    for (resource, v) in objects {
        if !default_enabled(resource) {
            continue;
        }
        let Some((family, emits)) = counting_family(resource) else {
            continue;
        };
        let e = by.entry(resource.to_string()).or_insert_with(|| Expect {
            resource: resource.to_string(),
            family,
            count: 0,
        });
        if emits(&v) {
            e.count += 1;
        }
    }
    by.into_values().filter(|e| e.count > 0).collect()
}

/// A running simulator in this process, on its own runtime.
pub struct SimWorld {
    runtime: tokio::runtime::Runtime,
    handle: Option<kubestate_sim::SimHandle>,
    kubeconfig: PathBuf,
    /// Objects in the world.
    pub objects: usize,
    /// What a complete body holds.
    pub expect: Vec<Expect>,
}

impl SimWorld {
    /// Synthesizes `preset` (seed 1) and serves it on a free loopback port.
    pub fn start(preset: &str, dir: &Path, tag: &str) -> anyhow::Result<SimWorld> {
        let spec = kubestate_sim::SynthSpec::preset(preset).with_context(|| {
            format!("unknown preset {preset:?}: use small, medium, large or xl")
        })?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("sim")
            .enable_all()
            .build()
            .context("starting the simulator's runtime")?;
        let handle = runtime
            .block_on(kubestate_sim::Sim::start(kubestate_sim::SimConfig {
                port: 0,
                world: kubestate_sim::WorldSource::Synthesize(spec),
                ..kubestate_sim::SimConfig::default()
            }))
            .context("starting the simulator")?;
        let kubeconfig = dir.join(format!("sim-{tag}.kubeconfig"));
        handle
            .write_kubeconfig(&kubeconfig)
            .with_context(|| format!("writing {}", kubeconfig.display()))?;
        let snap = handle.snapshot();
        let objects = snap.objects.len();
        let expect = expectations(
            snap.objects
                .iter()
                .map(|o| (o.resource.as_str(), o.value())),
        );
        Ok(SimWorld {
            runtime,
            handle: Some(handle),
            kubeconfig,
            objects,
            expect,
        })
    }

    fn handle(&self) -> anyhow::Result<&kubestate_sim::SimHandle> {
        self.handle.as_ref().context("the simulator was stopped")
    }

    /// The kubeconfig the exporters get.
    pub fn kubeconfig(&self) -> &Path {
        &self.kubeconfig
    }

    /// The simulator's address.
    pub fn addr(&self) -> anyhow::Result<SocketAddr> {
        Ok(self.handle()?.addr())
    }

    /// The world's resourceVersion (one watch event per increment).
    pub fn resource_version(&self) -> anyhow::Result<u64> {
        Ok(self.handle()?.resource_version())
    }

    /// Makes `n` churn changes now.
    pub fn churn(&self, n: usize) -> anyhow::Result<usize> {
        Ok(self.handle()?.churn_steps(n))
    }

    /// Adds a namespace named `name`.
    pub fn add_namespace(&self, name: &str) -> anyhow::Result<()> {
        self.handle()?
            .apply(serde_json::json!({
                "apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": name, "labels": {"bench": "marker"}}
            }))
            .map_err(|e| anyhow::anyhow!("adding namespace {name}: {e}"))?;
        Ok(())
    }

    /// Deletes the namespace `name`.
    pub fn delete_namespace(&self, name: &str) -> anyhow::Result<()> {
        self.handle()?
            .delete("namespaces", "", name)
            .map_err(|e| anyhow::anyhow!("deleting namespace {name}: {e}"))?;
        Ok(())
    }

    /// Resource responses (get, list, watch) the simulator has answered so far, as
    /// `(protobuf, json)`.
    pub fn served(&self) -> anyhow::Result<(u64, u64)> {
        let st = self.handle()?.stats();
        Ok((st.protobuf_responses, st.json_responses))
    }

    /// What the simulator answers to the `Accept` header each exporter sends on LIST.
    pub fn content_types(&self) -> anyhow::Result<ContentTypes> {
        let addr = self.addr()?;
        let ask = |accept: &str| -> anyhow::Result<String> {
            let r = httpc::Conn::new(addr, Duration::from_secs(10)).get_accept(
                "/api/v1/namespaces?limit=1",
                accept,
                false,
            )?;
            Ok(r.content_type)
        };
        Ok(ContentTypes {
            kubestate_accept: KUBESTATE_ACCEPT.to_string(),
            kubestate_got: ask(KUBESTATE_ACCEPT)?,
            ksm_accept: KSM_ACCEPT.to_string(),
            ksm_got: ask(KSM_ACCEPT)?,
        })
    }

    /// Every object of the world now, as served.
    pub fn snapshot_values(&self) -> anyhow::Result<Vec<Value>> {
        Ok(self
            .handle()?
            .snapshot()
            .objects
            .iter()
            .map(|o| o.value())
            .collect())
    }

    /// Stops the simulator.
    pub fn stop(mut self) {
        if let Some(h) = self.handle.take() {
            self.runtime.block_on(h.shutdown());
        }
        let _ = std::fs::remove_file(&self.kubeconfig);
    }
}

/// What kubestate asks for on LIST and WATCH of built-in kinds (its default
/// `--api-content-type=protobuf`).
pub const KUBESTATE_ACCEPT: &str = "application/vnd.kubernetes.protobuf, application/json";
/// What KSM v2.20's client-go asks for (ksm-behaviour.md §6.1).
pub const KSM_ACCEPT: &str = "application/vnd.kubernetes.protobuf,application/json";

/// The content types the exporters asked for and got.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ContentTypes {
    /// kubestate's `Accept`.
    pub kubestate_accept: String,
    /// The `Content-Type` the server answered it with.
    pub kubestate_got: String,
    /// KSM's `Accept`.
    pub ksm_accept: String,
    /// The `Content-Type` the server answered it with.
    pub ksm_got: String,
}

/// Counts what a complete body holds on a real API server: pages through a LIST of every
/// default resource with the kubeconfig's credentials.
pub fn real_expectations(kubeconfig: &Path) -> anyhow::Result<Vec<Expect>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting a runtime")?;
    runtime.block_on(async {
        let kc = kube::config::Kubeconfig::read_from(kubeconfig)
            .with_context(|| format!("reading {}", kubeconfig.display()))?;
        let cfg =
            kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
                .await
                .with_context(|| format!("using {}", kubeconfig.display()))?;
        let client = kube::Client::try_from(cfg).context("building the client")?;
        let mut all: Vec<(String, Value)> = Vec::new();
        for r in kubestate_families::resources() {
            if !r.default_enabled() {
                continue;
            }
            let api = r.api();
            let base = if api.group.is_empty() {
                format!("/api/{}/{}", api.version, r.name())
            } else {
                format!("/apis/{}/{}/{}", api.group, api.version, r.name())
            };
            let mut cont = String::new();
            loop {
                let url = if cont.is_empty() {
                    format!("{base}?limit=500")
                } else {
                    format!("{base}?limit=500&continue={}", percent_encode(&cont))
                };
                let req = http::Request::get(&url)
                    .body(Vec::new())
                    .context("building a request")?;
                let text = match client.request_text(req).await {
                    Ok(t) => t,
                    // Not served by this cluster (e.g. an alpha API): nothing to expect.
                    Err(kube::Error::Api(s)) if s.code == 404 => break,
                    Err(e) => return Err(anyhow::Error::new(e).context(format!("GET {url}"))),
                };
                let v: Value =
                    serde_json::from_str(&text).with_context(|| format!("GET {url}: not JSON"))?;
                if let Some(items) = v.get("items").and_then(Value::as_array) {
                    for it in items {
                        all.push((r.name().to_string(), it.clone()));
                    }
                }
                cont = v
                    .pointer("/metadata/continue")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                if cont.is_empty() {
                    break;
                }
            }
        }
        Ok(expectations(
            all.iter().map(|(r, v)| (r.as_str(), v.clone())),
        ))
    })
}

/// Percent-encodes everything but unreserved characters (for continue tokens).
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continue_tokens_are_encoded() {
        assert_eq!(percent_encode("eyJ2Ijo=+/x"), "eyJ2Ijo%3D%2B%2Fx");
    }

    #[test]
    fn counting_families_exist_for_every_default_resource() {
        for r in kubestate_families::resources() {
            if !r.default_enabled() {
                continue;
            }
            let (family, _) = counting_family(r.name()).expect("a counting family");
            assert!(
                r.families().iter().any(|f| f.desc.name == family),
                "{} has no family {family}",
                r.name()
            );
        }
    }
}
