package dev.conveyor.deploy.helm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.StreamSupport;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;

import dev.conveyor.events.v1.Topics;
import dev.conveyor.manifests.domain.RenderedObject;

/**
 * Renders the platform chart with default values and variants, validates every object with manifest-renderer's
 * validator, and checks what the chart promises: a Deployment, Service, ServiceAccount and ServiceMonitor per service,
 * a KafkaTopic per Conveyor topic and per dead-letter topic the services really use, no inlined secret, flux-sync's
 * RBAC, the NetworkPolicies, and clear refusals of bad values.
 */
class ChartRenderTest {

    static final List<String> SERVICES = List.of("gateway", "versioner", "image-builder", "manifest-renderer",
            "promoter", "notifier", "flux-sync");
    static final Pattern SECRET_NAME = Pattern.compile("(?i)token|password|secret|webhook[-_]url|private[-_]key");

    static Chart.Rendered defaults;

    @BeforeAll
    static void renderDefaults() throws IOException {
        defaults = Chart.render(Map.of());
        // For people reading what the chart makes.
        Files.writeString(Path.of("target/conveyor-default.yaml"), defaults.output());
    }

    @Test
    void defaultValuesRenderValidObjects() {
        assertThat(defaults.report().errors()).as(defaults.report().summary(100)).isEmpty();
        assertThat(defaults.objects()).hasSizeGreaterThan(60);
        assertThat(defaults.objects())
                .allSatisfy(o -> assertThat(o.body().at("/metadata/labels/app.kubernetes.io~1part-of")
                        .asText()).as(o.kind() + " " + o.name()).isEqualTo("conveyor"));
    }

    @Test
    void helmLintIsClean() {
        LintResult lint = new Helm(Chart.DIR).lint().strict().call();
        List<String> messages = lint.getMessages() == null ? List.of() : lint.getMessages();
        assertThat(lint.isFailed()).as(String.join("\n", messages)).isFalse();
        assertThat(messages).noneMatch(m -> m.startsWith("[WARNING]") || m.startsWith("[ERROR]"));
    }

    @Test
    void everyServiceHasItsObjects() {
        for (String service : SERVICES) {
            String name = "conveyor-" + service;
            RenderedObject deployment = defaults.get("Deployment", name);
            defaults.get("Service", name);
            defaults.get("ServiceAccount", name);
            RenderedObject monitor = defaults.get("ServiceMonitor", name);
            JsonNode pod = deployment.body().at("/spec/template/spec");
            JsonNode container = pod.at("/containers/0");
            assertThat(container.at("/image").asText()).isEqualTo("docker.io/conveyor/conveyor-" + service
                    + ":0.1.0");
            assertThat(container.at("/livenessProbe/httpGet/path").asText()).isEqualTo("/q/health/live");
            assertThat(container.at("/readinessProbe/httpGet/path").asText()).isEqualTo("/q/health/ready");
            assertThat(container.at("/securityContext/readOnlyRootFilesystem").asBoolean()).isTrue();
            assertThat(container.at("/securityContext/allowPrivilegeEscalation").asBoolean(true)).isFalse();
            assertThat(pod.at("/securityContext/runAsNonRoot").asBoolean()).isTrue();
            assertThat(container.at("/resources/limits/memory").asText()).isEqualTo("768Mi");
            assertThat(env(container)).containsEntry("KAFKA_BOOTSTRAP_SERVERS", "conveyor-kafka-bootstrap:9092")
                    .containsKey("JAVA_TOOL_OPTIONS");
            assertThat(mounts(container)).contains("/tmp");
            assertThat(monitor.body().at("/spec/endpoints/0/path").asText()).isEqualTo("/q/metrics");
            assertThat(monitor.body().at("/spec/selector/matchLabels/app.kubernetes.io~1name").asText())
                    .isEqualTo(service);
            // Only flux-sync talks to the API server.
            assertThat(pod.at("/automountServiceAccountToken").asBoolean()).isEqualTo(service.equals("flux-sync"));
        }
        // The ports the services listen on (their application.properties) are the ports the chart exposes.
        for (String service : SERVICES) {
            String port = property(service, "quarkus.http.port");
            assertThat(defaults.get("Service", "conveyor-" + service).body().at("/spec/ports/0/port").asText())
                    .as(service).isEqualTo(port);
        }
        // Data directories are writable volumes at the services' default paths.
        assertThat(mounts(defaults.get("Deployment", "conveyor-versioner").body().at(
                "/spec/template/spec/containers/0"))).contains("/var/lib/conveyor/versioner");
        assertThat(mounts(defaults.get("Deployment", "conveyor-notifier").body().at(
                "/spec/template/spec/containers/0"))).contains("/var/lib/conveyor/notifier");
    }

