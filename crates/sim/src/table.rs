//! Server-side printing (`Accept: application/json;as=Table;g=meta.k8s.io;v=v1`), which
//! kubectl asks for: a `meta.k8s.io/v1` `Table` with kubectl's usual columns for pods, nodes,
//! deployments and replicasets and `NAME`/`AGE` for everything else. Only used for
//! human-facing output; it parses objects, so it is not on any benchmark's hot path.

use serde_json::{json, Value};

use crate::kinds::ResourceType;
use crate::object::ObjRef;

/// Whether the client's preferred media type is a Table.
pub(crate) fn wants_table(accept: Option<&str>) -> bool {
    accept
        .and_then(|a| a.split(',').next())
        .is_some_and(|first| {
            first
                .split(';')
                .any(|p| p.trim().eq_ignore_ascii_case("as=Table"))
        })
}

/// kubectl's human-readable duration (`k8s.io/apimachinery/pkg/util/duration`).
pub(crate) fn human_duration(secs: i64) -> String {
    let s = secs.max(0);
    let (m, h, d) = (s / 60, s / 3600, s / 86_400);
    let y = d / 365;
    if s < 120 {
        format!("{s}s")
    } else if m < 10 {
        if s % 60 == 0 {
            format!("{m}m")
        } else {
            format!("{m}m{}s", s % 60)
        }
    } else if m < 180 {
        format!("{m}m")
    } else if h < 8 {
        if m % 60 == 0 {
            format!("{h}h")
        } else {
            format!("{h}h{}m", m % 60)
        }
    } else if h < 48 {
        format!("{h}h")
    } else if h < 192 {
        if h % 24 == 0 {
            format!("{d}d")
        } else {
            format!("{d}d{}h", h % 24)
        }
    } else if y < 2 {
        format!("{d}d")
    } else if y < 8 {
        if d % 365 == 0 {
            format!("{y}y")
        } else {
            format!("{y}y{}d", d % 365)
        }
    } else {
        format!("{y}y")
    }
}

fn age(v: &Value, now: i64) -> String {
    v["metadata"]["creationTimestamp"]
        .as_str()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|t| human_duration(now - t.timestamp()))
        .unwrap_or_else(|| "<unknown>".to_string())
}

fn col(name: &str, ty: &str, priority: u32) -> Value {
    let format = if name == "Name" { "name" } else { "" };
    json!({"name": name, "type": ty, "format": format, "description": name, "priority": priority})
}

/// Column definitions for a kind.
pub(crate) fn columns(kind: &str) -> Value {
    let c = match kind {
        "Pod" => vec![
            col("Name", "string", 0),
            col("Ready", "string", 0),
            col("Status", "string", 0),
            col("Restarts", "string", 0),
            col("Age", "string", 0),
            col("IP", "string", 1),
            col("Node", "string", 1),
        ],
        "Node" => vec![
            col("Name", "string", 0),
            col("Status", "string", 0),
            col("Roles", "string", 0),
            col("Age", "string", 0),
            col("Version", "string", 0),
        ],
        "Deployment" => vec![
            col("Name", "string", 0),
            col("Ready", "string", 0),
            col("Up-to-date", "integer", 0),
            col("Available", "integer", 0),
            col("Age", "string", 0),
        ],
        "ReplicaSet" => vec![
            col("Name", "string", 0),
            col("Desired", "integer", 0),
            col("Current", "integer", 0),
            col("Ready", "integer", 0),
            col("Age", "string", 0),
        ],
        _ => vec![col("Name", "string", 0), col("Age", "string", 0)],
    };
    Value::Array(c)
}

fn int(v: &Value) -> i64 {
    v.as_i64().unwrap_or(0)
}

fn pod_status(v: &Value) -> String {
    if v["metadata"]["deletionTimestamp"].is_string() {
        return "Terminating".into();
    }
    if let Some(r) = v["status"]["reason"].as_str() {
        return r.to_string();
    }
    for c in v["status"]["containerStatuses"]
        .as_array()
        .into_iter()
        .flatten()
    {
        if let Some(r) = c["state"]["waiting"]["reason"].as_str() {
            return r.to_string();
        }
        if let Some(r) = c["state"]["terminated"]["reason"].as_str() {
            if v["status"]["phase"] != "Succeeded" && v["status"]["phase"] != "Failed" {
                return r.to_string();
            }
        }
    }
    v["status"]["phase"]
        .as_str()
        .unwrap_or("Unknown")
        .to_string()
}

