package dev.conveyor.manifests.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SchemaLocationsTest {

    @Test
    void expandsKubeconformTemplates() {
        SchemaLocations locations = new SchemaLocations(
                "/s/{{ .NormalizedKubernetesVersion }}{{ .StrictSuffix }}/{{.ResourceKind}}{{ .KindSuffix }}.json",
                "1.32", true);
        assertThat(locations.path("apps", "v1", "Deployment")).isEqualTo(Path.of(
                "/s/v1.32.0-strict/deployment-apps-v1.json"));
        assertThat(locations.path("", "v1", "Service")).isEqualTo(Path.of("/s/v1.32.0-strict/service-v1.json"));
        assertThat(new SchemaLocations("file:///c/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json",
                "1.32", false).path("monitoring.coreos.com", "v1", "ServiceMonitor")).isEqualTo(Path.of(
                        "/c/monitoring.coreos.com/servicemonitor_v1.json"));
    }

    @Test
    void findsSchemasOnDiskAndRefusesRemoteLocations(@TempDir Path dir) throws Exception {
        Files.createDirectories(dir.resolve("example.com"));
        Files.writeString(dir.resolve("example.com/thing_v1.json"), "{\"type\":\"object\"}");
        SchemaLocations locations = new SchemaLocations(
                dir + "/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json",
                "1.32", true);
        assertThat(locations.find("example.com", "v1", "Thing")).hasValueSatisfying(n -> assertThat(n.path("type")
                .asText()).isEqualTo("object"));
        assertThat(locations.find("example.com", "v2", "Thing")).isEmpty();
        assertThatThrownBy(() -> new SchemaLocations("https://raw.githubusercontent.com/x/{{ .ResourceKind }}.json",
                "1.32", true)).hasMessageContaining("is not a local path");
    }
}
