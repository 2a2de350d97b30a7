package dev.conveyor.deploy.helm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.StreamSupport;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;

import dev.conveyor.events.v1.Topics;
import dev.conveyor.manifests.domain.RenderedObject;

/**
 * The chart's scaling variants (issue 17): one replica by default with spread constraints and without budgets or
 * autoscalers; three replicas everywhere with PodDisruptionBudgets and manifest-renderer's shared redaction key; the
 * refusals (no shared key, one volume for several pods, fixed replicas beside an autoscaler); KEDA ScaledObjects
 * (validated against {@code src/test/resources/crds/keda.yaml}) and HPAs on external metrics; the service topics.
 * Every render is validated strictly, as in {@link ChartRenderTest}.
 */
class ChartScaleTest {

    static final String REDACTION_ENV = "CONVEYOR_MANIFEST_RENDERER_REDACTION_KEY";

    static Chart.Rendered defaults;

    @BeforeAll
    static void renderDefaults() {
        defaults = Chart.render(Map.of());
    }

    @Test
    void defaultsRunOneReplicaSpreadWithoutBudgetsOrAutoscalers() {
        assertThat(defaults.report().errors()).as(defaults.report().summary(50)).isEmpty();
        assertThat(defaults.ofKind("PodDisruptionBudget")).isEmpty();
        assertThat(defaults.ofKind("ScaledObject")).isEmpty();
        assertThat(defaults.ofKind("HorizontalPodAutoscaler")).isEmpty();
        for (String service : ChartRenderTest.SERVICES) {
            JsonNode deployment = defaults.get("Deployment", "conveyor-" + service).body();
            assertThat(deployment.at("/spec/replicas").asInt()).as(service).isEqualTo(1);
            assertSpread(deployment, service, "ScheduleAnyway");
            assertThat(deployment.at("/spec/template/spec/affinity").isMissingNode()).as(service).isTrue();
        }
        // One replica keeps today's optional key (or the generated one).
        assertThat(redactionRefs(defaults)).containsExactly(REDACTION_ENV
                + "=conveyor-manifest-renderer/redaction-key optional=true");
        // flux-sync holds Leases in its namespace (repository sharding, on with one replica too: a rolling update runs
        // two pods for a while), named by its pod; it deletes dead members' Leases; nothing more.
        JsonNode leases = rule(defaults.get("Role", "conveyor-flux-sync"), "leases");
        assertThat(leases.at("/apiGroups").toString()).isEqualTo("[\"coordination.k8s.io\"]");
        assertThat(leases.at("/verbs").toString()).isEqualTo(
                "[\"get\",\"list\",\"watch\",\"create\",\"update\",\"delete\"]");
        JsonNode fluxSync = defaults.get("Deployment", "conveyor-flux-sync").body()
                .at("/spec/template/spec/containers/0");
        assertThat(fluxSync.at("/env").toString()).contains(
                "{\"name\":\"CONVEYOR_FLUX_SYNC_REPLICAS_ENABLED\",\"value\":\"true\"}").contains(
                        "{\"name\":\"CONVEYOR_FLUX_SYNC_REPLICAS_IDENTITY\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"metadata.name\"}}}");
        // The gateway's run history on its data directory, one per pod.
        JsonNode gateway = defaults.get("Deployment", "conveyor-gateway").body().at("/spec/template/spec/containers/0");
        assertThat(gateway.at("/env").toString()).contains(
                "{\"name\":\"CONVEYOR_GATEWAY_HISTORY_DIR\",\"value\":\"/var/lib/conveyor/gateway/history\"}");
        assertThat(gateway.at("/volumeMounts").toString()).contains("/var/lib/conveyor/gateway");
    }

