package dev.conveyor.fluxsync.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.conveyor.fluxsync.client.HelmReleaseStorage;
import dev.conveyor.fluxsync.client.KubeCluster;
import dev.conveyor.fluxsync.domain.DesiredState;
import dev.conveyor.testkit.kube.KubernetesApiStandIn;

/** Phase "record the inventory" against the API stand-in: the ConfigMap, pruning, held owners. */
class InventoryRecorderIT {

    static KubernetesApiStandIn kube;
    static KubeCluster cluster;
    static InventoryRecorder recorder;

    @BeforeAll
    static void start() {
        kube = KubernetesApiStandIn.start();
        cluster = PhasesStandIn.cluster(kube);
        recorder = new InventoryRecorder(cluster, new HelmReleaseStorage(cluster.client()), "conveyor");
    }

    @AfterAll
    static void stop() {
        kube.close();
    }

    @Test
    void theInventoryIsRecordedWithItsRevisionAndReadBackByAnotherProcess() {
        RepoSpec repo = PhasesStandIn.repo("inv");
        var a = PhasesStandIn.configMap("file:a.yaml", "inv", "a", "1");
        RepoState state = new RepoState();
        recorder.load(repo, state);
        assertThat(state.inventory.size()).isZero();

        InventoryRecorder.Recorded r = recorder.record(repo, state, List.of(a), Set.of(), Set.of(), "rev1", true,
                List.of(new DesiredState.Skipped("README.md", "not a YAML file")));

        assertThat(r.pruned()).isZero();
        assertThat(kube.client().configMaps().inNamespace("conveyor").withName("flux-sync-inventory-inv").get()
                .getMetadata().getAnnotations()).containsEntry("conveyor.dev/revision", "rev1");
        // what the revision holds but is not applied is recorded next to the inventory
        assertThat(kube.client().configMaps().inNamespace("conveyor").withName("flux-sync-inventory-inv").get()
                .getData()).containsEntry("skipped", "README.md\tnot a YAML file\n");
        RepoState restarted = new RepoState();
        recorder.load(repo, restarted);
        assertThat(restarted.skippedSaved).isEqualTo("README.md\tnot a YAML file\n");
        assertThat(restarted.inventory).isEqualTo(r.inventory());
        assertThat(restarted.revision).isEqualTo("rev1");
    }

    @Test
    void whatLeftGitIsPrunedUnlessItsOwnerIsHeldOrItIsNotOurs() {
        RepoSpec repo = PhasesStandIn.repo("prn");
        var keep = PhasesStandIn.configMap("file:keep.yaml", "prn", "keep", "1");
        var gone = PhasesStandIn.configMap("file:gone.yaml", "prn", "gone", "1");
        var held = PhasesStandIn.configMap("file:held.yaml", "prn", "held", "1");
        new Applier(cluster).apply(repo, new Applier.LiveObjects(), List.of(keep, gone, held), Set.of());
        RepoState state = new RepoState();
        recorder.load(repo, state);
        recorder.record(repo, state, List.of(keep, gone, held), Set.of(), Set.of(), "rev1", true, List.of());

        // gone left git; held's file does not parse this round
        InventoryRecorder.Recorded r = recorder.record(repo, state, List.of(keep), Set.of("file:held.yaml"), Set
                .of(), "rev2", true, List.of());

        assertThat(r.pruned()).isEqualTo(1);
        assertThat(kube.client().configMaps().inNamespace("prn").withName("gone").get()).isNull();
        assertThat(kube.client().configMaps().inNamespace("prn").withName("held").get()).isNotNull();
        assertThat(r.inventory().byOwner()).containsKeys("file:keep.yaml", "file:held.yaml").doesNotContainKey(
                "file:gone.yaml");
    }
}
