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
}
