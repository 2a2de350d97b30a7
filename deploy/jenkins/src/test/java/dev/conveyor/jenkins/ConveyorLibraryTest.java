package dev.conveyor.jenkins;

import static com.lesfurets.jenkins.unit.MethodSignature.method;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Stream;

import javax.xml.parsers.DocumentBuilderFactory;

import org.codehaus.groovy.runtime.MethodClosure;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

import com.lesfurets.jenkins.unit.BasePipelineTest;
import com.lesfurets.jenkins.unit.MethodCall;

import groovy.json.JsonSlurper;
import groovy.lang.Closure;
import groovy.lang.Script;

/**
 * The shared library's {@code conveyor} step and the example Jenkinsfile, run by JenkinsPipelineUnit: the seed's build
 * steps in order, then the hook call with the payload the gateway reads. Steps are stubbed where they would touch a
 * real Jenkins; the commands they are given and the hook request they send are what is asserted.
 *
 * <p>
 * Each test builds in one of the workspaces under {@code src/test/resources/workspaces} — {@code clean}, {@code warnings}
 * and {@code errors} — which hold real linter reports (Checkstyle XML, ESLint SARIF) and real Surefire JUnit XML. The
 * file steps ({@code findFiles}, {@code readFile}) read that workspace, and the {@code junit} step totals its JUnit XML
 * as the JUnit plugin does, so every count in the hook comes from a report file.
 */
public class ConveyorLibraryTest extends BasePipelineTest {

    static final String COMMIT = "0123456789abcdef0123456789abcdef01234567";
    static final String SHA = "ab".repeat(32);
    static final String TOKEN = "s3cr3t-hook-token";
    static final String BUILD_URL = "https://jenkins.example.com/job/shop/job/main/12/";

    final List<Map<String, Object>> requests = new ArrayList<>();
    final List<String> commands = new ArrayList<>();
    final Set<String> failing = new HashSet<>();
    /** The failure message of a failing command, when not Jenkins' usual one. */
    final Map<String, String> failureMessages = new HashMap<>();
    final Map<String, Object> env = new HashMap<>();
    final List<Map<String, Object>> recordIssuesCalls = new ArrayList<>();
    Object recordIssuesResult;
    Path workspace = workspace("clean");
    Script library;

    static Path workspace(String name) {
        return Paths.get("src/test/resources/workspaces", name).toAbsolutePath();
    }

