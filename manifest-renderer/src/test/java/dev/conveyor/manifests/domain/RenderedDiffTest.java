package dev.conveyor.manifests.domain;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import org.junit.jupiter.api.Test;

class RenderedDiffTest {

    @Test
    void namesAddedChangedAndRemovedObjectsWithAUnifiedDiff() {
        Map<String, String> base = Map.of("a.yaml", "kind: A\nx: 1\ny: 2\nz: 3\n", "gone.yaml", "kind: Gone\n",
                "same.yaml", "kind: Same\n");
        Map<String, String> head = Map.of("a.yaml", "kind: A\nx: 1\ny: 20\nz: 3\n", "new.yaml", "kind: New\n",
                "same.yaml", "kind: Same\n");

        RenderedDiff diff = RenderedDiff.between(base, head, 10_000);

        assertThat(diff.added()).containsExactly("new.yaml");
        assertThat(diff.changed()).containsExactly("a.yaml");
        assertThat(diff.removed()).containsExactly("gone.yaml");
        assertThat(diff.truncated()).isFalse();
        assertThat(diff.text()).isEqualTo("""
                Rendered manifests: 1 added, 1 changed, 1 removed

                + added new.yaml

                - removed gone.yaml

                ```diff
                --- a/a.yaml
                +++ b/a.yaml
                @@ -1,4 +1,4 @@
                 kind: A
                 x: 1
                -y: 2
                +y: 20
                 z: 3
                ```
                """);
    }

    @Test
    void theReportIsCappedAndSaysSo() {
        Map<String, String> head = new java.util.TreeMap<>();
        for (int i = 0; i < 200; i++) {
            head.put("object-" + i + ".yaml", "kind: ConfigMap\n");
        }
        RenderedDiff diff = RenderedDiff.between(Map.of(), head, 500);
        assertThat(diff.truncated()).isTrue();
        assertThat(diff.text()).hasSizeLessThanOrEqualTo(500).endsWith("... diff truncated at 500 characters\n");
        assertThat(diff.added()).hasSize(200);
    }

    @Test
    void identicalSetsAreEmpty() {
        assertThat(RenderedDiff.between(Map.of("a", "b"), Map.of("a", "b"), 100).empty()).isTrue();
    }
}
