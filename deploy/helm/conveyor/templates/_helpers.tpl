{{/*
The event contract, fixed by the services' code rather than configured: the Conveyor topics
(events/src/main/java/dev/conveyor/events/v1/Topics.java) and, per consuming stage, the topics it reads. Each
(topic, stage) pair has a dead-letter topic <topic>.dlq.<stage>. ChartRenderTest checks both lists against Topics.java
and every service's application.properties.
*/}}
{{- define "conveyor.topics" -}}
- conveyor.build.succeeded
- conveyor.build.failed
- conveyor.version.resolved
- conveyor.image.pushed
- conveyor.manifests.validated
- conveyor.chart.published
- conveyor.release.promoted
- conveyor.repo.synced
- conveyor.release.healthy
- conveyor.release.degraded
- conveyor.stage.failed
{{- end -}}

{{- define "conveyor.consumers" -}}
versioner:
  - conveyor.build.succeeded
image-builder:
  - conveyor.version.resolved
manifest-renderer:
  - conveyor.image.pushed
promoter:
  - conveyor.manifests.validated
flux-sync:
  - conveyor.release.promoted
notifier:
{{ include "conveyor.topics" . }}
{{- end -}}

{{/* Labels every object of the chart carries. */}}
{{- define "conveyor.labels" -}}
app.kubernetes.io/part-of: conveyor
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end -}}

{{/* Selector labels of one service; call with (dict "root" $ "name" $name). */}}
{{- define "conveyor.selectorLabels" -}}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end -}}

{{/* Name of a service's objects: <release>-<service>, or <service> when the release is called conveyor. */}}
{{- define "conveyor.fullname" -}}
{{- if eq .root.Release.Name "conveyor" -}}
{{- printf "conveyor-%s" .name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .root.Release.Name .name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* The image of a service: <registry>/conveyor-<service>:<tag><flavor suffix>. */}}
{{- define "conveyor.image" -}}
{{- $image := .root.Values.image -}}
{{- $tag := default .root.Chart.AppVersion $image.tag -}}
{{- printf "%s/conveyor-%s:%s%s" $image.registry .name $tag (index $image.tagSuffix $image.flavor) -}}
{{- end -}}

{{/* Kafka brokers the services connect to. */}}
{{- define "conveyor.bootstrapServers" -}}
{{- if .Values.kafka.enabled -}}
{{- printf "%s-kafka-bootstrap:9092" .Values.kafka.name -}}
{{- else -}}
{{- required "kafka.bootstrapServers is required when kafka.enabled=false (the brokers of your existing Kafka cluster)" .Values.kafka.bootstrapServers -}}
{{- end -}}
{{- end -}}

{{/* The Strimzi cluster KafkaTopics belong to, or empty when topics are not created here. */}}
{{- define "conveyor.topicCluster" -}}
{{- if .Values.kafka.enabled -}}
{{- .Values.kafka.name -}}
{{- else -}}
{{- .Values.kafka.existingStrimziCluster -}}
{{- end -}}
{{- end -}}

{{/*
The consumer group a stage reads a topic with (the services' application.properties; ChartRenderTest checks them):
the notifier has one group per topic, every other stage one group. Call with (dict "stage" $stage "topic" $topic).
*/}}
{{- define "conveyor.consumerGroup" -}}
{{- printf "conveyor-%s" .stage -}}
{{- end -}}

{{/*
Copies base into `into`, then every key of over (a service's override) on top, false and 0 included (sprig's merge
functions skip them). Call with (dict "into" $dict "base" $global "over" $override); renders nothing.
*/}}
{{- define "conveyor.overlay" -}}
{{- range $k, $v := .base }}
{{- $_ := set $.into $k $v }}
{{- end }}
{{- range $k, $v := (.over | default dict) }}
{{- $_ := set $.into $k $v }}
{{- end }}
{{- end -}}

{{/* "true" when some enabled service is autoscaled by KEDA, else empty. */}}
{{- define "conveyor.kedaUsed" -}}
{{- $root := . -}}
{{- range $name, $svc := .Values.services }}
{{- if and $svc.enabled $svc.autoscaling $svc.autoscaling.enabled }}
{{- if eq ($svc.autoscaling.provider | default $root.Values.autoscaling.provider) "keda" }}true{{ end }}
{{- end }}
{{- end }}
{{- end -}}
