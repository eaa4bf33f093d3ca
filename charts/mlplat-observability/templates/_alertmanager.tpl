{{/*
alertmanager.yaml, the whole Alertmanager configuration (put into a Secret by alertmanager-config.yaml).

Receivers exist only for what is configured: "slack" when alerting.slackChannel is set, "pagerduty"
when alerting.pagerduty is true, "webhook" when alerting.webhookUrl is set; "null" always. Text
between {{` and `}} is an Alertmanager (Go) template, evaluated by Alertmanager per notification.
*/}}
{{- define "mlplat-observability.alertmanagerYaml" -}}
{{- $a := .Values.alerting -}}
{{- $dir := include "mlplat-observability.receiversDir" . -}}
{{- $slack := ne $a.slackChannel "" -}}
{{- $title := ternary (printf "[%s] " .Values.cluster) `{{ with .CommonLabels.cluster }}[{{ . }}] {{ end }}` (ne .Values.cluster "") -}}
{{- $critical := list -}}
{{- if $a.pagerduty }}{{ $critical = append $critical "pagerduty" }}{{ end -}}
{{- if $slack }}{{ $critical = append $critical "slack" }}{{ end -}}
{{- if not $critical }}{{ $critical = list "null" }}{{ end -}}
{{- $same := "[alertname, cluster, namespace, node, Hostname, gpu, pod, container, model, version, persistentvolumeclaim, job, instance]" -}}
global:
  resolve_timeout: {{ $a.resolveTimeout }}
route:
  receiver: "null"
  # "cluster" is Prometheus's external label: one env's alerts never merge with another's.
  group_by: [alertname, namespace, cluster]
  group_wait: {{ $a.groupWait }}
  group_interval: {{ $a.groupInterval }}
  repeat_interval: {{ $a.repeatInterval }}
  routes:
    # kube-prometheus-stack's always-firing heartbeat and its info-silencing helper alert: no one acts on them.
    - receiver: "null"
      matchers: ['alertname = "Watchdog"']
    - receiver: "null"
      matchers: ['alertname = "InfoInhibitor"']
    {{- if $a.webhookUrl }}
    # Every other alert, whatever its severity, also goes to the webhook.
    - receiver: webhook
      continue: true
    {{- end }}
    {{- range $i, $receiver := $critical }}
    - receiver: {{ $receiver | quote }}
      matchers: ['severity = "critical"']
      {{- if lt (add1 $i) (len $critical) }}
      continue: true
      {{- end }}
    {{- end }}
    - receiver: {{ ternary "slack" "null" $slack | quote }}
      matchers: ['severity = "warning"']
    - receiver: "null"
      matchers: ['severity = "info"']
inhibit_rules:
  # A critical alert silences the warning (and info) alert of the same name about the same object;
  # labels missing on both sides count as equal, so the list names every identifying label in use.
  - source_matchers: ['severity = "critical"']
    target_matchers: ['severity =~ "warning|info"']
    equal: {{ $same }}
  - source_matchers: ['severity = "warning"']
    target_matchers: ['severity = "info"']
    equal: {{ $same }}
  # kube-prometheus-stack's InfoInhibitor fires while info alerts exist in a namespace without
  # warnings or criticals, to keep them quiet.
  - source_matchers: ['alertname = "InfoInhibitor"']
    target_matchers: ['severity = "info"']
    equal: [namespace]
receivers:
  - name: "null"
  {{- if $slack }}
  - name: slack
    slack_configs:
      - api_url_file: {{ $dir }}/slack_api_url
        channel: {{ $a.slackChannel | quote }}
        send_resolved: {{ $a.sendResolved }}
        color: '{{`{{ if eq .Status "firing" }}{{ if eq .CommonLabels.severity "critical" }}danger{{ else }}warning{{ end }}{{ else }}good{{ end }}`}}'
        title: '{{ $title }}{{`[{{ .Status | toUpper }}{{ if eq .Status "firing" }}:{{ .Alerts.Firing | len }}{{ end }}] {{ .CommonLabels.alertname }} ({{ .CommonLabels.severity }})`}}'
        title_link: '{{`{{ .CommonAnnotations.runbook_url }}`}}'
        text: |-
          {{`{{ range .Alerts }}*{{ .Annotations.summary }}*: {{ .Annotations.description }}
          {{ end }}Runbook: {{ .CommonAnnotations.runbook_url }}`}}
  {{- end }}
  {{- if $a.pagerduty }}
  - name: pagerduty
    pagerduty_configs:
      - routing_key_file: {{ $dir }}/pagerduty_routing_key
        send_resolved: {{ $a.sendResolved }}
        severity: critical
        client: mlplat Alertmanager
        description: '{{ $title }}{{`{{ .CommonLabels.alertname }}: {{ .CommonAnnotations.summary }}`}}'
        # Added to Alertmanager's default details (firing, resolved, num_firing, num_resolved).
        details:
          runbook_url: '{{`{{ .CommonAnnotations.runbook_url }}`}}'
          {{- with .Values.cluster }}
          cluster: {{ . | quote }}
          {{- end }}
  {{- end }}
  {{- if $a.webhookUrl }}
  - name: webhook
    webhook_configs:
      - url: {{ $a.webhookUrl | quote }}
        send_resolved: {{ $a.sendResolved }}
  {{- end }}
{{- end -}}