    @Test
    void threeReplicasEverywhereWithTheSharedRedactionKey(@TempDir Path dir) throws IOException {
        Chart.Rendered rendered = Chart.render(List.of(values(dir, threeReplicas())), Map.of());
        assertThat(rendered.report().errors()).as(rendered.report().summary(50)).isEmpty();
        assertThat(rendered.ofKind("PodDisruptionBudget")).hasSize(ChartRenderTest.SERVICES.size());
        for (String service : ChartRenderTest.SERVICES) {
            JsonNode deployment = rendered.get("Deployment", "conveyor-" + service).body();
            assertThat(deployment.at("/spec/replicas").asInt()).as(service).isEqualTo(3);
            assertSpread(deployment, service, "ScheduleAnyway");
            JsonNode budget = rendered.get("PodDisruptionBudget", "conveyor-" + service).body();
            assertThat(budget.at("/spec/maxUnavailable").asInt()).as(service).isEqualTo(1);
            assertThat(budget.has("minAvailable")).isFalse();
            // The budget covers exactly this service's pods.
            assertThat(budget.at("/spec/selector/matchLabels")).as(service).isEqualTo(deployment.at(
                    "/spec/selector/matchLabels"));
        }
        // Every manifest-renderer replica gets the one key, required; no second entry for the same variable.
        assertThat(redactionRefs(rendered)).containsExactly(REDACTION_ENV
                + "=conveyor-redaction/hmac-key optional=false");
        for (String service : ChartRenderTest.SERVICES) {
            if (!service.equals("manifest-renderer")) {
                assertThat(ChartRenderTest.secretRefs(rendered.get("Deployment", "conveyor-" + service)))
                        .noneMatch(r -> r.startsWith(REDACTION_ENV));
            }
        }
        // No PersistentVolumeClaim is shared by replicas.
        assertThat(rendered.ofKind("PersistentVolumeClaim")).isEmpty();
    }

    @Test
    void severalManifestRendererReplicasNeedTheSharedRedactionKey() {
        assertThatThrownBy(() -> Chart.render(Map.of("services.manifest-renderer.replicas", 2)))
                .hasMessageContaining("manifestRenderer.redactionKey.existingSecret").hasMessageContaining(
                        "2 replicas");
        // An autoscaler that may add pods needs it too.
        assertThatThrownBy(() -> Chart.render(Map.of("services.manifest-renderer.autoscaling.enabled", true)))
                .hasMessageContaining("manifestRenderer.redactionKey.existingSecret");
        Chart.Rendered one = Chart.render(Map.of("services.manifest-renderer.autoscaling.enabled", true,
                "services.manifest-renderer.autoscaling.maxReplicas", 1));
        assertThat(one.report().errors()).as(one.report().summary(50)).isEmpty();
    }

    @Test
    void oneVolumeCannotBackSeveralReplicas() {
        // The notifier's state is in Kafka: no volume by default, so it scales; a volume turned on cannot.
        assertThat(defaults.ofKind("PersistentVolumeClaim")).noneMatch(c -> c.name().equals("conveyor-notifier-data"));
        assertThatThrownBy(() -> Chart.render(Map.of("services.notifier.replicas", 2,
                "services.notifier.persistence.enabled", true))).hasMessageContaining(
                        "services.notifier.persistence.enabled")
                .hasMessageContaining("2 replicas");
        assertThatThrownBy(() -> Chart.render(Map.of("services.versioner.persistence.enabled", true,
                "services.versioner.autoscaling.enabled", true))).hasMessageContaining(
                        "services.versioner.persistence.enabled");
        Chart.Rendered rendered = Chart.render(Map.of("services.notifier.replicas", 2));
        assertThat(rendered.report().errors()).as(rendered.report().summary(50)).isEmpty();
        assertThat(rendered.get("Deployment", "conveyor-notifier").body().at("/spec/replicas").asInt()).isEqualTo(2);
    }

