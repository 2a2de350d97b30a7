package dev.conveyor.gateway.fuzz;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Collectors;

import dev.conveyor.testkit.kafka.KafkaBroker;

/**
 * Sends generated hooks ({@link HookFuzzer}) to a gateway, one at a time, with a valid hook token, and tallies the
 * answers. {@code HookFuzzIT} runs it in the build; {@link #main} is the bench: 10,000 against the packaged gateway.
 */
public final class HookFuzz {

    /** Longest answer kept (and the most any error should need: an answer longer than this echoes input). */
    public static final int KEPT = 8192;

    /**
     * One request and its answer.
     *
     * @param request what was sent
     * @param status the HTTP status
     * @param body the answer, cut to {@link #KEPT} characters
     * @param length the answer's full length
     * @param location the {@code Location} header, if any
     */
    public record Outcome(HookFuzzer.Case request, int status, String body, int length, String location) {
    }

    private HookFuzz() {
    }

    /** Sends {@code count} generated requests to {@code base}/hooks/jenkins and returns every outcome. */
    public static List<Outcome> run(URI base, String token, long seed, int count, String prefix) {
        HookFuzzer fuzzer = new HookFuzzer(seed, prefix);
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
        List<Outcome> outcomes = new ArrayList<>(count);
        URI hook = base.resolve("/hooks/jenkins");
        for (int i = 0; i < count; i++) {
            outcomes.add(send(http, hook, token, fuzzer.next()));
        }
        return outcomes;
    }

    static Outcome send(HttpClient http, URI hook, String token, HookFuzzer.Case request) {
        HttpRequest.Builder builder = HttpRequest.newBuilder(hook).timeout(Duration.ofSeconds(60))
                .header("Authorization", "Bearer " + token)
                .POST(HttpRequest.BodyPublishers.ofByteArray(request.body()));
        if (request.contentType() != null && !request.contentType().isEmpty()) {
            builder.header("Content-Type", request.contentType());
        }
        try {
            HttpResponse<String> r = http.send(builder.build(), HttpResponse.BodyHandlers.ofString());
            String body = r.body();
            return new Outcome(request, r.statusCode(), body.length() > KEPT ? body.substring(0, KEPT) : body,
                    body.length(), r.headers().firstValue("Location").orElse(null));
        } catch (IOException e) {
            // A connection the gateway dropped counts as a server error: the fuzz test allows none.
            return new Outcome(request, 599, "connection failed: " + e.getMessage(), 0, null);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** Status code → count. */
    public static Map<Integer, Long> statuses(List<Outcome> outcomes) {
        return outcomes.stream().collect(Collectors.groupingBy(Outcome::status, TreeMap::new, Collectors.counting()));
    }

    /** A printable summary: status codes overall and per kind of request, runs started. */
    public static String summary(List<Outcome> outcomes, Duration took) {
        StringBuilder out = new StringBuilder();
        out.append("requests: ").append(outcomes.size()).append(" in ").append(took.toMillis()).append(" ms (")
                .append(String.format("%.0f", outcomes.size() * 1000.0 / Math.max(1, took.toMillis())))
                .append("/s)\n");
        out.append("status codes: ").append(statuses(outcomes)).append('\n');
        out.append("runs started (202): ").append(outcomes.stream().filter(o -> o.status() == 202).count())
                .append("; 5xx: ").append(outcomes.stream().filter(o -> o.status() >= 500).count())
                .append("; hostile URLs accepted: ")
                .append(outcomes.stream().filter(o -> o.request().hostileUrl() && o.status() == 202).count())
                .append(" of ").append(outcomes.stream().filter(o -> o.request().hostileUrl()).count()).append('\n');
        Map<String, Map<Integer, Long>> byKind = outcomes.stream().collect(Collectors.groupingBy(
                o -> o.request().kind(), TreeMap::new,
                Collectors.groupingBy(Outcome::status, TreeMap::new, Collectors.counting())));
        byKind.forEach((kind, codes) -> out.append("  ").append(kind).append(": ").append(codes).append('\n'));
        return out.toString();
    }

    /**
     * The bench, 10,000 by default: {@code bench/run gateway dev.conveyor.gateway.fuzz.HookFuzz [count] [seed] [url]}.
     * Without a URL it starts its own broker (in-process) and the packaged gateway
     * ({@code gateway/target/quarkus-app/quarkus-run.jar}, built by {@code ./mvnw -pl gateway -am package
     * -DskipTests}) with the rate limit lifted, so every request reaches validation. With a URL it uses that gateway
     * and {@code $CONVEYOR_HOOK_TOKEN}; mind that gateway's hook rate limit.
     */
    public static void main(String[] args) throws Exception {
        int count = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
        long seed = args.length > 1 ? Long.parseLong(args[1]) : System.nanoTime();
        if (args.length > 2) {
            String token = Optional.ofNullable(System.getenv("CONVEYOR_HOOK_TOKEN"))
                    .orElseThrow(
                            () -> new IllegalStateException("set CONVEYOR_HOOK_TOKEN to the gateway's hook token"));
            bench(URI.create(args[2]), token, count, seed);
            return;
        }
        Path jar = Path.of("gateway/target/quarkus-app/quarkus-run.jar");
        if (!Files.exists(jar)) {
            throw new IllegalStateException(jar + " is missing: ./mvnw -B -pl gateway -am package -DskipTests");
        }
        try (KafkaBroker broker = KafkaBroker.start()) {
            int port;
            try (ServerSocket socket = new ServerSocket(0)) {
                port = socket.getLocalPort();
            }
            Path log = Files.createTempFile("hook-fuzz-gateway", ".log");
            Process gateway = new ProcessBuilder("java", "-Xmx512m", "-Dquarkus.http.port=" + port,
                    "-Dquarkus.http.host=127.0.0.1", "-Dkafka.bootstrap.servers=" + broker.bootstrapServers(),
                    "-Dconveyor.gateway.hook.token=bench-hook-token",
                    "-Dconveyor.gateway.hook.rate-limit.requests=100000000", "-jar", jar.toString())
                    .redirectErrorStream(true).redirectOutput(log.toFile()).start();
            try {
                URI base = URI.create("http://127.0.0.1:" + port);
                awaitReady(base, gateway, log);
                bench(base, "bench-hook-token", count, seed);
            } finally {
                gateway.destroy();
                gateway.waitFor();
            }
        }
    }

    static void bench(URI base, String token, int count, long seed) {
        System.out.println("hook fuzz bench: " + count + " requests, seed " + seed + ", gateway " + base);
        long start = System.nanoTime();
        List<Outcome> outcomes = run(base, token, seed, count, "fzb" + Long.toString(seed & 0xffff, 36));
        System.out.print(summary(outcomes, Duration.ofNanos(System.nanoTime() - start)));
    }

    private static void awaitReady(URI base, Process gateway, Path log) throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (System.nanoTime() < deadline) {
            if (!gateway.isAlive()) {
                throw new IllegalStateException("the gateway exited; its log: " + log);
            }
            try {
                if (http.send(HttpRequest.newBuilder(base.resolve("/q/health/ready")).build(),
                        HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("the gateway was not ready in 90 s; its log: " + log);
    }
}
