package dev.conveyor.fluxsync.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.conveyor.fluxsync.client.KubeCluster;
import dev.conveyor.fluxsync.domain.ProblemReason;
import dev.conveyor.testkit.kube.KubernetesApiStandIn;

/** Phase "apply" against the API stand-in: counts, drift, labels, and kinds the server does not serve. */
class ApplierIT {

    static KubernetesApiStandIn kube;
    static Applier applier;

    @BeforeAll
    static void start() {
        kube = KubernetesApiStandIn.start();
        applier = new Applier(PhasesStandIn.cluster(kube));
    }

    @AfterAll
    static void stop() {
        kube.close();
    }

    @Test
    void createsThenLeavesAloneThenRestoresDrift() {
        RepoSpec repo = PhasesStandIn.repo("ap");
        var cm = PhasesStandIn.configMap("file:a.yaml", "ap", "one", "1");

        Applier.Applied first = applier.apply(repo, new Applier.LiveObjects(), List.of(cm), Set.of());
        assertThat(first.created()).isEqualTo(1);
        assertThat(first.touched()).isTrue();
        assertThat(kube.client().configMaps().inNamespace("ap").withName("one").get().getMetadata().getLabels())
                .containsEntry(KubeCluster.REPO_LABEL, "ap");

        Applier.Applied again = applier.apply(repo, new Applier.LiveObjects(), List.of(cm), Set.of());
        assertThat(again.unchanged()).isEqualTo(1);
        assertThat(again.touched()).isFalse();
        assertThat(again.kept()).containsExactly(cm);

        kube.client().configMaps().inNamespace("ap").withName("one").edit(c -> {
            c.getData().put("value", "changed");
            return c;
        });
        Applier.Applied drift = applier.apply(repo, new Applier.LiveObjects(), List.of(cm), Set.of());
        assertThat(drift.drifted()).isEqualTo(1);
        assertThat(drift.updated()).isEqualTo(1);
        assertThat(kube.client().configMaps().inNamespace("ap").withName("one").get().getData()).containsEntry(
                "value", "1");
    }

    @Test
    void aRenderingWithAKindNotServedIsRefusedBeforeAnythingIsApplied() {
        RepoSpec repo = PhasesStandIn.repo("un");
        var cm = PhasesStandIn.configMap("release:un/web", "un", "web-config", "1");
        var old = PhasesStandIn.object("release:un/web", "apps/v1beta2", "Deployment", "un", "web");
        var gizmo = PhasesStandIn.object("release:un/web", "example.com/v1", "Gizmo", "un", "web");

        var removed = applier.unserved(repo, new Applier.LiveObjects(), "release:un/web", List.of(cm, old));
        assertThat(removed).hasValueSatisfying(p -> {
            assertThat(p.reason()).isEqualTo(ProblemReason.REMOVED_API);
            assertThat(p.message()).contains("replaced by apps/v1").doesNotContain("CRD");
        });
        var crd = applier.unserved(repo, new Applier.LiveObjects(), "release:un/web", List.of(cm, gizmo));
        assertThat(crd).hasValueSatisfying(p -> {
            assertThat(p.reason()).isEqualTo(ProblemReason.UNKNOWN_KIND);
            assertThat(p.message()).contains("Gizmo of example.com/v1 (is its CRD installed?)");
        });
        assertThat(applier.unserved(repo, new Applier.LiveObjects(), "release:un/web", List.of(cm))).isEmpty();
        // checking applied nothing
        assertThat(kube.client().configMaps().inNamespace("un").withName("web-config").get()).isNull();
    }

    @Test
    void plainManifestsApplyOneByOneAndAKindNotServedIsAProblemOfItsFile() {
        RepoSpec repo = PhasesStandIn.repo("pm");
        var cm = PhasesStandIn.configMap("file:cm.yaml", "pm", "fine", "1");
        // (the stand-in still serves extensions/v1beta1 through fabric8's model classes; apps/v1beta2 it does not)
        var old = PhasesStandIn.object("file:old.yaml", "apps/v1beta2", "Deployment", "pm", "old");

        Applier.Applied applied = applier.apply(repo, new Applier.LiveObjects(), List.of(old, cm), Set.of());

        assertThat(applied.created()).isEqualTo(1);
        assertThat(applied.problems()).singleElement().satisfies(p -> {
            assertThat(p.owner()).isEqualTo("file:old.yaml");
            assertThat(p.reason()).isEqualTo(ProblemReason.REMOVED_API);
            assertThat(p.message()).startsWith("old.yaml: ").contains("replaced by apps/v1");
        });
        assertThat(kube.client().configMaps().inNamespace("pm").withName("fine").get()).isNotNull();
    }
}
