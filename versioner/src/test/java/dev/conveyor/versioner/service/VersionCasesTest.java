package dev.conveyor.versioner.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.function.Consumer;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import dev.conveyor.events.v1.Artifact;
import dev.conveyor.events.v1.BuildSucceeded;
import dev.conveyor.events.v1.BumpReason;
import dev.conveyor.events.v1.Flow;
import dev.conveyor.events.v1.PipelineRun;
import dev.conveyor.events.v1.VersionResolved;
import dev.conveyor.stage.Backoff;
import dev.conveyor.stage.StageException;
import dev.conveyor.stage.git.GitAccess;
import dev.conveyor.stage.git.GitCredentials;
import dev.conveyor.stage.git.PushRace;
import dev.conveyor.stage.git.RepoMirrors;
import dev.conveyor.versioner.client.TagPublisher;
import dev.conveyor.versioner.domain.SemVer;

/**
 * The version rules end to end on real git histories (over {@code file://}): each case builds a history, runs the
 * versioner on its last commit and checks the version, the tag, the bump and, in CD, that the tag is on the commit.
 */
class VersionCasesTest {

    /** One case: a history, the app and flow to version, and what must come out ({@code version} null = failure). */
    record Case(String name, Consumer<Scenario> history, String app, Flow flow, String version, String tag,
            BumpReason bump, String previous, String failure) {

        @Override
        public String toString() {
            return name;
        }
    }

    static Case cd(String name, Consumer<Scenario> history, String version, String tag, BumpReason bump,
            String previous) {
        return new Case(name, history, "shop", Flow.CD, version, tag, bump, previous, null);
    }

    static Case app(String app, String name, Consumer<Scenario> history, String version, String tag, BumpReason bump,
            String previous) {
        return new Case(name, history, app, Flow.CD, version, tag, bump, previous, null);
    }

    static Case ci(String name, Consumer<Scenario> history, String versionPrefix, String previous) {
        return new Case(name, history, "shop", Flow.CI, versionPrefix, null, BumpReason.PRERELEASE, previous, null);
    }

    static Case fails(String name, Consumer<Scenario> history, String app, String reason) {
        return new Case(name, history, app, Flow.CD, null, null, null, null, reason);
    }

    static final String MONOREPO = """
            apps:
              - name: api
                path: api/
              - name: web
                path: web/
            """;

