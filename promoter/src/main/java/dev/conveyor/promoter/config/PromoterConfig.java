package dev.conveyor.promoter.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import dev.conveyor.stage.config.RetryConfig;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/**
 * The promoter's settings ({@code conveyor.promoter.*}); git credentials are under {@code conveyor.git.*}. Chart
 * repositories and GitOps targets are keyed by an id of your choice.
 */
@ConfigMapping(prefix = "conveyor.promoter")
public interface PromoterConfig {

    /** Where bare mirrors of app, chart and GitOps repositories are kept. Use a persistent volume. */
    @WithDefault("/var/lib/conveyor/promoter/mirrors")
    Path mirrorDir();

    /** Scratch space for extracted and packaged charts; each run's directory is deleted afterwards. */
    @WithDefault("/tmp/conveyor/promoter/work")
    Path workDir();

    /** Identity of the commits the promoter makes. */
    Committer committer();

    /** Push rounds when other writers keep winning the race for a branch (fetch, re-apply, push). */
    @WithDefault("30")
    int pushAttempts();

    /** Base of the random pause between push rounds; it doubles per round up to 5 s. */
    @WithDefault("50ms")
    Duration pushJitter();

    /** Branch of app {@code promote:} entries that name none. */
    @WithDefault("main")
    String defaultBranch();

    /** HelmRepository name written into new Flux v2 HelmRelease objects. */
    @WithDefault("charts")
    String fluxV2Source();

    /** Chart repositories, by id. */
    Map<String, ChartRepo> chartRepositories();

    /** GitOps targets, by id. */
    Map<String, Target> targets();

    /** GitOps repositories apps may name in {@code .conveyor.yaml} besides those of the targets. */
    Optional<List<String>> allowedGitopsRepos();

    /** GitHub API for pull-request mode. */
    GitHub github();

    /** Retries of transient failures. */
    RetryConfig retry();

    /** A chart repository. */
    interface ChartRepo {
        /** {@code oci}, {@code git} (index.yaml in a git repository) or {@code chartmuseum}. */
        String type();

        /** oci: {@code oci://host/path}; git: the HTTP address it is served from; chartmuseum: its base URL. */
        String url();

        /** git: the repository the packages and index.yaml are committed to. */
        Optional<String> gitRepo();

        /** git: the branch. */
        @WithDefault("main")
        String branch();

        /** git: the directory inside the repository; the root when absent. */
        Optional<String> path();

        /** oci: talk HTTP instead of HTTPS (local registries only). */
        @WithDefault("false")
        boolean plainHttp();

        /** oci, chartmuseum: user name. */
        Optional<String> username();

        /** oci, chartmuseum: password or token (from a Secret; never logged). */
        Optional<String> password();

        /** Apps published here; with {@code charts} empty too, every app. */
        Optional<List<String>> apps();

        /** Charts published here. */
        Optional<List<String>> charts();
    }

    /** A GitOps target. */
    interface Target {
        /** The GitOps repository's URL. */
        String gitopsRepo();

        /** The branch releases land on, or the pull request's base. */
        @WithDefault("main")
        String branch();

        /** The environment's name. */
        String environment();

        /** The release's namespace. */
        String namespace();

        /** The release's name; the chart's name when absent. */
        Optional<String> release();

        /** {@code auto} (push to the branch) or {@code pull-request}. */
        @WithDefault("auto")
        String mode();

        /** Release object written for a new release: {@code flux-helm-release}, {@code helm-operator}, {@code flux-v2}. */
        @WithDefault("flux-helm-release")
        String kind();

        /** Apps promoted here; with {@code charts} empty too, every app. */
        Optional<List<String>> apps();

        /** Charts promoted here. */
        Optional<List<String>> charts();
    }

    interface Committer {
        @WithDefault("Conveyor")
        String name();

        @WithDefault("conveyor@conveyor.dev")
        String email();
    }

    interface GitHub {
        /** The REST API's base URL (GitHub Enterprise: {@code https://host/api/v3}). */
        @WithDefault("https://api.github.com")
        String apiUrl();

        /** Token allowed to open pull requests (from a Secret; never logged). */
        Optional<String> token();
    }
}
