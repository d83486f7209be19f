{{/* Names ----------------------------------------------------------------------------- */}}

{{- define "faros.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* <release>-<chart>, or the release name when it already holds the chart name. */}}
{{- define "faros.fullname" -}}
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

{{/* The name of one component's objects: (dict "root" $ "component" "worker"). */}}
{{- define "faros.componentName" -}}
{{- printf "%s-%s" (include "faros.fullname" .root | trunc 50 | trimSuffix "-") .component }}
{{- end }}

{{- define "faros.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "faros.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Labels ---------------------------------------------------------------------------- */}}

{{- define "faros.selectorLabels" -}}
app.kubernetes.io/name: {{ include "faros.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- with .component }}
app.kubernetes.io/component: {{ . }}
{{- end }}
{{- end }}

{{/* Every object's labels: (dict "root" $ "component" "worker"); component may be "". */}}
{{- define "faros.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "faros.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: faros
{{- end }}

{{/* Settings -------------------------------------------------------------------------- */}}

{{- define "faros.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* Where faros watches: the namespace of faros.namespace, or the whole cluster. */}}
{{- define "faros.clustergittrackMode" -}}
{{- if .Values.faros.clustergittrackMode }}
{{- .Values.faros.clustergittrackMode }}
{{- else if .Values.faros.namespace }}
{{- "Disabled" }}
{{- else }}
{{- "IncludeNamespaced" }}
{{- end }}
{{- end }}

{{- define "faros.brokerSecretName" -}}
{{- if and (not .Values.redis.enabled) .Values.redis.external.existingSecret }}
{{- .Values.redis.external.existingSecret }}
{{- else }}
{{- printf "%s-broker" (include "faros.fullname" .) }}
{{- end }}
{{- end }}

{{- define "faros.brokerSecretKey" -}}
{{- if and (not .Values.redis.enabled) .Values.redis.external.existingSecret }}
{{- .Values.redis.external.existingSecretKey }}
{{- else }}
{{- "url" }}
{{- end }}
{{- end }}

{{- define "faros.flowerSecretName" -}}
{{- default (printf "%s-flower-auth" (include "faros.fullname" .)) .Values.flower.basicAuth.existingSecret }}
{{- end }}

{{- define "faros.knownHostsEnabled" -}}
{{- with .Values.knownHosts }}{{ if or .content .existingConfigMap .existingSecret }}true{{ end }}{{ end }}
{{- end }}

{{/* Mount points inside the faros containers. */}}
{{- define "faros.knownHostsDir" -}}/etc/faros/ssh{{- end }}
{{- define "faros.runDir" -}}/var/run/faros{{- end }}

{{/*
Refuse value combinations the schema cannot explain well; each message names the values.
*/}}
{{- define "faros.validate" -}}
{{- $v := .Values }}
{{- if and $v.faros.namespace (ne (include "faros.clustergittrackMode" .) "Disabled") }}
{{- fail (printf "faros.namespace=%q needs faros.clustergittrackMode Disabled (or empty): Cannot run with namespace %q and clustergittrack-mode enabled" $v.faros.namespace $v.faros.namespace) }}
{{- end }}
{{- if and $v.faros.namespace (eq $v.faros.gittrackMode "Disabled") }}
{{- fail (printf "faros.namespace=%q needs faros.gittrackMode Enabled: Cannot run with both a namespace and gittrack-mode disabled" $v.faros.namespace) }}
{{- end }}
{{- if and (eq $v.faros.gittrackMode "Disabled") (eq (include "faros.clustergittrackMode" .) "Disabled") }}
{{- fail "faros.gittrackMode and faros.clustergittrackMode are both Disabled: Faros would have nothing to do" }}
{{- end }}
{{- $external := or $v.redis.external.url $v.redis.external.existingSecret }}
{{- if and $v.redis.enabled $external }}
{{- fail "redis.external is set but redis.enabled is true: set redis.enabled=false to use an external Redis, or empty redis.external" }}
{{- end }}
{{- if not (or $v.redis.enabled $external) }}
{{- fail "redis.enabled is false: give redis.external.url or redis.external.existingSecret" }}
{{- end }}
{{- if and $v.redis.external.url $v.redis.external.existingSecret }}
{{- fail "give redis.external.url or redis.external.existingSecret, not both" }}
{{- end }}
{{- if gt (len (compact (list $v.knownHosts.content $v.knownHosts.existingConfigMap $v.knownHosts.existingSecret))) 1 }}
{{- fail "give one of knownHosts.content, knownHosts.existingConfigMap and knownHosts.existingSecret" }}
{{- end }}
{{- if and $v.rbac.lockDown (not $v.faros.defaultServiceAccount) }}
{{- fail "rbac.lockDown needs faros.defaultServiceAccount: GitTracks without spec.serviceAccountName must apply as some tenant account" }}
{{- end }}
{{- with $v.worker.podDisruptionBudget }}
{{- if and .enabled (include "faros.isSet" .minAvailable) (include "faros.isSet" .maxUnavailable) }}
{{- fail "worker.podDisruptionBudget: give minAvailable or maxUnavailable, not both" }}
{{- end }}
{{- end }}
{{- end }}

{{/* "true" when a value is neither null nor "" (0 counts as set). */}}
{{- define "faros.isSet" -}}
{{- if not (or (kindIs "invalid" .) (eq (toString .) "")) }}true{{ end }}
{{- end }}

{{/* Pods ------------------------------------------------------------------------------ */}}

{{/*
The flags every faros process gets from values (docs/configuration.md), one per line.
*/}}
{{- define "faros.commonArgs" -}}
{{- $f := .Values.faros -}}
- {{ printf "--metrics-bind-address=:%d" (int .Values.metrics.port) | quote }}
- {{ printf "--gittrack-mode=%s" $f.gittrackMode | quote }}
- {{ printf "--clustergittrack-mode=%s" (include "faros.clustergittrackMode" .) | quote }}
{{- with $f.namespace }}
- {{ printf "--namespace=%s" . | quote }}
{{- end }}
{{- with $f.ignoreResources }}
- {{ printf "--ignore-resource=%s" (join "," .) | quote }}
{{- end }}
- {{ printf "--server-dry-run=%t" $f.serverDryRun | quote }}
- {{ printf "--apply-strategy=%s" $f.applyStrategy | quote }}
- {{ printf "--events=%s" $f.events | quote }}
- {{ printf "--kube-api-qps=%v" $f.kubeApiQps | quote }}
- {{ printf "--kube-api-burst=%v" $f.kubeApiBurst | quote }}
- {{ printf "--sync-period=%s" $f.syncPeriod | quote }}
- {{ printf "--fetch-timeout=%s" $f.fetchTimeout | quote }}
- {{ printf "--max-file-size=%s" $f.maxFileSize | quote }}
- {{ printf "--repository-dir=%s" $f.repositoryDir | quote }}
- {{ printf "--allow-file-urls=%t" $f.allowFileUrls | quote }}
- {{ printf "--allow-http-credentials=%t" $f.allowHttpCredentials | quote }}
{{- with $f.defaultServiceAccount }}
- {{ printf "--default-service-account=%s" . | quote }}
{{- end }}
{{- with $f.eventsNamespace }}
- {{ printf "--events-namespace=%s" . | quote }}
{{- end }}
{{- with $f.maxDeletions | toString }}
- {{ printf "--max-deletions=%s" . | quote }}
{{- end }}
- {{ printf "--max-pause=%s" $f.maxPause | quote }}
{{- with $f.kubeconfig }}
- {{ printf "--kubeconfig=%s" . | quote }}
{{- end }}
{{- if include "faros.knownHostsEnabled" . }}
- {{ printf "--known-hosts=%s/%s" (include "faros.knownHostsDir" .) .Values.knownHosts.key | quote }}
{{- end }}
- {{ printf "--log-format=%s" $f.logFormat | quote }}
- {{ printf "--log-level=%s" $f.logLevel | quote }}
{{- end }}

{{/* FAROS_BROKER_URL from its Secret: every process, Flower included. */}}
{{- define "faros.brokerEnv" -}}
- name: FAROS_BROKER_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "faros.brokerSecretName" . }}
      key: {{ include "faros.brokerSecretKey" . }}
{{- end }}

{{/* Scheduling and metadata shared by every pod: (dict "root" $ "values" .Values.worker). */}}
{{- define "faros.podScheduling" -}}
{{- $root := .root }}
{{- with $root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with default $root.Values.priorityClassName .values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with default $root.Values.nodeSelector .values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with default $root.Values.tolerations .values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with default $root.Values.affinity .values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* A pod template's metadata: (dict "root" $ "component" "worker" "values" .Values.worker). */}}
{{- define "faros.podMetadata" -}}
metadata:
  labels:
    {{- include "faros.labels" . | nindent 4 }}
    {{- with merge (deepCopy (default dict .values.podLabels)) .root.Values.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- with merge (deepCopy (default dict .values.podAnnotations)) .root.Values.podAnnotations (default dict .annotations) }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}

{{/* httpGet probes on a named port: (dict "root" $ "path" "/healthz" "port" "metrics"). */}}
{{- define "faros.probes" -}}
{{- $root := .root }}
{{- range $kind := list "liveness" "readiness" }}
{{ $kind }}Probe:
  httpGet:
    path: {{ $.path }}
    port: {{ $.port }}
  {{- toYaml (get $root.Values.probes $kind) | nindent 2 }}
{{- end }}
{{- end }}

{{/*
One faros Deployment (worker, beat, watch or receiver):
(dict "root" $ "component" "worker" "args" (list ...) "env" (list ...) "replicas" 1), and
optionally "ports" (list (dict "name" "webhook" "port" 9292)) besides the metrics port and
"serviceAccountName" instead of the chart's.
*/}}
{{- define "faros.deployment" -}}
{{- $root := .root }}
{{- $values := get $root.Values .component }}
{{- $ctx := dict "root" $root "component" .component "values" $values }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "faros.componentName" $ctx }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "faros.labels" $ctx | nindent 4 }}
spec:
  {{- if not (kindIs "invalid" .replicas) }}
  replicas: {{ .replicas }}
  {{- end }}
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      {{- include "faros.selectorLabels" $ctx | nindent 6 }}
  template:
    {{- $checksums := dict "checksum/broker" (toJson $root.Values.redis.external | sha256sum) }}
    {{- include "faros.podMetadata" (merge (dict "annotations" $checksums) $ctx) | nindent 4 }}
    spec:
      serviceAccountName: {{ default (include "faros.serviceAccountName" $root) .serviceAccountName }}
      automountServiceAccountToken: true
      securityContext:
        {{- toYaml $root.Values.podSecurityContext | nindent 8 }}
      terminationGracePeriodSeconds: {{ $values.terminationGracePeriodSeconds }}
      {{- with include "faros.podScheduling" $ctx | trim }}
      {{- . | nindent 6 }}
      {{- end }}
      containers:
        - name: {{ .component }}
          image: {{ include "faros.image" $root | quote }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          args:
            - {{ .component }}
            {{- include "faros.commonArgs" $root | nindent 12 }}
            {{- range .args }}
            - {{ . | quote }}
            {{- end }}
            {{- range (concat $root.Values.extraArgs $values.extraArgs) }}
            - {{ . | quote }}
            {{- end }}
          env:
            {{- include "faros.brokerEnv" $root | nindent 12 }}
            {{- with (concat .env $root.Values.extraEnv $values.extraEnv) }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          ports:
            - name: metrics
              containerPort: {{ $root.Values.metrics.port }}
              protocol: TCP
            {{- range .ports }}
            - name: {{ .name }}
              containerPort: {{ .port }}
              protocol: TCP
            {{- end }}
          {{- include "faros.probes" (dict "root" $root "path" "/healthz" "port" "metrics") | trim | nindent 10 }}
          resources:
            {{- toYaml $values.resources | nindent 12 }}
          securityContext:
            {{- toYaml $root.Values.securityContext | nindent 12 }}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
            - name: repositories
              mountPath: {{ $root.Values.faros.repositoryDir }}
            - name: run
              mountPath: {{ include "faros.runDir" $root }}
            {{- if include "faros.knownHostsEnabled" $root }}
            - name: known-hosts
              mountPath: {{ include "faros.knownHostsDir" $root }}
              readOnly: true
            {{- end }}
            {{- with $root.Values.extraVolumeMounts }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
      volumes:
        - name: tmp
          emptyDir: {}
        - name: repositories
          emptyDir:
            {{- with $root.Values.repositoryCache.sizeLimit }}
            sizeLimit: {{ . }}
            {{- end }}
        - name: run
          emptyDir: {}
        {{- with $root.Values.knownHosts }}
        {{- if .content }}
        - name: known-hosts
          configMap:
            name: {{ printf "%s-known-hosts" (include "faros.fullname" $root) }}
        {{- else if .existingConfigMap }}
        - name: known-hosts
          configMap:
            name: {{ .existingConfigMap }}
        {{- else if .existingSecret }}
        - name: known-hosts
          secret:
            secretName: {{ .existingSecret }}
        {{- end }}
        {{- end }}
        {{- with $root.Values.extraVolumes }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
{{- end }}
