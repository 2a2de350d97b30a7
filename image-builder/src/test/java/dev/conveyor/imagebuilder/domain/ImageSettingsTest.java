package dev.conveyor.imagebuilder.domain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;

import dev.conveyor.stage.config.InvalidConfigException;

class ImageSettingsTest {

    @Test
    void readsEveryKey() {
        ImageSettings settings = ImageSettings.parse("""
                version: {strategy: tags}
                image:
                  base: eclipse-temurin:21-jre
                  name: team/shop
                  kind: Directory
                  entrypoint: /bin/start --fast
                  args: [--port, 8080]
                  ports: [9090/udp, 8080, "8080/tcp"]
                  env: {B: 2, A: one}
                  user: "65532:65532"
                  workdir: /srv/app
                """, "shop");

        assertThat(settings.base()).contains("eclipse-temurin:21-jre");
        assertThat(settings.name()).contains("team/shop");
        assertThat(settings.kind()).contains(ArtifactKind.DIRECTORY);
        assertThat(settings.entrypoint()).containsExactly("/bin/start", "--fast");
        assertThat(settings.args()).containsExactly("--port", "8080");
        assertThat(settings.ports()).containsExactly("8080/tcp", "9090/udp");
        assertThat(settings.env()).isEqualTo(Map.of("A", "one", "B", "2"));
        assertThat(settings.user()).contains("65532:65532");
        assertThat(settings.workdir()).contains("/srv/app");
    }

    @Test
    void noFileOrNoSectionMeansDefaults() {
        assertThat(ImageSettings.parse("", "a")).isEqualTo(ImageSettings.defaults());
        assertThat(ImageSettings.parse("version:\n  strategy: tags\n", "a")).isEqualTo(ImageSettings.defaults());
    }

    @Test
    void aMonorepoAppsOwnSectionWins() {
        ImageSettings settings = ImageSettings.parse("""
                image: {base: top:1}
                apps:
                  - name: api
                    image: {base: api-base:1, ports: [8081]}
                  - name: web
                """, "api");

        assertThat(settings.base()).contains("api-base:1");
        assertThat(settings.ports()).containsExactly("8081/tcp");
        assertThat(ImageSettings.parse("image: {base: top:1}\napps: [{name: web}]\n", "web").base())
                .contains("top:1");
    }

    @Test
    void errorsNameTheField() {
        assertField("image: {bse: x}", "image.bse");
        assertField("image: {name: Team/Shop}", "image.name");
        assertField("image: {kind: war}", "image.kind");
        assertField("image: {ports: [80000]}", "image.ports");
        assertField("image: {ports: 8080}", "image.ports");
        assertField("image: {env: {1BAD: x}}", "image.env.1BAD");
        assertField("image: {env: [A]}", "image.env");
        assertField("image: {user: 'root; rm'}", "image.user");
        assertField("image: {workdir: ../etc}", "image.workdir");
        assertField("image: {workdir: /app/../etc}", "image.workdir");
        assertField("image: {entrypoint: [[a]]}", "image.entrypoint[0]");
        assertField("image: [a]", "image");
        assertField("apps:\n  - name: x\n    image: {base: [1]}\n", "apps[0].image.base");
    }

    @Test
    void aliasBombsAreRefusedByTheSharedReader() {
        String bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                + "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nimage: {args: *c}\n";
        assertThatThrownBy(() -> ImageSettings.parse(bomb, "x")).isInstanceOf(InvalidConfigException.class);
    }

    private static void assertField(String yaml, String field) {
        assertThatThrownBy(() -> ImageSettings.parse(yaml, "x")).isInstanceOfSatisfying(InvalidConfigException.class,
                e -> {
                    assertThat(e.field()).isEqualTo(field);
                    assertThat(e.getMessage()).contains(field);
                });
    }

    @Test
    void defaultsAreEmpty() {
        ImageSettings defaults = ImageSettings.defaults();
        assertThat(defaults.base()).isEqualTo(Optional.empty());
        assertThat(defaults.entrypoint()).isEqualTo(List.of());
    }
}
