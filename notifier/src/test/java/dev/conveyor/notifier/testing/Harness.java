package dev.conveyor.notifier.testing;

import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.stubbing.ServeEvent;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;

import dev.conveyor.notifier.config.NotifierBeans;
import dev.conveyor.notifier.config.NotifierConfig;
import dev.conveyor.notifier.domain.AppNotifySettings;
import dev.conveyor.notifier.service.NotifierService;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.quarkus.qute.Engine;
import io.quarkus.qute.ReflectionValueResolver;
import io.quarkus.qute.TemplateLocator;
import io.quarkus.qute.Variant;
import io.quarkus.runtime.configuration.DurationConverter;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;

/**
 * The notifier as {@code NotifierBeans} wires it, outside Quarkus: real configuration mapping, real journal in a
 * directory, real HTTP to a WireMock server, Qute with the built-in templates from the classpath.
 */
public final class Harness {

    public static final String GITHUB_TOKEN = "ghs_test_token_0123456789";
    public static final String GITLAB_TOKEN = "glpat-test-token-0123";
    public static final String SLACK_TOKEN = "xoxb-test-token-0123";
    public static final String JIRA_TOKEN = "jira-api-token-0123";

    private Harness() {
    }

    /** Settings pointing every provider at {@code wiremock}, retries fast; {@code extra} overrides. */
    public static Map<String, String> settings(WireMockServer wiremock, Path dataDir, Map<String, String> extra) {
        return settings(wiremock.baseUrl(), dataDir, extra);
    }

    /** Settings pointing every provider at the stubs served at {@code base}, retries fast; {@code extra} overrides. */
    public static Map<String, String> settings(String base, Path dataDir, Map<String, String> extra) {
        Map<String, String> p = new HashMap<>();
        p.put("conveyor.notifier.data-dir", dataDir.toString());
        p.put("conveyor.notifier.run-url", "https://conveyor.example.com/runs/{runId}");
        p.put("conveyor.notifier.retry.initial-delay", "20ms");
        p.put("conveyor.notifier.retry.max-delay", "100ms");
        p.put("conveyor.notifier.retry.max-attempts", "4");
        p.put("conveyor.notifier.retry.max-retry-after", "5s");
        p.put("conveyor.notifier.github.api-url", base + "/github");
        p.put("conveyor.notifier.github.token", GITHUB_TOKEN);
        p.put("conveyor.notifier.gitlab.api-url", base + "/gitlab/api/v4");
        p.put("conveyor.notifier.gitlab.hosts", "gitlab.example.com");
        p.put("conveyor.notifier.gitlab.token", GITLAB_TOKEN);
        p.put("conveyor.notifier.slack.api-url", base + "/slack/api");
        p.put("conveyor.notifier.slack.token", SLACK_TOKEN);
        p.put("conveyor.notifier.slack.default-channel", "#deploys");
        p.put("conveyor.notifier.slack.channels.shop", "#shop");
        p.put("conveyor.notifier.jira.base-url", base + "/jira");
        p.put("conveyor.notifier.jira.email", "bot@example.com");
        p.put("conveyor.notifier.jira.api-token", JIRA_TOKEN);
        p.put("conveyor.notifier.jira.projects", "SHOP");
        p.putAll(extra);
        p.values().removeIf(String::isEmpty);
        return p;
    }

    public static NotifierConfig config(Map<String, String> properties) {
        SmallRyeConfig config = new SmallRyeConfigBuilder().withMapping(NotifierConfig.class)
                .withConverter(Duration.class, 200, new DurationConverter())
                .withSources(new PropertiesConfigSource(properties, "test", 500)).build();
        return config.getConfigMapping(NotifierConfig.class);
    }

    public static NotifierService start(Map<String, String> properties, SimpleMeterRegistry registry) {
        return start(properties, registry, (app, runId, url, commit) -> AppNotifySettings.none());
    }

    public static NotifierService start(Map<String, String> properties, SimpleMeterRegistry registry,
            NotifierService.AppSettingsSource apps) {
        return NotifierBeans.create(config(properties), engine(), registry, Clock.systemUTC(), apps);
    }

    /** A standalone Qute engine that finds {@code templates/<name>} on the classpath, as Quarkus does. */
    public static Engine engine() {
        return Engine.builder().addDefaults().addValueResolver(new ReflectionValueResolver())
                .removeStandaloneLines(true).addLocator(Harness::locate).build();
    }

    private static Optional<TemplateLocator.TemplateLocation> locate(String id) {
        String resource = "templates/" + id;
        if (Harness.class.getClassLoader().getResource(resource) == null) {
            return Optional.empty();
        }
        return Optional.of(new TemplateLocator.TemplateLocation() {
            @Override
            public Reader read() {
                InputStream in = Harness.class.getClassLoader().getResourceAsStream(resource);
                return new InputStreamReader(in, StandardCharsets.UTF_8);
            }

            @Override
            public Optional<Variant> getVariant() {
                return Optional.empty();
            }
        });
    }

    /** Every request WireMock received, oldest first. */
    public static List<LoggedRequest> requests(WireMockServer wiremock) {
        List<ServeEvent> events = new ArrayList<>(wiremock.getAllServeEvents());
        // WireMock lists the newest first
        Collections.reverse(events);
        return events.stream().map(ServeEvent::getRequest).toList();
    }

    /** {@code METHOD url} of every request under {@code prefix}, oldest first. */
    public static List<String> calls(WireMockServer wiremock, String prefix) {
        return requests(wiremock).stream().filter(r -> r.getUrl().startsWith(prefix))
                .map(r -> r.getMethod().getName() + " " + r.getUrl()).toList();
    }

    public static void closeQuietly(AutoCloseable c) {
        try {
            if (c != null) {
                c.close();
            }
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

}
