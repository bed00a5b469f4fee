//! Golden tests of the pod families: JSON in, exact exposition lines out.

use crate::testing::render_family;

/// A running pod with regular, init and sidecar containers, most spec features and a
/// dual-stack status.
const RUNNING: &str = r#"{
  "metadata": {"name": "p", "namespace": "ns", "uid": "u", "resourceVersion": "7",
    "creationTimestamp": "2026-11-01T00:00:00Z", "deletionTimestamp": "2026-11-02T00:00:00Z",
    "labels": {"app": "web"}, "annotations": {"team": "a"},
    "ownerReferences": [
      {"kind": "ConfigMap", "name": "cfg"},
      {"kind": "ReplicaSet", "name": "web-1", "controller": true}]},
  "spec": {
    "nodeName": "n1", "priorityClassName": "high", "hostNetwork": true,
    "restartPolicy": "Always", "runtimeClassName": "kata",
    "serviceAccountName": "sa", "schedulerName": "custom",
    "nodeSelector": {"kubernetes.io/os": "linux", "diskType": "ssd"},
    "overhead": {"cpu": "250m", "memory": "160Mi"},
    "containers": [
      {"name": "app", "image": "nginx:1", "env": [{"name": "X", "value": "1"}],
       "resources": {
         "requests": {"cpu": "250m", "memory": "1.5Mi", "ephemeral-storage": "1Gi",
                      "nvidia.com/gpu": "2", "pods": "3", "hugepages-2Mi": "4Mi"},
         "limits": {"cpu": "1", "memory": "1e3"}}},
      {"name": "side", "image": "busybox:1"}],
    "initContainers": [
      {"name": "init", "image": "busybox:1", "resources": {"limits": {"cpu": "100m"}}},
      {"name": "proxy", "image": "envoy:1", "restartPolicy": "Always",
       "resources": {"requests": {"memory": "64Mi", "example.com/dongle": "1"}}}],
    "volumes": [
      {"name": "data", "persistentVolumeClaim": {"claimName": "datasets", "readOnly": true}},
      {"name": "ckpt", "persistentVolumeClaim": {"claimName": "checkpoints"}},
      {"name": "scratch", "ephemeral": {"volumeClaimTemplate": {"spec": {}}}},
      {"name": "shm", "emptyDir": {}}],
    "tolerations": [
      {"operator": "Exists", "effect": "NoSchedule"},
      {"key": "k", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
      {"key": "k", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
      {"key": "k", "operator": "Exists", "effect": "NoExecute"}],
    "resourceClaims": [
      {"name": "gpu", "resourceClaimTemplateName": "one-gpu"},
      {"name": "fpga", "resourceClaimName": "shared-fpga"},
      {"name": "later", "resourceClaimTemplateName": "one-gpu"}]},
  "status": {
    "phase": "Running", "qosClass": "Burstable",
    "hostIP": "10.0.0.1", "podIP": "10.1.0.5",
    "podIPs": [{"ip": "10.1.0.5"}, {"ip": "fd00::5"}, {"ip": "::ffff:10.1.0.6"},
               {"ip": "010.1.0.7"}],
    "startTime": "2026-11-01T00:00:05Z",
    "conditions": [
      {"type": "Initialized", "status": "True", "lastTransitionTime": "2026-11-01T00:00:10Z"},
      {"type": "Ready", "status": "True", "lastTransitionTime": "2026-11-01T00:00:20Z",
       "lastProbeTime": null},
      {"type": "ContainersReady", "status": "True",
       "lastTransitionTime": "2026-11-01T00:00:19Z"},
      {"type": "PodScheduled", "status": "True", "lastTransitionTime": "2026-11-01T00:00:01Z"}],
    "resourceClaimStatuses": [{"name": "gpu", "resourceClaimName": "p-gpu-x1"}],
    "containerStatuses": [
      {"name": "app", "image": "docker.io/nginx:1", "imageID": "sha256:aa",
       "containerID": "containerd://c1", "ready": true, "restartCount": 1,
       "state": {"running": {"startedAt": "2026-11-01T00:00:15Z"}},
       "lastState": {"terminated": {"exitCode": 137, "reason": "OOMKilled",
         "startedAt": "2026-11-01T00:00:11Z", "finishedAt": "2026-11-01T00:00:14Z"}}},
      {"name": "side", "image": "busybox:1", "imageID": "", "ready": false,
       "restartCount": 5, "state": {"waiting": {"reason": "CrashLoopBackOff",
       "message": "back-off"}}, "lastState": {}}],
    "initContainerStatuses": [
      {"name": "init", "image": "busybox:1", "imageID": "sha256:bb",
       "containerID": "containerd://i1", "ready": true, "restartCount": 0,
       "state": {"terminated": {"exitCode": 0, "reason": "Completed",
         "startedAt": "2026-11-01T00:00:06Z", "finishedAt": "2026-11-01T00:00:09Z"}},
       "lastState": {}},
      {"name": "proxy", "image": "envoy:1", "imageID": "sha256:cc",
       "containerID": "containerd://i2", "ready": true, "restartCount": 2,
       "state": {"running": {"startedAt": "2026-11-01T00:00:10Z"}},
       "lastState": {"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": null}}}]}
}"#;