    @Test
    void everyTopicAndDeadLetterTopicHasAKafkaTopic() throws Exception {
        Set<String> rendered = defaults.ofKind("KafkaTopic").stream().map(o -> o.body().at("/spec/topicName")
                .asText()).collect(Collectors.toCollection(TreeSet::new));
        Set<String> expected = new TreeSet<>(topics());
        expected.addAll(deadLetterTopics());
        assertThat(expected).hasSizeGreaterThanOrEqualTo(11 + 16);
        // The services' state and coordination topics (kafka.serviceTopics; ChartScaleTest).
        expected.addAll(List.of("conveyor.notifier.state", "conveyor.gateway.runs"));
        assertThat(rendered).isEqualTo(expected);
        RenderedObject topic = defaults.get("KafkaTopic", Topics.IMAGE_PUSHED);
        assertThat(topic.body().at("/metadata/labels/strimzi.io~1cluster").asText()).isEqualTo("conveyor");
        assertThat(topic.body().at("/spec/partitions").asInt()).isEqualTo(3);
        assertThat(topic.body().at("/spec/config/retention.ms").asLong()).isEqualTo(1_209_600_000L);
        RenderedObject dlq = defaults.get("KafkaTopic", "conveyor.image.pushed.dlq.manifest-renderer");
        assertThat(dlq.body().at("/spec/config/retention.ms").asLong()).isEqualTo(2_592_000_000L);
        assertThat(dlq.body().at("/spec/partitions").asInt()).isEqualTo(1);

        RenderedObject kafka = defaults.get("Kafka", "conveyor");
        assertThat(kafka.body().at("/metadata/annotations/strimzi.io~1kraft").asText()).isEqualTo("enabled");
        assertThat(kafka.body().at("/metadata/annotations/strimzi.io~1node-pools").asText()).isEqualTo("enabled");
        RenderedObject pool = defaults.get("KafkaNodePool", "conveyor-nodes");
        assertThat(pool.body().at("/metadata/labels/strimzi.io~1cluster").asText()).isEqualTo("conveyor");
        assertThat(pool.body().at("/spec/roles").toString()).isEqualTo("[\"controller\",\"broker\"]");
    }

    @Test
    void topicPartitionsAndRetentionComeFromValues(@TempDir Path dir) throws IOException {
        Path values = dir.resolve("values.yaml");
        Files.writeString(values, """
                kafka:
                  topics:
                    partitions: 6
                    retentionMs: 86400000
                    overrides:
                      conveyor.stage.failed:
                        partitions: 1
                        retentionMs: 2592000000
                """);
        Chart.Rendered rendered = Chart.render(List.of(values), Map.of());
        assertThat(rendered.report().errors()).as(rendered.report().summary(50)).isEmpty();
        assertThat(rendered.get("KafkaTopic", Topics.BUILD_SUCCEEDED).body().at("/spec/partitions").asInt())
                .isEqualTo(6);
        assertThat(rendered.get("KafkaTopic", Topics.BUILD_SUCCEEDED).body().at("/spec/config/retention.ms")
                .asLong()).isEqualTo(86_400_000L);
        assertThat(rendered.get("KafkaTopic", Topics.STAGE_FAILED).body().at("/spec/partitions").asInt())
                .isEqualTo(1);
        assertThat(rendered.get("KafkaTopic", Topics.STAGE_FAILED).body().at("/spec/config/retention.ms")
                .asLong()).isEqualTo(2_592_000_000L);
    }

