package dev.conveyor.notifier.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/**
 * The notifier's settings ({@code conveyor.notifier.*}). A provider is on when its credentials are set; tokens and
 * webhook URLs come from Kubernetes Secrets (environment variables), never from events, and never reach a log.
 */
@ConfigMapping(prefix = "conveyor.notifier")
public interface NotifierConfig {

    /**
     * Local working directory: the app repositories' mirrors, and where the journal file of the versions before the
     * state moved to Kafka is looked for (read once into the state topic, then renamed). Needs no persistent volume.
     */
    @WithDefault("/var/lib/conveyor/notifier")
    Path dataDir();

    /** The delivery state in Kafka and the consumer group shared by every replica. */
    State state();

    /** How long a run's state (and the ids of its events) is kept after its last event; longer than topic retention. */
    @WithDefault("P14D")
    Duration stateRetention();

    /** Link to a run's page; {@code {runId}} is replaced. Used as the commit status target and in messages. */
    @WithDefault("http://localhost:8080/runs/{runId}")
    String runUrl();

    /** Longest manifest diff shown in a PR comment (GitHub refuses comments over 65536 characters). */
    @WithDefault("40000")
    int maxDiffChars();

    /** Message templates. */
    Templates templates();

    /** Reading the {@code notify} section of each app's {@code .conveyor.yaml} (git credentials: {@code conveyor.git.*}). */
    AppConfig appConfig();

    /** Retries of transient failures (network, 408, 429, 5xx), per call. */
    Retry retry();

    GitHub github();

    GitLab gitlab();

    Slack slack();

    Jira jira();

    interface State {
        /** Compacted topic of the runs' state, with at least as many partitions as the event topics. */
        @WithDefault("conveyor.notifier.state")
        String topic();

        /** Consumer group of every replica, over every event topic. */
        @WithDefault("conveyor-notifier")
        String groupId();

        /** Longest the state of one partition may take to read when a replica takes the partition over. */
        @WithDefault("120s")
        Duration restoreTimeout();
    }

    interface Templates {
        /**
         * A directory of overrides: a file named like a built-in template ({@code pr-comment.md},
         * {@code slack-message.txt}, {@code slack-failure.txt}, {@code jira-comment.txt}, {@code status.txt})
         * replaces it.
         */
        Optional<Path> dir();
    }

    interface AppConfig {
        /** Whether a run's first event reads the app's {@code .conveyor.yaml} at the run's commit. */
        @WithDefault("true")
        boolean enabled();

        /** Bare mirrors of app repositories, fetched not re-cloned. Persistent volume. */
        @WithDefault("/var/lib/conveyor/notifier/mirrors")
        Path mirrorDir();
    }

    interface Retry {
        /** Attempts in all per call, the first included; then the call is given up and counted. */
        @WithDefault("8")
        int maxAttempts();

        @WithDefault("1s")
        Duration initialDelay();

        @WithDefault("60s")
        Duration maxDelay();

        /** Longest {@code Retry-After} honoured; a longer one is cut to this. */
        @WithDefault("300s")
        Duration maxRetryAfter();

        /** Connect and request timeout of every call. */
        @WithDefault("10s")
        Duration requestTimeout();
    }

    interface GitHub {
        /** REST API root; {@code https://<host>/api/v3} for GitHub Enterprise Server. */
        @WithDefault("https://api.github.com")
        String apiUrl();

        /** Repository hosts served by this API. */
        @WithDefault("github.com")
        List<String> hosts();

        /** Token (GitHub App installation token or PAT) with statuses and pull requests write; unset turns GitHub off. */
        Optional<String> token();
    }

    interface GitLab {
        @WithDefault("https://gitlab.com/api/v4")
        String apiUrl();

        @WithDefault("gitlab.com")
        List<String> hosts();

        /** Token with the {@code api} scope; unset turns GitLab off. */
        Optional<String> token();
    }

    interface Slack {
        @WithDefault("https://slack.com/api")
        String apiUrl();

        /** Bot token ({@code xoxb-...}, scope {@code chat:write}); messages are posted, updated and threaded. */
        Optional<String> token();

        /** Incoming webhook URL, used when there is no bot token: one message per milestone and failure. */
        Optional<String> webhookUrl();

        /** Channel of apps without their own. */
        Optional<String> defaultChannel();

        /** Channel per app id, e.g. {@code conveyor.notifier.slack.channels.shop=#shop-deploys}. */
        Map<String, String> channels();
    }

    interface Jira {
        /** Site root, e.g. {@code https://example.atlassian.net}; unset turns JIRA off. */
        Optional<String> baseUrl();

        Optional<String> email();

        /** API token of {@link #email()}. */
        Optional<String> apiToken();

        /** Transition applied to each issue when the run is deployed (e.g. the id of "Deployed"); none when unset. */
        Optional<String> transitionId();

        /** Project keys to recognise in branch names, PR titles and commit subjects; empty recognises any. */
        Optional<List<String>> projects();
    }
}
