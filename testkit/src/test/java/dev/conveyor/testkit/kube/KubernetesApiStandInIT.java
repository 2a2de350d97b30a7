package dev.conveyor.testkit.kube;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.conveyor.testkit.FieldInjector;
import dev.conveyor.testkit.TempDirs;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;

class KubernetesApiStandInIT {

    private static KubernetesApiStandIn standIn;

    @BeforeAll
    static void startStandIn() {
        long started = System.nanoTime();
        standIn = KubernetesApiStandIn.start();
        System.out.printf("KubernetesApiStandIn started in %d ms%n",
                Duration.ofNanos(System.nanoTime() - started).toMillis());
    }

    @AfterAll
    static void stopStandIn() {
        if (standIn != null) {
            standIn.close();
        }
    }

    @Test
    void configMapsAndNamespacesCanBeCreatedGotAndListed() {
        KubernetesClient client = standIn.client();
        client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName("team-a").endMetadata().build())
                .create();
        client.configMaps().inNamespace("team-a").resource(new ConfigMapBuilder().withNewMetadata()
                .withName("settings").endMetadata().addToData("colour", "blue").build()).create();

        assertThat(client.namespaces().withName("team-a").get()).isNotNull();
        assertThat(client.namespaces().list().getItems()).extracting(n -> n.getMetadata().getName())
                .contains("team-a");
        ConfigMap got = client.configMaps().inNamespace("team-a").withName("settings").get();
        assertThat(got.getData()).containsEntry("colour", "blue");
        assertThat(got.getMetadata().getResourceVersion()).isNotBlank();
        assertThat(client.configMaps().inNamespace("team-a").list().getItems()).extracting(c -> c.getMetadata()
                .getName()).containsExactly("settings");
        assertThat(client.configMaps().inNamespace("team-b").list().getItems()).isEmpty();
    }

    @Test
    void allFourReleaseKindsCanBeCreatedListedAndDeletedPerNamespace() {
        KubernetesClient client = standIn.client();
        for (ResourceDefinitionContext kind : ReleaseCrds.ALL) {
            client.genericKubernetesResources(ReleaseCrds.apiVersion(kind), kind.getKind()).inNamespace("apps")
                    .resource(release(kind, "apps", "web")).create();
            // The apiVersion/kind-only route goes through API discovery, which the CRDs must have enabled.
            client.resource(release(kind, "other", "worker")).create();
        }

        for (ResourceDefinitionContext kind : ReleaseCrds.ALL) {
            List<GenericKubernetesResource> apps = client.genericKubernetesResources(kind).inNamespace("apps").list()
                    .getItems();
            assertThat(apps).as(kind.getGroup()).extracting(r -> r.getMetadata().getName()).containsExactly("web");
            assertThat(apps.get(0).getApiVersion()).isEqualTo(ReleaseCrds.apiVersion(kind));
            assertThat(apps.get(0).getKind()).isEqualTo(kind.getKind());
            assertThat(apps.get(0).<String>get("spec", "releaseName")).isEqualTo("web");
            assertThat(client.genericKubernetesResources(kind).inNamespace("other").list().getItems())
                    .extracting(r -> r.getMetadata().getName()).containsExactly("worker");
        }

        client.genericKubernetesResources(ReleaseCrds.FLUX2_RELEASE).inNamespace("other").withName("worker").delete();
        Awaitility.await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(
                client.genericKubernetesResources(ReleaseCrds.FLUX2_RELEASE).inNamespace("other").list().getItems())
                .isEmpty());
        // Same plural in another group is a different resource: the Helm Operator's release is still there.
        assertThat(client.genericKubernetesResources(ReleaseCrds.HELM_OPERATOR_RELEASE).inNamespace("other")
                .withName("worker").get()).isNotNull();
    }

    @Test
    void watchReceivesAddedEvents() {
        KubernetesClient client = standIn.client();
        List<String> events = new CopyOnWriteArrayList<>();
        try (Watch watch = client.genericKubernetesResources(ReleaseCrds.FLUX_HELM_RELEASE).inNamespace("watched")
                .watch(new Watcher<>() {
                    @Override
                    public void eventReceived(Action action, GenericKubernetesResource resource) {
                        events.add(action + " " + resource.getMetadata().getName());
                    }

                    @Override
                    public void onClose(WatcherException cause) {
                        // Closed by the test.
                    }
                })) {
            client.genericKubernetesResources(ReleaseCrds.FLUX_HELM_RELEASE).inNamespace("watched")
                    .resource(release(ReleaseCrds.FLUX_HELM_RELEASE, "watched", "podinfo")).create();

            Awaitility.await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(events)
                    .contains("ADDED podinfo"));
        }
    }

    @Test
    void releaseCrdsAreListed() {
        List<CustomResourceDefinition> crds = standIn.client().apiextensions().v1().customResourceDefinitions().list()
                .getItems();

        assertThat(crds).extracting(c -> c.getMetadata().getName()).containsExactlyInAnyOrder(
                "fluxhelmreleases.helm.integrations.flux.weave.works", "helmreleases.helm.fluxcd.io",
                "helmreleases.flux.weave.works", "helmreleases.helm.toolkit.fluxcd.io");
        assertThat(crds).allSatisfy(c -> assertThat(c.getSpec().getScope()).isEqualTo("Namespaced"));
        assertThat(ReleaseCrds.load()).hasSize(4);
    }

    @Test
    void kubeconfigWorksForAFreshClient() throws Exception {
        Path dir = TempDirs.create("kubeconfig");
        try {
            Path kubeconfig = standIn.writeKubeconfig(dir.resolve("config"));
            Config config = Config.fromKubeconfig(Files.readString(kubeconfig));
            assertThat(config.getMasterUrl()).startsWith(standIn.url());
            assertThat(config.getNamespace()).isEqualTo("default");
            try (KubernetesClient fresh = new KubernetesClientBuilder().withConfig(config).build()) {
                fresh.configMaps().resource(new ConfigMapBuilder().withNewMetadata().withName("from-kubeconfig")
                        .endMetadata().build()).create();
                assertThat(standIn.client().configMaps().inNamespace("default").withName("from-kubeconfig").get())
                        .isNotNull();
            }
        } finally {
            TempDirs.deleteQuietly(dir);
        }
    }

    @Test
    void serverSideApplyOfAnExistingObjectIsRejectedWith415() {
        KubernetesClient client = standIn.client();
        client.configMaps().resource(new ConfigMapBuilder().withNewMetadata().withName("applied").endMetadata()
                .addToData("k", "v").build()).create();
        ConfigMap applied = new ConfigMapBuilder().withNewMetadata().withName("applied").withNamespace("default")
                .endMetadata().addToData("k", "changed").build();

        assertThatThrownBy(() -> client.resource(applied).fieldManager("conveyor").forceConflicts().serverSideApply())
                .isInstanceOfSatisfying(KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(415));
        assertThat(client.configMaps().withName("applied").get().getData()).containsEntry("k", "v");
    }

    @Test
    void serverSideApplyOfANewObjectAnswers404() {
        ConfigMap applied = new ConfigMapBuilder().withNewMetadata().withName("never-created")
                .withNamespace("default").endMetadata().addToData("k", "v").build();

        assertThatThrownBy(() -> standIn.client().resource(applied).fieldManager("conveyor").forceConflicts()
                .serverSideApply()).isInstanceOfSatisfying(KubernetesClientException.class,
                        e -> assertThat(e.getCode()).isEqualTo(404));
        assertThat(standIn.client().configMaps().withName("never-created").get()).isNull();
    }

    @Test
    void jsonAndMergePatchesWorkButStrategicMergePatchIsRejectedWith415() {
        KubernetesClient client = standIn.client();
        client.configMaps().resource(new ConfigMapBuilder().withNewMetadata().withName("patched").endMetadata()
                .addToData("a", "1").build()).create();

        client.configMaps().withName("patched").patch(PatchContext.of(PatchType.JSON_MERGE),
                "{\"data\":{\"b\":\"2\"}}");
        client.configMaps().withName("patched").patch(PatchContext.of(PatchType.JSON),
                "[{\"op\":\"add\",\"path\":\"/data/c\",\"value\":\"3\"}]");
        assertThat(client.configMaps().withName("patched").get().getData()).containsEntry("a", "1")
                .containsEntry("b", "2").containsEntry("c", "3");

        assertThatThrownBy(() -> client.configMaps().withName("patched")
                .patch(PatchContext.of(PatchType.STRATEGIC_MERGE), "{\"data\":{\"d\":\"4\"}}"))
                .isInstanceOfSatisfying(KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(415));
    }

    @Test
    void noControllersSoDeploymentsNeverBecomeReady() {
        KubernetesClient client = standIn.client();
        client.apps().deployments().resource(new io.fabric8.kubernetes.api.model.apps.DeploymentBuilder()
                .withNewMetadata().withName("idle").endMetadata().withNewSpec().withReplicas(1).withNewSelector()
                .addToMatchLabels("app", "idle").endSelector().withNewTemplate().withNewMetadata()
                .addToLabels("app", "idle").endMetadata().withNewSpec().addNewContainer().withName("c")
                .withImage("127.0.0.1:1/none:1").endContainer().endSpec().endTemplate().endSpec().build()).create();

        var stored = client.apps().deployments().withName("idle").get();
        assertThat(stored.getStatus() == null || stored.getStatus().getReadyReplicas() == null).isTrue();
    }

    @Test
    void resourceProvidesConfigAndInjectsTheStandIn() {
        KubernetesApiResource resource = new KubernetesApiResource();
        Map<String, String> config = resource.start();
        try {
            Holder holder = new Holder();
            resource.inject(new FieldInjector(holder));
            assertThat(holder.standIn).isNotNull();
            assertThat(config).containsEntry("quarkus.kubernetes-client.api-server-url", holder.standIn.url())
                    .containsEntry("quarkus.kubernetes-client.trust-certs", "true")
                    .containsEntry("quarkus.kubernetes-client.namespace", "default")
                    .containsEntry("conveyor.testkit.kubernetes.url", holder.standIn.url());
            assertThat(holder.standIn.url()).isNotEqualTo(standIn.url());
            assertThat(holder.standIn.client().apiextensions().v1().customResourceDefinitions().list().getItems())
                    .hasSize(ReleaseCrds.ALL.size());
        } finally {
            resource.stop();
        }
    }

    @Test
    void objectsOfOneNameInSeveralNamespacesAndKindsAreEachFoundChangedAndDeletedByThemselves() {
        KubernetesClient client = standIn.client();
        for (String ns : List.of("same-a", "same-b")) {
            client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(ns).endMetadata().build())
                    .create();
            client.configMaps().inNamespace(ns).resource(new ConfigMapBuilder().withNewMetadata().withName("same")
                    .endMetadata().addToData("in", ns).build()).create();
            client.secrets().inNamespace(ns).resource(new io.fabric8.kubernetes.api.model.SecretBuilder()
                    .withNewMetadata().withName("same").endMetadata().addToStringData("in", ns).build()).create();
        }
        // each get finds its own object, not the first of that name
        assertThat(client.configMaps().inNamespace("same-b").withName("same").get().getData()).containsEntry("in",
                "same-b");
        assertThat(client.secrets().inNamespace("same-a").withName("same").get().getKind()).isEqualTo("Secret");
        // a create of an existing one is a conflict, in its namespace only
        assertThatThrownBy(() -> client.configMaps().inNamespace("same-a").resource(new ConfigMapBuilder()
                .withNewMetadata().withName("same").endMetadata().build()).create()).isInstanceOfSatisfying(
                        KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(409));
        // an update changes that one object
        ConfigMap a = client.configMaps().inNamespace("same-a").withName("same").get();
        a.setData(Map.of("in", "changed"));
        client.configMaps().inNamespace("same-a").resource(a).update();
        assertThat(client.configMaps().inNamespace("same-a").withName("same").get().getData()).containsEntry("in",
                "changed");
        assertThat(client.configMaps().inNamespace("same-b").withName("same").get().getData()).containsEntry("in",
                "same-b");
        // a delete removes that one object; a new one of the name can be created again
        client.configMaps().inNamespace("same-a").withName("same").delete();
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> client.configMaps().inNamespace("same-a")
                .withName("same").get() == null);
        assertThat(client.configMaps().inNamespace("same-b").withName("same").get()).isNotNull();
        assertThat(client.secrets().inNamespace("same-a").withName("same").get()).isNotNull();
        client.configMaps().inNamespace("same-a").resource(new ConfigMapBuilder().withNewMetadata().withName("same")
                .endMetadata().addToData("in", "again").build()).create();
        assertThat(client.configMaps().inNamespace("same-a").withName("same").get().getData()).containsEntry("in",
                "again");
        assertThat(client.configMaps().inAnyNamespace().list().getItems()).filteredOn(c -> c.getMetadata().getName()
                .equals("same")).extracting(c -> c.getMetadata().getNamespace()).containsExactlyInAnyOrder("same-a",
                        "same-b");
    }

    @Test
    void closingStopsTheServer() {
        KubernetesApiStandIn transientStandIn = KubernetesApiStandIn.start();
        String url = transientStandIn.url();
        transientStandIn.close();

        Config config = new io.fabric8.kubernetes.client.ConfigBuilder(Config.empty()).withMasterUrl(url)
                .withRequestRetryBackoffLimit(0).withConnectionTimeout(2000).build();
        try (KubernetesClient client = new KubernetesClientBuilder().withConfig(config).build()) {
            assertThatThrownBy(() -> client.namespaces().list()).isInstanceOf(KubernetesClientException.class);
        }
    }

    private static GenericKubernetesResource release(ResourceDefinitionContext kind, String namespace, String name) {
        return new GenericKubernetesResourceBuilder().withApiVersion(ReleaseCrds.apiVersion(kind))
                .withKind(kind.getKind()).withNewMetadata().withName(name).withNamespace(namespace).endMetadata()
                .withAdditionalProperties(
                        Map.of("spec", Map.of("releaseName", name, "chart", Map.of("name", "podinfo"))))
                .build();
    }

    static final class Holder {
        @InjectKubernetesApi
        KubernetesApiStandIn standIn;
        HasMetadata unrelated;
    }

}
