package dev.conveyor.manifests.domain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;

import org.junit.jupiter.api.Test;

import dev.conveyor.stage.config.ConveyorYaml;
import dev.conveyor.stage.config.InvalidConfigException;

class AppManifestConfigTest {

    @Test
    void defaultsMakeARepoWithJustAChartWork() {
        AppManifestConfig config = AppManifestConfig.from(ConveyorYaml.empty(), "Team_Shop", "default", "main");
        assertThat(config).isEqualTo(new AppManifestConfig("chart", "team-shop", "default", List.of(),
                "image.repository", "image.tag", "image.digest", List.of(), "main"));
    }

    @Test
    void everyKeyIsRead() {
        AppManifestConfig config = AppManifestConfig.from(ConveyorYaml.parse("""
                manifests:
                  chart: ./deploy/charts/shop/
                  releaseName: shop
                  namespace: prod
                  values:
                    - file: deploy/values-prod.yaml
                  image: {repository: app.image.name, tag: app.image.version, digest: app.image.sha}
                  crds:
                    - path: crds
                  baseBranch: develop
                  kubernetesVersion: v1.33.2
                """), "x", "default", "main");
        assertThat(config).isEqualTo(new AppManifestConfig("deploy/charts/shop", "shop", "prod", List.of(
                "deploy/values-prod.yaml"), "app.image.name", "app.image.version", "app.image.sha", List.of("crds"),
                "develop", java.util.Optional.of("1.33")));
    }

    @Test
    void pathsThatEscapeTheRepositoryAndTyposAreErrorsNamingTheField() {
        assertThatThrownBy(() -> AppManifestConfig.from(ConveyorYaml.parse("manifests:\n  chart: a/../../x\n"), "x",
                "default", "main")).isInstanceOfSatisfying(RepoPaths.EscapingPath.class, e -> assertThat(e.field())
                        .isEqualTo("manifests.chart"));
        assertThatThrownBy(() -> AppManifestConfig.from(ConveyorYaml.parse(
                "manifests:\n  values:\n    - file: /etc/passwd\n"), "x", "default", "main"))
                .isInstanceOfSatisfying(RepoPaths.EscapingPath.class, e -> assertThat(e.field()).isEqualTo(
                        "manifests.values[0].file"));
        assertThatThrownBy(() -> AppManifestConfig.from(ConveyorYaml.parse("manifests:\n  chartt: x\n"), "x",
                "default", "main")).isInstanceOfSatisfying(InvalidConfigException.class, e -> assertThat(e.field())
                        .isEqualTo("manifests.chartt"));
        assertThatThrownBy(() -> AppManifestConfig.from(ConveyorYaml.parse("manifests:\n  kubernetesVersion: '1.20'\n"),
                "x", "default", "main")).isInstanceOfSatisfying(InvalidConfigException.class, e -> {
                    assertThat(e.field()).isEqualTo("manifests.kubernetesVersion");
                    assertThat(e.getMessage()).contains("unknown Kubernetes version \"1.20\"; available: 1.30, 1.31,"
                            + " 1.32, 1.33, 1.34, 1.35");
                });
        assertThatThrownBy(() -> AppManifestConfig.from(ConveyorYaml.parse("manifests:\n  image:\n    tag: 'a b'\n"),
                "x", "default", "main")).isInstanceOfSatisfying(InvalidConfigException.class,
                        e -> assertThat(e
                                .field()).isEqualTo("manifests.image.tag"));
    }

    @Test
    void repoPathsNormalise() {
        assertThat(RepoPaths.normalize("./a//b/./c/../d/", "f")).isEqualTo("a/b/d");
        assertThat(RepoPaths.normalize(".", "f")).isEmpty();
        assertThatThrownBy(() -> RepoPaths.normalize("..", "f")).hasMessage("f escapes the repository: '..'");
        assertThatThrownBy(() -> RepoPaths.normalize("a\\..\\..", "f")).isInstanceOf(RepoPaths.EscapingPath.class);
    }
}