    static Stream<Arguments> cases() {
        return Stream.of(
                cd("no tags: initial version", s -> s.commit("first"), "0.1.0", "v0.1.0", BumpReason.INITIAL, null),
                cd("no tags: configured initial version",
                        s -> s.commit("first", ".conveyor.yaml", "version:\n  initial: 1.0.0\n"), "1.0.0", "v1.0.0",
                        BumpReason.INITIAL, null),
                cd("fix is a patch", s -> s.commit("init").tag("v1.2.0").commit("fix: null check"), "1.2.1", "v1.2.1",
                        BumpReason.PATCH, "1.2.0"),
                cd("perf is a patch", s -> s.commit("init").tag("v1.2.0").commit("perf(db): index"), "1.2.1", "v1.2.1",
                        BumpReason.PATCH, "1.2.0"),
                cd("feat is a minor", s -> s.commit("init").tag("v1.2.0").commit("feat(cart): totals"), "1.3.0",
                        "v1.3.0",
                        BumpReason.MINOR, "1.2.0"),
                cd("bang is a major", s -> s.commit("init").tag("v1.2.0").commit("feat!: new API"), "2.0.0", "v2.0.0",
                        BumpReason.MAJOR, "1.2.0"),
                cd("BREAKING CHANGE footer is a major",
                        s -> s.commit("init").tag("v1.2.0").commit("refactor: drop v1\n\nBREAKING CHANGE: /v1 is gone"),
                        "2.0.0",
                        "v2.0.0", BumpReason.MAJOR, "1.2.0"),
                cd("pre-1.0 breaking change is a minor", s -> s.commit("init").tag("v0.3.0").commit("feat!: rework"),
                        "0.4.0", "v0.4.0", BumpReason.MINOR, "0.3.0"),
                cd("non-conventional subject is a patch", s -> s.commit("init").tag("v1.2.0").commit("Update README"),
                        "1.2.1", "v1.2.1", BumpReason.PATCH, "1.2.0"),
                cd("chore is a patch", s -> s.commit("init").tag("v1.2.0").commit("chore: deps"), "1.2.1", "v1.2.1",
                        BumpReason.PATCH, "1.2.0"),
                cd("the biggest bump wins",
                        s -> s.commit("init").tag("v1.2.0").commit("fix: a").commit("feat: b").commit("docs: c"),
                        "1.3.0",
                        "v1.3.0", BumpReason.MINOR, "1.2.0"),
                cd("annotated tags count like lightweight ones",
                        s -> s.commit("init").annotatedTag("v2.0.0").commit("fix: x"), "2.0.1", "v2.0.1",
                        BumpReason.PATCH,
                        "2.0.0"),
                cd("pre-release tags are not bases",
                        s -> s.commit("init").tag("v1.2.0").commit("feat: rc work").tag("v1.3.0-rc.1")
                                .commit("fix: rc fix"),
                        "1.3.0", "v1.3.0", BumpReason.MINOR, "1.2.0"),
                cd("non-semver tags are ignored",
                        s -> s.commit("init").tag("v1.0.0").commit("fix: a").tag("release-2020").tag("vNext")
                                .tag("v1.2")
                                .commit("fix: b"),
                        "1.0.1", "v1.0.1", BumpReason.PATCH, "1.0.0"),
                cd("several tags on one commit: the highest is the base",
                        s -> s.commit("init").tag("v1.0.0").tag("v1.1.0").commit("fix: x"), "1.1.1", "v1.1.1",
                        BumpReason.PATCH,
                        "1.1.0"),
                cd("highest reachable tag, not the nearest",
                        s -> s.commit("init").tag("v2.0.0").commit("fix: a").tag("v1.9.9").commit("fix: b"), "2.0.1",
                        "v2.0.1",
                        BumpReason.PATCH, "2.0.0"),
                cd("an already tagged commit keeps its version",
                        s -> s.commit("init").tag("v1.0.0").commit("feat: x").tag("v1.1.0"), "1.1.0", "v1.1.0",
                        BumpReason.EXISTING_TAG, "1.0.0"),
                cd("two version tags on the commit: the highest is reused",
                        s -> s.commit("init").tag("v2.0.0").tag("v2.0.1"), "2.0.1", "v2.0.1", BumpReason.EXISTING_TAG,
                        null),
                cd("merge commit brings a feature",
                        s -> s.commit("init").tag("v1.0.0").branch("feature").commit("feat: search").checkout("main")
                                .commit("fix: typo").merge("feature", "Merge branch 'feature'"),
                        "1.1.0", "v1.1.0", BumpReason.MINOR, "1.0.0"),
                cd("merge commit with fixes only",
                        s -> s.commit("init").tag("v1.0.0").branch("hotfix").commit("fix: crash").checkout("main")
                                .merge("hotfix", "Merge pull request #7 from hotfix"),
                        "1.0.1", "v1.0.1", BumpReason.PATCH, "1.0.0"),
                cd("tags on unmerged branches are not bases",
                        s -> s.commit("init").tag("v1.0.0").branch("side").commit("feat: exp").tag("v5.0.0")
                                .checkout("main")
                                .commit("fix: x"),
                        "1.0.1", "v1.0.1", BumpReason.PATCH, "1.0.0"),
                cd("a version taken on another branch is skipped",
                        s -> s.commit("init").tag("v1.0.0").branch("side").commit("fix: side").tag("v1.0.1")
                                .checkout("main")
                                .commit("fix: main"),
                        "1.0.2", "v1.0.2", BumpReason.PATCH, "1.0.0"),
                cd("custom tag prefix",
                        s -> s.commit("init", ".conveyor.yaml", "version:\n  tagPrefix: release-\n")
                                .tag("release-3.1.0")
                                .tag("v9.9.9").commit("fix: x"),
                        "3.1.1", "release-3.1.1", BumpReason.PATCH, "3.1.0"),
                cd("file strategy: VERSION file above the tags",
                        s -> s.commit("init", ".conveyor.yaml", "version:\n  strategy: file\n", "VERSION", "2.5.0\n"),
                        "2.5.0",
                        "v2.5.0", BumpReason.VERSION_FILE, null),
                cd("file strategy: VERSION already released, commits bump it",
                        s -> s.commit("init", ".conveyor.yaml", "version:\n  strategy: file\n", "VERSION", "2.5.0\n")
                                .tag("v2.5.0").commit("feat: more"),
                        "2.6.0", "v2.6.0", BumpReason.MINOR, "2.5.0"),
                cd("file strategy: VERSION below the latest tag is ignored",
                        s -> s.commit("init", ".conveyor.yaml", "version:\n  strategy: file\n", "VERSION", "v1.0.0\n")
                                .tag("v2.0.0").commit("fix: x"),
                        "2.0.1", "v2.0.1", BumpReason.PATCH, "2.0.0"),
                cd("file strategy: Chart.yaml version",
                        s -> s.commit("init", ".conveyor.yaml",
                                "version:\n  strategy: file\n  file: chart/Chart.yaml\n",
                                "chart/Chart.yaml", "apiVersion: v2\nname: shop\nversion: 3.1.0\n"),
                        "3.1.0", "v3.1.0", BumpReason.VERSION_FILE, null),
                cd("file strategy: pom.xml version, SNAPSHOT dropped",
                        s -> s.commit("init", ".conveyor.yaml", "version:\n  strategy: file\n  file: pom.xml\n",
                                "pom.xml",
                                "<project><parent><version>9.9.9</version></parent><version>4.2.0-SNAPSHOT</version></project>"),
                        "4.2.0", "v4.2.0", BumpReason.VERSION_FILE, null),
                app("api", "monorepo: a change under the app's path bumps it with its own prefix",
                        s -> s.commit("init", ".conveyor.yaml", MONOREPO, "api/a.txt", "1", "web/w.txt", "1")
                                .tag("api-v1.0.0")
                                .tag("web-v3.0.0").commit("feat(api): orders", "api/a.txt", "2"),
                        "1.1.0", "api-v1.1.0", BumpReason.MINOR, "1.0.0"),
                app("api", "monorepo: changes elsewhere do not count",
                        s -> s.commit("init", ".conveyor.yaml", MONOREPO, "api/a.txt", "1").tag("api-v1.0.0")
                                .commit("feat(web): big", "web/w.txt", "1").commit("fix(api): small", "api/a.txt", "2")
                                .commit("feat!: web only", "web/w.txt", "2"),
                        "1.0.1", "api-v1.0.1", BumpReason.PATCH, "1.0.0"),
                app("web", "monorepo: another app's tags are not this app's",
                        s -> s.commit("init", ".conveyor.yaml", MONOREPO, "web/w.txt", "1").tag("api-v4.0.0"), "0.1.0",
                        "web-v0.1.0", BumpReason.INITIAL, null),
                fails("monorepo: nothing under the app's path since its tag",
                        s -> s.commit("init", ".conveyor.yaml", MONOREPO, "api/a.txt", "1").tag("api-v1.0.0")
                                .commit("feat(web): x", "web/w.txt", "1"),
                        "api", "NOTHING_TO_RELEASE"),
                fails("monorepo: an app that is not listed", s -> s.commit("init", ".conveyor.yaml", MONOREPO), "shop",
                        "INVALID_CONFIG"),
                ci("pull request: pre-release of the next version", s -> s.commit("init").tag("v1.2.0").branch("pr")
                        .commit("feat: checkout"), "1.3.0-pr.42.", "1.2.0"),
                ci("pull request without tags", s -> s.commit("first"), "0.1.0-pr.42.", null),
                fails("invalid strategy", s -> s.commit("init", ".conveyor.yaml", "version:\n  strategy: calendar\n"),
                        "shop", "INVALID_CONFIG"),
                fails("unknown key in the version section",
                        s -> s.commit("init", ".conveyor.yaml", "version:\n  tagprefix: x\n"), "shop",
                        "INVALID_CONFIG"),
                fails("malformed .conveyor.yaml", s -> s.commit("init", ".conveyor.yaml", "version: [unclosed\n"),
                        "shop",
                        "INVALID_CONFIG"),
                fails("file strategy without the file",
                        s -> s.commit("init", ".conveyor.yaml", "version:\n  strategy: file\n"),
                        "shop", "VERSION_FILE_INVALID"),
                fails("file strategy with garbage in the file",
                        s -> s.commit("init", ".conveyor.yaml", "version:\n  strategy: file\n", "VERSION", "latest\n"),
                        "shop",
                        "VERSION_FILE_INVALID"))
                .map(Arguments::of);
    }

