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
