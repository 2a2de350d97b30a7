package dev.conveyor.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;

import org.junit.jupiter.api.Test;

import dev.conveyor.local.LocalStack.Kind;
import dev.conveyor.local.LocalStack.StackProcess;

/** What each {@code --kill} target hits, and the plan of kills. */
class ChaosSuiteTest {

    static final List<StackProcess> RECORDED = List.of(new StackProcess("stack-host", Kind.STACK_HOST, 101, 9418),
            new StackProcess("kafka", Kind.BROKER, 102, 9092), new StackProcess("registry", Kind.REGISTRY, 103, 5000),
            new StackProcess("gateway", Kind.SERVICE, 104, 8080), new StackProcess("versioner", Kind.SERVICE, 105,
                    8081));

    @Test
    void stackKillsTheStackHostAndTheRegistryButNotTheBroker() {
        assertThat(ChaosSuite.victims("stack", RECORDED)).extracting(StackProcess::name).containsExactly("stack-host",
                "registry");
    }

    @Test
    void brokerAndServiceKillsHitThatProcessAlone() {
        assertThat(ChaosSuite.victims("broker", RECORDED)).extracting(StackProcess::name).containsExactly("kafka");
        assertThat(ChaosSuite.victims("versioner", RECORDED)).extracting(StackProcess::name).containsExactly(
                "versioner");
    }

    @Test
    void aTargetTheStackHasNoRecordOfIsAnError() {
        assertThatThrownBy(() -> ChaosSuite.victims("promoter", RECORDED))
                .hasMessageContaining("no record of promoter");
    }

    @Test
    void stackKillsRotateThroughThePipelineStages() {
        assertThat(ChaosSuite.plan("stack", 6)).extracting(ChaosSuite.Target::stage).containsExactly("versioner",
                "image-builder", "manifest-renderer", "promoter", "flux-sync", "versioner");
        assertThat(ChaosSuite.plan("services", 7)).extracting(ChaosSuite.Target::process).containsExactlyElementsOf(
                ServiceSpec.ALL.stream().map(ServiceSpec::name).toList());
    }

    @Test
    void withReplicasTheKillHitsTheReplicaThatHoldsThePartition() {
        List<String> replicas = List.of("versioner", "versioner-2");
        assertThat(ChaosSuite.ownerOf("versioner-2-conveyor.build.succeeded-3f2a", replicas)).isEqualTo("versioner-2");
        assertThat(ChaosSuite.ownerOf("kafka-consumer-conveyor.build.succeeded", replicas)).isEqualTo("versioner");
        assertThat(ChaosSuite.victims("versioner-2", List.of(new StackProcess("versioner", Kind.SERVICE, 105, 8081),
                new StackProcess("versioner-2", Kind.SERVICE, 106, 40001)))).extracting(StackProcess::name)
                .containsExactly("versioner-2");
        assertThat(ChaosSuite.groupOf("versioner")).isEqualTo("conveyor-versioner");
        assertThat(ChaosSuite.groupOf("notifier")).isEqualTo("conveyor-notifier");
    }

    @Test
    void replicaOneKeepsTheServicesNameAndTheOthersAreNumbered() {
        ServiceSpec versioner = ServiceSpec.named("versioner");
        assertThat(versioner.replicaNames(3)).containsExactly("versioner", "versioner-2", "versioner-3");
        assertThat(ServiceSpec.ofReplica("image-builder-2")).hasValueSatisfying(r -> {
            assertThat(r.getKey().name()).isEqualTo("image-builder");
            assertThat(r.getValue()).isEqualTo(2);
        });
        assertThat(ServiceSpec.ofReplica("image-builder").map(java.util.Map.Entry::getValue)).contains(1);
        assertThat(ServiceSpec.ofReplica("image")).isEmpty();
        assertThat(ServiceSpec.ofReplica("versioner-1")).isEmpty();
        // Not replica-safe yet: one process whatever --replicas says.
        ServiceSpec.SINGLE_INSTANCE.forEach(s -> assertThat(ServiceSpec.named(s).replicas(3)).isEqualTo(1));
        assertThat(versioner.replicas(3)).isEqualTo(3);
    }

    @Test
    void replicasShareTheRedactionKeyAndNameTheirKafkaClients() {
        java.util.Map<String, String> secrets = java.util.Map.of(ServiceSpec.REDACTION_KEY, "k".repeat(64));
        ServiceSpec renderer = ServiceSpec.named("manifest-renderer");
        assertThat(renderer.replicaConfig(1, secrets)).containsExactly(java.util.Map.entry(
                "conveyor.manifest-renderer.redaction-key", "k".repeat(64)));
        assertThat(renderer.replicaConfig(2, secrets)).containsEntry("conveyor.manifest-renderer.redaction-key", "k"
                .repeat(64)).containsEntry("mp.messaging.connector.smallrye-kafka.client-id-prefix",
                        "manifest-renderer-2-");
        assertThat(ServiceSpec.named("versioner").replicaConfig(1, secrets)).isEmpty();
    }
}
