package dev.conveyor.manifests.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A service that has rendered a chart still shuts down on {@code SIGTERM}: Helm's Go code in the process must not keep
 * the signal (a pod's termination, {@code ./conveyor down}). A child JVM renders with {@link HelmRenderer}, then is
 * sent {@code SIGTERM}; it must run its shutdown hooks and exit with 143.
 */
class TermAfterRenderTest {

    @TempDir
    Path dir;

    /** The child: renders the chart in {@code args[0]}, says so, and waits to be terminated. */
    public static void main(String[] args) throws Exception {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> System.out.println("shutdown hook ran")));
        String rendered = new HelmRenderer().template(new HelmRenderer.Request(Path.of(args[0]), "r", "default", List
                .of(), "1.29.0"));
        System.out.println("rendered " + rendered.lines().count() + " lines");
        System.out.flush();
        Thread.sleep(TimeUnit.MINUTES.toMillis(2));
    }

    @Test
    void aRenderedChartDoesNotKeepTheJvmFromShuttingDownOnSigterm() throws Exception {
        Path chart = Files.createDirectories(dir.resolve("chart"));
        Files.writeString(chart.resolve("Chart.yaml"), "apiVersion: v2\nname: term\nversion: 0.1.0\n");
        Files.createDirectories(chart.resolve("templates"));
        Files.writeString(chart.resolve("templates/cm.yaml"),
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n");
        // To a file: Process.destroy() closes the child's pipes, so what it writes while shutting down is read back
        // from there.
        Path log = dir.resolve("child.log");
        Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                System.getProperty("java.class.path"), TermAfterRenderTest.class.getName(), chart.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            await().atMost(Duration.ofSeconds(60)).until(() -> output(log).contains("rendered ") || !child.isAlive());
            assertThat(output(log)).as("the child rendered").contains("rendered ");

            child.destroy(); // SIGTERM

            assertThat(child.waitFor(20, TimeUnit.SECONDS)).as("exited after SIGTERM; output %s", output(log))
                    .isTrue();
            assertThat(child.exitValue()).isEqualTo(143);
            assertThat(output(log)).contains("shutdown hook ran");
        } finally {
            child.destroyForcibly();
        }
    }

    private static String output(Path log) throws IOException {
        return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
    }
}
