{{/*
Names, labels and the node list shared by every template of mlplat-gpu-check.
*/}}

{{/* Chart name, or nameOverride; a DNS label (63 characters at most). */}}
{{- define "mlplat-gpu-check.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Prefix of generated names: fullnameOverride, else "<release>-<name>", else just the release name
when it already contains the chart name (so `helm install mlplat-gpu-check` gives "mlplat-gpu-check").
*/}}
{{- define "mlplat-gpu-check.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := include "mlplat-gpu-check.name" . -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* "name-version" for the helm.sh/chart label. */}}
{{- define "mlplat-gpu-check.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Namespace of the Jobs: .Values.namespace, else the release namespace. */}}
{{- define "mlplat-gpu-check.namespace" -}}
{{- default .Release.Namespace .Values.namespace -}}
{{- end -}}

{{/* Labels that select this release's objects (stable across upgrades). */}}
{{- define "mlplat-gpu-check.selectorLabels" -}}
app.kubernetes.io/name: {{ include "mlplat-gpu-check.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Labels on every object. */}}
{{- define "mlplat-gpu-check.labels" -}}
{{ include "mlplat-gpu-check.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: mlplat
helm.sh/chart: {{ include "mlplat-gpu-check.chart" . }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* The run id; fails with instructions when it was not given. */}}
{{- define "mlplat-gpu-check.runId" -}}
{{- required "runId is required: pass a fresh id for every run, e.g. --set runId=20250101t120000z" .Values.runId -}}
{{- end -}}

{{/*
The node list normalised to YAML {nodes: [{name, gpus}]}: plain names get gpusPerNode. Fails when
the list is empty (there would be nothing to check and nothing for mlplat to wait for) or names a
node twice (two Jobs would compete for the same GPUs).
*/}}
{{- define "mlplat-gpu-check.nodes" -}}
{{- if not .Values.nodes -}}
{{- fail "nodes is empty: pass the GPU node names to check, e.g. --set-json 'nodes=[\"ip-10-0-1-23.ec2.internal\"]' (mlplat lists the nodes of the GPU node group; with no GPU node there is nothing to check, so do not install this chart)" -}}
{{- end -}}
{{- $nodes := list -}}
{{- $names := list -}}
{{- range .Values.nodes -}}
{{- $entry := dict -}}
{{- if kindIs "string" . -}}
{{- $entry = dict "name" . "gpus" (int $.Values.gpusPerNode) -}}
{{- else -}}
{{- $entry = dict "name" .name "gpus" (int (default $.Values.gpusPerNode .gpus)) -}}
{{- end -}}
{{- if has $entry.name $names -}}
{{- fail (printf "nodes lists %s more than once: give each GPU node once (one Job per node)" $entry.name) -}}
{{- end -}}
{{- if and (eq $.Values.pinning "hostnameLabel") (gt (len $entry.name) 63) -}}
{{- fail (printf "node %s is longer than 63 characters, too long for a kubernetes.io/hostname label value: use pinning nodeAffinity" $entry.name) -}}
{{- end -}}
{{- $names = append $names $entry.name -}}
{{- $nodes = append $nodes $entry -}}
{{- end -}}
{{- toYaml (dict "nodes" $nodes) -}}
{{- end -}}

{{/*
Name of the Job for node number .index: "<fullname>-<runId>-<index>", the fullname shortened so
the whole name fits the 63 characters of the job-name label the Job controller puts on its pods.
Called with (dict "root" $ "index" $i).
*/}}
{{- define "mlplat-gpu-check.jobName" -}}
{{- $suffix := printf "-%s-%d" (include "mlplat-gpu-check.runId" .root) (int .index) -}}
{{- $prefix := include "mlplat-gpu-check.fullname" .root | trunc (int (sub 63 (len $suffix))) | trimSuffix "-" -}}
{{- printf "%s%s" $prefix $suffix | trimSuffix "-" -}}
{{- end -}}

{{/* image reference: repository@digest when a digest is set, else repository:tag. */}}
{{- define "mlplat-gpu-check.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository .Values.image.tag -}}
{{- end -}}
{{- end -}}