/// A failed, unschedulable, disrupted pod whose containers terminated.
const TROUBLED: &str = r#"{
  "metadata": {"name": "p", "namespace": "ns", "uid": "u"},
  "spec": {"containers": [{"name": "a"}, {"name": "b"}, {"name": "c"}],
           "initContainers": [{"name": "i"}],
           "restartPolicy": "Never"},
  "status": {
    "phase": "Failed", "reason": "OutOfcpu", "qosClass": "Guaranteed",
    "conditions": [
      {"type": "PodScheduled", "status": "False", "reason": "SchedulingGated",
       "lastTransitionTime": "2026-11-01T00:01:00Z"},
      {"type": "Ready", "status": "Unknown", "reason": "NodeLost"},
      {"type": "DisruptionTarget", "status": "True", "reason": "EvictionByEvictionAPI"},
      {"type": "DisruptionTarget", "status": "False", "reason": "NodePoolScaleDown"}],
    "containerStatuses": [
      {"name": "a", "state": {"terminated": {"exitCode": 143,
        "reason": "TerminationByKubelet", "finishedAt": "2026-11-01T00:30:00Z"}}},
      {"name": "b", "state": {"terminated": {"exitCode": 0, "reason": "Completed",
        "startedAt": "2026-11-01T00:00:00Z", "finishedAt": "2026-11-01T00:45:00Z"}}},
      {"name": "c", "state": {"waiting": {}}}],
    "initContainerStatuses": [
      {"name": "i", "state": {"waiting": {"reason": "PodInitializing"}}}]}
}"#;

/// A pod with nothing but its identity.
const BARE: &str = r#"{"metadata": {"name": "p", "namespace": "ns", "uid": "u"}}"#;

/// The expected text of family `name`: one line per `(labels, value)` row, after the
/// identity labels of the test pods.
fn exp(name: &str, rows: &[(&str, &str)]) -> String {
    rows.iter()
        .map(|(labels, value)| {
            let sep = if labels.is_empty() { "" } else { "," };
            format!("{name}{{namespace=\"ns\",pod=\"p\",uid=\"u\"{sep}{labels}}} {value}\n")
        })
        .collect()
}

fn check(json: &str, name: &str, rows: &[(&str, &str)]) {
    assert_eq!(render_family("pods", json, name), exp(name, rows), "{name}");
}

