package dev.conveyor.fluxsync.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.conveyor.fluxsync.client.ChartRenderer;
import dev.conveyor.fluxsync.domain.ChartSource;
import dev.conveyor.fluxsync.domain.Manifest;
import dev.conveyor.fluxsync.domain.ProblemReason;
import dev.conveyor.fluxsync.domain.ReleaseSpec;

/** Reading a rendering into a release's objects: hooks, tests, namespaces, Helm's annotations; failure reasons. */
class ReleaseRendererTest {

    static final String RENDERED = """
            apiVersion: v1
            kind: ServiceAccount
            metadata:
              name: web
            ---
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: web
              namespace: other
            ---
            apiVersion: v1
            kind: Pod
            metadata:
              name: web-test-connection
              annotations:
                helm.sh/hook: test-success
            ---
            apiVersion: v1
            kind: Pod
            metadata:
              name: web-test
              annotations:
                helm.sh/hook: test
            ---
            apiVersion: batch/v1
            kind: Job
            metadata:
              name: web-migrate
              annotations:
                helm.sh/hook: pre-install,pre-upgrade
                helm.sh/hook-weight: "-5"
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRole
            metadata:
              name: web-hook-role
              annotations:
                helm.sh/hook: post-install
            """;

    @Test
    void hooksAreNotObjectsOfTheReleaseAndOnlyNonTestHooksAreReported() throws Exception {
        ReleaseSpec release = Releases.gitRelease("shop", "web");
        List<String> skipped = new ArrayList<>();

        List<Manifest> out = ReleaseRenderer.parse(release, RENDERED, skipped);

        assertThat(out).extracting(m -> m.ref().kind() + " " + m.ref().namespace() + "/" + m.ref().name())
                .containsExactlyInAnyOrder("ServiceAccount shop/web", "Deployment other/web");
        assertThat(skipped).containsExactly("Job/shop/web-migrate (pre-install,pre-upgrade; install/upgrade hooks are"
                + " not run: flux-sync applies the release on every sync and has no install or upgrade step to run them"
                + " around)",
                "ClusterRole/web-hook-role (post-install; install/upgrade hooks are not run: flux-sync"
                        + " applies the release on every sync and has no install or upgrade step to run them around)");
        assertThat(out).allSatisfy(m -> {
            assertThat(m.owner()).isEqualTo("release:shop/web");
            assertThat(m.body().toString()).contains("meta.helm.sh/release-name=web").contains(
                    "meta.helm.sh/release-namespace=shop");
        });
    }

    @Test
    void deleteRollbackAndUnknownHookEventsAreReportedEachWithItsReason() throws Exception {
        List<String> skipped = new ArrayList<>();

        ReleaseRenderer.parse(Releases.gitRelease("shop", "web"), """
                apiVersion: batch/v1
                kind: Job
                metadata:
                  name: web-cleanup
                  annotations:
                    helm.sh/hook: pre-delete,post-rollback
                ---
                apiVersion: v1
                kind: ConfigMap
                metadata:
                  name: web-crd
                  annotations:
                    helm.sh/hook: crd-install
                """, skipped);

        assertThat(skipped).containsExactly("Job/shop/web-cleanup (pre-delete,post-rollback; delete hooks are not run:"
                + " flux-sync prunes a removed release's objects and never uninstalls it with Helm; rollback hooks are"
                + " not run: a flux-sync rollback applies the previous manifest again without Helm's rollback)",
                "ConfigMap/shop/web-crd (crd-install; crd-install is not a Helm 3 hook event: not run)");
    }

    @Test
    void theManifestRecordedForHelmHoldsNoHookNorTest() throws Exception {
        String rendered = """
                ---
                # Source: web/templates/sa.yaml
                apiVersion: v1
                kind: ServiceAccount
                metadata:
                  name: web
                ---
                # Source: web/templates/tests/test.yaml
                apiVersion: v1
                kind: Pod
                metadata:
                  name: web-test
                  annotations:
                    "helm.sh/hook": test
                ---
                # Source: web/templates/cm.yaml
                apiVersion: v1
                kind: ConfigMap
                metadata:
                  name: web
                data:
                  note: "helm.sh/hook is only text here"
                """;

        String manifest = ReleaseRenderer.withoutHooks(Releases.gitRelease("shop", "web"), rendered);

        assertThat(manifest).isEqualTo("""
                ---
                # Source: web/templates/sa.yaml
                apiVersion: v1
                kind: ServiceAccount
                metadata:
                  name: web
                ---
                # Source: web/templates/cm.yaml
                apiVersion: v1
                kind: ConfigMap
                metadata:
                  name: web
                data:
                  note: "helm.sh/hook is only text here"
                """);
    }

