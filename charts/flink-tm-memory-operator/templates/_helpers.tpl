{{/* The chart's name, shortened to what a label value allows. */}}
{{- define "ftm.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The objects' full name: the release name, with the chart's unless it already holds it. */}}
{{- define "ftm.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Labels on every object of the release. */}}
{{- define "ftm.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "ftm.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: flink-tm-memory-operator
{{- end }}

{{/* The labels that select the operator pod. */}}
{{- define "ftm.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ftm.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "ftm.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "ftm.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The webhook Service, and the cert-manager Certificate and Secret named after it. */}}
{{- define "ftm.webhookService" -}}
{{- printf "%s-webhook" (include "ftm.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "ftm.webhookHosts" -}}
{{- $service := include "ftm.webhookService" . -}}
{{ $service }}.{{ .Release.Namespace }}.svc,{{ $service }}.{{ .Release.Namespace }}.svc.cluster.local
{{- end }}

{{- define "ftm.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* The operator writes these configurations' caBundle itself unless cert-manager injects it. */}}
{{- define "ftm.operatorManagesWebhooks" -}}
{{- if and .Values.webhook.enabled (not .Values.webhook.certManager.enabled) }}true{{ end }}
{{- end }}

{{/* The Service Prometheus scrapes the operator's metrics through. */}}
{{- define "ftm.metricsService" -}}
{{- printf "%s-metrics" (include "ftm.fullname" . | trunc 55 | trimSuffix "-") }}
{{- end }}