/// Cells of one row.
pub(crate) fn cells(kind: &str, v: &Value, now: i64) -> Value {
    let name = v["metadata"]["name"].clone();
    match kind {
        "Pod" => {
            let statuses = v["status"]["containerStatuses"].as_array();
            let total = v["spec"]["containers"].as_array().map_or(0, Vec::len);
            let ready = statuses.map_or(0, |s| s.iter().filter(|c| c["ready"] == true).count());
            let restarts: i64 =
                statuses.map_or(0, |s| s.iter().map(|c| int(&c["restartCount"])).sum());
            let none = || json!("<none>");
            json!([
                name,
                format!("{ready}/{total}"),
                pod_status(v),
                restarts.to_string(),
                age(v, now),
                v["status"]["podIP"]
                    .as_str()
                    .map_or_else(none, |s| json!(s)),
                v["spec"]["nodeName"]
                    .as_str()
                    .map_or_else(none, |s| json!(s))
            ])
        }
        "Node" => {
            let ready = v["status"]["conditions"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|c| c["type"] == "Ready")
                .map(|c| c["status"] == "True")
                .unwrap_or(false);
            let mut status = if ready { "Ready" } else { "NotReady" }.to_string();
            if v["spec"]["unschedulable"] == true {
                status.push_str(",SchedulingDisabled");
            }
            let roles: Vec<&str> = v["metadata"]["labels"]
                .as_object()
                .into_iter()
                .flatten()
                .filter_map(|(k, _)| k.strip_prefix("node-role.kubernetes.io/"))
                .collect();
            let roles = if roles.is_empty() {
                "<none>".to_string()
            } else {
                roles.join(",")
            };
            json!([
                name,
                status,
                roles,
                age(v, now),
                v["status"]["nodeInfo"]["kubeletVersion"]
            ])
        }
        "Deployment" => json!([
            name,
            format!(
                "{}/{}",
                int(&v["status"]["readyReplicas"]),
                int(&v["spec"]["replicas"])
            ),
            int(&v["status"]["updatedReplicas"]),
            int(&v["status"]["availableReplicas"]),
            age(v, now)
        ]),
        "ReplicaSet" => json!([
            name,
            int(&v["spec"]["replicas"]),
            int(&v["status"]["replicas"]),
            int(&v["status"]["readyReplicas"]),
            age(v, now)
        ]),
        _ => json!([name, age(v, now)]),
    }
}

/// One table row for a stored object, with its metadata as `PartialObjectMetadata`.
pub(crate) fn row(kind: &str, o: &ObjRef, now: i64) -> Value {
    let v: Value = serde_json::from_slice(&o.json).unwrap_or(Value::Null);
    json!({
        "cells": cells(kind, &v, now),
        "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                   "metadata": v["metadata"].clone()},
    })
}

/// A Table of objects.
pub(crate) fn table(
    t: &ResourceType,
    items: &[ObjRef],
    rv: Option<u64>,
    cont: Option<&str>,
    remaining: Option<usize>,
    with_columns: bool,
    now: i64,
) -> Value {
    let mut meta = json!({});
    if let Some(rv) = rv {
        meta["resourceVersion"] = json!(rv.to_string());
    }
    if let Some(c) = cont {
        meta["continue"] = json!(c);
    }
    if let Some(r) = remaining {
        meta["remainingItemCount"] = json!(r);
    }
    let columns = if with_columns {
        columns(&t.kind)
    } else {
        json!([])
    };
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": meta,
        "columnDefinitions": columns,
        "rows": items.iter().map(|o| row(&t.kind, o, now)).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_like_kubectl() {
        for (s, want) in [
            (5, "5s"),
            (119, "119s"),
            (150, "2m30s"),
            (600, "10m"),
            (3 * 3600 + 5 * 60, "3h5m"),
            (30 * 3600, "30h"),
            (3 * 86_400 + 7200, "3d2h"),
            (41 * 86_400, "41d"),
            (3 * 365 * 86_400 + 86_400, "3y1d"),
        ] {
            assert_eq!(human_duration(s), want, "{s}");
        }
    }

    #[test]
    fn table_accept_detection() {
        assert!(wants_table(Some(
            "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
        )));
        assert!(!wants_table(Some("application/json")));
        assert!(!wants_table(None));
    }

    #[test]
    fn pod_cells() {
        let v = json!({"metadata": {"name": "p", "creationTimestamp": "2026-01-01T00:00:00Z"},
            "spec": {"containers": [{}, {}], "nodeName": "n1"},
            "status": {"phase": "Running", "podIP": "10.0.0.1", "containerStatuses": [
                {"ready": true, "restartCount": 2, "state": {"running": {}}},
                {"ready": false, "restartCount": 1, "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}});
        let c = cells("Pod", &v, 1_767_225_600 + 90);
        assert_eq!(
            c,
            json!(["p", "1/2", "CrashLoopBackOff", "3", "90s", "10.0.0.1", "n1"])
        );
    }
}