#[test]
fn metadata_families() {
    check(RUNNING, "kube_pod_created", &[("", "1.7934912e+09")]);
    check(
        RUNNING,
        "kube_pod_deletion_timestamp",
        &[("", "1.7935776e+09")],
    );
    check(BARE, "kube_pod_created", &[]);
    check(BARE, "kube_pod_deletion_timestamp", &[]);
    check(RUNNING, "kube_pod_labels", &[("label_app=\"web\"", "1")]);
    check(
        RUNNING,
        "kube_pod_annotations",
        &[("annotation_team=\"a\"", "1")],
    );
    check(
        RUNNING,
        "kube_pod_owner",
        &[
            (
                "owner_kind=\"ConfigMap\",owner_name=\"cfg\",owner_is_controller=\"false\"",
                "1",
            ),
            (
                "owner_kind=\"ReplicaSet\",owner_name=\"web-1\",owner_is_controller=\"true\"",
                "1",
            ),
        ],
    );
    check(
        BARE,
        "kube_pod_owner",
        &[(
            "owner_kind=\"\",owner_name=\"\",owner_is_controller=\"\"",
            "1",
        )],
    );
}

#[test]
fn info_uses_the_controller_owner() {
    check(
        RUNNING,
        "kube_pod_info",
        &[(
            "host_ip=\"10.0.0.1\",pod_ip=\"10.1.0.5\",node=\"n1\",created_by_kind=\"ReplicaSet\",\
             created_by_name=\"web-1\",priority_class=\"high\",host_network=\"true\"",
            "1",
        )],
    );
    check(
        BARE,
        "kube_pod_info",
        &[(
            "host_ip=\"\",pod_ip=\"\",node=\"\",created_by_kind=\"\",created_by_name=\"\",\
             priority_class=\"\",host_network=\"false\"",
            "1",
        )],
    );
}

#[test]
fn ips_by_family_skipping_unparseable() {
    check(
        RUNNING,
        "kube_pod_ips",
        &[
            ("ip=\"10.1.0.5\",ip_family=\"4\"", "1"),
            ("ip=\"fd00::5\",ip_family=\"6\"", "1"),
            ("ip=\"::ffff:10.1.0.6\",ip_family=\"4\"", "1"),
        ],
    );
    check(BARE, "kube_pod_ips", &[]);
}

#[test]
fn container_info_twins() {
    check(
        RUNNING,
        "kube_pod_container_info",
        &[
            (
                "container=\"app\",image_spec=\"nginx:1\",image=\"docker.io/nginx:1\",\
                 image_id=\"sha256:aa\",container_id=\"containerd://c1\"",
                "1",
            ),
            (
                "container=\"side\",image_spec=\"busybox:1\",image=\"busybox:1\",image_id=\"\",\
                 container_id=\"\"",
                "1",
            ),
        ],
    );
    check(
        RUNNING,
        "kube_pod_init_container_info",
        &[
            (
                "container=\"init\",image_spec=\"busybox:1\",image=\"busybox:1\",\
                 image_id=\"sha256:bb\",container_id=\"containerd://i1\",restart_policy=\"\"",
                "1",
            ),
            (
                "container=\"proxy\",image_spec=\"envoy:1\",image=\"envoy:1\",\
                 image_id=\"sha256:cc\",container_id=\"containerd://i2\",restart_policy=\"Always\"",
                "1",
            ),
        ],
    );
    // Spec containers without a status entry have no info series.
    check(BARE, "kube_pod_container_info", &[]);
}

#[test]
fn requests_and_limits_by_unit() {
    check(
        RUNNING,
        "kube_pod_container_resource_requests",
        &[
            (
                "container=\"app\",node=\"n1\",resource=\"cpu\",unit=\"core\"",
                "0.25",
            ),
            (
                "container=\"app\",node=\"n1\",resource=\"ephemeral_storage\",unit=\"byte\"",
                "1.073741824e+09",
            ),
            (
                "container=\"app\",node=\"n1\",resource=\"hugepages_2Mi\",unit=\"byte\"",
                "4.194304e+06",
            ),
            // 1.5Mi is a whole number of bytes; `pods` is not a container resource.
            (
                "container=\"app\",node=\"n1\",resource=\"memory\",unit=\"byte\"",
                "1.572864e+06",
            ),
            (
                "container=\"app\",node=\"n1\",resource=\"nvidia_com_gpu\",unit=\"integer\"",
                "2",
            ),
        ],
    );
    check(
        RUNNING,
        "kube_pod_container_resource_limits",
        &[
            (
                "container=\"app\",node=\"n1\",resource=\"cpu\",unit=\"core\"",
                "1",
            ),
            (
                "container=\"app\",node=\"n1\",resource=\"memory\",unit=\"byte\"",
                "1000",
            ),
        ],
    );
    check(
        RUNNING,
        "kube_pod_init_container_resource_requests",
        &[
            (
                "container=\"proxy\",node=\"n1\",resource=\"example_com_dongle\",unit=\"integer\"",
                "1",
            ),
            (
                "container=\"proxy\",node=\"n1\",resource=\"memory\",unit=\"byte\"",
                "6.7108864e+07",
            ),
        ],
    );
    check(
        RUNNING,
        "kube_pod_init_container_resource_limits",
        &[(
            "container=\"init\",node=\"n1\",resource=\"cpu\",unit=\"core\"",
            "0.1",
        )],
    );
}

