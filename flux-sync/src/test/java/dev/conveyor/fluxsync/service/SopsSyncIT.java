package dev.conveyor.fluxsync.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.conveyor.fluxsync.client.ChartRenderer;
import dev.conveyor.fluxsync.client.KubeCluster;
import dev.conveyor.fluxsync.client.SopsDecryptor;
import dev.conveyor.fluxsync.domain.ProblemReason;
import dev.conveyor.fluxsync.domain.SopsFixtures;
import dev.conveyor.fluxsync.domain.SyncProblem;
import dev.conveyor.stage.git.GitAccess;
import dev.conveyor.stage.git.GitCredentials;
import dev.conveyor.stage.git.RepoMirrors;
import dev.conveyor.testkit.git.BareRepo;
import dev.conveyor.testkit.git.GitRepos;
import dev.conveyor.testkit.kube.KubernetesApiStandIn;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * SOPS-encrypted manifests and release values in a GitOps repository over {@code file://}, synced into the API
 * stand-in: decrypted before apply with the configured age identity; a file for another key and a tampered file fail
 * alone with {@code DECRYPTION_FAILED}; no decrypted value in logs, Kubernetes events, conditions or results.
 */
class SopsSyncIT {

    static final String PASSWORD = "pa55-w0rd-never-logged";
    static final String API_KEY = "api-key-never-logged";

    static final io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext FLUX2 = new io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext.Builder()
            .withGroup(
                    "helm.toolkit.fluxcd.io")
            .withVersion("v2").withKind("HelmRelease").withPlural("helmreleases")
            .withNamespaced(true).build();

    static KubernetesApiStandIn kube;
    static KubernetesClient client;
    static GitRepos repos;
    static GitAccess access;
    static Path work;
    static String[] key;
    static LogCapture logs;

    @BeforeAll
    static void start() throws Exception {
        kube = KubernetesApiStandIn.start();
        client = kube.client();
        repos = new GitRepos();
        access = GitAccess.create(GitCredentials.none());
        work = Files.createTempDirectory("flux-sync-sops");
        key = SopsFixtures.keyPair();
        logs = LogCapture.install();
    }

    @AfterAll
    static void stop() {
        logs.close();
        access.close();
        repos.close();
        kube.close();
    }

    static RepoReconciler reconciler(List<String> identities) {
        RepoMirrors mirrors = new RepoMirrors(work.resolve("mirrors"), access);
        return new RepoReconciler(mirrors, r -> mirrors, new KubeCluster(kube.newClient(), "conveyor-flux-sync"),
                new ChartRenderer(work.resolve("work")), new RepoReconciler.Settings("charts", "conveyor", Duration
                        .ofMillis(200), Duration.ofMillis(50), work.resolve("work")),
                new SimpleMeterRegistry(), Clock.systemUTC(), new SopsDecryptor(() -> identities));
    }

    static final String SECRET = """
            apiVersion: v1
            kind: Secret
            metadata:
              name: db
            type: Opaque
            stringData:
              password: %s
            """.formatted(PASSWORD);

    static final String RELEASE = """
            apiVersion: helm.toolkit.fluxcd.io/v2
            kind: HelmRelease
            metadata:
              name: %s
              namespace: shop
            spec:
              interval: 5m
              chart:
                spec:
                  chart: ./charts/chart1
                  sourceRef:
                    kind: GitRepository
                    name: self
              values:
                image: shop/web:2.0
                apiKey: %s
            """;

    static final String VALUES_SECRET = """
            apiVersion: v1
            kind: Secret
            metadata:
              name: web2-values
            stringData:
              values.yaml: |
                apiKey: %s-from-secret
            """.formatted(API_KEY);

    static final String RELEASE_WITH_VALUES_FROM = """
            apiVersion: helm.toolkit.fluxcd.io/v2
            kind: HelmRelease
            metadata:
              name: web2
              namespace: shop
            spec:
              interval: 5m
              chart:
                spec:
                  chart: ./charts/chart1
                  sourceRef:
                    kind: GitRepository
                    name: self
              valuesFrom:
                - kind: Secret
                  name: web2-values
                  valuesKey: values.yaml
            """;

    static final String VALUES_CHART = """
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: {{ .Release.Name }}-settings
            data:
              apiKey: {{ .Values.apiKey | default "none" | quote }}
            """;

    @Test
    void encryptedManifestsAndValuesAreAppliedDecryptedAndBadFilesFailAlone() throws Exception {
        String[] stranger = SopsFixtures.keyPair();
        String tampered = SopsFixtures.encrypt(RELEASE.formatted("broken", API_KEY), key[1], "^(values)$").replace(
                "image: ENC", "imagx: ENC");
        BareRepo repo = repos.createBare("sops-layout");
        SeedRepo.chart(repo.writer()).file("charts/chart1/templates/settings.yaml", VALUES_CHART)
                .file("namespaces/shop.yaml", SeedRepo.namespace("shop"))
                .file("releases/manifests/shop/db-secret.yaml", SopsFixtures.encrypt(SECRET, key[1],
                        "^(data|stringData)$"))
                .file("releases/manifests/shop/plain.yaml", SeedRepo.configMap("plain", "ok"))
                .file("releases/manifests/shop/foreign.yaml", SopsFixtures.encrypt(SeedRepo.configMap("foreign",
                        "y"), stranger[1], "^(data)$"))
                .file("releases/helm/shop/web.yaml", SopsFixtures.encrypt(RELEASE.formatted("web", API_KEY), key[1],
                        "^(values)$"))
                .file("releases/helm/shop/broken.yaml", tampered)
                .file("releases/manifests/shop/web2-values.yaml", SopsFixtures.encrypt(VALUES_SECRET, key[1],
                        "^(data|stringData)$"))
                .file("releases/helm/shop/web2.yaml", RELEASE_WITH_VALUES_FROM)
                .file("charts/boom/Chart.yaml", "apiVersion: v2\nname: boom\nversion: 0.1.0\n")
                .file("charts/boom/templates/fail.yaml", "{{ fail .Values.apiKey }}\n")
                .file("releases/helm/shop/boom.yaml", SopsFixtures.encrypt(RELEASE.formatted("boom", API_KEY)
                        .replace("./charts/chart1", "./charts/boom"), key[1], "^(values)$"))
                .message("encrypted layout").commit();
        RepoSpec spec = new RepoSpec("sops", repo.fileUrl(), "main", "", Duration.ofMinutes(5), true, false);

        SyncResult result = reconciler(List.of(key[0])).sync(spec, Set.of());

        // the Secret and the values arrive decrypted
        var secret = client.secrets().inNamespace("shop").withName("db").get();
        String password = secret.getStringData() != null && secret.getStringData().containsKey("password")
                ? secret.getStringData().get("password")
                : new String(Base64.getDecoder().decode(secret.getData().get("password")), StandardCharsets.UTF_8);
        assertThat(password).isEqualTo(PASSWORD);
        assertThat(secret.getAdditionalProperties()).doesNotContainKey("sops");
        assertThat(client.configMaps().inNamespace("shop").withName("web-settings").get().getData()).containsEntry(
                "apiKey", API_KEY);
        assertThat(client.apps().deployments().inNamespace("shop").withName("web").get().getSpec().getTemplate()
                .getSpec().getContainers().get(0).getImage()).isEqualTo("shop/web:2.0");
        assertThat(client.configMaps().inNamespace("shop").withName("plain").get()).isNotNull();
        // values from a Secret that is itself encrypted in the repository
        assertThat(client.configMaps().inNamespace("shop").withName("web2-settings").get().getData()).containsEntry(
                "apiKey", API_KEY + "-from-secret");

        // a file for another key and a tampered release fail alone, with a clear reason
        assertThat(result.problems()).filteredOn(p -> p.reason() == ProblemReason.DECRYPTION_FAILED).extracting(
                SyncProblem::owner, SyncProblem::reason).containsExactlyInAnyOrder(
                        org.assertj.core.groups.Tuple.tuple("file:releases/manifests/shop/foreign.yaml",
                                ProblemReason.DECRYPTION_FAILED),
                        org.assertj.core.groups.Tuple.tuple("file:releases/helm/shop/broken.yaml",
                                ProblemReason.DECRYPTION_FAILED));
        assertThat(client.configMaps().inNamespace("shop").withName("foreign").get()).isNull();
        assertThat(client.apps().deployments().inNamespace("shop").withName("broken").get()).isNull();
        ReleaseResult broken = result.releases().stream().filter(r -> r.name().equals("broken")).findFirst()
                .orElseThrow();
        assertThat(broken.state()).isEqualTo(ReleaseResult.State.FAILED);
        assertThat(broken.reason()).isEqualTo(ProblemReason.DECRYPTION_FAILED);
        // Helm's error would quote the decrypted value: it is withheld
        ReleaseResult boom = result.releases().stream().filter(r -> r.name().equals("boom")).findFirst()
                .orElseThrow();
        assertThat(boom.reason()).isEqualTo(ProblemReason.RENDER_FAILED);
        assertThat(boom.message()).contains("withheld");
        assertThat(broken.message()).contains("the value at spec:values:imagx: cannot be decrypted");
        GenericKubernetesResource web = client.genericKubernetesResources(FLUX2)
                .inNamespace("shop").withName("web").get();
        assertThat(web).isNotNull();
        assertThat(web.getAdditionalProperties()).doesNotContainKey("sops");

        // nothing decrypted in logs, problem events, conditions or results
        var events = client.v1().events().inNamespace("conveyor").list().getItems();
        assertThat(events).extracting(e -> e.getReason()).contains("DecryptionFailed");
        String everything = logs.text();
        assertThat(everything).contains("DecryptionFailed").contains("foreign.yaml");
        everything += events.stream().map(e -> e.getMessage()).toList() + result.toString() + client
                .genericKubernetesResources(FLUX2).inNamespace("shop").list().getItems()
                .stream().map(r -> String.valueOf(r.getAdditionalProperties().get("status"))).toList();
        assertThat(everything).doesNotContain(PASSWORD).doesNotContain(API_KEY).doesNotContain(key[0]);
    }

    @Test
    void withTheWrongIdentityNothingEncryptedIsAppliedAndTheReasonSaysSo() throws Exception {
        String[] wrong = SopsFixtures.keyPair();
        BareRepo repo = repos.createBare("sops-wrong-key");
        repo.writer().file("releases/manifests/vault/db-secret.yaml", SopsFixtures.encrypt(SECRET, key[1],
                "^(data|stringData)$"))
                .file("releases/manifests/vault/plain.yaml", SeedRepo.configMap("plain", "ok"))
                .message("encrypted").commit();
        client.namespaces().resource(new io.fabric8.kubernetes.api.model.NamespaceBuilder().withNewMetadata()
                .withName("vault").endMetadata().build()).create();
        RepoSpec spec = new RepoSpec("sops-wrong", repo.fileUrl(), "main", "", Duration.ofMinutes(5), true, false);

        SyncResult result = reconciler(List.of(wrong[0])).sync(spec, Set.of());

        assertThat(result.problems()).singleElement().satisfies(p -> {
            assertThat(p.reason()).isEqualTo(ProblemReason.DECRYPTION_FAILED);
            assertThat(p.message()).isEqualTo("releases/manifests/vault/db-secret.yaml: none of the configured age "
                    + "identities can decrypt the data key (recipients [" + key[1] + "])");
        });
        assertThat(client.secrets().inNamespace("vault").withName("db").get()).isNull();
        assertThat(client.configMaps().inNamespace("vault").withName("plain").get()).isNotNull();
        assertThat(Map.of("m", result.problems().get(0).message()).toString()).doesNotContain(PASSWORD);
    }
}
