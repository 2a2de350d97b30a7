package dev.conveyor.gateway.domain;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;

import dev.conveyor.events.v1.Artifact;
import dev.conveyor.events.v1.BuildFailed;
import dev.conveyor.events.v1.BuildSucceeded;
import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.Flow;
import dev.conveyor.events.v1.InvalidFieldException;
import dev.conveyor.events.v1.PipelineRun;
import dev.conveyor.events.v1.TestSummary;

/**
 * Turns a Jenkins hook's JSON into the event that starts (or ends) a run. Pure: no I/O, every bad field is collected
 * before anything is built, so a caller gets one answer naming all of them.
 *
 * <p>
 * The payload:
 *
 * <pre>
 * {"result": "SUCCESS" | "FAILURE", "repoUrl": "...", "commit": "40 hex", "branch": "main",
 *  "pullRequest": 12?, "pullRequestTitle": "..."?, "app": "slug"?, "buildUrl": "https://jenkins/...",
 *  "artifact": {"url": "https://...", "sha256": "64 hex", "sizeBytes": 123?, "kind": "jar"?},   (required on SUCCESS)
 *  "tests": {"passed": 1, "failed": 0, "skipped": 0}?, "lint": {"errors": 0, "warnings": 2}?,
 *  "failedStep": "test", "reason": "..."}                                                        (on FAILURE)
 * </pre>
 */
public final class JenkinsHooks {

    static final Pattern HEX_COMMIT = Pattern.compile("[0-9a-fA-F]{40}|[0-9a-fA-F]{64}");
    static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    static final Pattern APP = Pattern.compile("[a-z0-9][a-z0-9._-]{0,62}");
    static final Pattern SCP_LIKE = Pattern.compile("([A-Za-z0-9._-]+)@([A-Za-z0-9.-]+):(.+)");
    static final Set<String> REPO_SCHEMES = Set.of("https", "http", "ssh", "git", "file");
    static final Set<String> ARTIFACT_SCHEMES = Set.of("https", "http", "file");
    static final Set<String> KINDS = Set.of("jar", "directory");
    /** Longest text accepted in a field without its own limit. */
    static final int MAX_TEXT = 2048;
    /** Longest text per field, in characters; a longer value is refused with 413 naming the field. */
    public static final Map<String, Integer> MAX_CHARS = Map.ofEntries(Map.entry("result", 16),
            Map.entry("repoUrl", 2048), Map.entry("commit", 64), Map.entry("branch", 255),
            Map.entry("pullRequestTitle", 512), Map.entry("app", 63), Map.entry("buildUrl", 2048),
            Map.entry("failedStep", 128), Map.entry("reason", 2048), Map.entry("artifact.url", 2048),
            Map.entry("artifact.sha256", 64), Map.entry("artifact.kind", 16));
    /** Fields every hook may carry. */
    static final Set<String> COMMON_FIELDS = Set.of("result", "repoUrl", "commit", "branch", "pullRequest",
            "pullRequestTitle", "app", "buildUrl", "tests", "lint");
    /** Fields only a SUCCESS hook carries. */
    static final Set<String> SUCCESS_FIELDS = Set.of("artifact");
    /** Fields only a FAILURE hook carries. */
    static final Set<String> FAILURE_FIELDS = Set.of("failedStep", "reason");
    static final Map<String, Set<String>> NESTED_FIELDS = Map.of("artifact",
            Set.of("url", "sha256", "sizeBytes", "kind"),
            "tests", Set.of("passed", "failed", "skipped"), "lint", Set.of("errors", "warnings"));
    /** Fields that may hold line breaks and tabs. */
    static final Set<String> MULTILINE = Set.of("reason", "pullRequestTitle");
    static final Pattern BRANCH_FORBIDDEN = Pattern.compile("[\\s~^:?*\\[\\\\]|\\.\\.|@\\{|//");
    /** At most this many errors are listed; the rest are counted. */
    static final int MAX_ERRORS = 20;
    /** Field names in errors are cut to this length, so an error never echoes a huge key. */
    static final int MAX_NAME_ECHO = 64;
    /** The message of a field over its length limit (how a caller tells 413 from 400). */
    public static final String TOO_LONG = "is longer than the limit of ";

    private JenkinsHooks() {
    }

    /**
     * The event for this hook: {@code BuildSucceeded} or {@code BuildFailed}, first attempt of the run.
     *
     * @throws HookRejectedException naming every invalid field
     */
    public static ConveyorEvent toEvent(JsonNode hook, Instant now) {
        return toEvent(hook, now, 1);
    }