#[test]
fn fractional_bytes_round_up_and_cpu_keeps_milli_precision() {
    let json = r#"{"metadata":{"name":"p","namespace":"ns","uid":"u"},"spec":{"containers":[
        {"name":"c","resources":{"requests":{"cpu":"1500u","memory":"1.1"}}}]}}"#;
    check(
        json,
        "kube_pod_container_resource_requests",
        &[
            (
                "container=\"c\",node=\"\",resource=\"cpu\",unit=\"core\"",
                "0.002",
            ),
            (
                "container=\"c\",node=\"\",resource=\"memory\",unit=\"byte\"",
                "2",
            ),
        ],
    );
}

#[test]
fn container_state_twins() {
    check(
        RUNNING,
        "kube_pod_container_state_started",
        &[("container=\"app\"", "1.793491215e+09")],
    );
    check(
        RUNNING,
        "kube_pod_init_container_state_started",
        &[
            ("container=\"init\"", "1.793491206e+09"),
            ("container=\"proxy\"", "1.79349121e+09"),
        ],
    );
    // A terminated state without startedAt reads as Go's zero time.
    check(
        TROUBLED,
        "kube_pod_container_state_started",
        &[
            ("container=\"a\"", "-6.21355968e+10"),
            ("container=\"b\"", "1.7934912e+09"),
        ],
    );
    for (name, rows) in [
        (
            "kube_pod_container_status_running",
            [("container=\"app\"", "1"), ("container=\"side\"", "0")],
        ),
        (
            "kube_pod_container_status_waiting",
            [("container=\"app\"", "0"), ("container=\"side\"", "1")],
        ),
        (
            "kube_pod_container_status_terminated",
            [("container=\"app\"", "0"), ("container=\"side\"", "0")],
        ),
        (
            "kube_pod_container_status_ready",
            [("container=\"app\"", "1"), ("container=\"side\"", "0")],
        ),
        (
            "kube_pod_container_status_restarts_total",
            [("container=\"app\"", "1"), ("container=\"side\"", "5")],
        ),
        (
            "kube_pod_init_container_status_running",
            [("container=\"init\"", "0"), ("container=\"proxy\"", "1")],
        ),
        (
            "kube_pod_init_container_status_waiting",
            [("container=\"init\"", "0"), ("container=\"proxy\"", "0")],
        ),
        (
            "kube_pod_init_container_status_terminated",
            [("container=\"init\"", "1"), ("container=\"proxy\"", "0")],
        ),
        (
            "kube_pod_init_container_status_ready",
            [("container=\"init\"", "1"), ("container=\"proxy\"", "1")],
        ),
        (
            "kube_pod_init_container_status_restarts_total",
            [("container=\"init\"", "0"), ("container=\"proxy\"", "2")],
        ),
    ] {
        check(RUNNING, name, &rows);
    }
}

#[test]
fn restart_counters_are_counters() {
    let r = crate::resource("pods").expect("pods");
    for f in r.families() {
        let counter = f.desc.ty == kubestate_metric::MetricType::Counter;
        assert_eq!(
            counter,
            f.desc.name.ends_with("_restarts_total"),
            "{}",
            f.desc.name
        );
    }
    assert_eq!(r.families().len(), 60);
}