    @BeforeEach
    void setUpPipeline() throws Exception {
        setScriptRoots(new String[]{"."});
        setScriptExtension("groovy");
        super.setUp();
        env.putAll(Map.of("GIT_URL", "https://git.example.com/org/shop.git", "GIT_COMMIT", COMMIT, "BRANCH_NAME",
                "main", "BUILD_URL", BUILD_URL));
        getBinding().setVariable("env", env);
        getBinding().setVariable("scm", Map.of("type", "git"));

        getHelper().registerAllowedMethod("stage", List.of(String.class, Closure.class),
                new MethodClosure(this, "stage"));
        getHelper().registerAllowedMethod("node", List.of(Closure.class), new MethodClosure(this, "node"));
        getHelper().registerAllowedMethod("withCredentials", List.of(List.class, Closure.class),
                new MethodClosure(this, "withCredentials"));
        getHelper().registerAllowedMethod(method("sh", String.class), (Function<Object, Object>) this::sh);
        getHelper().registerAllowedMethod(method("sh", Map.class), (Function<Object, Object>) this::sh);
        getHelper().registerAllowedMethod(method("junit", Map.class),
                (Function<Object, Object>) args -> junit((Map<?, ?>) args));
        getHelper().registerAllowedMethod(method("findFiles", Map.class),
                (Function<Object, Object>) args -> glob(String.valueOf(((Map<?, ?>) args).get("glob"))).stream()
                        .map(path -> Map.of("path", path, "name", Paths.get(path).getFileName().toString()))
                        .toList());
        getHelper().registerAllowedMethod(method("readFile", Map.class), (Function<Object, Object>) args -> {
            try {
                return Files.readString(workspace.resolve(String.valueOf(((Map<?, ?>) args).get("file"))),
                        StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        getHelper().registerAllowedMethod(method("recordIssues", Map.class), (Function<Object, Object>) args -> {
            @SuppressWarnings("unchecked")
            Map<String, Object> call = (Map<String, Object>) args;
            recordIssuesCalls.add(call);
            return recordIssuesResult;
        });
        getHelper().registerAllowedMethod(method("string", Map.class), (Function<Object, Object>) args -> args);
        getHelper().registerAllowedMethod(method("httpRequest", Map.class), (Function<Object, Object>) args -> {
            @SuppressWarnings("unchecked")
            Map<String, Object> request = (Map<String, Object>) args;
            requests.add(request);
            return Map.of("status", 202, "content", "{}");
        });
        getHelper().registerAllowedMethod(method("archiveArtifacts", Map.class), (Function<Object, Object>) a -> null);
        getHelper().registerAllowedMethod(method("checkout", Map.class), (Function<Object, Object>) a -> null);
        getHelper().registerAllowedMethod(method("library", String.class), (Function<Object, Object>) a -> null);
        getHelper().registerAllowedMethod(method("error", String.class), (Function<Object, Object>) message -> {
            throw new IllegalStateException(String.valueOf(message));
        });
        library = loadScript("vars/conveyor.groovy");
        getHelper().registerAllowedMethod(method("conveyor", Map.class),
                (Function<Object, Object>) args -> library.invokeMethod("call", new Object[]{args}));
    }

    public Object stage(String name, Closure<?> body) {
        return body.call();
    }

    public Object node(Closure<?> body) {
        return body.call();
    }

    public Object withCredentials(List<?> bindings, Closure<?> body) {
        env.put("CONVEYOR_TOKEN", TOKEN);
        try {
            return body.call();
        } finally {
            env.remove("CONVEYOR_TOKEN");
        }
    }

    Object sh(Object args) {
        String command = args instanceof Map<?, ?> map ? String.valueOf(map.get("script")) : String.valueOf(args);
        commands.add(command);
        if (failing.contains(command)) {
            throw new IllegalStateException(failureMessages.getOrDefault(command, "script returned exit code 1"));
        }
        if (command.startsWith("ls -1 ")) {
            return "target/shop-1.4.0-runner.jar\n";
        }
        if (command.startsWith("sha256sum ")) {
            return SHA + "\n";
        }
        return null;
    }

    /** The workspace's files matching an Ant glob (relative paths); {@code **}{@code /} also matches no directory. */
    List<String> glob(String pattern) {
        PathMatcher matcher = FileSystems.getDefault().getPathMatcher("glob:" + pattern);
        PathMatcher atRoot = pattern.startsWith("**/")
                ? FileSystems.getDefault().getPathMatcher("glob:" + pattern.substring(3))
                : matcher;
        try (Stream<Path> files = Files.walk(workspace)) {
            return files.filter(Files::isRegularFile).map(workspace::relativize)
                    .filter(p -> matcher.matches(p) || atRoot.matches(p)).map(Path::toString).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The JUnit plugin's totals for the reports matching {@code testResults}: each testsuite's tests, failures +
     * errors, skipped; passed is the rest.
     */
    Map<String, Object> junit(Map<?, ?> args) {
        int total = 0;
        int failed = 0;
        int skipped = 0;
        for (String report : glob(String.valueOf(args.get("testResults")))) {
            try {
                NodeList suites = DocumentBuilderFactory.newInstance().newDocumentBuilder()
                        .parse(workspace.resolve(report).toFile()).getElementsByTagName("testsuite");
                for (int i = 0; i < suites.getLength(); i++) {
                    Element suite = (Element) suites.item(i);
                    total += Integer.parseInt(suite.getAttribute("tests"));
                    failed += Integer.parseInt(suite.getAttribute("failures"))
                            + Integer.parseInt(suite.getAttribute("errors"));
                    skipped += Integer.parseInt(suite.getAttribute("skipped"));
                }
            } catch (Exception e) {
                throw new IllegalStateException("unreadable JUnit report " + report, e);
            }
        }
        return Map.of("totalCount", total, "passCount", total - failed - skipped, "failCount", failed, "skipCount",
                skipped);
    }

    @SuppressWarnings("unchecked")
    Map<String, Object> hookBody() {
        assertThat(requests).hasSize(1);
        return (Map<String, Object>) new JsonSlurper().parseText((String) requests.get(0).get("requestBody"));
    }

    List<String> steps() {
        return getHelper().getCallStack().stream().map(MethodCall::getMethodName).toList();
    }

    @Test
    void theJenkinsfileRunsTheSeedsStepsInOrderThenCallsTheHook() throws Exception {
        workspace = workspace("warnings");

        runScript("Jenkinsfile");

        assertThat(commands).containsExactly("mvn -B -q dependency:go-offline", "mvn -B test",
                "mvn -B checkstyle:check", "mvn -B -DskipTests package", "ls -1 target/*-runner.jar | head -n 1",
                "sha256sum 'target/shop-1.4.0-runner.jar' | cut -d ' ' -f 1");
        assertThat(steps()).containsSubsequence("library", "node", "checkout", "conveyor", "stage", "sh", "junit",
                "archiveArtifacts", "withCredentials", "httpRequest");
        assertThat(getHelper().getCallStack()).filteredOn(c -> c.getMethodName().equals("archiveArtifacts"))
                .singleElement().satisfies(c -> assertThat(c.argsToString()).contains("target/*-runner.jar"));

        Map<String, Object> request = requests.get(0);
        assertThat(request).containsEntry("url", "https://conveyor.example.com/hooks/jenkins")
                .containsEntry("httpMode", "POST").containsEntry("contentType", "APPLICATION_JSON");
        assertThat(request.get("customHeaders").toString()).contains("Authorization", "Bearer " + TOKEN,
                "maskValue=true");
        Map<String, Object> body = hookBody();
        assertThat(body).containsEntry("result", "SUCCESS")
                .containsEntry("repoUrl", "https://git.example.com/org/shop.git").containsEntry("commit", COMMIT)
                .containsEntry("branch", "main").containsEntry("buildUrl", BUILD_URL)
                .containsEntry("tests", Map.of("passed", 9, "failed", 0, "skipped", 1))
                // Checkstyle: 3 warnings + 1 info (1 ignore not counted); SARIF: 3 of its 6 results count
                .containsEntry("lint", Map.of("errors", 0, "warnings", 7))
                .containsEntry("artifact", Map.of("url", BUILD_URL + "artifact/target/shop-1.4.0-runner.jar",
                        "sha256", SHA, "kind", "jar"))
                .doesNotContainKeys("pullRequest", "failedStep");
        assertThat((String) request.get("requestBody")).doesNotContain(TOKEN);
    }

    @Test
    void aPullRequestBuildReportsItsNumberAndHeadBranch() {
        env.putAll(Map.of("CHANGE_ID", "42", "CHANGE_BRANCH", "feature/cart", "CHANGE_TITLE", "ABC-7 cart",
                "BRANCH_NAME", "PR-42"));

        library.invokeMethod("call", new Object[]{Map.of("hookUrl", "https://conveyor/hooks/jenkins", "fetch",
                false, "app", "shop-api")});

        assertThat(commands).first().isEqualTo("mvn -B test");
        assertThat(hookBody()).doesNotContainKey("lint").containsEntry("pullRequest", 42)
                .containsEntry("branch", "feature/cart")
                .containsEntry("pullRequestTitle", "ABC-7 cart").containsEntry("app", "shop-api")
                .containsEntry("result", "SUCCESS");
    }

    @Test
    void failingTestsAreReportedAsAFailedBuildAndFailTheJob() {
        workspace = workspace("errors");
        failing.add("mvn -B test");

        assertThatThrownBy(() -> library.invokeMethod("call",
                new Object[]{Map.of("hookUrl", "https://conveyor/hooks/jenkins", "lint", "npm run lint")}))
                .hasMessageContaining("the test step failed: script returned exit code 1");

        assertThat(commands).containsExactly("mvn -B -q dependency:go-offline", "mvn -B test");
        assertThat(steps()).doesNotContain("archiveArtifacts");
        assertThat(hookBody()).containsEntry("result", "FAILURE").containsEntry("failedStep", "test")
                .containsEntry("reason", "script returned exit code 1")
                .containsEntry("tests", Map.of("passed", 3, "failed", 3, "skipped", 0))
                .doesNotContainKeys("artifact", "lint");
    }

    @Test
    void aColouredOrHugeFailureMessageAndTitleAreCutToWhatTheGatewayAccepts() {
        env.putAll(Map.of("CHANGE_ID", "42", "CHANGE_BRANCH", "feature/cart", "CHANGE_TITLE",
                "\u202Etitle " + "t".repeat(600)));
        failing.add("mvn -B test");
        failureMessages.put("mvn -B test", "\u001B[31mBUILD FAILURE\u001B[0m\u0000\n" + "x".repeat(5_000));

        assertThatThrownBy(() -> library.invokeMethod("call",
                new Object[]{Map.of("hookUrl", "https://conveyor/hooks/jenkins", "fetch", false)}))
                .hasMessageContaining("the test step failed");

        String reason = (String) hookBody().get("reason");
        assertThat(reason).startsWith("BUILD FAILURE\nxxx").hasSize(2048).endsWith("...");
        assertThat(reason.codePoints()).noneMatch(c -> c != '\n' && Character.isISOControl(c));
        String title = (String) hookBody().get("pullRequestTitle");
        assertThat(title).startsWith("title t").hasSize(512);
    }

    @Test
    void withoutAHookUrlTheStepRefusesToRun() {
        assertThatThrownBy(() -> library.invokeMethod("call", new Object[]{Map.of()}))
                .hasMessageContaining("hookUrl is required");
        assertThat(commands).isEmpty();
        assertThat(requests).isEmpty();
    }

    Map<String, Object> runWithLint(String workspaceName, Map<String, Object> settings) {
        workspace = workspace(workspaceName);
        Map<String, Object> args = new HashMap<>(Map.of("hookUrl", "https://conveyor/hooks/jenkins", "fetch", false,
                "lint", "npm run lint"));
        args.putAll(settings);
        try {
            library.invokeMethod("call", new Object[]{args});
        } catch (IllegalStateException buildFailed) {
            assertThat(buildFailed).hasMessageContaining("conveyor: the ");
        }
        return hookBody();
    }

    @Test
    void aCleanWorkspaceReportsZeroReadFromItsReports() {
        Map<String, Object> body = runWithLint("clean",
                Map.of("lintReports", "target/checkstyle-result.xml,target/*.sarif"));

        assertThat(body).containsEntry("result", "SUCCESS").containsEntry("lint", Map.of("errors", 0, "warnings", 0))
                .containsEntry("tests", Map.of("passed", 9, "failed", 0, "skipped", 1));
        assertThat(steps()).contains("findFiles", "readFile");
    }

    @Test
    void sarifAloneCountsOnlyUnsuppressedFailingResultsByTheirOrTheirRulesLevel() {
        Map<String, Object> body = runWithLint("warnings", Map.of("lintReports", "**/*.sarif"));

        // warning; note by the rule's default; warning by default (rule found by id); suppressed, pass and none skipped
        assertThat(body).containsEntry("lint", Map.of("errors", 0, "warnings", 3));
    }

    @Test
    void aLinterThatFailsOnErrorsStillReportsItsCountsWithTheFailedBuild() {
        failing.add("npm run lint");

        Map<String, Object> body = runWithLint("errors",
                Map.of("lintReports", "target/checkstyle-result.xml, target/eslint.sarif"));

        assertThat(body).containsEntry("result", "FAILURE").containsEntry("failedStep", "lint")
                .containsEntry("reason", "script returned exit code 1")
                // Checkstyle: 2 errors, 1 warning; SARIF: 1 error by the rule's default level, 1 explicit error
                .containsEntry("lint", Map.of("errors", 4, "warnings", 1))
                .containsEntry("tests", Map.of("passed", 3, "failed", 3, "skipped", 0)).doesNotContainKey("artifact");
        assertThat(commands).doesNotContain("mvn -B -DskipTests package");
    }

    @Test
    void withWarningsNgTheCountsAreTheTotalsRecordIssuesReturns() {
        recordIssuesResult = List.of(new AnalysisTotals(2, 9), new AnalysisTotals(0, 3));
        Map<String, Object> tools = Map.of("tools", List.of("checkStyle(pattern: 'target/checkstyle-result.xml')"));

        Map<String, Object> body = runWithLint("warnings",
                Map.of("recordIssues", tools, "lintReports", "target/checkstyle-result.xml"));

        assertThat(recordIssuesCalls).containsExactly(tools);
        assertThat(body).containsEntry("lint", Map.of("errors", 2, "warnings", 10));
        assertThat(steps()).doesNotContain("readFile");
    }

    @Test
    void aWarningsNgThatReturnsNothingFallsBackToTheReports() {
        recordIssuesResult = null; // warnings-ng before recordIssues returned its results

        Map<String, Object> body = runWithLint("warnings",
                Map.of("recordIssues", Map.of("tools", List.of()), "lintReports", "target/checkstyle-result.xml"));

        assertThat(recordIssuesCalls).hasSize(1);
        assertThat(body).containsEntry("lint", Map.of("errors", 0, "warnings", 4));
    }

    @Test
    void aLintCommandWithoutReportsReportsNoCountsRatherThanZero() {
        Map<String, Object> body = runWithLint("warnings", Map.of());

        assertThat(commands).contains("npm run lint");
        assertThat(body).containsEntry("result", "SUCCESS").doesNotContainKey("lint");
    }

    @Test
    void aReportInNoKnownFormatFailsTheLintStepNamingTheFile() {
        Map<String, Object> body = runWithLint("warnings", Map.of("lintReports", "target/surefire-reports/*.txt"));
        assertThat(body).doesNotContainKey("lint");

        requests.clear();
        Map<String, Object> junitAsLint = runWithLint("warnings",
                Map.of("lintReports", "target/surefire-reports/TEST-com.acme.shop.CartTest.xml"));

        assertThat(junitAsLint).containsEntry("result", "FAILURE").containsEntry("failedStep", "lint")
                .doesNotContainKey("lint");
        assertThat((String) junitAsLint.get("reason")).contains(
                "lint report target/surefire-reports/TEST-com.acme.shop.CartTest.xml is not Checkstyle XML",
                "<testsuite>");
    }

    /** What Warnings NG's recordIssues returns per tool: an AnalysisResult, read through its totals. */
    public static final class AnalysisTotals {
        private final int errors;
        private final int total;

        AnalysisTotals(int errors, int total) {
            this.errors = errors;
            this.total = total;
        }

        public int getTotalErrorsSize() {
            return errors;
        }

        public int getTotalSize() {
            return total;
        }
    }
}
