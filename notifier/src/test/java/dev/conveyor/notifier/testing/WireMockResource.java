package dev.conveyor.notifier.testing;

import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import com.github.tomakehurst.wiremock.WireMockServer;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

/**
 * A WireMock server in the test JVM (no Docker) standing in for GitHub, GitLab, Slack and JIRA under path prefixes,
 * with the notifier's provider settings pointing at it (see {@link Harness#settings}).
 */
public class WireMockResource implements QuarkusTestResourceLifecycleManager {

    private WireMockServer server;

    @Override
    public Map<String, String> start() {
        server = new WireMockServer(options().dynamicPort());
        server.start();
        try {
            Path data = Files.createTempDirectory("conveyor-notifier-it");
            Map<String, String> settings = new HashMap<>(Harness.settings(server, data,
                    Map.of("conveyor.notifier.jira.transition-id", "31",
                            // the apps of these runs live on github.com, out of reach: AppConfigTest covers it
                            "conveyor.notifier.app-config.enabled", "false")));
            return settings;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void inject(TestInjector testInjector) {
        testInjector.injectIntoFields(server,
                new TestInjector.AnnotatedAndMatchesType(InjectWireMock.class, WireMockServer.class));
    }

    @Override
    public void stop() {
        if (server != null) {
            server.stop();
        }
    }
}