    @Test
    void noSecretValueIsInlined() {
        assertThat(defaults.ofKind("Secret")).isEmpty();
        for (RenderedObject deployment : defaults.ofKind("Deployment")) {
            for (JsonNode env : deployment.body().at("/spec/template/spec/containers/0/env")) {
                if (SECRET_NAME.matcher(env.path("name").asText()).find() && !env.path("name").asText().endsWith(
                        "_KEY") && !env.path("name").asText().contains("SSH")) {
                    assertThat(env.has("value")).as(deployment.name() + " " + env).isFalse();
                    assertThat(env.at("/valueFrom/secretKeyRef/name").asText()).isNotEmpty();
                }
            }
        }
        assertThat(env(defaults.get("Deployment", "conveyor-notifier").body().at("/spec/template/spec/containers/0")))
                .doesNotContainKeys("CONVEYOR_NOTIFIER_SLACK_TOKEN");
        assertThat(secretRefs(defaults.get("Deployment", "conveyor-notifier"))).contains(
                "CONVEYOR_NOTIFIER_SLACK_TOKEN=conveyor-notifier/slack-token",
                "CONVEYOR_NOTIFIER_GITHUB_TOKEN=conveyor-notifier/github-token");
        assertThat(secretRefs(defaults.get("Deployment", "conveyor-gateway"))).contains(
                "CONVEYOR_GATEWAY_HOOK_TOKEN=conveyor-gateway/hook-token",
                "CONVEYOR_GATEWAY_HOOK_SECRET=conveyor-gateway/hook-secret",
                "CONVEYOR_GATEWAY_AUTH_TOKENS=conveyor-gateway/auth-tokens");
    }

    @Test
    void secretsAreReferencedByNameAndConfigOnlyHoldsReferences(@TempDir Path dir) throws IOException {
        Path values = dir.resolve("values.yaml");
        Files.writeString(values, """
                git:
                  ssh:
                    secretName: conveyor-git-ssh
                  https:
                    secretName: conveyor-git-https
                services:
                  image-builder:
                    config:
                      conveyor.image-builder.namespace: team
                      conveyor.image-builder.registries."ghcr.io".password: ${REGISTRY_PASSWORD}
                    secretEnv:
                      - name: REGISTRY_PASSWORD
                        secretName: conveyor-registry
                        key: password
                """);
        Chart.Rendered rendered = Chart.render(List.of(values), Map.of());
        assertThat(rendered.report().errors()).as(rendered.report().summary(50)).isEmpty();
        RenderedObject builder = rendered.get("Deployment", "conveyor-image-builder");
        assertThat(secretRefs(builder)).contains("REGISTRY_PASSWORD=conveyor-registry/password",
                "CONVEYOR_GIT_HTTPS_TOKEN=conveyor-git-https/token");
        JsonNode container = builder.body().at("/spec/template/spec/containers/0");
        assertThat(env(container)).containsEntry("CONVEYOR_GIT_SSH_PRIVATE_KEY", "/etc/conveyor/git/identity");
        assertThat(mounts(container)).contains("/etc/conveyor/git");
        String properties = rendered.get("ConfigMap", "conveyor-image-builder-config").body().at(
                "/data/application.properties").asText();
        assertThat(properties).contains("conveyor.image-builder.namespace=team",
                "conveyor.image-builder.registries.\"ghcr.io\".password=${REGISTRY_PASSWORD}");
        // The gateway does not use git: no credentials there.
        assertThat(secretRefs(rendered.get("Deployment", "conveyor-gateway"))).noneMatch(r -> r.contains("git"));

        Path inlined = dir.resolve("inlined.yaml");
        Files.writeString(inlined, """
                services:
                  notifier:
                    config:
                      conveyor.notifier.slack.token: xoxb-not-a-reference
                """);
        // Refused, naming the key and never echoing the value.
        assertThatThrownBy(() -> Chart.render(List.of(inlined), Map.of())).hasMessageContaining(
                "conveyor.notifier.slack.token").hasMessageContaining("secretEnv").hasMessageNotContaining(
                        "xoxb-not-a-reference");
    }

