package dev.conveyor.fluxsync.domain;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;

class RepoLayoutTest {

    static final Set<String> CHART = Set.of("charts/chart1/Chart.yaml", "charts/chart1/values.yaml");

    static DesiredState parse(Map<String, String> files) {
        Set<String> all = new HashSet<>(CHART);
        all.addAll(files.keySet());
        return new RepoLayout("charts").parse(files, all);
    }

    static Map<String, String> files(String... pathAndContent) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < pathAndContent.length; i += 2) {
            m.put(pathAndContent[i], pathAndContent[i + 1]);
        }
        return m;
    }

    @Test
    void objectsAreOrderedNamespacesFirstThenCrdsThenByKindAndTakeTheirDirectorysNamespace() {
        DesiredState s = parse(files(
                "releases/manifests/tools/app.yaml", """
                        apiVersion: apps/v1
                        kind: Deployment
                        metadata: {name: app}
                        ---
                        apiVersion: v1
                        kind: Service
                        metadata: {name: app}
                        """,
                "releases/manifests/tools/crd.yaml", """
                        apiVersion: apiextensions.k8s.io/v1
                        kind: CustomResourceDefinition
                        metadata: {name: widgets.example.com}
                        spec: {group: example.com, scope: Cluster, names: {kind: Widget}}
                        """,
                "releases/manifests/tools/widget.yaml",
                "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n",
                "namespaces/tools.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: tools}\n",
                "README.md", "not synced",
                "other/thing.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ignored}\n"));
        assertThat(s.problems()).isEmpty();
        assertThat(s.objects()).extracting(m -> m.ref().toString()).containsExactly("Namespace tools",
                "CustomResourceDefinition widgets.example.com", "Service tools/app", "Deployment tools/app",
                "Widget w");
    }

    @Test
    void theThreeReleaseKindsAreNormalised() {
        DesiredState s = parse(files(
                "releases/helm/tools/fhr.yaml", """
                        apiVersion: helm.integrations.flux.weave.works/v1alpha2
                        kind: FluxHelmRelease
                        metadata: {name: chart1-tools, labels: {chart: chart1}}
                        spec:
                          chartGitPath: chart1
                          values: {image: stakater/helloworld:latest}
                        """,
                "releases/helm/cp/op.yaml", """
                        apiVersion: helm.fluxcd.io/v1
                        kind: HelmRelease
                        metadata: {name: op}
                        spec:
                          targetNamespace: web
                          chart: {repository: https://charts.example.com/, name: podinfo, version: 6.0.0}
                          valuesFrom:
                            - secretKeyRef: {name: creds, key: extra.yaml}
                            - configMapKeyRef: {name: common, optional: true}
                          rollback: {enable: true}
                        """,
                "releases/helm/cp/repo.yaml", """
                        apiVersion: source.toolkit.fluxcd.io/v1
                        kind: HelmRepository
                        metadata: {name: oci}
                        spec: {type: oci, url: "oci://registry.example.com/charts"}
                        """,
                "releases/helm/cp/v2.yaml", """
                        apiVersion: helm.toolkit.fluxcd.io/v2
                        kind: HelmRelease
                        metadata: {name: v2}
                        spec:
                          suspend: true
                          chart: {spec: {chart: podinfo, version: 6.1.0, sourceRef: {kind: HelmRepository, name: oci}}}
                          dependsOn: [{name: op}]
                          upgrade: {remediation: {strategy: rollback}}
                        """));
        assertThat(s.problems()).isEmpty();
        assertThat(s.releases()).extracting(ReleaseSpec::id).containsExactly("cp/op", "cp/v2", "tools/chart1-tools");
        ReleaseSpec op = s.releases().get(0);
        assertThat(op.releaseName()).isEqualTo("web-op");
        assertThat(op.targetNamespace()).isEqualTo("web");
        assertThat(op.chart()).isEqualTo(new ChartSource.HelmRepository("https://charts.example.com/", "podinfo",
                "6.0.0"));
        assertThat(op.valuesFrom()).containsExactly(new ValuesRef("Secret", "cp", "creds", "extra.yaml", false),
                new ValuesRef("ConfigMap", "cp", "common", "values.yaml", true));
        assertThat(op.rollbackOnFailure()).isTrue();
        ReleaseSpec v2 = s.releases().get(1);
        assertThat(v2.chart()).isEqualTo(new ChartSource.Oci("oci://registry.example.com/charts/podinfo", "6.1.0"));
        assertThat(v2.suspended()).isTrue();
        assertThat(v2.dependsOn()).containsExactly("cp/op");
        assertThat(v2.releaseName()).isEqualTo("v2");
        ReleaseSpec fhr = s.releases().get(2);
        assertThat(fhr.releaseName()).isEqualTo("tools-chart1-tools");
        assertThat(fhr.chart()).isEqualTo(new ChartSource.GitPath("charts/chart1"));
        assertThat(fhr.values()).containsEntry("image", "stakater/helloworld:latest");
    }

    @Test
    void badReleasesAreProblemsThatNameTheFieldAndHoldTheirObjects() {
        DesiredState s = parse(files(
                "releases/helm/a/nolabel.yaml", """
                        apiVersion: helm.integrations.flux.weave.works/v1alpha2
                        kind: FluxHelmRelease
                        metadata: {name: nolabel}
                        spec: {chartGitPath: chart1}
                        """,
                "releases/helm/a/escape.yaml", """
                        apiVersion: helm.fluxcd.io/v1
                        kind: HelmRelease
                        metadata: {name: escape}
                        spec: {chart: {path: ../outside}}
                        """,
                "releases/helm/a/missing.yaml", """
                        apiVersion: helm.toolkit.fluxcd.io/v2
                        kind: HelmRelease
                        metadata: {name: missing}
                        spec: {chart: {spec: {chart: ./charts/nope, sourceRef: {kind: GitRepository, name: x}}}}
                        """,
                "releases/helm/a/mismatch.yaml", """
                        apiVersion: helm.integrations.flux.weave.works/v1alpha2
                        kind: FluxHelmRelease
                        metadata: {name: mismatch, labels: {chart: other}}
                        spec: {chartGitPath: chart1}
                        """));
        assertThat(s.releases()).isEmpty();
        assertThat(s.problems()).extracting(SyncProblem::reason, SyncProblem::owner).containsExactlyInAnyOrder(
                org.assertj.core.groups.Tuple.tuple(ProblemReason.INVALID_OBJECT, "release:a/nolabel"),
                org.assertj.core.groups.Tuple.tuple(ProblemReason.CHART_PATH_ESCAPES, "release:a/escape"),
                org.assertj.core.groups.Tuple.tuple(ProblemReason.CHART_NOT_FOUND, "release:a/missing"),
                org.assertj.core.groups.Tuple.tuple(ProblemReason.INVALID_OBJECT, "release:a/mismatch"));
        assertThat(s.problems()).anySatisfy(p -> assertThat(p.message()).contains("metadata.labels.chart is mandatory")
                .contains("releases/helm/a/nolabel.yaml"));
        assertThat(s.heldOwners()).contains("release:a/nolabel", "release:a/escape");
        // the release objects themselves are still applied, so their conditions can be written
        assertThat(s.objects()).hasSize(4);
    }

    @Test
    void invalidFilesDuplicatesAndObjectsWithoutKindAreProblemsAndTheRestIsKept() {
        DesiredState s = parse(files(
                "releases/manifests/x/bad.yaml", "kind: [",
                "releases/manifests/x/nokind.yaml", "apiVersion: v1\nmetadata: {name: a}\n",
                "releases/manifests/x/a.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
                "releases/manifests/x/b.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
                "releases/manifests/x/list.yaml", "- 1\n- 2\n"));
        assertThat(s.problems()).extracting(SyncProblem::reason).containsExactlyInAnyOrder(
                ProblemReason.INVALID_FILE, ProblemReason.INVALID_OBJECT, ProblemReason.DUPLICATE_OBJECT,
                ProblemReason.INVALID_FILE);
        assertThat(s.objects()).singleElement().satisfies(m -> assertThat(m.owner()).isEqualTo(
                "file:releases/manifests/x/a.yaml"));
        assertThat(s.heldOwners()).contains("file:releases/manifests/x/bad.yaml", "file:releases/manifests/x/b.yaml");
    }

    @Test
    void dependencyCyclesAndMissingDependenciesFailOnlyTheReleasesInvolved() {
        String release = """
                apiVersion: helm.toolkit.fluxcd.io/v2
                kind: HelmRelease
                metadata: {name: %s}
                spec:
                  chart: {spec: {chart: charts/chart1}}
                  dependsOn: [%s]
                """;
        DesiredState s = parse(files(
                "releases/helm/d/a.yaml", release.formatted("a", "{name: b}"),
                "releases/helm/d/b.yaml", release.formatted("b", "{name: a}"),
                "releases/helm/d/c.yaml", release.formatted("c", "{name: ghost}"),
                "releases/helm/d/d.yaml", release.formatted("d", ""),
                "releases/helm/d/e.yaml", release.formatted("e", "{name: d}")));
        assertThat(s.releases()).extracting(ReleaseSpec::id).containsExactly("d/d", "d/e");
        assertThat(s.problems()).extracting(SyncProblem::reason).containsOnly(ProblemReason.DEPENDENCY_NOT_READY);
        assertThat(s.problems()).extracting(SyncProblem::owner).contains("release:d/a", "release:d/b",
                "release:d/c");
        assertThat(s.problems()).anySatisfy(p -> assertThat(p.message()).contains("cycle"));
    }

    @Test
    void yamlBombsAndDuplicateKeysAreRefused() {
        StringBuilder bomb = new StringBuilder("a0: &a0 [x,x,x,x,x,x,x,x,x]\n");
        for (int i = 1; i <= 20; i++) {
            bomb.append("a").append(i).append(": &a").append(i).append(" [*a").append(i - 1).append(", *a").append(
                    i - 1).append("]\n");
        }
        assertThat(parse(files("releases/manifests/x/bomb.yaml", bomb.toString())).problems()).singleElement()
                .extracting(SyncProblem::reason).isEqualTo(ProblemReason.INVALID_FILE);
        assertThat(parse(files("releases/manifests/x/dup.yaml", "apiVersion: v1\napiVersion: v2\n")).problems())
                .singleElement().satisfies(p -> assertThat(p.message()).contains("dup.yaml"));
    }

    @Test
    void chartPathsCannotLeaveTheirBase() {
        assertThat(RepoPaths.resolveWithin("charts", "chart1")).contains("charts/chart1");
        assertThat(RepoPaths.resolveWithin("charts", "a/../chart1")).contains("charts/chart1");
        assertThat(RepoPaths.resolveWithin("charts", "../etc")).isEmpty();
        assertThat(RepoPaths.resolveWithin("charts", "/etc/passwd")).isEmpty();
        assertThat(RepoPaths.resolveWithin("charts", "..")).isEmpty();
        assertThat(RepoPaths.resolveWithin("charts", ".")).isEmpty();
        assertThat(RepoPaths.resolveWithin("", "./charts/x")).contains("charts/x");
        assertThat(RepoPaths.resolveWithin("", "a\\..\\..")).isEmpty();
        assertThat(List.of(RepoLayout.isSyncedFile("releases/helm/a/b.yml"), RepoLayout.isSyncedFile(
                "charts/c/templates/d.yaml"))).containsExactly(true, false);
    }
}
