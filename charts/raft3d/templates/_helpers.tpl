{{/* Chart name, truncated to a DNS label. */}}
{{- define "raft3d.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Full name: the StatefulSet, the client Service and the prefix of everything else.
Kept to 40 characters so "<fullname>-peers" and pod names stay valid labels.
*/}}
{{- define "raft3d.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "raft3d.peerService" -}}
{{- printf "%s-peers" (include "raft3d.fullname" .) }}
{{- end }}

{{- define "raft3d.leaderService" -}}
{{- printf "%s-leader" (include "raft3d.fullname" .) }}
{{- end }}

{{- define "raft3d.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels that select this release's pods (never change them: StatefulSet selectors are immutable). */}}
{{- define "raft3d.selectorLabels" -}}
app.kubernetes.io/name: {{ include "raft3d.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "raft3d.labels" -}}
helm.sh/chart: {{ include "raft3d.chart" . }}
{{ include "raft3d.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: raft3d
{{- end }}

{{- define "raft3d.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "raft3d.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "raft3d.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}

{{- define "raft3d.secretName" -}}
{{- default (printf "%s-cluster" (include "raft3d.fullname" .)) .Values.clusterSecret.existingSecret }}
{{- end }}

{{/* Majority of the members: what the PodDisruptionBudget keeps available. */}}
{{- define "raft3d.quorum" -}}
{{- add (div (int .Values.replicas) 2) 1 }}
{{- end }}

{{/* http, or https when the API is served over TLS. */}}
{{- define "raft3d.apiScheme" -}}
{{- if and .Values.tls.enabled .Values.tls.client }}https{{ else }}http{{ end }}
{{- end }}

{{- define "raft3d.membersConfigMap" -}}
{{- printf "%s-members" (include "raft3d.fullname" .) }}
{{- end }}

{{/* Pod names of this release (RBAC resourceNames): ordinals 0 .. replicas-1. */}}
{{- define "raft3d.podNames" -}}
{{- $fullname := include "raft3d.fullname" . }}
{{- range $i := until (int .Values.replicas) }}
- {{ printf "%s-%d" $fullname $i | quote }}
{{- end }}
{{- end }}

{{/* Value combinations the schema cannot express, refused with a message that says what to do. */}}
{{- define "raft3d.validateValues" -}}
{{- if and .Values.tls.enabled (not .Values.tls.secretName) }}
{{- fail "tls.enabled needs tls.secretName: a kubernetes.io/tls Secret with tls.crt, tls.key and ca.crt (set tls.certManager.enabled to have cert-manager create it)" }}
{{- end }}
{{- end }}

{{/*
Refuses a shrink by more than the failures the running cluster tolerates: the pods being
removed wait in their preStop hook until the leader has taken them out of the configuration,
but if one cannot be removed in time the rest must still hold a quorum of the old one. Needs
the API server (helm install/upgrade, --dry-run=server); `helm template` cannot see the
running StatefulSet and renders without the check. This guard is the chart's only `lookup`,
and it never changes what is rendered.
*/}}
{{- define "raft3d.scaleDownGuard" -}}
{{- if not .Values.unsafeShrink }}
{{- $sts := lookup "apps/v1" "StatefulSet" .Release.Namespace (include "raft3d.fullname" .) }}
{{- if and $sts $sts.spec }}
{{- $current := int ($sts.spec.replicas | default 1) }}
{{- $wanted := int .Values.replicas }}
{{- $tolerated := sub $current (add (div $current 2) 1) }}
{{- if gt (sub $current $wanted) $tolerated }}
{{- $step := sub $current $tolerated }}
{{- fail (printf "refusing to scale %s from %d to %d members at once: %d members tolerate %d failure(s), so shrink by at most %d at a time (next step: replicas=%d, wait until /cluster/status lists %d voters, then go on), or set unsafeShrink=true" (include "raft3d.fullname" .) $current $wanted $current $tolerated $tolerated $step $step) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
