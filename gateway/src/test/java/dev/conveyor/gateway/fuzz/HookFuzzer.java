package dev.conveyor.gateway.fuzz;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.function.Function;

/**
 * Generates hostile and broken hook requests from a seed: random bytes, truncated and mutated JSON, wrong types, huge
 * and deeply nested values, wrong content types, fields a result does not use, and the hostile URLs of issue 16. About
 * one in six is a valid build report, so the accepting path is exercised as hard as the refusing one.
 */
public final class HookFuzzer {

    /** The URLs the issue saw accepted and dialled: each must be refused once the URL policy is in place. */
    public static final List<String> HOSTILE_URLS = List.of("file:///etc", "file:///etc/passwd",
            "file:///proc/self/environ", "file:///root/.conveyor/secrets.properties",
            "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
            "http://[fd00:ec2::254]/latest/meta-data/", "http://127.0.0.1:8080/q/metrics", "http://localhost:9092/",
            "ssh://-oProxyCommand=touch%20/tmp/pwned@host/org/repo.git",
            "ssh://-oProxyCommand=sh@host/org/repo.git", "git@host:--upload-pack=touch /tmp/pwned",
            "git@host:--upload-pack=id", "ext::sh -c touch% /tmp/pwned", "http://0x7f000001/",
            "http://2130706433/", "https://metadata.google.internal/computeMetadata/v1/");

    static final List<String> CONTENT_TYPES = List.of("text/plain", "application/x-www-form-urlencoded",
            "application/xml", "text/xml", "application/json; charset=utf-16", "multipart/form-data; boundary=b",
            "application/octet-stream", "application/json-seq", "application/jsonx", "*/*", "");

    static final List<String> FIELDS = List.of("result", "repoUrl", "commit", "branch", "pullRequest",
            "pullRequestTitle", "app", "buildUrl", "artifact", "tests", "lint", "failedStep", "reason");

    static final List<String> WRONG_VALUES = List.of("null", "true", "false", "0", "-1", "1.5", "1e400",
            "99999999999999999999999", "[]", "{}", "[1,2]", "{\"a\":1}", "\"\"", "\"   \"", "\"\\u0000\"",
            "\"\\ud800\"", "\"SUCCESS\"", "\"FAILURE\"", "\"\\n\\r\\t\"");

    /**
     * One generated request.
     *
     * @param kind what the generator did, for the summary
     * @param contentType the Content-Type to send (null: none)
     * @param body the raw body
     * @param hostileUrl whether the body carries one of {@link #HOSTILE_URLS} (otherwise valid)
     */
    public record Case(String kind, String contentType, byte[] body, boolean hostileUrl) {
    }

    private final Random random;
    private final String prefix;
    private int serial;

    /**
     * @param seed the seed: the same seed gives the same requests
     * @param prefix the start of every app name, so a run's events can be told from other tests'
     */
    public HookFuzzer(long seed, String prefix) {
        this.random = new Random(seed);
        this.prefix = prefix;
    }

    /** The next request. */
    public Case next() {
        int pick = random.nextInt(13);
        return switch (pick) {
            case 0, 1 -> json("valid", valid());
            case 2 -> new Case("random-bytes", "application/json", randomBytes(random.nextInt(2048)), false);
            case 3 -> truncated();
            case 4 -> json("wrong-type", replace(valid(), pickOf(FIELDS), pickOf(WRONG_VALUES)));
            case 5 -> json("huge-value", replace(valid(), pickOf(FIELDS), huge()));
            case 6 -> json("deep-nesting", replace(valid(), pickOf(FIELDS), deep(1 + random.nextInt(20_000))));
            case 7 -> new Case("wrong-content-type", pickOf(CONTENT_TYPES),
                    valid().getBytes(StandardCharsets.UTF_8), false);
            case 8, 9 -> hostile();
            case 10 -> json("extra-field", extra(valid()));
            case 11 -> mutated();
            default -> json("unicode", replace(valid(), pickOf(List.of("branch", "pullRequestTitle", "reason",
                    "failedStep")), "\"" + oddText() + "\""));
        };
    }

    /** A valid build report: SUCCESS or FAILURE, CD or CI, with or without the optional parts. */
    String valid() {
        int n = serial++;
        boolean success = random.nextBoolean();
        String app = prefix + "-" + n;
        String commit = HexFormat.of().formatHex(bytes(20));
        StringBuilder json = new StringBuilder("{\"result\":\"").append(success ? "SUCCESS" : "FAILURE")
                .append("\",\"repoUrl\":\"https://git.example.com/org/").append(app).append(".git\"")
                .append(",\"commit\":\"").append(commit).append("\",\"branch\":\"main\"")
                .append(",\"buildUrl\":\"https://jenkins.example.com/job/").append(app).append("/1/\"");
        if (random.nextInt(3) == 0) {
            json.append(",\"pullRequest\":").append(1 + random.nextInt(500))
                    .append(",\"pullRequestTitle\":\"ABC-").append(n).append(" change\"");
        }
        if (random.nextBoolean()) {
            json.append(",\"tests\":{\"passed\":").append(random.nextInt(100)).append(",\"failed\":0,\"skipped\":1}");
        }
        if (success) {
            json.append(",\"artifact\":{\"url\":\"https://jenkins.example.com/job/").append(app)
                    .append("/1/artifact/app.jar\",\"sha256\":\"").append(HexFormat.of().formatHex(bytes(32)))
                    .append("\",\"kind\":\"jar\"}");
        } else {
            json.append(",\"failedStep\":\"test\",\"reason\":\"").append(random.nextInt(9)).append(" tests failed\"");
        }
        return json.append('}').toString();
    }

