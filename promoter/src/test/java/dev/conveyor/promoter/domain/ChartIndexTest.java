package dev.conveyor.promoter.domain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

class ChartIndexTest {

    static final Instant NOW = Instant.parse("2026-11-23T10:00:00Z");

    static final String EXISTING = """
            apiVersion: v1
            entries:
              cart:
              - apiVersion: v2
                name: cart
                version: 1.0.0
                digest: %s
                created: "2026-01-01T00:00:00Z"
                urls: [cart-1.0.0.tgz]
              other:
              - apiVersion: v2
                name: other
                version: 0.3.0
                digest: %s
                created: 2025-05-05T00:00:00Z
                urls: [https://elsewhere.example.com/other-0.3.0.tgz]
            generated: "2026-01-01T00:00:00Z"
            """.formatted("a1".repeat(32), "b2".repeat(32));

    @Test
    void addingKeepsEveryEntryAndPutsTheNewVersionFirst() {
        ChartIndex.Result result = ChartIndex.add(Optional.of(EXISTING), Map.of("apiVersion", "v2", "name", "cart",
                "version", "1.1.0", "appVersion", "1.1.0"), "c3".repeat(32), "cart-1.1.0.tgz", NOW);

        assertThat(result.outcome()).isEqualTo(ChartIndex.Outcome.ADDED);
        Map<String, Object> index = new Yaml().load(result.text());
        assertThat(index.get("apiVersion")).isEqualTo("v1");
        assertThat(index.get("generated")).isEqualTo(NOW.toString());
        @SuppressWarnings("unchecked")
        Map<String, List<Map<String, Object>>> entries = (Map<String, List<Map<String, Object>>>) index.get(
                "entries");
        assertThat(entries.get("cart")).extracting(e -> e.get("version")).containsExactly("1.1.0", "1.0.0");
        assertThat(entries.get("cart").get(0)).containsEntry("digest", "c3".repeat(32))
                .containsEntry("appVersion", "1.1.0").containsEntry("urls", List.of("cart-1.1.0.tgz"))
                .containsEntry("created", NOW.toString());
        assertThat(entries.get("cart").get(1)).containsEntry("digest", "a1".repeat(32));
        assertThat(entries.get("other")).hasSize(1);
        assertThat(entries.get("other").get(0).get("urls")).isEqualTo(List.of(
                "https://elsewhere.example.com/other-0.3.0.tgz"));
    }

    @Test
    void theSameVersionIsAlreadyPublishedOrAConflict() {
        Map<String, Object> chart = Map.of("name", "cart", "version", "1.0.0");
        assertThat(ChartIndex.add(Optional.of(EXISTING), chart, "a1".repeat(32), "cart-1.0.0.tgz", NOW))
                .isEqualTo(new ChartIndex.Result(ChartIndex.Outcome.ALREADY_PUBLISHED, EXISTING));
        assertThatThrownBy(() -> ChartIndex.add(Optional.of(EXISTING), chart, "d9".repeat(32), "cart-1.0.0.tgz",
                NOW)).isInstanceOf(ChartIndex.VersionConflict.class).hasMessageContaining("immutable");
    }

    @Test
    void aNewRepositoryGetsAFreshIndex() {
        ChartIndex.Result result = ChartIndex.add(Optional.empty(), Map.of("name", "cart", "version", "0.1.0"),
                "e4".repeat(32), "cart-0.1.0.tgz", NOW);
        assertThat(result.text()).startsWith("apiVersion: v1\nentries:\n  cart:\n");
    }
}
