//! Families of the `nodes` resource.

use kubestate_metric::ObjectMetrics;
use kubestate_metric::Stability::{Alpha, Stable};
use kubestate_objects::node::Node;
use kubestate_objects::{Meta, ResourceList};

use crate::common;
use crate::conditions;
use crate::kind::{Api, Family, Kind, Out};
use crate::quantity;

impl Kind for Node {
    const RESOURCE: &'static str = "nodes";
    const KIND: &'static str = "Node";
    const API: Api = Api::CORE_CLUSTER;
    const FAMILIES: &'static [Family<Self>] = FAMILIES;

    fn meta(&self) -> &Meta {
        &self.metadata
    }

    fn identity(&self, out: &mut ObjectMetrics) {
        out.identity_label("node", &self.metadata.name);
    }
}

/// The label-key prefix that marks a node role.
const ROLE_PREFIX: &str = "node-role.kubernetes.io/";

const FAMILIES: &[Family<Node>] = &[
    Family::gauge(
        "kube_node_annotations",
        Alpha,
        "Node annotations named by the annotations allowlist, as labels.",
        common::annotations::<Node>,
    ),
    Family::gauge(
        "kube_node_created",
        Stable,
        "When the node was created, in Unix seconds.",
        common::created::<Node>,
    ),
    Family::gauge(
        "kube_node_deletion_timestamp",
        Alpha,
        "When deletion of the node was requested, in Unix seconds; only while it is being deleted.",
        common::deletion_timestamp::<Node>,
    ),
    Family::gauge(
        "kube_node_info",
        Stable,
        "Node software versions, provider ID, pod CIDR and internal IP.",
        info,
    ),
    Family::gauge(
        "kube_node_labels",
        Stable,
        "Node labels named by the labels allowlist, as labels.",
        common::labels::<Node>,
    ),
    Family::gauge(
        "kube_node_role",
        Alpha,
        "One series per node-role.kubernetes.io/<role> label of the node.",
        |n, out| {
            for (k, _) in n.metadata.labels.iter() {
                if let Some(role) = k.strip_prefix(ROLE_PREFIX) {
                    out.sample(&[("role", role)], 1.0);
                }
            }
        },
    ),
    Family::gauge(
        "kube_node_spec_pod_cidrs",
        Alpha,
        "One series per pod CIDR assigned to the node.",
        |n, out| {
            for cidr in &n.spec.pod_cidrs {
                out.sample(&[("pod_cidr", cidr)], 1.0);
            }
        },
    ),
    Family::gauge(
        "kube_node_spec_taint",
        Stable,
        "One series per taint of the node.",
        |n, out| {
            for t in &n.spec.taints {
                out.sample(
                    &[("key", &t.key), ("value", &t.value), ("effect", &t.effect)],
                    1.0,
                );
            }
        },
    ),
    Family::gauge(
        "kube_node_spec_unschedulable",
        Stable,
        "1 if the node is cordoned (no new pods are scheduled on it), else 0.",
        |n, out| out.sample(&[], if n.spec.unschedulable { 1.0 } else { 0.0 }),
    ),
    Family::gauge(
        "kube_node_status_allocatable",
        Stable,
        "Resources of the node available to pods, per resource and unit.",
        |n, out| resources(&n.status.allocatable, out),
    ),
    Family::gauge(
        "kube_node_status_capacity",
        Stable,
        "Total resources of the node, per resource and unit.",
        |n, out| resources(&n.status.capacity, out),
    ),
    Family::gauge(
        "kube_node_status_condition",
        Stable,
        "Node conditions: one series per condition and possible status, 1 on the current one.",
        |n, out| {
            for c in &n.status.conditions {
                conditions::triple(out, &[("condition", &c.type_)], "status", &c.status);
            }
        },
    ),
    Family::gauge(
        "kube_node_status_addresses",
        Alpha,
        "One series per address reported for the node.",
        |n, out| {
            for a in &n.status.addresses {
                out.sample(&[("type", &a.type_), ("address", &a.address)], 1.0);
            }
        },
    ),
];

