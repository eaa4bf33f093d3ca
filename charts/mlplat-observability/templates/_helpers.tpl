{{/*
Names and labels shared by every template of mlplat-observability.
*/}}

{{/* Chart name, or nameOverride; a DNS label (63 characters at most). */}}
{{- define "mlplat-observability.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Prefix of generated names: fullnameOverride, else "<release>-<name>", else just the release name
when it already contains the chart name (so `helm install mlplat-observability` gives "mlplat-observability").
*/}}
{{- define "mlplat-observability.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := include "mlplat-observability.name" . -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* "name-version" for the helm.sh/chart label. */}}
{{- define "mlplat-observability.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Namespace of every object: .Values.namespace, else the release namespace. */}}
{{- define "mlplat-observability.namespace" -}}
{{- default .Release.Namespace .Values.namespace -}}
{{- end -}}

{{/* Labels that select this release's objects (stable across upgrades). */}}
{{- define "mlplat-observability.selectorLabels" -}}
app.kubernetes.io/name: {{ include "mlplat-observability.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Labels on every object. */}}
{{- define "mlplat-observability.labels" -}}
{{ include "mlplat-observability.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: mlplat
helm.sh/chart: {{ include "mlplat-observability.chart" . }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Labels of objects Prometheus must select (PrometheusRule, PodMonitor). */}}
{{- define "mlplat-observability.prometheusLabels" -}}
{{ include "mlplat-observability.labels" . }}
{{- with .Values.prometheusSelectorLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/*
The labels block of one alert: severity, component and the additional labels from values.
Call with (dict "root" $ "severity" "warning" "component" "gpu").
*/}}
{{- define "mlplat-observability.alertLabels" -}}
severity: {{ .severity }}
component: {{ .component }}
{{- with .root.Values.alerts.additionalLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* runbook_url of an alert: "<runbookBaseUrl>/<AlertName>.md". Call with (dict "root" $ "alert" "Name"). */}}
{{- define "mlplat-observability.runbookUrl" -}}
{{- printf "%s/%s.md" (.root.Values.runbookBaseUrl | trimSuffix "/") .alert -}}
{{- end -}}

{{/* Directory where Alertmanager finds the receivers Secret's keys (alertmanagerSpec.secrets mount). */}}
{{- define "mlplat-observability.receiversDir" -}}
{{- printf "/etc/alertmanager/secrets/%s" .Values.alerting.receiversSecretName -}}
{{- end -}}

{{/* Name of the log probe Job: "log-probe-<runId>" (the schema keeps runId a short DNS label). */}}
{{- define "mlplat-observability.logProbeJobName" -}}
{{- printf "log-probe-%s" .Values.logProbe.runId -}}
{{- end -}}

{{/* image reference: repository@digest when a digest is set, else repository:tag. */}}
{{- define "mlplat-observability.logProbeImage" -}}
{{- $image := .Values.logProbe.image -}}
{{- if $image.digest -}}
{{- printf "%s@%s" $image.repository $image.digest -}}
{{- else -}}
{{- printf "%s:%s" $image.repository $image.tag -}}
{{- end -}}
{{- end -}}
