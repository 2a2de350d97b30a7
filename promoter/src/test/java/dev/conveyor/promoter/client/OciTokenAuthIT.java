package dev.conveyor.promoter.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.conveyor.stage.FailureKind;
import dev.conveyor.stage.StageException;
import dev.conveyor.testkit.TempDirs;
import dev.conveyor.testkit.registry.TokenAuthRegistry;

/**
 * An OCI chart pushed with Helm to, and looked up in, a real registry that demands Docker Hub's token flow
 * ({@code auth: token}, JWTs per {@code scope} from a token service).
 */
class OciTokenAuthIT {

    static final String PASSWORD = "chart-registry-secret";
    static final String WRONG = "not-the-chart-registry-secret";

    static TokenAuthRegistry registry;
    static Path root;

    final List<String> logged = new CopyOnWriteArrayList<>();
    final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord record) {
            logged.add(record.getMessage() + " " + record.getThrown());
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    @BeforeAll
    static void start() {
        registry = TokenAuthRegistry.start("ci", PASSWORD);
        root = TempDirs.create("oci-token-it");
    }

    @AfterAll
    static void stop() {
        registry.close();
        TempDirs.deleteQuietly(root);
    }

    @BeforeEach
    void captureLogs() {
        capture.setLevel(Level.ALL);
        Logger.getLogger("").addHandler(capture);
    }

    @AfterEach
    void releaseLogs() {
        Logger.getLogger("").removeHandler(capture);
    }

    @Test
    void aChartIsPushedWithAPushTokenAndFoundAgainWithAPullToken() throws Exception {
        PackagedChart chart = chart("cart", "1.0.0");
        OciChartRepository repository = repository(PASSWORD);

        assertThat(repository.publish(chart, "run-1")).isEqualTo(ChartRepository.Outcome.PUBLISHED);

        assertThat(registry.tags("charts/cart")).containsExactly("1.0.0");
        assertThat(registry.grantedScopes()).contains("repository:charts/cart:pull",
                "repository:charts/cart:pull,push");
        assertThat(repository.layerDigest(chart)).contains(chart.digest());
        assertThat(repository(PASSWORD).publish(chart, "run-2")).isEqualTo(
                ChartRepository.Outcome.ALREADY_PUBLISHED);
        assertThat(logged).noneMatch(line -> line.contains(PASSWORD));
    }

    @Test
    void aWrongPasswordIsChartRepoAuthDeniedWithoutTheSecret() throws Exception {
        PackagedChart chart = chart("denied", "1.0.0");
        int deniedBefore = registry.deniedTokenRequests();

        assertThatThrownBy(() -> repository(WRONG).publish(chart, "run-1")).isInstanceOfSatisfying(
                StageException.class, e -> {
                    assertThat(e.reason()).isEqualTo("CHART_REPO_AUTH_DENIED");
                    assertThat(e.kind()).isEqualTo(FailureKind.TERMINAL);
                    for (Throwable t = e; t != null; t = t.getCause()) {
                        assertThat(String.valueOf(t.getMessage())).doesNotContain(WRONG);
                    }
                });

        assertThat(registry.deniedTokenRequests()).isGreaterThan(deniedBefore);
        assertThat(registry.tags("charts/denied")).isEmpty();
        assertThat(logged).noneMatch(line -> line.contains(WRONG));
    }

    private static OciChartRepository repository(String password) {
        return new OciChartRepository("oci", "oci://" + registry.host() + "/charts", true, Optional.of("ci"), Optional
                .of(password), dev.conveyor.stage.net.OutboundPolicy.builder().build());
    }

    private static PackagedChart chart(String name, String version) throws Exception {
        Path dir = Files.createDirectories(root.resolve(name + "-src"));
        Files.writeString(dir.resolve("Chart.yaml"), "apiVersion: v2\nname: " + name + "\nversion: 0.0.0\n");
        Files.createDirectories(dir.resolve("templates"));
        Files.writeString(dir.resolve("templates/cm.yaml"),
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n");
        return new ChartPackager().packageChart(dir, name, version, Files.createDirectories(root.resolve(name
                + "-pkg")));
    }
}
