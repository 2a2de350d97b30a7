package dev.conveyor.jenkins;

import static com.lesfurets.jenkins.unit.MethodSignature.method;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

import org.codehaus.groovy.runtime.MethodClosure;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.lesfurets.jenkins.unit.BasePipelineTest;
import com.lesfurets.jenkins.unit.MethodCall;

import groovy.json.JsonSlurper;
import groovy.lang.Closure;
import groovy.lang.Script;

/**
 * The shared library's {@code conveyor} step and the example Jenkinsfile, run by JenkinsPipelineUnit: the seed's build
 * steps in order, then the hook call with the payload the gateway reads. Steps are stubbed where they would touch a
 * real Jenkins; the commands they are given and the hook request they send are what is asserted.
 */
public class ConveyorLibraryTest extends BasePipelineTest {

    static final String COMMIT = "0123456789abcdef0123456789abcdef01234567";
    static final String SHA = "ab".repeat(32);
    static final String TOKEN = "s3cr3t-hook-token";
    static final String BUILD_URL = "https://jenkins.example.com/job/shop/job/main/12/";

    final List<Map<String, Object>> requests = new ArrayList<>();
    final List<String> commands = new ArrayList<>();
    final Set<String> failing = new HashSet<>();
    final Map<String, Object> env = new HashMap<>();
    Script library;

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
        getHelper().registerAllowedMethod(method("junit", Map.class), (Function<Object, Object>) args -> Map.of(
                "passCount", 40, "failCount", failing.isEmpty() ? 0 : 3, "skipCount", 2));
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
            throw new IllegalStateException("script returned exit code 1");
        }
        if (command.startsWith("ls -1 ")) {
            return "target/shop-1.4.0-runner.jar\n";
        }
        if (command.startsWith("sha256sum ")) {
            return SHA + "\n";
        }
        return null;
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
                .containsEntry("tests", Map.of("passed", 40, "failed", 0, "skipped", 2))
                .containsEntry("lint", Map.of("errors", 0, "warnings", 0))
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
        assertThat(hookBody()).containsEntry("pullRequest", 42).containsEntry("branch", "feature/cart")
                .containsEntry("pullRequestTitle", "ABC-7 cart").containsEntry("app", "shop-api")
                .containsEntry("result", "SUCCESS");
    }

    @Test
    void failingTestsAreReportedAsAFailedBuildAndFailTheJob() {
        failing.add("mvn -B test");

        assertThatThrownBy(() -> library.invokeMethod("call",
                new Object[]{Map.of("hookUrl", "https://conveyor/hooks/jenkins", "lint", "npm run lint")}))
                .hasMessageContaining("the test step failed: script returned exit code 1");

        assertThat(commands).containsExactly("mvn -B -q dependency:go-offline", "mvn -B test");
        assertThat(steps()).doesNotContain("archiveArtifacts");
        assertThat(hookBody()).containsEntry("result", "FAILURE").containsEntry("failedStep", "test")
                .containsEntry("reason", "script returned exit code 1")
                .containsEntry("tests", Map.of("passed", 40, "failed", 3, "skipped", 2))
                .doesNotContainKeys("artifact", "lint");
    }

    @Test
    void withoutAHookUrlTheStepRefusesToRun() {
        assertThatThrownBy(() -> library.invokeMethod("call", new Object[]{Map.of()}))
                .hasMessageContaining("hookUrl is required");
        assertThat(commands).isEmpty();
        assertThat(requests).isEmpty();
    }
}
