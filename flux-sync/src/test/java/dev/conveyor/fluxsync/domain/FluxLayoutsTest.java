package dev.conveyor.fluxsync.domain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;

import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;

/**
 * Path semantics like Flux's: every YAML below the configured path is read and classified by kind wherever it lies;
 * what is not applied is reported in {@link DesiredState#skipped()}. The repositories are the layouts users have:
 * Flux v1 with the Helm Operator's get-started layout, Flux v2 with {@code clusters/<name>/}.
 */
class FluxLayoutsTest {

    static DesiredState parse(RepoLayout layout, Map<String, String> files, String... otherPaths) {
        Set<String> all = new HashSet<>(files.keySet());
        all.addAll(Set.of(otherPaths));
        Map<String, String> read = new LinkedHashMap<>();
        files.forEach((p, c) -> {
            if (RepoLayout.isReadFile(p)) {
                read.put(p, c);
            }
        });
        return layout.parse(read, all);
    }

    static Map<String, String> files(String... pathAndContent) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < pathAndContent.length; i += 2) {
            m.put(pathAndContent[i], pathAndContent[i + 1]);
        }
        return m;
    }

    static final String NS_DEMO = "apiVersion: v1\nkind: Namespace\nmetadata: {name: demo}\n";

    /** The Helm Operator get-started repository: namespaces/, releases/<env>/*.yaml. */
    static Map<String, String> fluxV1Repo(String chartsGit) {
        return files(
                "README.md", "# get started",
                "namespaces/demo.yaml", NS_DEMO,
                "releases/dev/podinfo.yaml", """
                        apiVersion: helm.fluxcd.io/v1
                        kind: HelmRelease
                        metadata: {name: podinfo, namespace: demo}
                        spec:
                          releaseName: podinfo-dev
                          chart:
                            git: %s
                            ref: main
                            path: charts/podinfo
                          values: {replicaCount: 1}
                        """.formatted(chartsGit),
                "releases/dev/defaultref.yaml", """
                        apiVersion: helm.fluxcd.io/v1
                        kind: HelmRelease
                        metadata: {name: defaultref, namespace: demo}
                        spec:
                          chart: {git: %s, path: charts/podinfo}
                        """.formatted(chartsGit),
                "releases/prod/sealed-secrets.yaml", """
                        apiVersion: helm.fluxcd.io/v1
                        kind: HelmRelease
                        metadata: {name: sealed-secrets, namespace: kube-system}
                        spec:
                          releaseName: sealed-secrets
                          chart:
                            repository: https://kubernetes-charts.storage.googleapis.com/
                            name: sealed-secrets
                            version: 1.6.1
                        """,
                "releases/prod/old.yaml", """
                        apiVersion: flux.weave.works/v1beta1
                        kind: HelmRelease
                        metadata: {name: old, namespace: demo}
                        spec:
                          chart: {repository: "https://charts.example.com", name: old, version: "~1.2"}
                          valueFileSecrets: [{name: old-values}]
                        """,
                "workloads/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: loose}\ndata: {a: b}\n");
    }

    @Test
    void aFluxV1RepositoryInTheHelmOperatorLayoutHasItsReleasesWhereverTheyLie() {
        DesiredState s = parse(new RepoLayout("charts"), fluxV1Repo("ssh://git@github.com/acme/charts"));

        assertThat(s.problems()).isEmpty();
        assertThat(s.objects()).extracting(m -> m.ref().toString()).containsExactly("Namespace demo",
                "ConfigMap default/loose", "HelmRelease demo/old", "HelmRelease demo/defaultref",
                "HelmRelease demo/podinfo", "HelmRelease kube-system/sealed-secrets");
        assertThat(s.releases()).extracting(ReleaseSpec::id, ReleaseSpec::kind).containsExactlyInAnyOrder(
                tuple("demo/podinfo", ReleaseKind.HELM_OPERATOR), tuple("demo/defaultref", ReleaseKind.HELM_OPERATOR),
                tuple("kube-system/sealed-secrets", ReleaseKind.HELM_OPERATOR),
                tuple("demo/old", ReleaseKind.HELM_OPERATOR_V1BETA1));
        Map<String, ReleaseSpec> byId = new LinkedHashMap<>();
        s.releases().forEach(r -> byId.put(r.id(), r));
        assertThat(byId.get("demo/podinfo").chart()).isEqualTo(new ChartSource.Git(
                "ssh://git@github.com/acme/charts", "main", "charts/podinfo", "spec.chart.git"));
        assertThat(byId.get("demo/podinfo").releaseName()).isEqualTo("podinfo-dev");
        // Helm Operator's default ref is master
        assertThat(byId.get("demo/defaultref").chart()).isEqualTo(new ChartSource.Git(
                "ssh://git@github.com/acme/charts", "master", "charts/podinfo", "spec.chart.git"));
        assertThat(byId.get("kube-system/sealed-secrets").chart()).isEqualTo(new ChartSource.HelmRepository(
                "https://kubernetes-charts.storage.googleapis.com/", "sealed-secrets", "1.6.1"));
        // flux.weave.works/v1beta1 is synced as a release (never as a plain object only), with its valueFileSecrets
        assertThat(byId.get("demo/old").chart()).isEqualTo(new ChartSource.HelmRepository("https://charts.example.com",
                "old", "~1.2"));
        assertThat(byId.get("demo/old").valuesFrom()).containsExactly(new ValuesRef("Secret", "demo", "old-values",
                "values.yaml", false));
        assertThat(s.skipped()).extracting(DesiredState.Skipped::path, DesiredState.Skipped::reason)
                .containsExactly(tuple("README.md", "not a YAML file"));
    }

    @Test
    void aChartGitNamingTheSyncedRepositoryAtItsBranchIsReadFromTheSyncedRevision() {
        Map<String, String> repo = fluxV1Repo("ssh://git@github.com/acme/gitops.git");
        DesiredState s = parse(new RepoLayout("charts", new RepoLayout.Self("ssh://git@github.com/acme/gitops",
                "main")), repo, "charts/podinfo/Chart.yaml", "charts/podinfo/templates/deployment.yaml");

        assertThat(s.releases()).filteredOn(r -> r.id().equals("demo/podinfo")).singleElement().extracting(
                ReleaseSpec::chart).isEqualTo(new ChartSource.GitPath("charts/podinfo"));
        // ref master (the default) is another revision than the synced main: cloned like any other repository
        assertThat(s.releases()).filteredOn(r -> r.id().equals("demo/defaultref")).singleElement().extracting(
                ReleaseSpec::chart).isInstanceOf(ChartSource.Git.class);
        assertThat(s.skipped()).extracting(DesiredState.Skipped::path).contains("charts/podinfo/");
    }

    /** A Flux v2 repository as flux bootstrap leaves it, with sources declared as objects. */
    static Map<String, String> fluxV2Repo() {
        return files(
                "clusters/prod/flux-system/gotk-components.yaml", """
                        apiVersion: v1
                        kind: Namespace
                        metadata: {name: flux-system}
                        ---
                        apiVersion: apps/v1
                        kind: Deployment
                        metadata: {name: helm-controller, namespace: flux-system}
                        """,
                "clusters/prod/flux-system/gotk-sync.yaml", """
                        apiVersion: source.toolkit.fluxcd.io/v1
                        kind: GitRepository
                        metadata: {name: flux-system, namespace: flux-system}
                        spec: {url: "ssh://git@github.com/acme/fleet", ref: {branch: main}}
                        """,
                "clusters/prod/flux-system/kustomization.yaml",
                "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
                        + "resources: [gotk-components.yaml, gotk-sync.yaml]\n",
                "clusters/prod/infrastructure.yaml", """
                        apiVersion: kustomize.toolkit.fluxcd.io/v1
                        kind: Kustomization
                        metadata: {name: infrastructure, namespace: flux-system}
                        spec: {path: ./infrastructure, sourceRef: {kind: GitRepository, name: flux-system}}
                        """,
                "clusters/prod/apps.yaml", """
                        apiVersion: kustomize.toolkit.fluxcd.io/v1
                        kind: Kustomization
                        metadata: {name: apps, namespace: flux-system}
                        spec: {path: ./apps, dependsOn: [{name: infrastructure}]}
                        """,
                "infrastructure/sources/bitnami.yaml", """
                        apiVersion: source.toolkit.fluxcd.io/v1
                        kind: HelmRepository
                        metadata: {name: bitnami, namespace: flux-system}
                        spec: {url: "https://charts.bitnami.com/bitnami"}
                        """,
                "infrastructure/sources/charts-git.yaml", """
                        apiVersion: source.toolkit.fluxcd.io/v1
                        kind: GitRepository
                        metadata: {name: charts, namespace: flux-system}
                        spec: {url: "ssh://git@github.com/acme/charts", ref: {tag: v1.0.0}}
                        ---
                        apiVersion: source.toolkit.fluxcd.io/v1beta2
                        kind: OCIRepository
                        metadata: {name: podinfo-oci, namespace: flux-system}
                        spec: {url: "oci://ghcr.io/stefanprodan/charts/podinfo", ref: {semver: ">=6.0.0 <7"}}
                        ---
                        apiVersion: source.toolkit.fluxcd.io/v1
                        kind: HelmChart
                        metadata: {name: redis-chart, namespace: flux-system}
                        spec: {chart: redis, version: "17.x", sourceRef: {kind: HelmRepository, name: bitnami}}
                        """,
                "infrastructure/redis/release.yaml", """
                        apiVersion: helm.toolkit.fluxcd.io/v2
                        kind: HelmRelease
                        metadata: {name: redis, namespace: infra}
                        spec:
                          chart:
                            spec:
                              chart: redis
                              version: ">=17.0.0 <18"
                              sourceRef: {kind: HelmRepository, name: bitnami, namespace: flux-system}
                        """,
                "infrastructure/redis/namespace.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: infra}\n",
                "apps/podinfo/kustomization.yaml", """
                        apiVersion: kustomize.config.k8s.io/v1beta1
                        kind: Kustomization
                        namespace: apps
                        resources: [release.yaml, from-git.yaml, from-ref.yaml]
                        """,
                "apps/podinfo/release.yaml", """
                        apiVersion: helm.toolkit.fluxcd.io/v2beta2
                        kind: HelmRelease
                        metadata: {name: podinfo}
                        spec:
                          chartRef: {kind: OCIRepository, name: podinfo-oci, namespace: flux-system}
                        """,
                "apps/podinfo/from-git.yaml", """
                        apiVersion: helm.toolkit.fluxcd.io/v2
                        kind: HelmRelease
                        metadata: {name: from-git}
                        spec:
                          chart:
                            spec:
                              chart: ./charts/podinfo
                              sourceRef: {kind: GitRepository, name: charts, namespace: flux-system}
                        """,
                "apps/podinfo/from-ref.yaml", """
                        apiVersion: helm.toolkit.fluxcd.io/v2
                        kind: HelmRelease
                        metadata: {name: from-ref}
                        spec:
                          chartRef: {kind: HelmChart, name: redis-chart, namespace: flux-system}
                        """,
                "apps/podinfo/notes.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: not-listed}\n",
                "apps/overlay/kustomization.yaml", """
                        apiVersion: kustomize.config.k8s.io/v1beta1
                        kind: Kustomization
                        resources: [../podinfo]
                        patches: [{path: patch.yaml}]
                        """,
                "apps/overlay/patch.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: patched}\n");
    }

    @Test
    void aFluxV2RepositoryWithClustersInfrastructureAndAppsHasItsSourcesAsObjects() {
        DesiredState s = parse(new RepoLayout("charts"), fluxV2Repo());

        assertThat(s.problems()).isEmpty();
        // apps/podinfo's kustomization sets the namespace of its objects; Flux's installation is not applied
        assertThat(s.objects()).extracting(m -> m.ref().toString()).containsExactly("Namespace infra",
                "HelmRelease apps/from-git", "HelmRelease apps/from-ref", "HelmRelease apps/podinfo",
                "HelmRelease infra/redis");
        Map<String, ChartSource> charts = new LinkedHashMap<>();
        s.releases().forEach(r -> charts.put(r.id(), r.chart()));
        assertThat(charts).containsOnlyKeys("apps/from-git", "apps/from-ref", "apps/podinfo", "infra/redis");
        assertThat(charts.get("infra/redis")).isEqualTo(new ChartSource.HelmRepository(
                "https://charts.bitnami.com/bitnami", "redis", ">=17.0.0 <18"));
        assertThat(charts.get("apps/podinfo")).isEqualTo(new ChartSource.Oci(
                "oci://ghcr.io/stefanprodan/charts/podinfo", ">=6.0.0 <7"));
        assertThat(charts.get("apps/from-git")).isEqualTo(new ChartSource.Git("ssh://git@github.com/acme/charts",
                "v1.0.0", "charts/podinfo", "GitRepository flux-system/charts spec.url"));
        assertThat(charts.get("apps/from-ref")).isEqualTo(new ChartSource.HelmRepository(
                "https://charts.bitnami.com/bitnami", "redis", "17.x"));
        assertThat(s.releases()).filteredOn(r -> r.id().equals("apps/podinfo")).singleElement().extracting(
                ReleaseSpec::kind).isEqualTo(ReleaseKind.FLUX2);

        assertThat(s.skipped()).extracting(DesiredState.Skipped::path).containsExactlyInAnyOrder(
                "clusters/prod/flux-system/",
                "clusters/prod/apps.yaml", "clusters/prod/infrastructure.yaml",
                "infrastructure/sources/bitnami.yaml", "infrastructure/sources/charts-git.yaml",
                "infrastructure/sources/charts-git.yaml", "infrastructure/sources/charts-git.yaml",
                "apps/podinfo/kustomization.yaml", "apps/podinfo/notes.yaml", "apps/overlay/");
        assertThat(s.skipped()).anySatisfy(k -> assertThat(k.toString()).startsWith("apps/overlay/: ").contains(
                "uses patches").contains("does not run kustomize"));
        assertThat(s.skipped()).anySatisfy(k -> assertThat(k.toString()).contains("Flux Kustomization "
                + "flux-system/apps is not applied").contains("./apps"));
        assertThat(s.skipped()).anySatisfy(k -> assertThat(k.toString()).contains(
                "Flux source HelmRepository flux-system/bitnami is not applied"));
        assertThat(s.skipped()).anySatisfy(k -> assertThat(k.toString()).contains("clusters/prod/flux-system/: "
                + "Flux's own installation"));
        assertThat(s.skipped()).anySatisfy(k -> assertThat(k.toString()).isEqualTo("apps/podinfo/notes.yaml: not in "
                + "the resources of apps/podinfo/kustomization.yaml (kustomize would leave it out)"));
    }

    @Test
    void whatIsSkippedIsReportedWithItsReasonNeverDroppedInSilence() {
        DesiredState s = parse(new RepoLayout("charts"), files(
                ".fluxignore", "docs/\n*.draft.yaml\n!keep.draft.yaml\n",
                "docs/example.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: example}\n",
                "apps/a.draft.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: draft}\n",
                "apps/keep.draft.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: kept}\n",
                "apps/sub/.sourceignore", "/local.yaml\n",
                "apps/sub/local.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: local}\n",
                "apps/values.yaml", "replicas: 3\nimage: {tag: x}\n",
                "apps/hosts.yaml", "- a.example.com\n- b.example.com\n",
                "apps/broken.yaml", "kind: [\n",
                "apps/script.sh", "#!/bin/sh\n",
                ".github/workflows/ci.yaml", "on: push\n",
                ".flux.yaml", "version: 1\n",
                "charts/app/Chart.yaml", "apiVersion: v2\nname: app\nversion: 0.1.0\n",
                "charts/app/templates/cm.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: {{ .Release.Name }}}\n",
                "plain/kustomization.yaml", "resources: [https://github.com/acme/base//deploy]\n",
                "plain/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: remote-base}\n"));

        // invalid YAML stays a problem wherever it lies
        assertThat(s.problems()).extracting(SyncProblem::owner, SyncProblem::reason).containsExactly(tuple(
                "file:apps/broken.yaml", ProblemReason.INVALID_FILE));
        assertThat(s.objects()).extracting(m -> m.ref().toString()).containsExactly("ConfigMap default/kept");
        assertThat(s.skipped()).extracting(DesiredState.Skipped::toString).containsExactlyInAnyOrder(
                ".flux.yaml: Flux v1 manifest generation (.flux.yaml) is not run: commit the generated manifests "
                        + "instead",
                ".fluxignore: ignore file: its patterns are applied",
                ".github/: hidden directory",
                "apps/a.draft.yaml: ignored (.fluxignore: *.draft.yaml)",
                "apps/script.sh: not a YAML file",
                "apps/sub/.sourceignore: ignore file: its patterns are applied",
                "apps/sub/local.yaml: ignored (apps/sub/.sourceignore: /local.yaml)",
                "apps/values.yaml: not a Kubernetes object (no apiVersion and kind)",
                "apps/hosts.yaml: not a Kubernetes object (document 1 is not a mapping)",
                "charts/app/: Helm chart: rendered by the releases that name it, not applied as manifests",
                "docs/: ignored (.fluxignore: docs/)",
                "plain/: plain/kustomization.yaml has remote resources https://github.com/acme/base//deploy: "
                        + "flux-sync does not run kustomize, so the directory is not applied (render it into plain "
                        + "manifests, or keep to resources and namespace)");
    }

    @Test
    void theSeedLayoutReportsWhatLiesOutsideItsDirectories() {
        DesiredState s = parse(new RepoLayout("charts"), files(
                "namespaces/tools.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: tools}\n",
                "releases/manifests/tools/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
                "releases/dev/forgotten.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n",
                "other/thing.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"));

        assertThat(s.objects()).extracting(m -> m.ref().toString()).containsExactly("Namespace tools",
                "ConfigMap tools/a");
        assertThat(s.skipped()).extracting(DesiredState.Skipped::path).containsExactly("other/",
                "releases/dev/");
        assertThat(s.skipped()).allSatisfy(k -> assertThat(k.reason()).contains("outside the seed layout"));
    }

    @Test
    void flux2SourcesThatAreMissingOrUnsupportedAreProblemsOfTheRelease() {
        DesiredState s = parse(new RepoLayout("charts"), files(
                "apps/a.yaml", """
                        apiVersion: helm.toolkit.fluxcd.io/v2
                        kind: HelmRelease
                        metadata: {name: a, namespace: x}
                        spec: {chartRef: {kind: OCIRepository, name: ghost}}
                        """,
                "apps/b.yaml", """
                        apiVersion: helm.toolkit.fluxcd.io/v2
                        kind: HelmRelease
                        metadata: {name: b, namespace: x}
                        spec: {chart: {spec: {chart: c, sourceRef: {kind: Bucket, name: bucket}}}}
                        """,
                "apps/c.yaml", """
                        apiVersion: helm.toolkit.fluxcd.io/v2
                        kind: HelmRelease
                        metadata: {name: c, namespace: x}
                        spec: {chart: {git: ssh://x/y}}
                        """));
        assertThat(s.problems()).extracting(SyncProblem::owner, SyncProblem::reason).containsExactlyInAnyOrder(
                tuple("release:x/a", ProblemReason.CHART_SOURCE_INVALID),
                tuple("release:x/b", ProblemReason.CHART_SOURCE_INVALID),
                tuple("release:x/c", ProblemReason.INVALID_OBJECT));
        assertThat(s.problems()).anySatisfy(p -> assertThat(p.message()).contains(
                "OCIRepository x/ghost is not declared in the repository"));
    }
}
