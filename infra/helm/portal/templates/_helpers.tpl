{{/* Names and labels shared by every object of the release. */}}
{{- define "portal.fullname" -}}
{{ .Release.Name }}-portal
{{- end -}}

{{- define "portal.labels" -}}
app.kubernetes.io/name: portal
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "portal.secretName" -}}
{{- if .Values.existingSecret -}}
{{ .Values.existingSecret }}
{{- else -}}
{{ include "portal.fullname" . }}
{{- end -}}
{{- end -}}