#[test]
fn reasons_only_for_matching_states() {
    check(
        RUNNING,
        "kube_pod_container_status_waiting_reason",
        &[("container=\"side\",reason=\"CrashLoopBackOff\"", "1")],
    );
    // An empty waiting reason is still reported.
    check(
        TROUBLED,
        "kube_pod_container_status_waiting_reason",
        &[("container=\"c\",reason=\"\"", "1")],
    );
    check(
        TROUBLED,
        "kube_pod_init_container_status_waiting_reason",
        &[("container=\"i\",reason=\"PodInitializing\"", "1")],
    );
    check(
        TROUBLED,
        "kube_pod_container_status_terminated_reason",
        &[
            ("container=\"a\",reason=\"TerminationByKubelet\"", "1"),
            ("container=\"b\",reason=\"Completed\"", "1"),
        ],
    );
    check(
        RUNNING,
        "kube_pod_init_container_status_terminated_reason",
        &[("container=\"init\",reason=\"Completed\"", "1")],
    );
    check(RUNNING, "kube_pod_container_status_terminated_reason", &[]);
}

#[test]
fn last_terminated_twins() {
    check(
        RUNNING,
        "kube_pod_container_status_last_terminated_reason",
        &[("container=\"app\",reason=\"OOMKilled\"", "1")],
    );
    check(
        RUNNING,
        "kube_pod_container_status_last_terminated_exitcode",
        &[("container=\"app\"", "137")],
    );
    check(
        RUNNING,
        "kube_pod_container_status_last_terminated_timestamp",
        &[("container=\"app\"", "1.793491214e+09")],
    );
    check(
        RUNNING,
        "kube_pod_init_container_status_last_terminated_reason",
        &[("container=\"proxy\",reason=\"Error\"", "1")],
    );
    check(
        RUNNING,
        "kube_pod_init_container_status_last_terminated_exitcode",
        &[("container=\"proxy\"", "1")],
    );
    // finishedAt null: Go's zero time.
    check(
        RUNNING,
        "kube_pod_init_container_status_last_terminated_timestamp",
        &[("container=\"proxy\"", "-6.21355968e+10")],
    );
    check(
        TROUBLED,
        "kube_pod_container_status_last_terminated_reason",
        &[],
    );
}

#[test]
fn completion_time_is_the_latest_finish() {
    check(
        TROUBLED,
        "kube_pod_completion_time",
        &[("", "1.7934939e+09")],
    );
    // Only regular containers count: RUNNING's finished init container does not.
    check(RUNNING, "kube_pod_completion_time", &[]);
}

#[test]
fn spec_families() {
    check(RUNNING, "kube_pod_overhead_cpu_cores", &[("", "0.25")]);
    check(
        RUNNING,
        "kube_pod_overhead_memory_bytes",
        &[("", "1.6777216e+08")],
    );
    check(BARE, "kube_pod_overhead_cpu_cores", &[]);
    check(BARE, "kube_pod_overhead_memory_bytes", &[]);
    check(
        RUNNING,
        "kube_pod_restart_policy",
        &[("type=\"Always\"", "1")],
    );
    check(
        RUNNING,
        "kube_pod_runtimeclass_name_info",
        &[("runtimeclass_name=\"kata\"", "1")],
    );
    check(BARE, "kube_pod_runtimeclass_name_info", &[]);
    check(
        RUNNING,
        "kube_pod_service_account",
        &[("service_account=\"sa\"", "1")],
    );
    check(
        BARE,
        "kube_pod_service_account",
        &[("service_account=\"\"", "1")],
    );
    check(RUNNING, "kube_pod_scheduler", &[("name=\"custom\"", "1")]);
    check(RUNNING, "kube_pod_start_time", &[("", "1.793491205e+09")]);
    check(BARE, "kube_pod_start_time", &[]);
}

#[test]
fn node_selectors_sorted_and_always_one_sample() {
    check(
        RUNNING,
        "kube_pod_nodeselectors",
        &[(
            "nodeselector_disk_type=\"ssd\",nodeselector_kubernetes_io_os=\"linux\"",
            "1",
        )],
    );
    check(BARE, "kube_pod_nodeselectors", &[("", "1")]);
}

