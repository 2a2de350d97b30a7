package dev.conveyor.promoter.domain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

class ReleaseDocumentsTest {

    static final String DIGEST = "sha256:" + "ab".repeat(32);
    static final ReleaseUpdate UPDATE = new ReleaseUpdate("cart", "1.4.0", "shop", "cart", "registry.example.com/cart",
            "1.4.0", DIGEST);

    static final String FLUX_V1 = """
            # Cart release: owned by the shop team.
            apiVersion: helm.integrations.flux.weave.works/v1alpha2
            kind: FluxHelmRelease
            metadata:
              name: cart
              namespace: shop
              labels:
                chart: cart   # must match the chart directory
            spec:
              chartGitPath: cart
              releaseName: cart
              values: # overrides
                replicaCount: 3 # scaled for the sale
                image:
                  repository: registry.example.com/cart
                  tag: "1.3.0"
                  digest: sha256:0000000000000000000000000000000000000000000000000000000000000000
                  pullPolicy: IfNotPresent
                ingress:
                  enabled: true
                  hosts: [cart.example.com]
            """;

    @Test
    void anUpdateChangesOnlyThePromotedLines() {
        String updated = ReleaseDocuments.update("cart.yaml", FLUX_V1, UPDATE);

        assertThat(changedLines(FLUX_V1, updated)).containsExactly(
                "      tag: \"1.3.0\" ->       tag: \"1.4.0\"",
                "      digest: sha256:0000000000000000000000000000000000000000000000000000000000000000 -> "
                        + "      digest: " + DIGEST);
        assertThat(ReleaseDocuments.update("cart.yaml", updated, UPDATE)).isEqualTo(updated);
    }

    @Test
    void theSeedsSingleImageValueIsPinnedByDigest() {
        String seed = """
                apiVersion: helm.integrations.flux.weave.works/v1alpha2
                kind: FluxHelmRelease
                metadata:
                  name: chart1-tools
                  namespace: tools
                  labels:
                    chart: chart1
                spec:
                  chartGitPath: chart1
                  releaseName: chart1-tools
                  values: # overrides
                    image: stakater/helloworld:latest
                """;
        ReleaseUpdate update = new ReleaseUpdate("chart1", "2.0.0", "tools", "chart1-tools",
                "stakater/helloworld", "2.0.0", DIGEST);
        String updated = ReleaseDocuments.update("chart1-tools.yaml", seed, update);
        assertThat(updated).isEqualTo(seed.replace("stakater/helloworld:latest", "stakater/helloworld:2.0.0@"
                + DIGEST));
    }

    @Test
    void missingImageKeysAreAddedBesideTheOthersWithTheirIndentation() {
        String text = """
                apiVersion: helm.fluxcd.io/v1
                kind: HelmRelease
                metadata:
                  name: cart
                spec:
                    chart:
                        repository: https://charts.example.com/
                        name: cart
                        version: 1.3.0
                    values:
                        image:
                            repository: registry.example.com/cart
                        # trailing comment stays
                    wait: true
                """;
        String updated = ReleaseDocuments.update("cart.yaml", text, UPDATE);
        assertThat(updated).isEqualTo("""
                apiVersion: helm.fluxcd.io/v1
                kind: HelmRelease
                metadata:
                  name: cart
                spec:
                    chart:
                        repository: https://charts.example.com/
                        name: cart
                        version: 1.4.0
                    values:
                        image:
                            repository: registry.example.com/cart
                            tag: 1.4.0
                            digest: %s
                        # trailing comment stays
                    wait: true
                """.formatted(DIGEST));
    }

    @Test
    void fluxV2VersionAndValuesAreSetAndCommentsKept() {
        String text = """
                apiVersion: helm.toolkit.fluxcd.io/v2
                kind: HelmRelease
                metadata:
                  name: cart
                  namespace: shop
                spec:
                  interval: 5m
                  chart:
                    spec:
                      chart: cart
                      version: '1.3.0' # pinned by Conveyor
                      sourceRef: {kind: HelmRepository, name: charts}
                  values:
                    image: {repository: registry.example.com/cart, tag: "1.3.0", digest: "sha256:00"}
                """;
        String updated = ReleaseDocuments.update("cart.yaml", text, UPDATE);
        assertThat(updated).contains("      version: '1.4.0' # pinned by Conveyor\n")
                .contains("image: {repository: registry.example.com/cart, tag: \"1.4.0\", digest: \"" + DIGEST
                        + "\"}")
                .contains("sourceRef: {kind: HelmRepository, name: charts}");
    }

    @Test
    void createdObjectsReadBackAndUpdateToThemselves() {
        for (ReleaseKind kind : ReleaseKind.values()) {
            String created = ReleaseDocuments.create(kind, UPDATE, "charts", "main");
            YamlText doc = YamlText.parse("new.yaml", created);
            assertThat(doc.string("kind")).contains(kind.kind());
            assertThat(doc.string("metadata", "name")).contains("cart");
            assertThat(doc.string("spec", "values", "image", "digest")).contains(DIGEST);
            assertThat(ReleaseDocuments.update("new.yaml", created, UPDATE)).isEqualTo(created);
        }
    }

    @Test
    void badReleaseFilesAreRefusedNamingTheField() {
        assertThatThrownBy(() -> ReleaseDocuments.update("x.yaml", "apiVersion: v1\nkind: ConfigMap\n", UPDATE))
                .isInstanceOf(InvalidDocumentException.class).hasMessageContaining("x.yaml")
                .extracting(e -> ((InvalidDocumentException) e).field()).isEqualTo("kind");
        String listValues = FLUX_V1.replace("      tag: \"1.3.0\"\n", "      tag: [a]\n");
        assertThatThrownBy(() -> ReleaseDocuments.update("x.yaml", listValues, UPDATE))
                .isInstanceOf(InvalidDocumentException.class).hasMessageContaining("spec.values.image.tag");
        String bomb = "a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b]\n"
                + "d: &d [*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n";
        assertThatThrownBy(() -> YamlText.parse("bomb.yaml", bomb)).isInstanceOf(InvalidDocumentException.class);
        assertThatThrownBy(() -> YamlText.parse("dup.yaml", "a: 1\na: 2\n"))
                .isInstanceOf(InvalidDocumentException.class).hasMessageContaining("dup.yaml");
    }

    static List<String> changedLines(String before, String after) {
        List<String> a = before.lines().toList();
        List<String> b = after.lines().toList();
        assertThat(b).hasSameSizeAs(a);
        List<String> changes = new ArrayList<>();
        for (int i = 0; i < a.size(); i++) {
            if (!a.get(i).equals(b.get(i))) {
                changes.add(a.get(i) + " -> " + b.get(i));
            }
        }
        return changes;
    }
}