    @Test
    void onlyHooksMadeOfTestEventsAreTests() {
        assertThat(ReleaseRenderer.testHook("test")).isTrue();
        assertThat(ReleaseRenderer.testHook("test-success, test-failure")).isTrue();
        assertThat(ReleaseRenderer.testHook("test,pre-install")).isFalse();
        assertThat(ReleaseRenderer.testHook("post-upgrade")).isFalse();
    }

    @Test
    void aDocumentWithoutKindFailsTheRenderingWithItsReason() {
        assertThatThrownBy(() -> ReleaseRenderer.parse(Releases.gitRelease("a", "b"), "apiVersion: v1\nmetadata:\n"
                + "  name: x\n", new ArrayList<>())).isInstanceOfSatisfying(ReleaseRenderer.Failure.class,
                        f -> assertThat(f.reason).isEqualTo(ProblemReason.RENDER_FAILED));
    }

    @Test
    void aSourceThatCannotBeReachedIsRetriableAndATemplateErrorIsNot() {
        ReleaseSpec remote = Releases.release("a", "sealed", new ChartSource.HelmRepository("http://127.0.0.1:9/",
                "sealed-secrets", "1.6.1", null));
        // the renderer says whether a retry can fix it; the message is not read
        assertThat(ReleaseRenderer.reason(remote, new ChartRenderer.RenderException(
                "cannot fetch chart sealed-secrets 1.6.1 from http://127.0.0.1:9/: connection refused", false, true)))
                .isEqualTo(ProblemReason.CHART_SOURCE_UNREACHABLE);
        assertThat(ReleaseRenderer.reason(remote, new ChartRenderer.RenderException(
                "the Helm repository http://127.0.0.1:9/ answered HTTP 404: connection refused"))).isEqualTo(
                        ProblemReason.CHART_SOURCE_INVALID);
        assertThat(ReleaseRenderer.reason(remote, new ChartRenderer.RenderException(
                "chart sealed-secrets 1.6.1 is not in http://127.0.0.1:9/index.yaml"))).isEqualTo(
                        ProblemReason.CHART_SOURCE_INVALID);
        assertThat(ReleaseRenderer.reason(remote, new ChartRenderer.RenderException("HTTP 401", true))).isEqualTo(
                ProblemReason.CHART_REPO_AUTH_DENIED);
        // a chart of this repository that does not render is not "unreachable", whatever its message says
        assertThat(ReleaseRenderer.reason(Releases.gitRelease("a", "b"), new ChartRenderer.RenderException(
                "helm template b failed: template: b/templates/x.yaml:3: connection refused"))).isEqualTo(
                        ProblemReason.RENDER_FAILED);
        // a chart from another git repository: a template error is a render failure, a missing ref a bad source
        ReleaseSpec otherGit = Releases.release("a", "podinfo", new ChartSource.Git("ssh://git@example.com/charts",
                "main", "charts/podinfo", "spec.chart.git"));
        assertThat(ReleaseRenderer.reason(otherGit, ChartRenderer.RenderException.renderFailed(
                "helm template podinfo failed: parse error"))).isEqualTo(ProblemReason.RENDER_FAILED);
        assertThat(ReleaseRenderer.reason(otherGit, new ChartRenderer.RenderException(
                "chart repository ssh://example.com/charts (spec.chart.git, ref main): ref main does not exist")))
                .isEqualTo(ProblemReason.CHART_SOURCE_INVALID);
        assertThat(ReleaseRenderer.reason(otherGit, new ChartRenderer.RenderException(
                "cannot fetch chart repository ssh://example.com/charts: host not found", false, true))).isEqualTo(
                        ProblemReason.CHART_SOURCE_UNREACHABLE);
        assertThat(ProblemReason.CHART_SOURCE_UNREACHABLE.stalls()).isFalse();
        assertThat(ProblemReason.RENDER_FAILED.stalls()).isTrue();
    }
}
