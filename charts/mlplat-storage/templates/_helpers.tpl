{{/*
Names and labels shared by every template of mlplat-storage.
*/}}

{{/* Chart name, or nameOverride; a DNS label (63 characters at most). */}}
{{- define "mlplat-storage.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Prefix of generated names: fullnameOverride, else "<release>-<name>", else just the release name
when it already contains the chart name (so `helm install mlplat-storage` gives "mlplat-storage").
*/}}
{{- define "mlplat-storage.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := include "mlplat-storage.name" . -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* "name-version" for the helm.sh/chart label. */}}
{{- define "mlplat-storage.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Namespace of the namespaced objects: .Values.namespace, else the release namespace. */}}
{{- define "mlplat-storage.namespace" -}}
{{- default .Release.Namespace .Values.namespace -}}
{{- end -}}

{{/* Labels that select this release's objects (stable across upgrades). */}}
{{- define "mlplat-storage.selectorLabels" -}}
app.kubernetes.io/name: {{ include "mlplat-storage.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Labels on every object. */}}
{{- define "mlplat-storage.labels" -}}
{{ include "mlplat-storage.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: mlplat
helm.sh/chart: {{ include "mlplat-storage.chart" . }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* The EFS file system id; fails with instructions when it was not given. */}}
{{- define "mlplat-storage.fileSystemId" -}}
{{- required "efs.fileSystemId is required: pass the EFS file system id from mlplat's storage phase (Terraform output efs_file_system_id), e.g. --set efs.fileSystemId=fs-0123456789abcdef0" .Values.efs.fileSystemId -}}
{{- end -}}

{{/*
Name of the verification Job: "<fullname>-verify-<runId>", the fullname shortened so the whole name
fits the 63 characters of the job-name label the Job controller puts on its pods.
*/}}
{{- define "mlplat-storage.verifyJobName" -}}
{{- $runId := required "verify.runId is required while verify.enabled is true: pass a fresh id for every run, e.g. --set verify.runId=20250101t120000z" .Values.verify.runId -}}
{{- $suffix := printf "-verify-%s" $runId -}}
{{- $prefix := include "mlplat-storage.fullname" . | trunc (int (sub 63 (len $suffix))) | trimSuffix "-" -}}
{{- printf "%s%s" $prefix $suffix | trimSuffix "-" -}}
{{- end -}}

{{/* image reference: repository@digest when a digest is set, else repository:tag. */}}
{{- define "mlplat-storage.verifyImage" -}}
{{- $image := .Values.verify.image -}}
{{- if $image.digest -}}
{{- printf "%s@%s" $image.repository $image.digest -}}
{{- else -}}
{{- printf "%s:%s" $image.repository $image.tag -}}
{{- end -}}
{{- end -}}
