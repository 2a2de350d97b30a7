package dev.conveyor.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** When {@code up} restarts a running service: what it was started with no longer matches its build or configuration. */
class ProcessFingerprintTest {

    @TempDir
    Path dir;

    static final Map<String, String> CONFIG = Map.of("quarkus.http.port", "8081", "conveyor.gateway.hook.token",
            "0123456789abcdef-secret-value");

    @Test
    void aRepackagedJarWithTheSameClassesIsTheSameBuildAndChangedClassesAreNot() throws IOException {
        Path app = dir.resolve("quarkus-app");
        jar(app.resolve("app/service.jar"), "class A v1", 1_000);
        Files.writeString(app.resolve("quarkus-application.dat"), "model");
        String first = ProcessFingerprint.build(app);

        // Rebuilt with nothing changed: new entry and file times, same content.
        jar(app.resolve("app/service.jar"), "class A v1", 2_000_000);
        Files.setLastModifiedTime(app.resolve("quarkus-application.dat"), FileTime.from(Instant.now().plusSeconds(60)));
        assertThat(ProcessFingerprint.build(app)).isEqualTo(first);

        jar(app.resolve("app/service.jar"), "class A v2", 3_000_000);
        String changed = ProcessFingerprint.build(app);
        assertThat(changed).isNotEqualTo(first);

        jar(app.resolve("app/service.jar"), "class A v1", 4_000_000);
        Files.createDirectories(app.resolve("lib"));
        Files.writeString(app.resolve("lib/extra.txt"), "x", StandardCharsets.UTF_8);
        assertThat(ProcessFingerprint.build(app)).as("a file added").isNotEqualTo(first);
    }

    @Test
    void theLaunchDigestCoversCommandEnvironmentAndConfigurationButNotTheirOrder() {
        List<String> command = List.of("java", "-jar", "run.jar");
        String launch = ProcessFingerprint.launch(command, Map.of("KUBECONFIG", "/a"), CONFIG);
        Map<String, String> reordered = new LinkedHashMap<>();
        reordered.put("conveyor.gateway.hook.token", CONFIG.get("conveyor.gateway.hook.token"));
        reordered.put("quarkus.http.port", "8081");
        assertThat(ProcessFingerprint.launch(command, Map.of("KUBECONFIG", "/a"), reordered)).isEqualTo(launch);
        assertThat(ProcessFingerprint.launch(command, Map.of("KUBECONFIG", "/b"), CONFIG)).isNotEqualTo(launch);
        assertThat(ProcessFingerprint.launch(List.of("java", "-Xmx1g", "-jar", "run.jar"), Map.of("KUBECONFIG", "/a"),
                CONFIG)).isNotEqualTo(launch);
        assertThat(ProcessFingerprint.launch(command, Map.of("KUBECONFIG", "/a"), Map.of("quarkus.http.port",
                "8081"))).isNotEqualTo(launch);
    }

    @Test
    void aCurrentProcessIsLeftAloneAndAStaleOneIsRestartedSayingWhyWithoutValues() {
        String build = "b1";
        String launch = ProcessFingerprint.launch(List.of("java"), Map.of(), CONFIG);
        assertThat(ProcessFingerprint.staleReason(build, launch, build, launch, Optional.of(CONFIG), CONFIG,
                "gateway/target/quarkus-app")).isEmpty();

        assertThat(ProcessFingerprint.staleReason(build, launch, "b2", launch, Optional.of(CONFIG), CONFIG,
                "gateway/target/quarkus-app")).contains("its build changed (gateway/target/quarkus-app)");

        // The gateway started with an old configuration (what ./conveyor chaos ran into): a new token and a new key.
        Map<String, String> now = new LinkedHashMap<>(CONFIG);
        now.put("conveyor.gateway.hook.token", "fedcba9876543210-new-secret");
        now.put("conveyor.outbound.schemes", "git,file");
        String newLaunch = ProcessFingerprint.launch(List.of("java"), Map.of(), now);
        Optional<String> reason = ProcessFingerprint.staleReason(build, launch, build, newLaunch, Optional.of(CONFIG),
                now, "gateway/target/quarkus-app");
        assertThat(reason).contains(
                "its configuration changed (conveyor.gateway.hook.token, conveyor.outbound.schemes)");
        assertThat(reason.get()).doesNotContain("secret");

        assertThat(ProcessFingerprint.staleReason(build, launch, "b2", newLaunch, Optional.empty(), now, "x"))
                .contains("its build changed (x); its command line, environment or configuration changed");
        assertThat(ProcessFingerprint.staleReason(null, null, build, launch, Optional.of(CONFIG), CONFIG, "x").get())
                .startsWith("started without a fingerprint");
    }

    private static void jar(Path file, String content, long time) throws IOException {
        Files.createDirectories(file.getParent());
        try (OutputStream os = Files.newOutputStream(file); ZipOutputStream zip = new ZipOutputStream(os)) {
            ZipEntry e = new ZipEntry("A.class");
            e.setTime(time);
            zip.putNextEntry(e);
            zip.write(content.getBytes(StandardCharsets.UTF_8));
            zip.closeEntry();
        }
        // Another size and time each write: the digest cache is keyed by them.
        Files.setLastModifiedTime(file, FileTime.fromMillis(time));
    }
}
