package dev.conveyor.gateway.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

import dev.conveyor.events.v1.CloudEventAttributes;
import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.EventJson;
import dev.conveyor.gateway.messaging.EventLogReader;
import dev.conveyor.gateway.support.RunEvents;
import dev.conveyor.testkit.kafka.KafkaBroker;

/**
 * A gateway started on a big event log: {@code runs} CD runs of 10 events each (build, version, image, manifests,
 * chart, three promotions, sync, health), over 1,000 apps, written to a real broker (in this JVM) with a raw producer.
 * Then, each in its own JVM with the same {@code -Xmx}:
 * <ol>
 * <li>the gateway (its {@code quarkus-run.jar}) on an empty history directory: time until {@code /q/health/ready},
 * the newest run served by {@code GET /runs}, time until every run's snapshot is written, heap used after a full GC;
 * <li>the same gateway restarted on the same directory: time until ready, records read, heap after GC;
 * <li>a second replica on an empty directory (a pod on a new node): time until ready;
 * <li>the old read model (every topic from the beginning, every run in memory): time until caught up and heap after
 * GC, or the OutOfMemoryError it died of.
 * </ol>
 * Arguments: {@code [runs=100000] [xmx=512m] [quick|no-old]} (quick: the first start and the restart only; no-old:
 * without the old read model). Needs {@code gateway/target/quarkus-app} (see bench/gateway-history).
 */
public final class RunHistoryBench {

