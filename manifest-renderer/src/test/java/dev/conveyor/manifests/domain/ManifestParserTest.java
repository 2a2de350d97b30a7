package dev.conveyor.manifests.domain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ManifestParserTest {

    final ManifestParser parser = new ManifestParser(new ManifestParser.Limits(64 * 1024, 50, 10_000, 64));

    @Test
    void mapsEachObjectToItsTemplateAndSkipsEmptyDocuments() {
        String rendered = """
                ---
                # Source: shop/templates/service.yaml
                apiVersion: v1
                kind: Service
                metadata:
                  name: web
                ---
                # Source: shop/templates/empty.yaml
                ---
                # Source: shop/charts/cache/templates/cm.yaml
                apiVersion: v1
                kind: ConfigMap
                metadata:
                  name: c
                  namespace: shop
                """;
        ManifestParser.Result result = parser.parse(rendered, "<none>");
        assertThat(result.problems()).isEmpty();
        assertThat(result.objects()).extracting(RenderedObject::source, RenderedObject::kind, RenderedObject::name,
                RenderedObject::namespace).containsExactly(
                        org.assertj.core.groups.Tuple.tuple("shop/templates/service.yaml", "Service", "web", ""),
                        org.assertj.core.groups.Tuple.tuple("shop/charts/cache/templates/cm.yaml", "ConfigMap", "c",
                                "shop"));
    }

    @Test
    void identicalAnonymousDocumentsAreToldApartByTheirIndexAndLine() {
        String stream = """
                # a leading comment
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: same}
                data: {a: 1}
                ---

                apiVersion: v1
                kind: ConfigMap
                metadata: {name: same}
                data: {a: 1}
                --- # third
                apiVersion: v1
                kind: List
                items:
                  - {apiVersion: v1, kind: ConfigMap, metadata: {name: x}}
                  - {apiVersion: v1, kind: ConfigMap, metadata: {name: y}}
                ---
                a: [unclosed
                """;
        ManifestParser.Result result = parser.parse(stream, "stream.yaml");
        assertThat(result.objects()).extracting(RenderedObject::name, RenderedObject::document, RenderedObject::line)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("same", 1, 1), org.assertj.core.groups.Tuple
                        .tuple("same", 2, 8), org.assertj.core.groups.Tuple.tuple("x", 3, 13),
                        org.assertj.core.groups.Tuple.tuple("y", 3, 13));
        assertThat(result.objects().get(1).problem("data.a", "expected string").renderWithPosition()).isEqualTo(
                "stream.yaml (document 2, line 8): ConfigMap same: data.a: expected string");
        assertThat(result.problems()).singleElement().satisfies(p -> {
            assertThat(p.document()).isEqualTo(4);
            assertThat(p.line()).isEqualTo(19);
        });
    }

    @Test
    void theSizeCapCountsCharactersAndSaysSo() {
        ManifestParser small = new ManifestParser(new ManifestParser.Limits(10, 50, 10_000, 64));
        assertThatThrownBy(() -> small.parse("ééééééééééé", "x")).isInstanceOf(ManifestInputException.class)
                .hasMessage("the rendered manifests are longer than 10 characters");
    }

    @Test
    void anAliasBombIsRefusedBeforeItExpands() {
        String bomb = """
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: bomb}
                data:
                  a: &a [x, x, x, x, x, x, x, x, x]
                  b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
                  c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
                  d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
                  e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
                """;
        assertThatThrownBy(() -> parser.parse(bomb, "t.yaml")).isInstanceOfSatisfying(ManifestInputException.class,
                e -> {
                    assertThat(e.reason()).isEqualTo(ManifestInputException.Reason.YAML_ALIAS_BOMB);
                    assertThat(e.getMessage()).isEqualTo(
                            "t.yaml: the document expands to more than 10000 nodes or nests deeper than 64");
                });
        String manyAliases = "a: &a [x]\nb: [" + "*a, ".repeat(60) + "*a]\n";
        assertThatThrownBy(() -> parser.parse(manyAliases, "t.yaml")).isInstanceOfSatisfying(
                ManifestInputException.class,
                e -> assertThat(e.getMessage()).isEqualTo("t.yaml: more than 50 aliases"));
    }

    @Test
    void oversizedOutputIsRefused() {
        String big = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata:\n  x: " + "y".repeat(70_000);
        assertThatThrownBy(() -> parser.parse(big, "t.yaml")).isInstanceOfSatisfying(ManifestInputException.class,
                e -> assertThat(e.reason()).isEqualTo(ManifestInputException.Reason.OUTPUT_TOO_LARGE));
    }

    @Test
    void scalarsFollowYaml11AndMergeKeysAreApplied() {
        String text = """
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: s}
                base: &base {a: 1, b: 2}
                merged:
                  <<: *base
                  b: 3
                hex: 0x1F
                octal: 010
                float: 1.5
                yes: yes
                quoted: "8080"
                nothing: ~
                """;
        ManifestParser.Result result = parser.parse(text, "t");
        assertThat(result.problems()).isEmpty();
        var body = result.objects().get(0).body();
        assertThat(body.path("merged").toString()).isEqualTo("{\"a\":1,\"b\":3}");
        assertThat(body.path("hex").asLong()).isEqualTo(31);
        assertThat(body.path("octal").asLong()).isEqualTo(8);
        assertThat(body.path("float").isDouble()).isTrue();
        assertThat(body.path("true").isBoolean() || body.path("yes").isBoolean()).isTrue();
        assertThat(body.path("quoted").isTextual()).isTrue();
        assertThat(body.path("nothing").isNull()).isTrue();
    }
}
