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

{{/* The image by digest when one is given (what was built and scanned), else by tag. */}}
{{- define "ftm.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* The operator writes these configurations' caBundle itself unless cert-manager injects it. */}}
{{- define "ftm.operatorManagesWebhooks" -}}
{{- if and .Values.webhook.enabled (not .Values.webhook.certManager.enabled) }}true{{ end }}
{{- end }}

{{/* The Service Prometheus scrapes the operator's metrics through. */}}
{{- define "ftm.metricsService" -}}
{{- printf "%s-metrics" (include "ftm.fullname" . | trunc 55 | trimSuffix "-") }}
{{- end }}

{{/*
Why the webhook configuration `live` (what `lookup` found, dict "live" ... "root" $) cannot become
this release's, or nothing. The name is fixed, so one left by a development operator or applied by
hand would stop the install with Helm's bare ownership error; adopting it instead (--take-ownership)
would merge the chart's Service into its url, which the API server refuses.
*/}}
{{- define "ftm.foreignWebhookConfiguration" -}}
{{- $live := .live }}
{{- $root := .root }}
{{- if $live }}
{{- $annotations := default dict $live.metadata.annotations }}
{{- $release := get $annotations "meta.helm.sh/release-name" }}
{{- $namespace := get $annotations "meta.helm.sh/release-namespace" }}
{{- if not (and (eq $release $root.Release.Name) (eq $namespace $root.Release.Namespace)) }}
{{- $delete := printf "kubectl delete validatingwebhookconfiguration,mutatingwebhookconfiguration %s" $live.metadata.name }}
{{- if $release }}
{{- printf "%s %s belongs to the Helm release %s in namespace %s: one operator per cluster serves these webhooks. Uninstall that release, or install this one with --set webhook.enabled=false." $live.kind $live.metadata.name $release $namespace }}
{{- else }}
{{- printf "%s %s is already in the cluster and is not Helm's: a development operator made it (flink-tm-memory run --webhook-manage-configurations) or it was applied with kubectl (manifests/webhooks/, manifests/install.yaml). With no operator behind it, it refuses every FlinkTaskManagerMemory change. Stop that operator, delete both configurations and install again: %s" $live.kind $live.metadata.name $delete }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