#[test]
fn nodeselectors_is_opt_in() {
    let r = crate::resource("pods").expect("pods");
    let opt_in: Vec<_> = r
        .families()
        .into_iter()
        .filter(|f| f.opt_in)
        .map(|f| f.desc.name)
        .collect();
    assert_eq!(opt_in, vec!["kube_pod_nodeselectors"]);
}

#[test]
fn claim_volumes() {
    let rows = |ro: [&'static str; 3]| {
        [
            (
                "volume=\"data\",persistentvolumeclaim=\"datasets\",ephemeral=\"false\"",
                ro[0],
            ),
            (
                "volume=\"ckpt\",persistentvolumeclaim=\"checkpoints\",ephemeral=\"false\"",
                ro[1],
            ),
            (
                "volume=\"scratch\",persistentvolumeclaim=\"p-scratch\",ephemeral=\"true\"",
                ro[2],
            ),
        ]
    };
    check(
        RUNNING,
        "kube_pod_spec_volumes_persistentvolumeclaims_info",
        &rows(["1", "1", "1"]),
    );
    check(
        RUNNING,
        "kube_pod_spec_volumes_persistentvolumeclaims_readonly",
        &rows(["1", "0", "0"]),
    );
}

#[test]
fn resource_claims_resolve_templates_through_status() {
    check(
        RUNNING,
        "kube_pod_resourceclaim_info",
        &[
            ("claim_name=\"gpu\",resourceclaim_name=\"p-gpu-x1\",resourceclaim_template_name=\"one-gpu\"", "1"),
            ("claim_name=\"fpga\",resourceclaim_name=\"shared-fpga\",resourceclaim_template_name=\"\"", "1"),
            ("claim_name=\"later\",resourceclaim_name=\"\",resourceclaim_template_name=\"one-gpu\"", "1"),
        ],
    );
}

#[test]
fn tolerations_deduplicated_on_all_fields() {
    check(
        RUNNING,
        "kube_pod_tolerations",
        &[
            ("key=\"\",operator=\"Exists\",value=\"\",effect=\"NoSchedule\",toleration_seconds=\"\"", "1"),
            ("key=\"k\",operator=\"Exists\",value=\"\",effect=\"NoExecute\",toleration_seconds=\"300\"", "1"),
            ("key=\"k\",operator=\"Exists\",value=\"\",effect=\"NoExecute\",toleration_seconds=\"\"", "1"),
        ],
    );
    check(BARE, "kube_pod_tolerations", &[]);
}

#[test]
fn phase_and_qos_one_hot() {
    check(
        RUNNING,
        "kube_pod_status_phase",
        &[
            ("phase=\"Pending\"", "0"),
            ("phase=\"Succeeded\"", "0"),
            ("phase=\"Failed\"", "0"),
            ("phase=\"Unknown\"", "0"),
            ("phase=\"Running\"", "1"),
        ],
    );
    check(BARE, "kube_pod_status_phase", &[]);
    let odd = r#"{"metadata":{"name":"p","namespace":"ns","uid":"u"},"status":{"phase":"Weird","qosClass":"Odd"}}"#;
    check(
        odd,
        "kube_pod_status_phase",
        &[
            ("phase=\"Pending\"", "0"),
            ("phase=\"Succeeded\"", "0"),
            ("phase=\"Failed\"", "0"),
            ("phase=\"Unknown\"", "0"),
            ("phase=\"Running\"", "0"),
        ],
    );
    check(
        TROUBLED,
        "kube_pod_status_qos_class",
        &[
            ("qos_class=\"BestEffort\"", "0"),
            ("qos_class=\"Burstable\"", "0"),
            ("qos_class=\"Guaranteed\"", "1"),
        ],
    );
    check(
        odd,
        "kube_pod_status_qos_class",
        &[
            ("qos_class=\"BestEffort\"", "0"),
            ("qos_class=\"Burstable\"", "0"),
            ("qos_class=\"Guaranteed\"", "0"),
        ],
    );
    check(BARE, "kube_pod_status_qos_class", &[]);
}