    @TempDir
    Path tmp;

    /**
     * The versioner was killed after it pushed the tag and before its {@code VersionResolved} reached the broker: the
     * redelivered build finds the run's own tag. What it emits must still name the changes since the previous version
     * (the notifier finds the run's JIRA issues in them), as the lost event did.
     */
    @Test
    void aRedeliveredBuildFindsItsTagAndStillCarriesTheChanges() {
        try (Scenario scenario = new Scenario(tmp.resolve("repo"));
                GitAccess access = GitAccess.create(GitCredentials.none())) {
            scenario.commit("init").tag("v1.0.0").commit("feat: SHOP-7 search").commit("fix: SHOP-8 typo");
            VersionService service = new VersionService(
                    new PushRace(new RepoMirrors(tmp.resolve("mirrors"), access), new Backoff(3, Duration.ZERO,
                            Duration.ZERO)),
                    new TagPublisher(access), "v", SemVer.of(0, 1, 0), "Conveyor", "conveyor@example.com",
                    Clock.fixed(Instant.parse("2026-11-23T12:00:00Z"), ZoneOffset.UTC));
            BuildSucceeded build = new BuildSucceeded(
                    PipelineRun.start("shop", scenario.url(), scenario.head(), "main", null, Flow.CD),
                    Instant.now(), null, "https://jenkins.example.com/1/",
                    new Artifact("file:///a.jar", "0".repeat(64), null, null), null, null);

            VersionResolved first = service.resolve(build, "cause");
            VersionResolved again = service.resolve(build, "cause");

            assertThat(first.changes()).containsExactly("fix: SHOP-8 typo", "feat: SHOP-7 search");
            assertThat(again.version()).isEqualTo(first.version()).isEqualTo("1.1.0");
            assertThat(again.tag()).isEqualTo("v1.1.0");
            assertThat(again.previousVersion()).isEqualTo("1.0.0");
            assertThat(again.changes()).isEqualTo(first.changes());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void versionCase(Case c) {
        try (Scenario scenario = new Scenario(tmp.resolve("repo"));
                GitAccess access = GitAccess.create(GitCredentials.none())) {
            c.history().accept(scenario);
            VersionService service = new VersionService(
                    new PushRace(new RepoMirrors(tmp.resolve("mirrors"), access), new Backoff(3, Duration.ZERO,
                            Duration.ZERO)),
                    new TagPublisher(access), "v", SemVer.of(0, 1, 0), "Conveyor", "conveyor@example.com",
                    Clock.fixed(Instant.parse("2026-11-23T12:00:00Z"), ZoneOffset.UTC));
            Integer pr = c.flow() == Flow.CI ? 42 : null;
            BuildSucceeded build = new BuildSucceeded(
                    PipelineRun.start(c.app(), scenario.url(), scenario.head(), c.flow() == Flow.CI ? "pr" : "main", pr,
                            c.flow()),
                    Instant.now(), null, "https://jenkins.example.com/1/",
                    new Artifact("file:///a.jar", "0".repeat(64), null, null), null, null);

            if (c.failure() != null) {
                assertThatThrownBy(() -> service.resolve(build, "cause"))
                        .isInstanceOfSatisfying(StageException.class,
                                e -> assertThat(e.reason()).isEqualTo(c.failure()));
                return;
            }
            VersionResolved resolved = service.resolve(build, "cause");
            if (c.flow() == Flow.CI) {
                assertThat(resolved.version()).isEqualTo(c.version() + scenario.head().substring(0, 7));
                assertThat(resolved.tag()).isNull();
                assertThat(resolved.taggedNow()).isFalse();
            } else {
                assertThat(resolved.version()).isEqualTo(c.version());
                assertThat(resolved.tag()).isEqualTo(c.tag());
                assertThat(resolved.taggedNow()).isEqualTo(c.bump() != BumpReason.EXISTING_TAG);
                assertThat(scenario.tagged(c.tag())).as("tag %s on the commit", c.tag()).isEqualTo(scenario.head());
            }
            assertThat(resolved.bump()).isEqualTo(c.bump());
            assertThat(resolved.previousVersion()).isEqualTo(c.previous());
            assertThat(resolved.causationId()).isEqualTo("cause");
        }
    }
}
