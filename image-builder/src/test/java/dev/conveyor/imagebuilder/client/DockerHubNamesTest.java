package dev.conveyor.imagebuilder.client;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import org.junit.jupiter.api.Test;

import com.google.cloud.tools.jib.api.ImageReference;

/** Docker Hub's naming rules: short names live in {@code library/}, and all its host aliases are one registry. */
class DockerHubNamesTest {

    @Test
    void shortNamesAreOfficialImagesOnRegistryOne() {
        ImageReference nginx = JibImages.reference("nginx");
        assertThat(nginx.getRegistry()).isEqualTo("registry-1.docker.io");
        assertThat(nginx.getRepository()).isEqualTo("library/nginx");
        assertThat(nginx.getQualifier()).isEqualTo("latest");

        ImageReference tagged = JibImages.reference("eclipse-temurin:21-jre");
        assertThat(tagged.getRegistry()).isEqualTo("registry-1.docker.io");
        assertThat(tagged.getRepository()).isEqualTo("library/eclipse-temurin");
        assertThat(tagged.getQualifier()).isEqualTo("21-jre");
    }

    @Test
    void dockerIoAndIndexNamesAreDockerHubAndKeepUserNamespaces() {
        for (String host : new String[]{"docker.io", "index.docker.io", "registry-1.docker.io"}) {
            ImageReference user = JibImages.reference(host + "/foo/bar:1");
            assertThat(user.getRegistry()).as(host).isEqualTo("registry-1.docker.io");
            assertThat(user.getRepository()).as(host).isEqualTo("foo/bar");
            ImageReference official = JibImages.reference(host + "/nginx");
            assertThat(official.getRepository()).as(host).isEqualTo("library/nginx");
        }
        ImageReference namespaced = JibImages.reference("foo/bar");
        assertThat(namespaced.getRegistry()).isEqualTo("registry-1.docker.io");
        assertThat(namespaced.getRepository()).isEqualTo("foo/bar");
    }

    @Test
    void hostsWithADotColonOrLocalhostAreNotDockerHub() {
        assertThat(JibImages.registryOf("ghcr.io/foo/bar")).isEqualTo("ghcr.io");
        assertThat(JibImages.registryOf("127.0.0.1:5000/shop")).isEqualTo("127.0.0.1:5000");
        assertThat(JibImages.registryOf("localhost/shop")).isEqualTo("localhost");
        assertThat(JibImages.reference("localhost:5000/shop").getRepository()).isEqualTo("shop");
    }

    @Test
    void everyDockerHubAliasFindsTheOneCredentialAndTheApiIsOnRegistryOne() {
        RegistryCredentials.Credential hub = new RegistryCredentials.Credential("me", "pat");
        for (String configured : new String[]{"docker.io", "index.docker.io", "registry-1.docker.io",
                "registry.hub.docker.com", "Docker.IO", "https://index.docker.io/v1/",
                "https://registry-1.docker.io"}) {
            RegistryCredentials credentials = new RegistryCredentials(Map.of(configured, hub));
            for (String asked : new String[]{"docker.io", "index.docker.io", "registry-1.docker.io",
                    JibImages.registryOf("nginx")}) {
                assertThat(credentials.find(asked)).as(configured + " asked as " + asked).contains(hub);
            }
            assertThat(credentials.find("ghcr.io")).as(configured).isEmpty();
        }
        for (String alias : new String[]{"docker.io", "index.docker.io", "registry-1.docker.io",
                "https://index.docker.io/v1/"}) {
            assertThat(RegistryCredentials.apiHost(alias)).as(alias).isEqualTo("registry-1.docker.io");
        }
        assertThat(RegistryCredentials.apiHost("ghcr.io")).isEqualTo("ghcr.io");
        assertThat(RegistryCredentials.apiHost("127.0.0.1:5000")).isEqualTo("127.0.0.1:5000");
    }

    @Test
    void otherRegistriesKeepTheirPortAndAreNotFolded() {
        RegistryCredentials credentials = new RegistryCredentials(Map.of("Registry.Example.com:5000",
                new RegistryCredentials.Credential("u", "p")));
        assertThat(credentials.find("registry.example.com:5000")).isPresent();
        assertThat(credentials.find("registry.example.com")).isEmpty();
        assertThat(credentials.find("docker.io")).isEmpty();
        assertThat(RegistryCredentials.normalize("docker.io.example.com")).isEqualTo("docker.io.example.com");
        assertThat(credentials.toString()).doesNotContain("\"p\"").contains("registry.example.com:5000");
        assertThat(new RegistryCredentials.Credential("u", "hidden").toString()).doesNotContain("hidden");
    }
}