    static final String VIEWER_TOKEN = "bench-viewer-token";
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    public static void main(String[] args) throws Exception {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
        String xmx = args.length > 1 ? args[1] : "512m";
        boolean quick = args.length > 2 && args[2].equals("quick");
        boolean noOld = args.length > 2 && args[2].equals("no-old");
        Path jar = Path.of("gateway/target/quarkus-app/quarkus-run.jar");
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(jar + " is missing: ./mvnw -o package -pl gateway -am -DskipTests");
        }
        Path work = Files.createTempDirectory("gateway-history-bench");
        try (KafkaBroker broker = KafkaBroker.start()) {
            broker.createTopics(3, EventLogReader.topics().toArray(String[]::new));
            long t = System.nanoTime();
            long events = write(broker.bootstrapServers(), runs);
            System.out.printf(Locale.ROOT, "log: %,d events of %,d runs written in %.1f s (broker in the bench JVM)%n",
                    events, runs, seconds(t));
            String newest = RunEvents.cd(app(runs - 1), runs - 1, start(runs - 1)).run().runId();

            Figures first = gateway(jar, xmx, broker, work.resolve("replica-0"), newest, true);
            System.out.println("gateway, first start (empty history dir):  " + first);
            Figures restart = gateway(jar, xmx, broker, work.resolve("replica-0"), newest, false);
            System.out.println("gateway, restart (same history dir):        " + restart);
            if (quick) {
                return;
            }
            Figures fresh = gateway(jar, xmx, broker, work.resolve("replica-1"), newest, false);
            System.out.println("gateway, second replica (empty dir, reads the history topic): " + fresh);
            if (!noOld) {
                System.out.println("old read model (whole log in memory), -Xmx" + xmx + ": "
                        + old(broker.bootstrapServers(), xmx));
            }
        } finally {
            delete(work);
        }
    }

    /** The events of run {@code i}: a CD run with three promotions, 10 events. */
    static List<ConveyorEvent> run(int i) {
        RunEvents run = RunEvents.cd(app(i), i, start(i));
        List<ConveyorEvent> events = new ArrayList<>(run.all());
        events.add(run.promoted("staging"));
        events.add(run.promoted("dev"));
        return events;
    }

    static String app(int i) {
        return String.format(Locale.ROOT, "app-%04d", i % 1000);
    }

    static Instant start(int i) {
        return Instant.parse("2026-01-01T00:00:00Z").plusSeconds(10L * i);
    }

    static long write(String bootstrap, int runs) throws Exception {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ProducerConfig.ACKS_CONFIG, "1");
        props.put(ProducerConfig.LINGER_MS_CONFIG, 50);
        props.put(ProducerConfig.BATCH_SIZE_CONFIG, 512 * 1024);
        props.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        props.put(ProducerConfig.BUFFER_MEMORY_CONFIG, 256L * 1024 * 1024);
        long count = 0;
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(props, new StringSerializer(),
                new ByteArraySerializer())) {
            for (int i = 0; i < runs; i++) {
                for (ConveyorEvent e : run(i)) {
                    RecordHeaders headers = new RecordHeaders();
                    headers.add("ce_id", CloudEventAttributes.idOf(e).getBytes(StandardCharsets.UTF_8));
                    headers.add("ce_source", RunEvents.sourceOf(e).getBytes(StandardCharsets.UTF_8));
                    headers.add("ce_type", e.eventType().type().getBytes(StandardCharsets.UTF_8));
                    producer.send(new ProducerRecord<>(e.eventType().topic(), null, e.run().app(),
                            EventJson.write(e), headers));
                    count++;
                }
            }
            producer.flush();
        }
        return count;
    }

    record Figures(double readySeconds, double snapshotsSeconds, long heapMiB, long recordsRead, String newest,
            long diskMiB) {
        @Override
        public String toString() {
            return String.format(Locale.ROOT, "ready in %.1f s, heap after GC %d MiB, %,d records read, store %d MiB"
                    + "%s, GET /runs?limit=1 → %s", readySeconds, heapMiB, recordsRead, diskMiB,
                    snapshotsSeconds > 0
                            ? String.format(Locale.ROOT, ", every snapshot written %.1f s after start",
                                    snapshotsSeconds)
                            : "",
                    newest);
        }
    }

    /** Starts the gateway, measures, stops it (SIGTERM: a clean shutdown). */
    static Figures gateway(Path jar, String xmx, KafkaBroker broker, Path historyDir, String newest,
            boolean awaitSnapshots) throws Exception {
        int port = freePort();
        List<String> command = new ArrayList<>(List.of(javaBin(), "-Xmx" + xmx, "-XX:+ExitOnOutOfMemoryError",
                "-Dquarkus.http.port=" + port, "-Dquarkus.http.host=127.0.0.1",
                "-Dkafka.bootstrap.servers=" + broker.bootstrapServers(),
                "-Dconveyor.gateway.history.dir=" + historyDir,
                "-Dconveyor.gateway.auth.tokens=bench:viewer:" + sha256(VIEWER_TOKEN),
                "-Dquarkus.log.level=WARN", "-Dquarkus.banner.enabled=false"));
        // Further JVM options for the gateway (a profiler, -Xlog), e.g. GATEWAY_JAVA_OPTS="-XX:StartFlightRecording=…"
        String extra = System.getenv("GATEWAY_JAVA_OPTS");
        if (extra != null && !extra.isBlank()) {
            command.addAll(List.of(extra.trim().split("\\s+")));
        }
        command.addAll(List.of("-jar", jar.toString()));
        Path log = historyDir.resolveSibling(historyDir.getFileName() + ".log");
        Files.createDirectories(historyDir.getParent());
        long begin = System.nanoTime();
        Process p = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        try {
            String base = "http://127.0.0.1:" + port;
            while (status(base + "/q/health/ready") != 200) {
                if (!p.isAlive()) {
                    throw new IllegalStateException("the gateway exited with " + p.exitValue() + ": see " + log);
                }
                Thread.sleep(100);
            }
            double ready = seconds(begin);
            String list = get(base + "/runs?limit=1", VIEWER_TOKEN);
            String shown = list.contains(newest) ? "newest run " + newest : "NOT the newest run: " + list;
            double snapshots = 0;
            if (awaitSnapshots) {
                while (metric(get(base + "/q/metrics", null), "conveyor_gateway_history_pending_snapshots") > 0) {
                    Thread.sleep(500);
                }
                snapshots = seconds(begin);
            }
            long read = (long) metric(get(base + "/q/metrics", null), "conveyor_gateway_log_records_read");
            run("jcmd", Long.toString(p.pid()), "GC.run");
            long heap = heapUsed(get(base + "/q/metrics", null));
            long disk;
            try (var files = Files.walk(historyDir)) {
                disk = files.filter(Files::isRegularFile).mapToLong(f -> f.toFile().length()).sum() / (1024 * 1024);
            }
            return new Figures(ready, snapshots, heap / (1024 * 1024), read, shown, disk);
        } finally {
            p.destroy();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
            }
        }
    }

    static String old(String bootstrap, String xmx) throws Exception {
        String cp = ManagementFactory.getRuntimeMXBean().getClassPath();
        Process p = new ProcessBuilder(javaBin(), "-Xmx" + xmx, "-XX:+ExitOnOutOfMemoryError", "-cp", cp,
                OldReadModel.class.getName(), bootstrap).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        int exit = p.waitFor();
        Matcher m = Pattern.compile("ready (\\d+) heap (\\d+) runs (\\d+)").matcher(out);
        if (exit == 0 && m.find()) {
            return String.format(Locale.ROOT, "ready in %.1f s, heap after GC %d MiB, %s runs in memory",
                    Long.parseLong(m.group(1)) / 1000.0, Long.parseLong(m.group(2)) / (1024 * 1024), m.group(3));
        }
        String oom = out.contains("OutOfMemoryError") ? "died of OutOfMemoryError" : "failed";
        return oom + " (exit " + exit + "): " + out.lines().filter(l -> l.contains("Error") || l.contains("ready"))
                .findFirst().orElse("");
    }

    static double metric(String metrics, String name) {
        double sum = 0;
        boolean found = false;
        for (String line : metrics.lines().toList()) {
            if (line.startsWith(name + " ") || line.startsWith(name + "{")) {
                sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
                found = true;
            }
        }
        if (!found) {
            throw new IllegalStateException("no metric " + name);
        }
        return sum;
    }

    static long heapUsed(String metrics) {
        long sum = 0;
        for (String line : metrics.lines().toList()) {
            if (line.startsWith("jvm_memory_used_bytes{") && line.contains("area=\"heap\"")) {
                sum += (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return sum;
    }

    static int status(String url) {
        try {
            return HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    static String get(String url, String token) throws Exception {
        HttpRequest.Builder req = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(60));
        if (token != null) {
            req.header("Authorization", "Bearer " + token);
        }
        return HTTP.send(req.build(), HttpResponse.BodyHandlers.ofString()).body();
    }

    static void run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        p.waitFor(60, TimeUnit.SECONDS);
    }

    static String javaBin() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    static String sha256(String s) throws Exception {
        return HexFormat.of()
                .formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    static double seconds(long since) {
        return (System.nanoTime() - since) / 1e9;
    }

    static void delete(Path dir) throws IOException {
        try (var paths = Files.walk(dir)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