    private Case json(String kind, String body) {
        return new Case(kind, "application/json", body.getBytes(StandardCharsets.UTF_8), false);
    }

    private Case truncated() {
        byte[] whole = valid().getBytes(StandardCharsets.UTF_8);
        byte[] cut = new byte[random.nextInt(whole.length)];
        System.arraycopy(whole, 0, cut, 0, cut.length);
        return new Case("truncated-json", "application/json", cut, false);
    }

    private Case mutated() {
        byte[] body = valid().getBytes(StandardCharsets.UTF_8);
        for (int i = 1 + random.nextInt(4); i > 0; i--) {
            body[random.nextInt(body.length)] = (byte) random.nextInt(256);
        }
        return new Case("mutated-json", "application/json", body, false);
    }

    private Case hostile() {
        String url = pickOf(HOSTILE_URLS);
        String body = valid();
        // The URLs a stage dials: the app repository and the artifact (buildUrl is only ever a link).
        String field = pickOf(List.of("repoUrl", "artifact.url"));
        String quoted = "\"" + url.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
        if (field.equals("artifact.url")) {
            if (!body.contains("\"artifact\"")) {
                field = "repoUrl";
            } else {
                body = body.replaceFirst("\"url\":\"[^\"]*\"", Function.<String>identity()
                        .apply("\"url\":" + java.util.regex.Matcher.quoteReplacement(quoted)));
            }
        }
        if (!field.equals("artifact.url")) {
            body = replace(body, field, quoted);
            if (field.equals("repoUrl")) {
                // The slug of a hostile URL is rarely an app id: name the app, so only the URL is at stake.
                body = body.substring(0, body.length() - 1) + ",\"app\":\"" + prefix + "-h" + serial + "\"}";
            }
        }
        return new Case("hostile-url:" + field, "application/json", body.getBytes(StandardCharsets.UTF_8), true);
    }

    private String extra(String body) {
        String name = pickOf(List.of("reason", "failedStep", "artifact", "deployTo", "__proto__", "token",
                "x".repeat(1 + random.nextInt(5000))));
        String value = pickOf(List.of("\"x\"", "1", "{}", "null"));
        if (body.contains("\"" + name + "\"")) {
            name = "unknown" + random.nextInt(1000);
        }
        return body.substring(0, body.length() - 1) + ",\"" + name + "\":" + value + "}";
    }

    private String huge() {
        int size = pickOf(List.of(3_000, 70_000, 1_000_000, 5_000_000));
        return switch (random.nextInt(3)) {
            case 0 -> "\"" + "a".repeat(size) + "\"";
            case 1 -> "9".repeat(Math.min(size, 100_000));
            default -> "[" + "1,".repeat(Math.min(size, 200_000)) + "1]";
        };
    }

    private String deep(int depth) {
        boolean arrays = random.nextBoolean();
        return arrays
                ? "[".repeat(depth) + "]".repeat(depth)
                : "{\"a\":".repeat(depth) + "1" + "}".repeat(depth);
    }

    private String oddText() {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < 1 + random.nextInt(40); i++) {
            text.append(pickOf(List.of("\\u0000", "\\u001b[31m", "\\ud83d\\ude00", "\\u202e", "\\\\", "\\\"", "é",
                    "\\ud800", "<script>", "%00", "../", "${jndi:ldap://x}", " ")));
        }
        return text.toString();
    }

    /** {@code body} with the top-level {@code field} set to the raw JSON {@code value} (added if absent). */
    static String replace(String body, String field, String value) {
        String key = "\"" + field + "\":";
        int at = body.indexOf(key);
        if (at < 0) {
            return body.substring(0, body.length() - 1) + "," + key + value + "}";
        }
        int start = at + key.length();
        int end = endOfValue(body, start);
        return body.substring(0, start) + value + body.substring(end);
    }

    private static int endOfValue(String body, int start) {
        int depth = 0;
        boolean inString = false;
        for (int i = start; i < body.length(); i++) {
            char c = body.charAt(i);
            if (inString) {
                if (c == '\\') {
                    i++;
                } else if (c == '"') {
                    inString = false;
                    if (depth == 0) {
                        return i + 1;
                    }
                }
            } else if (c == '"') {
                inString = true;
            } else if (c == '{' || c == '[') {
                depth++;
            } else if (c == '}' || c == ']') {
                if (depth == 0) {
                    return i;
                }
                depth--;
                if (depth == 0) {
                    return i + 1;
                }
            } else if (c == ',' && depth == 0) {
                return i;
            }
        }
        return body.length();
    }

    private byte[] randomBytes(int n) {
        return bytes(n);
    }

    private byte[] bytes(int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        return b;
    }

    private <T> T pickOf(List<T> values) {
        return values.get(random.nextInt(values.size()));
    }
}