fn info(n: &Node, out: &mut Out<'_>) {
    let ni = &n.status.node_info;
    // The last InternalIP wins.
    let internal_ip = n
        .status
        .addresses
        .iter()
        .rev()
        .find(|a| &*a.type_ == "InternalIP")
        .map_or("", |a| &a.address);
    out.sample(
        &[
            ("kernel_version", &ni.kernel_version),
            ("os_image", &ni.os_image),
            ("container_runtime_version", &ni.container_runtime_version),
            ("kubelet_version", &ni.kubelet_version),
            ("kubeproxy_version", "deprecated"),
            ("provider_id", &n.spec.provider_id),
            ("pod_cidr", &n.spec.pod_cidr),
            ("system_uuid", &ni.system_uuid),
            ("internal_ip", internal_ip),
        ],
        1.0,
    );
}

/// Capacity/allocatable: one sample per resource KSM knows a unit for.
fn resources(list: &ResourceList, out: &mut Out<'_>) {
    for (name, q) in list.iter() {
        if let Some(unit) = quantity::node_unit(name) {
            out.sample(
                &[
                    ("resource", &quantity::resource_label(name)),
                    ("unit", unit.as_str()),
                ],
                quantity::milli_float(q),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::render_family;

    const NODE: &str = r#"{"metadata":{"name":"n1","uid":"u","creationTimestamp":"2026-11-21T05:24:34Z",
        "labels":{"node-role.kubernetes.io/control-plane":"","node-role.kubernetes.io/gpu":"x","zone":"a"}},
        "spec":{"podCIDR":"10.0.0.0/24","podCIDRs":["10.0.0.0/24","fd00::/64"],"providerID":"aws:///i-1",
          "unschedulable":true,"taints":[{"key":"k","value":"v","effect":"NoSchedule"},{"key":"d","effect":"NoExecute"}]},
        "status":{"capacity":{"cpu":"4","memory":"16374584Ki","pods":"110","nvidia.com/gpu":"8","hugepages-2Mi":"0",
            "attachable-volumes-aws-ebs":"39","foo":"1","kubernetes.io/bar":"2","ephemeral-storage":"7586630231654400m"},
          "allocatable":{"cpu":"3920m"},
          "conditions":[{"type":"Ready","status":"True","lastProbeTime":null},{"type":"KernelDeadlock","status":"Unknown"}],
          "addresses":[{"type":"InternalIP","address":"10.0.0.1"},{"type":"Hostname","address":"n1"},{"type":"InternalIP","address":"10.0.0.2"}],
          "nodeInfo":{"kernelVersion":"6.1","osImage":"Debian \"12\"","containerRuntimeVersion":"containerd://1.7",
            "kubeletVersion":"v1.36.2","kubeProxyVersion":"v1.30.0","systemUUID":"abc"}}}"#;

    #[test]
    fn info_uses_last_internal_ip_and_constant_proxy_version() {
        assert_eq!(
            render_family("nodes", NODE, "kube_node_info"),
            "kube_node_info{node=\"n1\",kernel_version=\"6.1\",os_image=\"Debian \\\"12\\\"\",\
             container_runtime_version=\"containerd://1.7\",kubelet_version=\"v1.36.2\",\
             kubeproxy_version=\"deprecated\",provider_id=\"aws:///i-1\",pod_cidr=\"10.0.0.0/24\",\
             system_uuid=\"abc\",internal_ip=\"10.0.0.2\"} 1\n"
        );
        assert_eq!(
            render_family("nodes", r#"{"metadata":{"name":"bare"}}"#, "kube_node_info"),
            "kube_node_info{node=\"bare\",kernel_version=\"\",os_image=\"\",container_runtime_version=\"\",\
             kubelet_version=\"\",kubeproxy_version=\"deprecated\",provider_id=\"\",pod_cidr=\"\",\
             system_uuid=\"\",internal_ip=\"\"} 1\n"
        );
    }

    #[test]
    fn capacity_units_and_dropped_names() {
        assert_eq!(
            render_family("nodes", NODE, "kube_node_status_capacity"),
            "kube_node_status_capacity{node=\"n1\",resource=\"attachable_volumes_aws_ebs\",unit=\"byte\"} 39\n\
             kube_node_status_capacity{node=\"n1\",resource=\"cpu\",unit=\"core\"} 4\n\
             kube_node_status_capacity{node=\"n1\",resource=\"ephemeral_storage\",unit=\"byte\"} 7.5866302316544e+12\n\
             kube_node_status_capacity{node=\"n1\",resource=\"hugepages_2Mi\",unit=\"byte\"} 0\n\
             kube_node_status_capacity{node=\"n1\",resource=\"memory\",unit=\"byte\"} 1.6767574016e+10\n\
             kube_node_status_capacity{node=\"n1\",resource=\"nvidia_com_gpu\",unit=\"integer\"} 8\n\
             kube_node_status_capacity{node=\"n1\",resource=\"pods\",unit=\"integer\"} 110\n"
        );
        assert_eq!(
            render_family("nodes", NODE, "kube_node_status_allocatable"),
            "kube_node_status_allocatable{node=\"n1\",resource=\"cpu\",unit=\"core\"} 3.92\n"
        );
    }

    #[test]
    fn conditions_roles_taints_cidrs_addresses() {
        assert_eq!(
            render_family("nodes", NODE, "kube_node_status_condition"),
            "kube_node_status_condition{node=\"n1\",condition=\"Ready\",status=\"true\"} 1\n\
             kube_node_status_condition{node=\"n1\",condition=\"Ready\",status=\"false\"} 0\n\
             kube_node_status_condition{node=\"n1\",condition=\"Ready\",status=\"unknown\"} 0\n\
             kube_node_status_condition{node=\"n1\",condition=\"KernelDeadlock\",status=\"true\"} 0\n\
             kube_node_status_condition{node=\"n1\",condition=\"KernelDeadlock\",status=\"false\"} 0\n\
             kube_node_status_condition{node=\"n1\",condition=\"KernelDeadlock\",status=\"unknown\"} 1\n"
        );
        assert_eq!(
            render_family("nodes", NODE, "kube_node_role"),
            "kube_node_role{node=\"n1\",role=\"control-plane\"} 1\n\
             kube_node_role{node=\"n1\",role=\"gpu\"} 1\n"
        );
        assert_eq!(
            render_family("nodes", NODE, "kube_node_spec_taint"),
            "kube_node_spec_taint{node=\"n1\",key=\"k\",value=\"v\",effect=\"NoSchedule\"} 1\n\
             kube_node_spec_taint{node=\"n1\",key=\"d\",value=\"\",effect=\"NoExecute\"} 1\n"
        );
        assert_eq!(
            render_family("nodes", NODE, "kube_node_spec_pod_cidrs"),
            "kube_node_spec_pod_cidrs{node=\"n1\",pod_cidr=\"10.0.0.0/24\"} 1\n\
             kube_node_spec_pod_cidrs{node=\"n1\",pod_cidr=\"fd00::/64\"} 1\n"
        );
        assert_eq!(
            render_family("nodes", NODE, "kube_node_status_addresses"),
            "kube_node_status_addresses{node=\"n1\",type=\"InternalIP\",address=\"10.0.0.1\"} 1\n\
             kube_node_status_addresses{node=\"n1\",type=\"Hostname\",address=\"n1\"} 1\n\
             kube_node_status_addresses{node=\"n1\",type=\"InternalIP\",address=\"10.0.0.2\"} 1\n"
        );
    }

    #[test]
    fn unschedulable_and_timestamps() {
        assert_eq!(
            render_family("nodes", NODE, "kube_node_spec_unschedulable"),
            "kube_node_spec_unschedulable{node=\"n1\"} 1\n"
        );
        assert_eq!(
            render_family(
                "nodes",
                r#"{"metadata":{"name":"b"}}"#,
                "kube_node_spec_unschedulable"
            ),
            "kube_node_spec_unschedulable{node=\"b\"} 0\n"
        );
        assert_eq!(
            render_family("nodes", NODE, "kube_node_created"),
            "kube_node_created{node=\"n1\"} 1.795238674e+09\n"
        );
        assert_eq!(
            render_family("nodes", NODE, "kube_node_deletion_timestamp"),
            ""
        );
        let deleting = r#"{"metadata":{"name":"d","deletionTimestamp":"2026-11-21T05:24:34Z"}}"#;
        assert_eq!(
            render_family("nodes", deleting, "kube_node_deletion_timestamp"),
            "kube_node_deletion_timestamp{node=\"d\"} 1.795238674e+09\n"
        );
    }

    #[test]
    fn labels_and_annotations() {
        assert_eq!(
            render_family("nodes", NODE, "kube_node_labels"),
            "kube_node_labels{node=\"n1\",label_node_role_kubernetes_io_control_plane=\"\",\
             label_node_role_kubernetes_io_gpu=\"x\",label_zone=\"a\"} 1\n"
        );
        assert_eq!(
            render_family("nodes", NODE, "kube_node_annotations"),
            "kube_node_annotations{node=\"n1\"} 1\n"
        );
    }
}