    /** Like {@link #toEvent(JsonNode, Instant)}, for the given attempt of the run (a rebuild after a failed build). */
    public static ConveyorEvent toEvent(JsonNode hook, Instant now, int attempt) {
        List<FieldError> errors = new ArrayList<>();
        if (hook == null || !hook.isObject()) {
            throw new HookRejectedException(List.of(new FieldError("$", "the body must be a JSON object")));
        }
        String result = text(hook, "result", true, errors);
        boolean success = false;
        boolean failure = false;
        if (result != null) {
            String upper = result.toUpperCase(Locale.ROOT);
            success = upper.equals("SUCCESS");
            failure = upper.equals("FAILURE");
            if (!success && !failure) {
                errors.add(new FieldError("result", "must be SUCCESS or FAILURE"));
            }
        }
        errors.addAll(unusedFields(hook, success, failure));
        String repoUrl = text(hook, "repoUrl", true, errors);
        if (repoUrl != null) {
            checkRepoUrl(repoUrl, errors);
        }
        String commit = text(hook, "commit", true, errors);
        if (commit != null && !HEX_COMMIT.matcher(commit).matches()) {
            errors.add(new FieldError("commit", "must be a full commit id (40 or 64 hex digits)"));
        }
        String branch = text(hook, "branch", true, errors);
        if (branch != null && !isBranchName(branch)) {
            errors.add(new FieldError("branch", "must be a git branch name (no spaces, '..', '~^:?*[\\', "
                    + "leading '-' or '/', trailing '/' or '.lock')"));
        }
        Integer pullRequest = integer(hook, "pullRequest", 1, errors);
        String pullRequestTitle = text(hook, "pullRequestTitle", false, errors);
        String app = text(hook, "app", false, errors);
        if (app != null && !APP.matcher(app).matches()) {
            errors.add(new FieldError("app", "must be a lower-case slug: letters, digits, '.', '_', '-'"));
        } else if (app == null && repoUrl != null) {
            app = slugOf(repoUrl);
            if (app == null) {
                errors.add(new FieldError("app", "cannot be derived from repoUrl; name the app in the hook"));
            }
        }
        String buildUrl = text(hook, "buildUrl", true, errors);
        if (buildUrl != null) {
            checkUrl("buildUrl", buildUrl, Set.of("https", "http"), errors);
        }
        TestSummary tests = tests(hook, errors);
        Artifact artifact = null;
        String failedStep = null;
        String reason = null;
        if (success) {
            artifact = artifact(hook, errors);
        } else if (failure) {
            failedStep = text(hook, "failedStep", true, errors);
            reason = text(hook, "reason", false, errors);
            if (reason == null && failedStep != null) {
                reason = "the " + failedStep + " step failed";
            }
        }
        if (!errors.isEmpty()) {
            throw new HookRejectedException(capped(errors));
        }
        Flow flow = pullRequest == null ? Flow.CD : Flow.CI;
        try {
            PipelineRun start = PipelineRun.start(app, repoUrl, commit.toLowerCase(Locale.ROOT), branch, pullRequest,
                    flow);
            PipelineRun run = attempt == 1
                    ? start
                    : new PipelineRun(start.runId(), attempt, start.app(), start.repoUrl(), start.commit(),
                            start.branch(), start.pullRequest(), start.flow());
            return success
                    ? new BuildSucceeded(run, now, null, buildUrl, artifact, tests, pullRequestTitle)
                    : new BuildFailed(run, now, null, buildUrl, failedStep, reason, tests, pullRequestTitle);
        } catch (InvalidFieldException e) {
            throw new HookRejectedException(List.of(new FieldError(e.getMessage().split(" ")[0], e.getMessage())));
        }
    }

    /**
     * Fields the hook's result does not use, and fields no hook has: refused rather than carried, so nothing
     * unchecked travels in events. With no valid result, any field of either kind is allowed (the result is the error).
     */
    static List<FieldError> unusedFields(JsonNode hook, boolean success, boolean failure) {
        List<FieldError> errors = new ArrayList<>();
        for (Iterator<String> names = hook.fieldNames(); names.hasNext();) {
            String name = names.next();
            boolean known = COMMON_FIELDS.contains(name) || SUCCESS_FIELDS.contains(name)
                    || FAILURE_FIELDS.contains(name);
            if (!known) {
                errors.add(new FieldError(echo(name), "is not a field of a build report"));
            } else if (success && FAILURE_FIELDS.contains(name) || failure && SUCCESS_FIELDS.contains(name)) {
                errors.add(new FieldError(name, "is not used when result is " + (success ? "SUCCESS" : "FAILURE")));
            } else if (NESTED_FIELDS.containsKey(name) && hook.get(name).isObject()) {
                for (Iterator<String> inner = hook.get(name).fieldNames(); inner.hasNext();) {
                    String field = inner.next();
                    if (!NESTED_FIELDS.get(name).contains(field)) {
                        errors.add(new FieldError(name + "." + echo(field), "is not a field of " + name));
                    }
                }
            }
        }
        return errors;
    }

