{{/*
Names, labels and checked values shared by every template of the triton chart.
*/}}

{{/* Chart name, or nameOverride; a DNS label (63 characters at most). */}}
{{- define "triton.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Prefix of generated names: fullnameOverride, else "<release>-<name>", else just the release name
when it already contains the chart name (so `helm install triton` gives "triton").
*/}}
{{- define "triton.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := include "triton.name" . -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* "name-version" for the helm.sh/chart label. */}}
{{- define "triton.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Namespace of the namespaced objects: .Values.namespace, else the release namespace. */}}
{{- define "triton.namespace" -}}
{{- default .Release.Namespace .Values.namespace -}}
{{- end -}}

{{/* Labels that select this release's pods (stable across upgrades: the Deployment selector is immutable). */}}
{{- define "triton.selectorLabels" -}}
app.kubernetes.io/name: {{ include "triton.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Labels on every object. */}}
{{- define "triton.labels" -}}
{{ include "triton.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: mlplat
app.kubernetes.io/component: inference-server
helm.sh/chart: {{ include "triton.chart" . }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Name of the ServiceAccount the pods run as. */}}
{{- define "triton.serviceAccountName" -}}
{{- default (include "triton.fullname" .) .Values.serviceAccount.name -}}
{{- end -}}

{{/* image reference: repository@digest when a digest is set, else repository:tag. */}}
{{- define "triton.image" -}}
{{- $image := .Values.image -}}
{{- if $image.digest -}}
{{- printf "%s@%s" $image.repository $image.digest -}}
{{- else -}}
{{- printf "%s:%s" $image.repository $image.tag -}}
{{- end -}}
{{- end -}}

{{/* Names of the EFS volume objects: the claim (namespaced) and the PersistentVolume (cluster-wide, so
it carries the namespace to stay unique when several releases bind the same access point). */}}
{{- define "triton.efsClaimName" -}}
{{- printf "%s-model-cache" (include "triton.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- define "triton.efsVolumeName" -}}
{{- printf "%s-%s-model-cache" (include "triton.namespace" .) (include "triton.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Where the EFS volume is mounted in the container. */}}
{{- define "triton.efsMountPath" -}}/models{{- end -}}

{{/*
--model-repository: s3://<bucket>/<prefix> (read through the IRSA role) or the EFS mount. Fails with
instructions when a value the source needs is missing.
*/}}
{{- define "triton.modelRepository" -}}
{{- if eq .Values.modelSource "s3" -}}
{{- $bucket := required "s3.bucket is required when modelSource is s3: pass the model bucket (storage phase output model_bucket_name), e.g. --set s3.bucket=mlplat-dev-models" .Values.s3.bucket -}}
{{- $prefix := trimSuffix "/" .Values.s3.prefix -}}
{{- if $prefix -}}
{{- printf "s3://%s/%s" $bucket $prefix -}}
{{- else -}}
{{- printf "s3://%s" $bucket -}}
{{- end -}}
{{- else -}}
{{- $path := trimAll "/" .Values.efs.path -}}
{{- if $path -}}
{{- printf "%s/%s" (include "triton.efsMountPath" .) $path -}}
{{- else -}}
{{- include "triton.efsMountPath" . -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The models to load; fails on an empty list unless allowNoModels. */}}
{{- define "triton.checkModels" -}}
{{- if and (not .Values.models) (not .Values.allowNoModels) -}}
{{- fail "models is empty: Triton runs with explicit model control and would load nothing, so the smoke gate would prove nothing. List the models of the repository to serve (env file: triton.models, e.g. --set-json 'models=[\"mlp_onnx\"]'), or set allowNoModels=true to start an empty server" -}}
{{- end -}}
{{- end -}}

{{/* Checks of values that depend on each other (the schema checks each value alone). */}}
{{- define "triton.checkValues" -}}
{{- include "triton.checkModels" . -}}
{{- if eq .Values.modelSource "s3" -}}
{{- $_ := required "s3.region is required when modelSource is s3: pass the bucket's AWS region, e.g. --set s3.region=us-west-2" .Values.s3.region -}}
{{- $_ := required "serviceAccount.roleArn is required when modelSource is s3: Triton reads the bucket through the IRSA role (storage phase output triton_role_arn), e.g. --set serviceAccount.roleArn=arn:aws:iam::111111111111:role/mlplat-dev-triton" .Values.serviceAccount.roleArn -}}
{{- else -}}
{{- $_ := required "efs.fileSystemId is required when modelSource is efs: pass the EFS file system id (storage phase output efs_file_system_id)" .Values.efs.fileSystemId -}}
{{- $_ := required "efs.accessPointId is required when modelSource is efs: pass the model cache's access point (storage phase output efs_access_point_id)" .Values.efs.accessPointId -}}
{{- end -}}
{{- if and .Values.autoscaling.enabled (lt (int .Values.autoscaling.maxReplicas) (int .Values.replicas)) -}}
{{- fail (printf "autoscaling.maxReplicas (%d) is below replicas (%d): raise maxReplicas or lower replicas" (int .Values.autoscaling.maxReplicas) (int .Values.replicas)) -}}
{{- end -}}
{{- $pdb := .Values.podDisruptionBudget -}}
{{- if and $pdb.enabled (gt (int $pdb.minAvailable) 0) (ge (int $pdb.minAvailable) (int .Values.replicas)) -}}
{{- fail (printf "podDisruptionBudget.minAvailable (%d) must be lower than replicas (%d): otherwise no Triton pod may ever be evicted and node drains wait forever. Use maxUnavailable (minAvailable: 0) instead" (int $pdb.minAvailable) (int .Values.replicas)) -}}
{{- end -}}
{{- if and (eq (int .Values.rollingUpdate.maxSurge) 0) (eq (int .Values.rollingUpdate.maxUnavailable) 0) -}}
{{- fail "rollingUpdate.maxSurge and rollingUpdate.maxUnavailable cannot both be 0: an update could never replace a pod" -}}
{{- end -}}
{{- end -}}

{{/* Pod grace period: Triton's exit timeout after the preStop sleep, plus a margin for the process to exit. */}}
{{- define "triton.terminationGracePeriodSeconds" -}}
{{- add (int .Values.server.exitTimeoutSecs) (int .Values.preStopSleepSeconds) 10 -}}
{{- end -}}