    @Test
    void fluxSyncRbacIsScopedToItsNeeds() {
        RenderedObject clusterRole = defaults.get("ClusterRole", "conveyor-flux-sync-conveyor");
        // every release group flux-sync reads, helm-operator 0.x's flux.weave.works included
        String releaseGroups = "[\"helm.integrations.flux.weave.works\",\"helm.fluxcd.io\",\"flux.weave.works\","
                + "\"helm.toolkit.fluxcd.io\"]";
        assertThat(clusterRole.body().at("/rules").toString()).contains("deployments", "helmreleases/status",
                "fluxhelmreleases", releaseGroups).doesNotContain("\"*\"");
        RenderedObject binding = defaults.get("ClusterRoleBinding", "conveyor-flux-sync-conveyor");
        assertThat(binding.body().at("/subjects/0/name").asText()).isEqualTo("conveyor-flux-sync");
        assertThat(binding.body().at("/roleRef/name").asText()).isEqualTo(clusterRole.name());
        RenderedObject role = defaults.get("Role", "conveyor-flux-sync");
        String rules = role.body().at("/rules").toString();
        assertThat(rules).contains("configmaps", "events", "flux-sync-identity", "helmreleases/status",
                releaseGroups);
        defaults.get("RoleBinding", "conveyor-flux-sync");
        assertThat(env(defaults.get("Deployment", "conveyor-flux-sync").body().at(
                "/spec/template/spec/containers/0"))).containsEntry("CONVEYOR_FLUX_SYNC_NAMESPACE", "conveyor");
        // The identity Secret name the Role allows is the one flux-sync uses.
        assertThat(property("flux-sync", "conveyor.flux-sync.identity.secret-name")).isEqualTo(
                "flux-sync-identity");

        Chart.Rendered extra = Chart.render(Map.of("fluxSync.rbac.extraClusterRules[0].apiGroups[0]", "cert-manager.io",
                "fluxSync.rbac.extraClusterRules[0].resources[0]", "certificates",
                "fluxSync.rbac.extraClusterRules[0].verbs[0]", "get"));
        assertThat(extra.report().errors()).as(extra.report().summary(50)).isEmpty();
        assertThat(extra.get("ClusterRole", "conveyor-flux-sync-conveyor").body().at("/rules").toString()).contains(
                "cert-manager.io");
    }

    @Test
    void networkPoliciesDenyByDefaultAndAllowWhatIsNeeded() {
        List<RenderedObject> policies = defaults.ofKind("NetworkPolicy");
        assertThat(policies).extracting(RenderedObject::name).containsExactlyInAnyOrder(
                "conveyor-default-deny-ingress", "conveyor-gateway-from-ingress", "conveyor-flux-sync-from-ingress",
                "conveyor-from-monitoring", "conveyor-kafka");
        RenderedObject deny = defaults.get("NetworkPolicy", "conveyor-default-deny-ingress");
        assertThat(deny.body().at("/spec/podSelector").size()).isZero();
        assertThat(deny.body().has("ingress")).isFalse();
        assertThat(defaults.get("NetworkPolicy", "conveyor-gateway-from-ingress").body().at(
                "/spec/ingress/0/from/0/namespaceSelector/matchLabels/kubernetes.io~1metadata.name").asText())
                .isEqualTo("ingress-nginx");
        assertThat(defaults.get("NetworkPolicy", "conveyor-from-monitoring").body().at(
                "/spec/ingress/0/from/0/namespaceSelector/matchLabels/kubernetes.io~1metadata.name").asText())
                .isEqualTo("monitoring");
        assertThat(defaults.get("NetworkPolicy", "conveyor-kafka").body().at("/spec/ingress/0/ports/0/port")
                .asInt()).isEqualTo(9092);
    }

    @Test
    void networkPoliciesCanBeTurnedOff() {
        Chart.Rendered rendered = Chart.render(Map.of("networkPolicy.enabled", false));
        assertThat(rendered.report().errors()).as(rendered.report().summary(50)).isEmpty();
        assertThat(rendered.ofKind("NetworkPolicy")).isEmpty();
        assertThat(rendered.ofKind("Deployment")).hasSize(SERVICES.size());
    }