    @Test
    void budgetsSpreadAndAntiAffinityAreConfigurable(@TempDir Path dir) throws IOException {
        Chart.Rendered rendered = Chart.render(List.of(values(dir, threeReplicas() + """
                podDisruptionBudget:
                  minAvailable: 50%
                topologySpread:
                  whenUnsatisfiable: DoNotSchedule
                podAntiAffinity: hard
                """), values(dir.resolve("2"), """
                services:
                  promoter:
                    podDisruptionBudget:
                      enabled: false
                  versioner:
                    podAntiAffinity: soft
                    podDisruptionBudget:
                      maxUnavailable: 2
                      minAvailable: ""
                  gateway:
                    topologySpread:
                      enabled: false
                """)), Map.of());
        assertThat(rendered.report().errors()).as(rendered.report().summary(50)).isEmpty();
        assertThat(rendered.objects()).noneMatch(o -> o.kind().equals("PodDisruptionBudget") && o.name().equals(
                "conveyor-promoter"));
        JsonNode image = rendered.get("PodDisruptionBudget", "conveyor-image-builder").body();
        assertThat(image.at("/spec/minAvailable").asText()).isEqualTo("50%");
        assertThat(image.has("maxUnavailable")).isFalse();
        assertThat(rendered.get("PodDisruptionBudget", "conveyor-versioner").body().at("/spec/maxUnavailable")
                .asInt()).isEqualTo(2);
        JsonNode builder = rendered.get("Deployment", "conveyor-image-builder").body();
        assertSpread(builder, "image-builder", "DoNotSchedule");
        JsonNode hard = builder.at("/spec/template/spec/affinity/podAntiAffinity/"
                + "requiredDuringSchedulingIgnoredDuringExecution/0");
        assertThat(hard.at("/topologyKey").asText()).isEqualTo("kubernetes.io/hostname");
        assertThat(hard.at("/labelSelector/matchLabels")).isEqualTo(builder.at("/spec/selector/matchLabels"));
        JsonNode soft = rendered.get("Deployment", "conveyor-versioner").body().at(
                "/spec/template/spec/affinity/podAntiAffinity/preferredDuringSchedulingIgnoredDuringExecution/0");
        assertThat(soft.at("/weight").asInt()).isEqualTo(100);
        assertThat(soft.at("/podAffinityTerm/labelSelector/matchLabels/app.kubernetes.io~1name").asText())
                .isEqualTo("versioner");
        assertThat(rendered.get("Deployment", "conveyor-gateway").body().at(
                "/spec/template/spec/topologySpreadConstraints").isMissingNode()).isTrue();

        assertThatThrownBy(() -> Chart.render(Map.of("topologySpread.whenUnsatisfiable", "Sometimes")))
                .hasMessageContaining("whenUnsatisfiable");
        assertThatThrownBy(() -> Chart.render(Map.of("podAntiAffinity", "strict"))).hasMessageContaining(
                "podAntiAffinity");
    }

