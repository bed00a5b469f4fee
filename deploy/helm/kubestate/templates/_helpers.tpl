{{/*
Names. The name defaults to "kube-state-metrics", not to the chart's name: it becomes the
app.kubernetes.io/name label, which a ServiceMonitor turns into job="kube-state-metrics", the job
every kubernetes-mixin alert and dashboard selects. Full names follow the kube-state-metrics
chart's rule, so switching a release to this chart keeps its object names.
*/}}
{{- define "kubestate.name" -}}
{{- default "kube-state-metrics" .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "kubestate.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := include "kubestate.name" . -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "kubestate.namespace" -}}
{{- default .Release.Namespace .Values.namespaceOverride -}}
{{- end -}}

{{- define "kubestate.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "kubestate.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "kubestate.selectorLabels" -}}
{{- if .Values.selectorOverride -}}
{{ toYaml .Values.selectorOverride }}
{{- else -}}
app.kubernetes.io/name: {{ include "kubestate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
{{- end -}}

{{- define "kubestate.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: metrics
app.kubernetes.io/part-of: {{ include "kubestate.name" . }}
{{ include "kubestate.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- if .Values.customLabels }}
{{ toYaml .Values.customLabels }}
{{- end }}
{{- if .Values.releaseLabel }}
release: {{ .Release.Name }}
{{- end }}
{{- end -}}

{{/* registry/repository:tag[@sha] of an image block, honouring global.imageRegistry. */}}
{{- define "kubestate.imageRef" -}}
{{- $img := .image -}}
{{- $registry := default $img.registry .global.imageRegistry -}}
{{- $ref := printf "%s:%s" $img.repository (toString (default (printf "v%s" .appVersion) $img.tag)) -}}
{{- if $registry }}{{ $ref = printf "%s/%s" $registry $ref }}{{ end -}}
{{- if $img.sha }}{{ $ref = printf "%s@%s" $ref $img.sha }}{{ end -}}
{{- $ref -}}
{{- end -}}

{{- define "kubestate.image" -}}
{{- include "kubestate.imageRef" (dict "image" .Values.image "global" (.Values.global | default dict) "appVersion" .Chart.AppVersion) -}}
{{- end -}}

{{/* Pull secrets from imagePullSecrets and global.imagePullSecrets ({name: x} or x). */}}
{{- define "kubestate.imagePullSecrets" -}}
{{- $out := list -}}
{{- range (concat (.Values.imagePullSecrets | default list) ((.Values.global | default dict).imagePullSecrets | default list)) -}}
{{- if kindIs "map" . }}{{ $out = append $out (dict "name" .name) }}{{ else }}{{ $out = append $out (dict "name" .) }}{{ end -}}
{{- end -}}
{{- if $out }}{{ toYaml $out }}{{ end -}}
{{- end -}}

{{/* The enabled collectors: collectors minus collectorsExclude, plus collectorsExtra, unique. */}}
{{- define "kubestate.collectors" -}}
{{- $out := list -}}
{{- range .Values.collectors -}}
{{- if not (has . ($.Values.collectorsExclude | default list)) }}{{ $out = append $out . }}{{ end -}}
{{- end -}}
{{- range (.Values.collectorsExtra | default list) }}{{ $out = append $out . }}{{ end -}}
{{- $out | uniq | join "," -}}
{{- end -}}

{{/* The watched namespaces: `namespaces` (string or list, through tpl) plus the release
namespace with releaseNamespace, unique, comma-joined. */}}
{{- define "kubestate.namespaces" -}}
{{- $out := list -}}
{{- $ns := .Values.namespaces -}}
{{- if kindIs "string" $ns -}}
{{- range (splitList "," (tpl $ns $)) }}{{ if trim . }}{{ $out = append $out (trim .) }}{{ end }}{{ end -}}
{{- else -}}
{{- range $ns }}{{ $out = append $out (tpl (toString .) $) }}{{ end -}}
{{- end -}}
{{- if .Values.releaseNamespace }}{{ $out = append $out (include "kubestate.namespace" .) }}{{ end -}}
{{- $out | uniq | join "," -}}
{{- end -}}

{{- define "kubestate.namespacesDenylist" -}}
{{- $d := .Values.namespacesDenylist -}}
{{- if kindIs "string" $d }}{{ $d }}{{ else }}{{ $d | join "," }}{{ end -}}
{{- end -}}

{{- define "kubestate.telemetryPort" -}}
{{- if .Values.kubeRBACProxy.enabled }}9091{{ else }}{{ .Values.selfMonitor.telemetryPort | default 8081 }}{{ end -}}
{{- end -}}

{{/* The container's arguments, in the kube-state-metrics chart's order, then kubestate's own. */}}
{{- define "kubestate.args" -}}
{{- $args := list -}}
{{- range .Values.extraArgs }}{{ $args = append $args (toString .) }}{{ end -}}
{{- if .Values.kubeRBACProxy.enabled -}}
{{- $args = append $args "--host=127.0.0.1" -}}
{{- $args = append $args (printf "--port=%v" .Values.kubeRBACProxy.port) -}}
{{- else -}}
{{- $args = append $args (printf "--port=%v" .Values.service.port) -}}
{{- end -}}
{{- $collectors := include "kubestate.collectors" . -}}
{{- if $collectors }}{{ $args = append $args (printf "--resources=%s" $collectors) }}{{ end -}}
{{- if .Values.metricLabelsAllowlist }}{{ $args = append $args (printf "--metric-labels-allowlist=%s" (join "," .Values.metricLabelsAllowlist)) }}{{ end -}}
{{- if .Values.metricAnnotationsAllowList }}{{ $args = append $args (printf "--metric-annotations-allowlist=%s" (join "," .Values.metricAnnotationsAllowList)) }}{{ end -}}
{{- if .Values.metricAllowlist }}{{ $args = append $args (printf "--metric-allowlist=%s" (join "," .Values.metricAllowlist)) }}{{ end -}}
{{- if .Values.metricDenylist }}{{ $args = append $args (printf "--metric-denylist=%s" (join "," .Values.metricDenylist)) }}{{ end -}}
{{- $ns := include "kubestate.namespaces" . -}}
{{- if $ns }}{{ $args = append $args (printf "--namespaces=%s" $ns) }}{{ end -}}
{{- $deny := include "kubestate.namespacesDenylist" . -}}
{{- if $deny }}{{ $args = append $args (printf "--namespaces-denylist=%s" $deny) }}{{ end -}}
{{- if .Values.autosharding.enabled -}}
{{- $args = append $args "--pod=$(POD_NAME)" -}}
{{- $args = append $args "--pod-namespace=$(POD_NAMESPACE)" -}}
{{- end -}}
{{- if .Values.kubeconfig.enabled }}{{ $args = append $args "--kubeconfig=/opt/k8s/.kube/config" }}{{ end -}}
{{- if .Values.kubeRBACProxy.enabled -}}
{{- $args = append $args "--telemetry-host=127.0.0.1" -}}
{{- $args = append $args "--telemetry-port=9091" -}}
{{- else -}}
{{- if .Values.selfMonitor.telemetryHost }}{{ $args = append $args (printf "--telemetry-host=%s" .Values.selfMonitor.telemetryHost) }}{{ end -}}
{{- if .Values.selfMonitor.telemetryPort }}{{ $args = append $args (printf "--telemetry-port=%v" .Values.selfMonitor.telemetryPort) }}{{ end -}}
{{- end -}}
{{- if .Values.customResourceState.enabled }}{{ $args = append $args (printf "--custom-resource-state-config-file=/etc/customresourcestate/%s" .Values.customResourceState.key) }}{{ end -}}
{{- if .Values.authFilter.enabled }}{{ $args = append $args "--auth-filter" }}{{ end -}}
{{- with .Values.kubestate -}}
{{- if .apiContentType }}{{ $args = append $args (printf "--api-content-type=%s" .apiContentType) }}{{ end -}}
{{- if .gzip }}{{ $args = append $args "--enable-gzip-encoding" }}{{ end -}}
{{- if .useApiserverCache }}{{ $args = append $args "--use-apiserver-cache" }}{{ end -}}
{{- if .metricOptInList }}{{ $args = append $args (printf "--metric-opt-in-list=%s" (join "," .metricOptInList)) }}{{ end -}}
{{- if .objectLimit }}{{ $args = append $args (printf "--object-limit=%v" .objectLimit) }}{{ end -}}
{{- if .logFormat }}{{ $args = append $args (printf "--log-format=%s" .logFormat) }}{{ end -}}
{{- end -}}
{{- toYaml $args -}}
{{- end -}}

{{/* list/watch rules for the enabled collectors, one rule per API group. */}}
{{- define "kubestate.groupOf" -}}
{{- $groups := dict
  "certificatesigningrequests" "certificates.k8s.io"
  "clusterrolebindings" "rbac.authorization.k8s.io"
  "clusterroles" "rbac.authorization.k8s.io"
  "configmaps" ""
  "cronjobs" "batch"
  "daemonsets" "apps"
  "deployments" "apps"
  "endpoints" ""
  "endpointslices" "discovery.k8s.io"
  "horizontalpodautoscalers" "autoscaling"
  "ingressclasses" "networking.k8s.io"
  "ingresses" "networking.k8s.io"
  "jobs" "batch"
  "leases" "coordination.k8s.io"
  "limitranges" ""
  "mutatingadmissionpolicies" "admissionregistration.k8s.io"
  "mutatingadmissionpolicybindings" "admissionregistration.k8s.io"
  "mutatingwebhookconfigurations" "admissionregistration.k8s.io"
  "namespaces" ""
  "networkpolicies" "networking.k8s.io"
  "nodes" ""
  "persistentvolumeclaims" ""
  "persistentvolumes" ""
  "poddisruptionbudgets" "policy"
  "pods" ""
  "replicasets" "apps"
  "replicationcontrollers" ""
  "resourcequotas" ""
  "rolebindings" "rbac.authorization.k8s.io"
  "roles" "rbac.authorization.k8s.io"
  "secrets" ""
  "serviceaccounts" ""
  "services" ""
  "statefulsets" "apps"
  "storageclasses" "storage.k8s.io"
  "validatingadmissionpolicies" "admissionregistration.k8s.io"
  "validatingadmissionpolicybindings" "admissionregistration.k8s.io"
  "validatingwebhookconfigurations" "admissionregistration.k8s.io"
  "volumeattachments" "storage.k8s.io" -}}
{{- if not (hasKey $groups .) -}}
{{- fail (printf "collectors: unknown resource %q (kubestate exports the 39 kube-state-metrics resources; custom resources go in customResourceState.config)" .) -}}
{{- end -}}
{{- get $groups . -}}
{{- end -}}

{{- define "kubestate.rules" -}}
{{- $byGroup := dict -}}
{{- range (splitList "," (include "kubestate.collectors" .)) -}}
{{- if . -}}
{{- $g := include "kubestate.groupOf" . -}}
{{- $_ := set $byGroup $g (append (get $byGroup $g | default list) .) -}}
{{- end -}}
{{- end -}}
{{- $rules := list -}}
{{- range $g := keys $byGroup | sortAlpha -}}
{{- $rules = append $rules (dict "apiGroups" (list $g) "resources" (get $byGroup $g | sortAlpha) "verbs" (list "list" "watch")) -}}
{{- end -}}
{{- if and .Values.customResourceState.enabled .Values.rbac.customResourceState.createClusterRoleRules -}}
{{- $rules = append $rules (dict "apiGroups" (list "apiextensions.k8s.io") "resources" (list "customresourcedefinitions") "verbs" (list "list" "watch")) -}}
{{- range ((.Values.customResourceState.config | default dict).spec | default dict).resources | default list -}}
{{- $gvk := .groupVersionKind | default dict -}}
{{- if and $gvk.group $gvk.kind (ne $gvk.kind "*") -}}
{{- $plural := default (printf "%ss" (lower $gvk.kind)) .resourcePlural -}}
{{- $rules = append $rules (dict "apiGroups" (list $gvk.group) "resources" (list $plural) "verbs" (list "list" "watch")) -}}
{{- else if $gvk.group -}}
{{- $rules = append $rules (dict "apiGroups" (list $gvk.group) "resources" (list "*") "verbs" (list "list" "watch")) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if or .Values.authFilter.enabled .Values.kubeRBACProxy.enabled -}}
{{- $rules = append $rules (dict "apiGroups" (list "authentication.k8s.io") "resources" (list "tokenreviews") "verbs" (list "create")) -}}
{{- $rules = append $rules (dict "apiGroups" (list "authorization.k8s.io") "resources" (list "subjectaccessreviews") "verbs" (list "create")) -}}
{{- end -}}
{{- range .Values.rbac.extraRules }}{{ $rules = append $rules . }}{{ end -}}
{{- toYaml $rules -}}
{{- end -}}

{{/* A probe on a fixed path and port; timings and headers from the values block. */}}
{{- define "kubestate.probe" -}}
{{- $p := .probe -}}
failureThreshold: {{ $p.failureThreshold }}
httpGet:
  {{- with $p.httpGet.httpHeaders }}
  httpHeaders:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  path: {{ .path }}
  port: {{ .port }}
  scheme: {{ .scheme | default (upper ($p.httpGet.scheme | default "http")) }}
initialDelaySeconds: {{ $p.initialDelaySeconds }}
periodSeconds: {{ $p.periodSeconds }}
successThreshold: {{ $p.successThreshold }}
timeoutSeconds: {{ $p.timeoutSeconds }}
{{- end -}}

{{/* One kube-rbac-proxy sidecar: TLS on `listen`, authorizing against the API server, then
plain HTTP to kubestate on 127.0.0.1:`upstream`. */}}
{{- define "kubestate.proxyContainer" -}}
{{- $root := .root -}}
{{- $proxy := $root.Values.kubeRBACProxy -}}
- name: {{ .name }}
  image: {{ include "kubestate.imageRef" (dict "image" $proxy.image "global" ($root.Values.global | default dict) "appVersion" $root.Chart.AppVersion) }}
  imagePullPolicy: {{ $proxy.image.pullPolicy }}
  args:
  {{- with $proxy.extraArgs }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
  - --secure-listen-address=:{{ .listen }}
  - --upstream=http://127.0.0.1:{{ .upstream }}/
  - --proxy-endpoints-port={{ .healthPort }}
  - --config-file=/etc/kube-rbac-proxy-config/config-file.yaml
  {{- if $proxy.ignoreProbePaths }}
  - --ignore-paths=/livez,/readyz
  {{- end }}
  ports:
  - name: {{ .portName }}
    containerPort: {{ .listen }}
  - name: {{ .portName }}-healthz
    containerPort: {{ .healthPort }}
  readinessProbe:
    httpGet:
      scheme: HTTPS
      port: {{ .healthPort }}
      path: healthz
    initialDelaySeconds: 5
    timeoutSeconds: 5
  {{- with $proxy.resources }}
  resources:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $proxy.containerSecurityContext }}
  securityContext:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  volumeMounts:
  - name: kube-rbac-proxy-config
    mountPath: /etc/kube-rbac-proxy-config
  {{- with $proxy.volumeMounts }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end -}}

{{/* One ServiceMonitor endpoint's settings: the endpoint block, else the legacy flat keys of
prometheus.monitor. */}}
{{- define "kubestate.endpoint" -}}
{{- $ep := .ep -}}
{{- $legacy := .legacy -}}
{{- range $k := list "interval" "scrapeTimeout" "proxyUrl" "scheme" "bearerTokenFile" -}}
{{- $v := get $ep $k | default (get $legacy $k) -}}
{{- if $v }}
{{ $k }}: {{ $v }}
{{- end -}}
{{- end -}}
{{- if or $ep.enableHttp2 $legacy.enableHttp2 }}
enableHttp2: true
{{- end -}}
{{- if or $ep.honorLabels $legacy.honorLabels }}
honorLabels: true
{{- end -}}
{{- range $k := list "bearerTokenSecret" "tlsConfig" "metricRelabelings" "relabelings" -}}
{{- $v := get $ep $k | default (get $legacy $k) -}}
{{- if $v }}
{{ $k }}:
  {{- toYaml $v | nindent 2 }}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The common labels with `extra` on top (a key in both takes extra's value, instead of
rendering a duplicate key). */}}
{{- define "kubestate.labelsWith" -}}
{{- $labels := include "kubestate.labels" .root | fromYaml -}}
{{- toYaml (merge (deepCopy (.extra | default dict)) $labels) -}}
{{- end -}}