    @Test
    void anExistingKafkaReplacesStrimzi() {
        Chart.Rendered rendered = Chart.render(Map.of("kafka.enabled", false, "kafka.bootstrapServers",
                "kafka.shared:9092"));
        assertThat(rendered.report().errors()).as(rendered.report().summary(50)).isEmpty();
        assertThat(rendered.ofKind("Kafka")).isEmpty();
        assertThat(rendered.ofKind("KafkaNodePool")).isEmpty();
        assertThat(rendered.ofKind("KafkaTopic")).isEmpty();
        assertThat(rendered.objects()).noneMatch(o -> o.name().equals("conveyor-kafka"));
        for (RenderedObject deployment : rendered.ofKind("Deployment")) {
            assertThat(env(deployment.body().at("/spec/template/spec/containers/0"))).containsEntry(
                    "KAFKA_BOOTSTRAP_SERVERS", "kafka.shared:9092");
        }
        // Topics can still be managed in an existing Strimzi cluster.
        Chart.Rendered strimzi = Chart.render(Map.of("kafka.enabled", false, "kafka.bootstrapServers",
                "shared-kafka-bootstrap:9092", "kafka.existingStrimziCluster", "shared"));
        assertThat(strimzi.report().errors()).as(strimzi.report().summary(50)).isEmpty();
        assertThat(strimzi.ofKind("Kafka")).isEmpty();
        assertThat(strimzi.ofKind("KafkaTopic")).hasSize(defaults.ofKind("KafkaTopic").size()).allSatisfy(
                t -> assertThat(t.body().at("/metadata/labels/strimzi.io~1cluster").asText()).isEqualTo("shared"));

        assertThatThrownBy(() -> Chart.render(Map.of("kafka.enabled", false))).hasMessageContaining(
                "bootstrapServers");
    }

    @Test
    void nativeFlavorUsesNativeImages() {
        Chart.Rendered rendered = Chart.render(Map.of("image.flavor", "native", "image.tag", "1.2.3"));
        assertThat(rendered.report().errors()).as(rendered.report().summary(50)).isEmpty();
        for (String service : SERVICES) {
            JsonNode container = rendered.get("Deployment", "conveyor-" + service).body().at(
                    "/spec/template/spec/containers/0");
            assertThat(container.at("/image").asText()).isEqualTo("docker.io/conveyor/conveyor-" + service
                    + ":1.2.3-native");
            assertThat(env(container)).doesNotContainKey("JAVA_TOOL_OPTIONS");
            assertThat(container.at("/resources/limits/memory").asText()).isEqualTo("256Mi");
        }
    }

    @Test
    void anAotCacheIsNamedInTheJvmOptionsOnlyWhenSet() {
        Chart.Rendered rendered = Chart.render(Map.of("jvm.aotCache", "/work/app.aot"));
        assertThat(rendered.report().errors()).as(rendered.report().summary(50)).isEmpty();
        for (String service : SERVICES) {
            JsonNode container = rendered.get("Deployment", "conveyor-" + service).body().at(
                    "/spec/template/spec/containers/0");
            assertThat(env(container)).containsEntry("JAVA_TOOL_OPTIONS",
                    "-XX:MaxRAMPercentage=75 -XX:+ExitOnOutOfMemoryError -XX:AOTCache=/work/app.aot");
        }
        JsonNode byDefault = Chart.render(Map.of()).get("Deployment", "conveyor-versioner").body().at(
                "/spec/template/spec/containers/0");
        assertThat(env(byDefault).get("JAVA_TOOL_OPTIONS")).doesNotContain("AOTCache");
    }

    @Test
    void staticMembershipNamesEachConsumerAfterItsPodOnlyWhenAskedFor() {
        Chart.Rendered rendered = Chart.render(Map.of("kafka.staticMembership", "true"));
        assertThat(rendered.report().errors()).as(rendered.report().summary(50)).isEmpty();
        for (String service : SERVICES) {
            JsonNode container = rendered.get("Deployment", "conveyor-" + service).body().at(
                    "/spec/template/spec/containers/0");
            assertThat(instanceIdSource(container)).as(service).isEqualTo("metadata.name");
        }
        JsonNode byDefault = Chart.render(Map.of()).get("Deployment", "conveyor-versioner").body().at(
                "/spec/template/spec/containers/0");
        assertThat(instanceIdSource(byDefault)).isNull();
    }

    static String instanceIdSource(JsonNode container) {
        for (JsonNode e : container.path("env")) {
            if (e.path("name").asText().equals("CONVEYOR_KAFKA_INSTANCE_ID")) {
                return e.at("/valueFrom/fieldRef/fieldPath").asText();
            }
        }
        return null;
    }

    @Test
    void badValuesFailTheRenderClearly() {
        assertThatThrownBy(() -> Chart.render(Map.of("image.flavor", "foo"))).hasMessageContaining("image")
                .hasMessageContaining("flavor").hasMessageContaining("jvm").hasMessageContaining("native");
        assertThatThrownBy(() -> Chart.render(Map.of("services.notifier.replicas", 2,
                "services.notifier.persistence.enabled", true))).hasMessageContaining(
                        "services.notifier.persistence.enabled");
        assertThatThrownBy(() -> Chart.render(Map.of("services.versioner.port", "http"))).hasMessageContaining(
                "versioner").hasMessageContaining("port");
    }