    @Test
    void kedaScalesConsumersOnTheirLag(@TempDir Path dir) throws Exception {
        Chart.Rendered rendered = Chart.render(List.of(values(dir, """
                manifestRenderer:
                  redactionKey:
                    existingSecret: conveyor-redaction
                services:
                  versioner:
                    autoscaling:
                      enabled: true
                  manifest-renderer:
                    autoscaling:
                      enabled: true
                      maxReplicas: 6
                      lagThreshold: 20
                      keda:
                        pollingInterval: 10
                  notifier:
                    persistence:
                      enabled: false
                    autoscaling:
                      enabled: true
                  flux-sync:
                    autoscaling:
                      enabled: true
                """)), Map.of());
        // The ScaledObjects are validated against KEDA's schema (metadata values must be strings).
        assertThat(rendered.report().errors()).as(rendered.report().summary(50)).isEmpty();
        assertThat(rendered.ofKind("ScaledObject")).extracting(RenderedObject::name).containsExactlyInAnyOrder(
                "conveyor-versioner", "conveyor-manifest-renderer", "conveyor-notifier", "conveyor-flux-sync");
        assertThat(rendered.ofKind("HorizontalPodAutoscaler")).isEmpty();

        JsonNode versioner = rendered.get("ScaledObject", "conveyor-versioner").body();
        assertThat(versioner.at("/spec/scaleTargetRef/name").asText()).isEqualTo("conveyor-versioner");
        assertThat(versioner.at("/spec/scaleTargetRef/kind").asText()).isEqualTo("Deployment");
        assertThat(versioner.at("/spec/minReplicaCount").asInt()).isEqualTo(1);
        assertThat(versioner.at("/spec/maxReplicaCount").asInt()).isEqualTo(3);
        assertThat(versioner.at("/spec/triggers")).hasSize(1);
        JsonNode trigger = versioner.at("/spec/triggers/0");
        assertThat(trigger.at("/type").asText()).isEqualTo("kafka");
        assertThat(trigger.at("/metadata/bootstrapServers").asText()).isEqualTo("conveyor-kafka-bootstrap:9092");
        assertThat(trigger.at("/metadata/consumerGroup").asText()).isEqualTo("conveyor-versioner");
        assertThat(trigger.at("/metadata/topic").asText()).isEqualTo(Topics.BUILD_SUCCEEDED);
        assertThat(trigger.at("/metadata/lagThreshold").asText()).isEqualTo("50");
        JsonNode renderer = rendered.get("ScaledObject", "conveyor-manifest-renderer").body();
        assertThat(renderer.at("/spec/maxReplicaCount").asInt()).isEqualTo(6);
        assertThat(renderer.at("/spec/triggers/0/metadata/lagThreshold").asText()).isEqualTo("20");
        // A service's KEDA settings override the shared ones key by key.
        assertThat(renderer.at("/spec/pollingInterval").asInt()).isEqualTo(10);
        assertThat(renderer.at("/spec/cooldownPeriod").asInt()).isEqualTo(300);
        // The notifier reads every topic in one group: one trigger per topic, all naming that group.
        assertThat(rendered.get("ScaledObject", "conveyor-notifier").body().at("/spec/triggers")).hasSize(
                ChartRenderTest.topics().size());

        // The autoscaler owns the replica count; budgets exist because there may be several pods.
        for (String service : List.of("versioner", "manifest-renderer", "notifier", "flux-sync")) {
            assertThat(rendered.get("Deployment", "conveyor-" + service).body().at("/spec/replicas").isMissingNode())
                    .as(service).isTrue();
            rendered.get("PodDisruptionBudget", "conveyor-" + service);
        }
        assertThat(rendered.get("Deployment", "conveyor-promoter").body().at("/spec/replicas").asInt()).isEqualTo(1);
        // KEDA's operator may read the lag from the brokers.
        assertThat(rendered.get("NetworkPolicy", "conveyor-kafka").body().at("/spec/ingress").toString()).contains(
                "\"kubernetes.io/metadata.name\":\"keda\"");
        assertThat(defaults.get("NetworkPolicy", "conveyor-kafka").body().at("/spec/ingress").toString())
                .doesNotContain("keda");
    }

    @Test
    void autoscalingRefusesWhatCannotWork() {
        assertThatThrownBy(() -> Chart.render(Map.of("services.versioner.replicas", 2,
                "services.versioner.autoscaling.enabled", true))).hasMessageContaining("services.versioner.replicas")
                .hasMessageContaining("services.versioner.autoscaling.enabled");
        assertThatThrownBy(() -> Chart.render(Map.of("services.gateway.autoscaling.enabled", true)))
                .hasMessageContaining("services.gateway.autoscaling.enabled").hasMessageContaining("consumer group");
        assertThatThrownBy(() -> Chart.render(Map.of("services.promoter.autoscaling.enabled", true,
                "services.promoter.autoscaling.minReplicas", 4))).hasMessageContaining("services.promoter.autoscaling")
                .hasMessageContaining("minReplicas");
        assertThatThrownBy(() -> Chart.render(Map.of("services.promoter.autoscaling.enabled", true,
                "services.promoter.autoscaling.minReplicas", 0))).hasMessageContaining("minReplicas");
    }

    @Test
    void anHpaOnTheExternalLagMetricInstead() {
        Chart.Rendered rendered = Chart.render(Map.of("autoscaling.provider", "hpa",
                "services.promoter.autoscaling.enabled", true));
        assertThat(rendered.report().errors()).as(rendered.report().summary(50)).isEmpty();
        assertThat(rendered.ofKind("ScaledObject")).isEmpty();
        JsonNode hpa = rendered.get("HorizontalPodAutoscaler", "conveyor-promoter").body();
        assertThat(hpa.at("/apiVersion").asText()).isEqualTo("autoscaling/v2");
        assertThat(hpa.at("/spec/scaleTargetRef/name").asText()).isEqualTo("conveyor-promoter");
        assertThat(hpa.at("/spec/minReplicas").asInt()).isEqualTo(1);
        assertThat(hpa.at("/spec/maxReplicas").asInt()).isEqualTo(3);
        JsonNode metric = hpa.at("/spec/metrics/0/external");
        assertThat(metric.at("/metric/name").asText()).isEqualTo("kafka_consumergroup_lag");
        assertThat(metric.at("/metric/selector/matchLabels/consumergroup").asText()).isEqualTo("conveyor-promoter");
        assertThat(metric.at("/metric/selector/matchLabels/topic").asText()).isEqualTo(Topics.MANIFESTS_VALIDATED);
        assertThat(metric.at("/target/type").asText()).isEqualTo("AverageValue");
        assertThat(metric.at("/target/averageValue").asText()).isEqualTo("50");
        assertThat(rendered.get("Deployment", "conveyor-promoter").body().at("/spec/replicas").isMissingNode())
                .isTrue();
        assertThat(rendered.get("NetworkPolicy", "conveyor-kafka").body().at("/spec/ingress").toString())
                .doesNotContain("keda");
    }