    /** Whether {@code branch} is a plausible git branch name, and looks like no command-line option. */
    static boolean isBranchName(String branch) {
        return !BRANCH_FORBIDDEN.matcher(branch).find() && !branch.startsWith("-") && !branch.startsWith("/")
                && !branch.endsWith("/") && !branch.endsWith(".lock") && !branch.endsWith(".");
    }

    /** No control characters (but line breaks and tabs where allowed), no bidirectional overrides or isolates. */
    static boolean printable(String text, boolean multiline) {
        return text.codePoints().noneMatch(c -> (Character.isISOControl(c) && !(multiline && (c == '\n'
                || c == '\r' || c == '\t'))) || (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069)
                || Character.getType(c) == Character.SURROGATE);
    }

    /** A field name as an error may show it: at most {@link #MAX_NAME_ECHO} printable characters. */
    static String echo(String name) {
        String printable = name.codePoints().limit(MAX_NAME_ECHO + 1L)
                .map(c -> Character.isISOControl(c) ? '?' : c)
                .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append).toString();
        return printable.length() > MAX_NAME_ECHO ? printable.substring(0, MAX_NAME_ECHO) + "…" : printable;
    }

    private static List<FieldError> capped(List<FieldError> errors) {
        if (errors.size() <= MAX_ERRORS) {
            return errors;
        }
        List<FieldError> first = new ArrayList<>(errors.subList(0, MAX_ERRORS));
        first.add(new FieldError("$", (errors.size() - MAX_ERRORS) + " more error(s) not listed"));
        return first;
    }

    /** The app id a repository URL names: its last path segment without {@code .git}, lower-cased. */
    public static String slugOf(String repoUrl) {
        String url = repoUrl.trim();
        while (url.endsWith("/")) {
            url = url.substring(0, url.length() - 1);
        }
        if (url.endsWith(".git")) {
            url = url.substring(0, url.length() - 4);
        }
        int cut = Math.max(url.lastIndexOf('/'), url.lastIndexOf(':'));
        String slug = url.substring(cut + 1).toLowerCase(Locale.ROOT);
        return APP.matcher(slug).matches() ? slug : null;
    }

    private static void checkRepoUrl(String repoUrl, List<FieldError> errors) {
        if (!repoUrl.contains("://")) {
            var scp = SCP_LIKE.matcher(repoUrl);
            if (!scp.matches()) {
                errors.add(new FieldError("repoUrl", "must be an https, ssh, git or file URL, or user@host:path"));
            }
            return;
        }
        URI uri = parse("repoUrl", repoUrl, REPO_SCHEMES, errors);
        if (uri == null) {
            return;
        }
        String userInfo = uri.getRawUserInfo();
        if (userInfo != null && (!uri.getScheme().equals("ssh") || userInfo.contains(":"))) {
            // A token or password in the URL would travel in every event of the run.
            errors.add(new FieldError("repoUrl", "must not carry credentials (user info); configure them instead"));
        }
    }

    private static void checkUrl(String field, String value, Set<String> schemes, List<FieldError> errors) {
        URI uri = parse(field, value, schemes, errors);
        if (uri != null && uri.getRawUserInfo() != null) {
            errors.add(new FieldError(field, "must not carry credentials (user info)"));
        }
    }

    private static URI parse(String field, String value, Set<String> schemes, List<FieldError> errors) {
        try {
            URI uri = new URI(value);
            if (uri.getScheme() == null || !schemes.contains(uri.getScheme().toLowerCase(Locale.ROOT))) {
                errors.add(new FieldError(field, "must be a URL with scheme " + String.join(", ", sorted(schemes))));
                return null;
            }
            if (!uri.getScheme().equals("file") && (uri.getHost() == null || uri.getHost().isEmpty())) {
                errors.add(new FieldError(field, "must name a host"));
                return null;
            }
            return uri;
        } catch (URISyntaxException e) {
            errors.add(new FieldError(field, "is not a valid URL"));
            return null;
        }
    }

    private static List<String> sorted(Set<String> values) {
        return values.stream().sorted().toList();
    }

    private static Artifact artifact(JsonNode hook, List<FieldError> errors) {
        JsonNode node = hook.get("artifact");
        if (node == null || node.isNull()) {
            errors.add(new FieldError("artifact", "is required when result is SUCCESS"));
            return null;
        }
        if (!node.isObject()) {
            errors.add(new FieldError("artifact", "must be an object"));
            return null;
        }
        int before = errors.size();
        String url = text(node, "url", true, errors, "artifact.url");
        if (url != null) {
            checkUrl("artifact.url", url, ARTIFACT_SCHEMES, errors);
        }
        String sha = text(node, "sha256", true, errors, "artifact.sha256");
        if (sha != null && !SHA256.matcher(sha).matches()) {
            errors.add(new FieldError("artifact.sha256", "must be 64 lower-case hex digits"));
        }
        Long size = null;
        JsonNode sizeNode = node.get("sizeBytes");
        if (sizeNode != null && !sizeNode.isNull()) {
            if (!sizeNode.canConvertToLong() || !sizeNode.isIntegralNumber() || sizeNode.asLong() < 0) {
                errors.add(new FieldError("artifact.sizeBytes", "must be a non-negative integer"));
            } else {
                size = sizeNode.asLong();
            }
        }
        String kind = text(node, "kind", false, errors, "artifact.kind");
        if (kind != null && !KINDS.contains(kind)) {
            errors.add(new FieldError("artifact.kind", "must be jar or directory"));
        }
        return errors.size() == before ? new Artifact(url, sha, size, kind) : null;
    }

    private static TestSummary tests(JsonNode hook, List<FieldError> errors) {
        JsonNode tests = hook.get("tests");
        JsonNode lint = hook.get("lint");
        boolean hasTests = tests != null && !tests.isNull();
        boolean hasLint = lint != null && !lint.isNull();
        if (!hasTests && !hasLint) {
            return null;
        }
        int before = errors.size();
        if (hasTests && !tests.isObject()) {
            errors.add(new FieldError("tests", "must be an object"));
        }
        if (hasLint && !lint.isObject()) {
            errors.add(new FieldError("lint", "must be an object"));
        }
        if (errors.size() > before) {
            return null;
        }
        int passed = count(tests, "passed", "tests.passed", errors);
        int failed = count(tests, "failed", "tests.failed", errors);
        int skipped = count(tests, "skipped", "tests.skipped", errors);
        int lintErrors = count(lint, "errors", "lint.errors", errors);
        int lintWarnings = count(lint, "warnings", "lint.warnings", errors);
        return errors.size() == before ? new TestSummary(passed, failed, skipped, lintErrors, lintWarnings) : null;
    }

    private static int count(JsonNode parent, String name, String path, List<FieldError> errors) {
        if (parent == null || parent.isNull()) {
            return 0;
        }
        Integer value = integer(parent, name, 0, errors, path);
        return value == null ? 0 : value;
    }

    private static String text(JsonNode node, String name, boolean required, List<FieldError> errors) {
        return text(node, name, required, errors, name);
    }

    private static String text(JsonNode node, String name, boolean required, List<FieldError> errors,
            String path) {
        JsonNode value = node.get(name);
        if (value == null || value.isNull()) {
            if (required) {
                errors.add(new FieldError(path, "is required"));
            }
            return null;
        }
        if (!value.isTextual()) {
            errors.add(new FieldError(path, "must be a string"));
            return null;
        }
        String text = value.asText().trim();
        if (text.isEmpty()) {
            errors.add(new FieldError(path, required ? "is required" : "must not be blank"));
            return null;
        }
        int max = MAX_CHARS.getOrDefault(path, MAX_TEXT);
        if (text.length() > max) {
            errors.add(new FieldError(path, TOO_LONG + max + " characters"));
            return null;
        }
        if (!printable(text, MULTILINE.contains(path))) {
            // Escape sequences, NULs and bidirectional overrides would rewrite logs, terminals and the run page.
            errors.add(new FieldError(path, "must not contain control or bidirectional-override characters"));
            return null;
        }
        return text;
    }

    private static Integer integer(JsonNode node, String name, int min, List<FieldError> errors) {
        return integer(node, name, min, errors, name);
    }

    private static Integer integer(JsonNode node, String name, int min, List<FieldError> errors, String path) {
        JsonNode value = node.get(name);
        if (value == null || value.isNull()) {
            return null;
        }
        if (!value.isIntegralNumber() || !value.canConvertToInt() || value.asInt() < min) {
            errors.add(new FieldError(path, "must be an integer of at least " + min));
            return null;
        }
        return value.asInt();
    }
}
