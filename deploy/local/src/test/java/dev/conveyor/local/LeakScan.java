package dev.conveyor.local;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.stream.Stream;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListTopicsOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The secret-leak scan of the local stack: every secret of the stack ({@code secrets.properties}) searched for, raw,
 * base64 (standard and URL-safe, at each of the three alignments, so a secret inside a longer encoded value such as a
 * Basic {@code Authorization} is found) and URL-encoded, in every place the stack writes to: every log file, every
 * record of every topic (key, value, each header), every service's {@code /q/metrics}, the run API's answers and the
 * requests the notification stubs received. A hit names the place, the secret by its name (never its value), the form
 * and the byte offset.
 *
 * <p>
 * The matcher ({@link #needles}, {@link #scan}) is pure; the collectors read the running stack.
 */
final class LeakScan {

    /** Needles shorter than this are not searched for (they would match by chance); each is named in the result. */
    static final int MIN_NEEDLE = 8;

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Request headers that carry a provider's token to the notification stubs by design (lower case). */
    static final Set<String> CREDENTIAL_HEADERS = Set.of("authorization", "private-token");

    /** One form of one secret. */
    record Needle(String secret, String form, byte[] bytes) {
    }

    /** A secret found: where, which secret (by name), in which form, at which byte offset of the place. */
    record Hit(String place, String secret, String form, long offset) {

        @Override
        public String toString() {
            return place + " @" + offset + ": " + secret + " (" + form + ")";
        }
    }

    /**
     * What a scan saw.
     *
     * @param places the places searched (a file, a record, an answer, a request)
     * @param bytes the bytes searched, over all places
     * @param hits every secret found
     * @param skipped needles not searched for, with the reason (no values)
     */
    record Result(long places, long bytes, List<Hit> hits, List<String> skipped) {

        static Result empty() {
            return new Result(0, 0, List.of(), List.of());
        }

        Result plus(Result other) {
            List<Hit> h = new ArrayList<>(hits);
            h.addAll(other.hits);
            List<String> s = new ArrayList<>(skipped);
            other.skipped.stream().filter(x -> !s.contains(x)).forEach(s::add);
            return new Result(places + other.places, bytes + other.bytes, List.copyOf(h), List.copyOf(s));
        }

        String summary(int needles) {
            return String.format("secret-leak scan: %d places, %d bytes, %d needles, %d hits%s", places, bytes,
                    needles, hits.size(), skipped.isEmpty() ? "" : "; skipped " + skipped);
        }
    }

    private final List<Needle> needles;
    private final List<String> skipped;

    LeakScan(Map<String, String> secrets) {
        List<String> skip = new ArrayList<>();
        this.needles = needles(secrets, skip);
        this.skipped = List.copyOf(skip);
    }

    List<Needle> needles() {
        return needles;
    }

    // ---- the matcher

    /**
     * Every form of every secret: raw, URL-encoded, and the alignment-independent part of its base64 (standard and
     * URL-safe) at each of the three offsets a secret can start at inside a longer encoded value. A multi-line value
     * (a PEM key) is also searched for line by line. Forms shorter than {@link #MIN_NEEDLE} go to {@code skipped}.
     */
    static List<Needle> needles(Map<String, String> secrets, List<String> skipped) {
        Map<String, Needle> byForm = new LinkedHashMap<>();
        secrets.forEach((name, value) -> {
            List<String> parts = new ArrayList<>();
            parts.add(value);
            if (value.contains("\n")) {
                value.lines().map(String::strip).filter(l -> !l.startsWith("-----")).forEach(parts::add);
            }
            for (String part : parts) {
                byte[] raw = part.getBytes(StandardCharsets.UTF_8);
                Map<String, byte[]> forms = new LinkedHashMap<>();
                forms.put("raw", raw);
                forms.put("url-encoded", URLEncoder.encode(part, StandardCharsets.UTF_8).getBytes(
                        StandardCharsets.US_ASCII));
                forms.put("url-encoded (%20)", URLEncoder.encode(part, StandardCharsets.UTF_8).replace("+", "%20")
                        .getBytes(StandardCharsets.US_ASCII));
                for (int align = 0; align < 3; align++) {
                    String core = base64Core(raw, align);
                    forms.put("base64 at offset " + align, core.getBytes(StandardCharsets.US_ASCII));
                    forms.put("base64url at offset " + align, core.replace('+', '-').replace('/', '_').getBytes(
                            StandardCharsets.US_ASCII));
                }
                forms.forEach((form, bytes) -> {
                    String key = new String(bytes, StandardCharsets.ISO_8859_1);
                    if (bytes.length < MIN_NEEDLE) {
                        String note = name + " (" + form + "): shorter than " + MIN_NEEDLE + " bytes";
                        if (!skipped.contains(note)) {
                            skipped.add(note);
                        }
                    } else {
                        byForm.putIfAbsent(key, new Needle(name, form, bytes));
                    }
                });
            }
        });
        return List.copyOf(byForm.values());
    }

    /**
     * The base64 characters that depend only on {@code secret} when it is encoded after {@code align} other bytes: the
     * encoding of {@code align} filler bytes and the secret, cut to whole 3-byte groups, without the characters the
     * filler touches (2 for one filler byte, 3 for two) and without the last, partial group (its characters depend on
     * what follows the secret).
     */
    static String base64Core(byte[] secret, int align) {
        byte[] shifted = new byte[align + secret.length];
        System.arraycopy(secret, 0, shifted, align, secret.length);
        int whole = shifted.length - shifted.length % 3;
        String encoded = Base64.getEncoder().withoutPadding().encodeToString(java.util.Arrays.copyOf(shifted,
                whole));
        int skip = align == 0 ? 0 : align == 1 ? 2 : 3;
        return encoded.length() <= skip ? "" : encoded.substring(skip);
    }

    /** Searches one place for every needle. */
    Result scan(String place, byte[] haystack) {
        String hay = new String(haystack, StandardCharsets.ISO_8859_1);
        List<Hit> hits = new ArrayList<>();
        for (Needle n : needles) {
            String needle = new String(n.bytes(), StandardCharsets.ISO_8859_1);
            for (int at = hay.indexOf(needle); at >= 0; at = hay.indexOf(needle, at + 1)) {
                hits.add(new Hit(place, n.secret(), n.form(), at));
            }
        }
        return new Result(1, haystack.length, List.copyOf(hits), skipped);
    }

    Result scan(String place, String haystack) {
        return scan(place, haystack == null ? new byte[0] : haystack.getBytes(StandardCharsets.UTF_8));
    }

    // ---- the places

    /** Every file under the log directory, and every {@code *.log} elsewhere under the data directory (the broker's). */
    Result logs(StackLayout layout) {
        Result r = Result.empty();
        try (Stream<Path> files = Files.walk(layout.root())) {
            for (Path f : files.filter(Files::isRegularFile).filter(f -> f.startsWith(layout.logsDir()) || f
                    .getFileName().toString().endsWith(".log")).sorted().toList()) {
                r = r.plus(scan("log " + layout.root().relativize(f), Files.readAllBytes(f)));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the logs under " + layout.root(), e);
        }
        return r;
    }

    /** Every record of every topic, internal ones included, from the beginning: key, value, each header. */
    Result topics(String bootstrap) {
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        Set<String> topics;
        try (Admin admin = Admin.create(props)) {
            topics = admin.listTopics(new ListTopicsOptions().listInternal(true)).names().get();
        } catch (Exception e) {
            throw new IllegalStateException("cannot list the topics at " + bootstrap, e);
        }
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_uncommitted");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "2000");
        Result r = Result.empty();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = new ArrayList<>();
            for (String topic : topics) {
                consumer.partitionsFor(topic, Duration.ofSeconds(30)).forEach(p -> partitions.add(new TopicPartition(
                        p.topic(), p.partition())));
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = new HashMap<>(consumer.endOffsets(partitions, Duration.ofSeconds(30)));
            long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
            while (end.entrySet().stream().anyMatch(e -> consumer.position(e.getKey()) < e.getValue())) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("topics not read to their end in 2 minutes: " + end);
                }
                for (ConsumerRecord<byte[], byte[]> rec : consumer.poll(Duration.ofMillis(500))) {
                    if (rec.offset() >= end.getOrDefault(new TopicPartition(rec.topic(), rec.partition()),
                            Long.MAX_VALUE)) {
                        continue;
                    }
                    String at = "topic " + rec.topic() + "-" + rec.partition() + " offset " + rec.offset();
                    r = r.plus(scan(at + " key", rec.key() == null ? new byte[0] : rec.key()));
                    r = r.plus(scan(at + " value", rec.value() == null ? new byte[0] : rec.value()));
                    for (Header h : rec.headers()) {
                        r = r.plus(scan(at + " header " + h.key() + " (name)", h.key()));
                        r = r.plus(scan(at + " header " + h.key(), h.value() == null ? new byte[0] : h.value()));
                    }
                }
            }
        }
        return r;
    }

    /** {@code GET /q/metrics} of every service. */
    Result metrics(LocalStack.Running running) {
        Result r = Result.empty();
        for (ServiceSpec s : ServiceSpec.ALL) {
            r = r.plus(scan("GET " + s.name() + " /q/metrics", get(running.serviceUrl(s.name()) + "/q/metrics", null)));
        }
        return r;
    }

    /**
     * The run API's answers with the viewer token: {@code GET /runs} and {@code GET /runs/{id}} for every run. The
     * requests carry the token (it is a needle) and are not scanned; the answers are.
     */
    Result runApi(LocalStack.Running running) {
        String token = running.secrets().get("viewer-token");
        String list = get(running.gatewayUrl() + "/runs?limit=1000", token);
        Result r = scan("GET gateway /runs", list);
        try {
            for (JsonNode run : JSON.readTree(list)) {
                String id = run.path("runId").asText();
                r = r.plus(scan("GET gateway /runs/" + id, get(running.gatewayUrl() + "/runs/" + id, token)));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("GET /runs answered no JSON", e);
        }
        return r;
    }

    /**
     * Every request the notification stubs received ({@code GET /__admin/requests}): method and URL, body, and every
     * header except those that carry the provider's token to the stub by design (the stub stands in for GitHub, Slack,
     * JIRA and GitLab, which are given that token): {@code Authorization}, and GitLab's {@code PRIVATE-TOKEN}.
     */
    Result stubRequests(LocalStack.Running running) {
        String journal = get(running.stack().get(StackLayout.STUBS) + "/__admin/requests", null);
        Result r = Result.empty();
        try {
            for (JsonNode served : JSON.readTree(journal).path("requests")) {
                JsonNode req = served.path("request");
                String at = "stub request " + req.path("method").asText() + " " + req.path("url").asText();
                r = r.plus(scan(at + " url", req.path("method").asText() + " " + req.path("absoluteUrl").asText()));
                byte[] body = req.hasNonNull("bodyAsBase64")
                        ? Base64.getDecoder().decode(req.path("bodyAsBase64").asText())
                        : req.path("body").asText("").getBytes(StandardCharsets.UTF_8);
                r = r.plus(scan(at + " body", body));
                var headers = req.path("headers").fields();
                while (headers.hasNext()) {
                    var h = headers.next();
                    if (!CREDENTIAL_HEADERS.contains(h.getKey().toLowerCase(java.util.Locale.ROOT))) {
                        r = r.plus(scan(at + " header " + h.getKey(), h.getValue().toString()));
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("the stubs' journal is no JSON", e);
        }
        return r;
    }

    /** Every place of the running stack. */
    Result all(StackLayout layout, LocalStack.Running running) {
        return logs(layout).plus(topics(running.stack().get(StackLayout.KAFKA))).plus(metrics(running)).plus(runApi(
                running)).plus(stubRequests(running));
    }

    private static String get(String url, String bearer) {
        try {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30)).GET();
            if (bearer != null) {
                b.header("Authorization", "Bearer " + bearer);
            }
            // HTTP/1.1 as Prometheus scrapes: the JDK client's default h2c upgrade misread a large /q/metrics answer
            // once ("Frame type(115) ... exceeds MAX_FRAME_SIZE").
            HttpResponse<String> r = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build().send(b
                    .build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                throw new IllegalStateException("GET " + URI.create(url).getPath() + " answered " + r.statusCode());
            }
            return r.body();
        } catch (IOException e) {
            throw new UncheckedIOException("GET " + URI.create(url).getPath() + " failed", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