    @Test
    void autoscalersReadTheConsumerGroupsTheServicesUse() throws Exception {
        Map<String, Object> sets = new java.util.LinkedHashMap<>();
        for (String service : ChartRenderTest.SERVICES) {
            if (!service.equals("gateway")) {
                sets.put("services." + service + ".autoscaling.enabled", true);
                sets.put("services." + service + ".autoscaling.maxReplicas", 1);
            }
        }
        Chart.Rendered rendered = Chart.render(sets);
        assertThat(rendered.report().errors()).as(rendered.report().summary(50)).isEmpty();
        int triggers = 0;
        for (RenderedObject scaler : rendered.ofKind("ScaledObject")) {
            String service = scaler.body().at("/metadata/labels/app.kubernetes.io~1name").asText();
            String properties = Files.readString(ChartRenderTest.properties(service));
            for (JsonNode trigger : scaler.body().at("/spec/triggers")) {
                // The notifier consumes every topic with one consumer of its own (notifier/README.md, "Replicas").
                String key = service.equals("notifier")
                        ? "conveyor.notifier.state.group-id"
                        : "mp.messaging.incoming.\"" + trigger.at("/metadata/topic").asText() + "\".group.id";
                assertThat(properties).as(service).contains(key + "=" + trigger.at("/metadata/consumerGroup")
                        .asText() + "\n");
                triggers++;
            }
        }
        // versioner, image-builder, manifest-renderer, promoter and flux-sync read one topic, the notifier all.
        assertThat(triggers).isEqualTo(5 + ChartRenderTest.topics().size());
    }

    @Test
    void serviceTopicsAreCreatedFromOnePlace(@TempDir Path dir) throws IOException {
        JsonNode state = defaults.get("KafkaTopic", "conveyor.notifier.state").body();
        assertThat(state.at("/spec/config/cleanup.policy").asText()).isEqualTo("compact");
        assertThat(state.at("/spec/config/retention.ms").isMissingNode()).isTrue();
        // As many partitions as the event topics: partition p holds the state of partition p's runs.
        assertThat(state.at("/spec/partitions").asInt()).isEqualTo(3);
        assertThat(Chart.render(Map.of("kafka.topics.partitions", 8)).get("KafkaTopic", "conveyor.notifier.state")
                .body().at("/spec/partitions").asInt()).isEqualTo(8);
        assertThat(state.at("/spec/replicas").asInt()).isEqualTo(3);
        JsonNode runs = defaults.get("KafkaTopic", "conveyor.gateway.runs").body();
        assertThat(runs.at("/spec/config/cleanup.policy").asText()).isEqualTo("compact");
        assertThat(runs.at("/spec/config/retention.ms").isMissingNode()).isTrue();
        // a run's snapshot may reach 8 MiB (gateway/README.md, "Run history")
        assertThat(runs.at("/spec/config/max.message.bytes").asLong()).isEqualTo(8_389_632L);
        assertThat(defaults.get("ConfigMap", "conveyor-gateway-config").body().at("/data/application.properties")
                .asText()).contains("conveyor.gateway.history.topic=conveyor.gateway.runs");
        // The notifier is told the topic's name (the property it reads, notifier/README.md).
        assertThat(defaults.get("ConfigMap", "conveyor-notifier-config").body().at("/data/application.properties")
                .asText()).contains("conveyor.notifier.state.topic=conveyor.notifier.state");

        Chart.Rendered rendered = Chart.render(List.of(values(dir, """
                kafka:
                  serviceTopics:
                    notifier-state:
                      topicName: conveyor.notifier.deliveries
                      configKey: conveyor.notifier.state-topic
                      partitions: 12
                      config:
                        min.compaction.lag.ms: 60000
                """)), Map.of());
        assertThat(rendered.report().errors()).as(rendered.report().summary(50)).isEmpty();
        JsonNode renamed = rendered.get("KafkaTopic", "conveyor.notifier.deliveries").body();
        assertThat(renamed.at("/spec/partitions").asInt()).isEqualTo(12);
        assertThat(renamed.at("/spec/config/min.compaction.lag.ms").asLong()).isEqualTo(60_000L);
        assertThat(rendered.ofKind("KafkaTopic")).noneMatch(t -> t.name().equals("conveyor.notifier.state"));
        assertThat(rendered.get("ConfigMap", "conveyor-notifier-config").body().at("/data/application.properties")
                .asText()).contains("conveyor.notifier.state-topic=conveyor.notifier.deliveries");
        // Partitions of an event topic come from kafka.topics (overrides per topic), as before.
        Chart.Rendered partitions = Chart.render(Map.of("kafka.topics.overrides.conveyor\\.image\\.pushed.partitions",
                12));
        assertThat(partitions.get("KafkaTopic", Topics.IMAGE_PUSHED).body().at("/spec/partitions").asInt())
                .isEqualTo(12);
    }