#[test]
fn ready_and_scheduled_triples_use_the_condition_label() {
    let t = |v: [&'static str; 3]| {
        [
            ("condition=\"true\"", v[0]),
            ("condition=\"false\"", v[1]),
            ("condition=\"unknown\"", v[2]),
        ]
    };
    check(RUNNING, "kube_pod_status_ready", &t(["1", "0", "0"]));
    check(TROUBLED, "kube_pod_status_ready", &t(["0", "0", "1"]));
    check(RUNNING, "kube_pod_status_scheduled", &t(["1", "0", "0"]));
    check(TROUBLED, "kube_pod_status_scheduled", &t(["0", "1", "0"]));
    check(BARE, "kube_pod_status_ready", &[]);
}

#[test]
fn condition_times() {
    check(
        RUNNING,
        "kube_pod_status_ready_time",
        &[("", "1.79349122e+09")],
    );
    check(
        RUNNING,
        "kube_pod_status_initialized_time",
        &[("", "1.79349121e+09")],
    );
    check(
        RUNNING,
        "kube_pod_status_container_ready_time",
        &[("", "1.793491219e+09")],
    );
    check(
        RUNNING,
        "kube_pod_status_scheduled_time",
        &[("", "1.793491201e+09")],
    );
    check(RUNNING, "kube_pod_status_unschedulable", &[]);
    check(RUNNING, "kube_pod_status_unscheduled_time", &[]);
    // Ready is Unknown: no ready time.
    check(TROUBLED, "kube_pod_status_ready_time", &[]);
    check(TROUBLED, "kube_pod_status_scheduled_time", &[]);
    check(TROUBLED, "kube_pod_status_unschedulable", &[("", "1")]);
    check(
        TROUBLED,
        "kube_pod_status_unscheduled_time",
        &[("", "1.79349126e+09")],
    );
}

#[test]
fn status_reason_lists_present_reasons_plus_other() {
    // NodeLost from a condition, SchedulingGated from a condition, TerminationByKubelet from a
    // terminated container, Other for the unknown status.reason; EvictionByEvictionAPI is not
    // a status reason.
    check(
        TROUBLED,
        "kube_pod_status_reason",
        &[
            ("reason=\"NodeLost\"", "1"),
            ("reason=\"SchedulingGated\"", "1"),
            ("reason=\"TerminationByKubelet\"", "1"),
            ("reason=\"Other\"", "1"),
        ],
    );
    let evicted = r#"{"metadata":{"name":"p","namespace":"ns","uid":"u"},
        "status":{"reason":"Evicted","conditions":[{"type":"DisruptionTarget","reason":"Evicted"}]}}"#;
    check(
        evicted,
        "kube_pod_status_reason",
        &[("reason=\"Evicted\"", "1")],
    );
    check(RUNNING, "kube_pod_status_reason", &[]);
}

#[test]
fn disruption_reasons_per_condition() {
    check(
        TROUBLED,
        "kube_pod_status_disruption_reason",
        &[
            ("reason=\"EvictionByEvictionAPI\"", "1"),
            ("reason=\"Other\"", "1"),
        ],
    );
    check(RUNNING, "kube_pod_status_disruption_reason", &[]);
}

#[test]
fn only_unconditional_families_render_for_a_bare_pod() {
    // Families that always have a sample, whatever the pod (labels/annotations once allowlisted).
    let always = [
        "kube_pod_info",
        "kube_pod_annotations",
        "kube_pod_labels",
        "kube_pod_owner",
        "kube_pod_restart_policy",
        "kube_pod_nodeselectors",
        "kube_pod_service_account",
        "kube_pod_scheduler",
    ];
    let text = crate::testing::render("pods", BARE, "pods=[*]", "pods=[*]");
    let names: Vec<&str> = text
        .lines()
        .map(|l| l.split('{').next().unwrap_or(""))
        .collect();
    assert_eq!(names, always);
}