    @Test
    void prometheusRuleIsTheAlertFile() throws IOException {
        RenderedObject rule = defaults.get("PrometheusRule", "conveyor-alerts");
        JsonNode file = new ObjectMapper().valueToTree(yaml().load(Files.readString(Chart.DIR.resolve(
                "files/alerts.yaml"))));
        assertThat(rule.body().at("/spec/groups")).isEqualTo(file.at("/groups"));
        assertThat(StreamSupport.stream(rule.body().at("/spec/groups").spliterator(), false).mapToInt(g -> g.at(
                "/rules").size()).sum()).isEqualTo(11);
    }

    @Test
    void releaseCrdsAreTheTestkitOnes() throws IOException {
        List<Object> chart = documents(Chart.DIR.resolve("crds/release-crds.yaml"));
        List<Object> testkit = documents(Chart.REPO.resolve(
                "testkit/src/main/resources/dev/conveyor/testkit/kube/release-crds.yaml"));
        assertThat(chart).hasSize(4).isEqualTo(testkit);
    }

    // --- helpers

    /** Topic names from the event contract's constants. */
    static List<String> topics() throws IllegalAccessException {
        List<String> topics = new ArrayList<>();
        for (Field field : Topics.class.getFields()) {
            if (Modifier.isStatic(field.getModifiers()) && field.getType() == String.class
                    && field.get(null) instanceof String value && value.startsWith("conveyor.")) {
                topics.add(value);
            }
        }
        return topics;
    }

    /**
     * Every dead-letter topic configured in a service's application.properties, and the notifier's, which its own
     * consumer names by the events' rule ({@code Topics.deadLetter}) for every topic it reads.
     */
    static List<String> deadLetterTopics() throws IOException, IllegalAccessException {
        List<String> topics = new ArrayList<>();
        for (String topic : topics()) {
            topics.add(Topics.deadLetter(topic, dev.conveyor.events.v1.Stage.NOTIFIER));
        }
        Pattern dlq = Pattern.compile("(?m)^mp\\.messaging\\.incoming\\.\"[^\"]+\"\\.dead-letter-queue\\.topic=(.+)$");
        for (String service : SERVICES) {
            Matcher m = dlq.matcher(Files.readString(properties(service)));
            while (m.find()) {
                topics.add(m.group(1).trim());
            }
        }
        return topics;
    }

    static Path properties(String service) {
        return Chart.REPO.resolve(service).resolve("src/main/resources/application.properties");
    }

    /** A production (unprofiled) property of a service. */
    static String property(String service, String key) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(key) + "=(.*)$").matcher(Chart.read(properties(
                service)));
        if (!m.find()) {
            throw new AssertionError(key + " not in " + properties(service));
        }
        return m.group(1).trim();
    }

    static Map<String, String> env(JsonNode container) {
        Map<String, String> env = new LinkedHashMap<>();
        for (JsonNode e : container.path("env")) {
            if (e.has("value")) {
                env.put(e.path("name").asText(), e.path("value").asText());
            }
        }
        return env;
    }

    static List<String> secretRefs(RenderedObject deployment) {
        List<String> refs = new ArrayList<>();
        for (JsonNode e : deployment.body().at("/spec/template/spec/containers/0/env")) {
            JsonNode ref = e.at("/valueFrom/secretKeyRef");
            if (!ref.isMissingNode()) {
                refs.add(e.path("name").asText() + "=" + ref.path("name").asText() + "/" + ref.path("key").asText());
            }
        }
        return refs;
    }

    static List<String> mounts(JsonNode container) {
        return StreamSupport.stream(container.path("volumeMounts").spliterator(), false).map(m -> m.path(
                "mountPath").asText()).toList();
    }

    static Yaml yaml() {
        return new Yaml(new SafeConstructor(new LoaderOptions()));
    }

    static List<Object> documents(Path file) throws IOException {
        List<Object> docs = new ArrayList<>();
        yaml().loadAll(Files.readString(file)).forEach(d -> {
            if (d != null) {
                docs.add(d);
            }
        });
        return docs;
    }
}