    // --- helpers

    static String threeReplicas() {
        StringBuilder values = new StringBuilder("""
                manifestRenderer:
                  redactionKey:
                    existingSecret: conveyor-redaction
                    key: hmac-key
                services:
                """);
        for (String service : ChartRenderTest.SERVICES) {
            values.append("  ").append(service).append(":\n    replicas: 3\n");
            if (service.equals("notifier")) {
                values.append("    persistence:\n      enabled: false\n");
            }
        }
        return values.toString();
    }

    static Path values(Path dir, String yaml) throws IOException {
        Files.createDirectories(dir);
        Path file = dir.resolve("values.yaml");
        Files.writeString(file, yaml);
        return file;
    }

    static void assertSpread(JsonNode deployment, String service, String whenUnsatisfiable) {
        JsonNode spread = deployment.at("/spec/template/spec/topologySpreadConstraints");
        assertThat(spread).as(service).hasSize(1);
        assertThat(spread.at("/0/topologyKey").asText()).isEqualTo("kubernetes.io/hostname");
        assertThat(spread.at("/0/maxSkew").asInt()).isEqualTo(1);
        assertThat(spread.at("/0/whenUnsatisfiable").asText()).isEqualTo(whenUnsatisfiable);
        assertThat(spread.at("/0/labelSelector/matchLabels")).isEqualTo(deployment.at("/spec/selector/matchLabels"));
        assertThat(spread.at("/0/matchLabelKeys").toString()).isEqualTo("[\"pod-template-hash\"]");
    }

    /** manifest-renderer's redaction key variables: {@code NAME=secret/key optional=…}. */
    static List<String> redactionRefs(Chart.Rendered rendered) {
        List<String> refs = new ArrayList<>();
        for (JsonNode e : rendered.get("Deployment", "conveyor-manifest-renderer").body().at(
                "/spec/template/spec/containers/0/env")) {
            if (e.path("name").asText().equals(REDACTION_ENV)) {
                JsonNode ref = e.at("/valueFrom/secretKeyRef");
                refs.add(REDACTION_ENV + "=" + ref.path("name").asText() + "/" + ref.path("key").asText()
                        + " optional=" + ref.path("optional").asBoolean());
            }
        }
        return refs;
    }

    static JsonNode rule(RenderedObject role, String resource) {
        return StreamSupport.stream(role.body().at("/rules").spliterator(), false).filter(r -> r.at("/resources")
                .toString().contains("\"" + resource + "\"")).findFirst().orElseThrow(() -> new AssertionError(
                        "no rule for " + resource + " in " + role.body().at("/rules")));
    }
}
