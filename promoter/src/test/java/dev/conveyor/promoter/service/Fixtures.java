package dev.conveyor.promoter.service;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.ObjectLoader;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.revwalk.RevWalk;
import org.eclipse.jgit.treewalk.TreeWalk;

import dev.conveyor.events.v1.Flow;
import dev.conveyor.events.v1.ManifestsValidated;
import dev.conveyor.events.v1.PipelineRun;
import dev.conveyor.events.v1.PromotionMode;
import dev.conveyor.promoter.client.ChartPackager;
import dev.conveyor.promoter.client.GitCommitter;
import dev.conveyor.promoter.client.GitHubPullRequests;
import dev.conveyor.promoter.domain.PromotionTarget;
import dev.conveyor.promoter.domain.ReleaseKind;
import dev.conveyor.promoter.domain.TargetRule;
import dev.conveyor.stage.Backoff;
import dev.conveyor.stage.git.GitAccess;
import dev.conveyor.stage.git.GitCredentials;
import dev.conveyor.stage.git.PushRace;
import dev.conveyor.stage.git.RepoMirrors;
import dev.conveyor.testkit.git.BareRepo;

/** App charts, the seed's GitOps layout and service wiring shared by the promoter's integration tests. */
final class Fixtures {

    static final String IMAGE_DIGEST = "sha256:" + "5e".repeat(32);
    static final String RENDERED = "sha256:" + "7a".repeat(32);

    /** The seed's GitOps layout with a FluxHelmRelease carrying comments and user values. */
    static final String RELEASE = """
            # Cart for the shop: the team owns these values.
            apiVersion: helm.integrations.flux.weave.works/v1alpha2
            kind: FluxHelmRelease
            metadata:
              name: %1$s
              namespace: shop
              labels:
                chart: %1$s # the directory under charts/
            spec:
              chartGitPath: %1$s
              releaseName: %1$s
              values: # overrides
                replicaCount: 3   # sized for the sale
                image:
                  repository: registry.example.com/%1$s
                  tag: "0.9.0"
                  digest: sha256:0000000000000000000000000000000000000000000000000000000000000000
                  pullPolicy: IfNotPresent
                resources:
                  limits: {cpu: 500m, memory: 256Mi}
            """;

    private Fixtures() {
    }

    static String chartYaml(String name) {
        return "apiVersion: v2\nname: " + name + "\ndescription: A test chart\n# the version is set by Conveyor\n"
                + "version: 0.0.0\ntype: application\n";
    }

    /** Commits a chart named {@code chart} under {@code chart/} and returns the commit. */
    static String seedApp(BareRepo app, String chart, String flavour) {
        return app.writer().file("chart/Chart.yaml", chartYaml(chart))
                .file("chart/values.yaml", "image: registry.example.com/" + chart + ":latest\nflavour: " + flavour
                        + "\n")
                .file("chart/templates/configmap.yaml", """
                        apiVersion: v1
                        kind: ConfigMap
                        metadata:
                          name: {{ .Release.Name }}-settings
                        data:
                          image: {{ .Values.image | quote }}
                          flavour: {{ .Values.flavour | quote }}
                        """)
                .message("feat: chart " + flavour).commit();
    }

    /** The seed's GitOps layout: charts/, namespaces/, releases/helm/ and releases/manifests/. */
    static String seedGitops(BareRepo gitops, String release) {
        return gitops.writer().file("charts/legacy/Chart.yaml", "apiVersion: v1\nname: legacy\nversion: 1.0.0\n")
                .file("charts/legacy/templates/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n")
                .file("namespaces/shop.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n")
                .file("releases/helm/shop/" + release + ".yaml", RELEASE.formatted(release))
                .file("releases/manifests/shop/quota.yaml", "apiVersion: v1\nkind: ResourceQuota\nmetadata:\n"
                        + "  name: shop\n  namespace: shop\nspec:\n  hard:\n    pods: \"50\"\n")
                .message("seed gitops layout").commit();
    }

    static ManifestsValidated validated(String app, String repoUrl, String commit, String chart, String version) {
        return new ManifestsValidated(PipelineRun.start(app, repoUrl, commit, "main", null, Flow.CD), Instant.now(),
                "cause-" + app, version, "registry.example.com/" + chart, IMAGE_DIGEST, chart, "chart", null, 1,
                RENDERED, null, 0);
    }

    static TargetRule target(String id, String gitopsUrl, String namespace, PromotionMode mode, String... apps) {
        return new TargetRule(id, new PromotionTarget(gitopsUrl, "main", "staging", namespace, null, mode,
                ReleaseKind.FLUX_HELM_RELEASE), List.of(apps), List.of());
    }

    /** A service as one replica would run it: its own mirrors and scratch space. */
    static PromotionService service(Path dir, GitAccess access, List<ChartRepositoryRule> repos,
            List<TargetRule> targets, GitHubPullRequests prs, int pushAttempts) {
        return service(dir, access, repos, targets, prs, pushAttempts, d -> Thread.sleep(d.toMillis()));
    }

    /** As above, pausing between push rounds with {@code sleeper}. */
    static PromotionService service(Path dir, GitAccess access, List<ChartRepositoryRule> repos,
            List<TargetRule> targets, GitHubPullRequests prs, int pushAttempts,
            dev.conveyor.stage.StageRunner.Sleeper sleeper) {
        RepoMirrors mirrors = new RepoMirrors(dir.resolve("mirrors"), access);
        GitCommitter committer = new GitCommitter(new PushRace(mirrors, mirrors::fetch, new Backoff(pushAttempts,
                Duration.ofMillis(20), Duration.ofSeconds(5)), sleeper), mirrors, access, "Conveyor",
                "conveyor@conveyor.dev");
        return new PromotionService(mirrors, new ChartPackager(), committer, prs, new PromotionService.Settings(repos,
                targets, Set.of(), "main", "charts", dir.resolve("work")), Clock.systemUTC());
    }

    static GitCommitter committer(RepoMirrors mirrors, GitAccess access, int pushAttempts) {
        return new GitCommitter(new PushRace(mirrors, new Backoff(pushAttempts, Duration.ofMillis(20), Duration
                .ofSeconds(5))), mirrors, access, "Conveyor", "conveyor@conveyor.dev");
    }

    static GitAccess access() {
        return GitAccess.create(new GitCredentials(Optional.empty(), Optional.empty(), true, "x-access-token",
                Optional.empty()));
    }

    /** A file's text on a branch of a bare repository, if present. */
    static Optional<String> read(BareRepo repo, String branch, String path) {
        try (Repository db = repo.open(); RevWalk walk = new RevWalk(db)) {
            var ref = db.exactRef(Constants.R_HEADS + branch);
            if (ref == null) {
                return Optional.empty();
            }
            RevCommit tip = walk.parseCommit(ref.getObjectId());
            try (TreeWalk tree = TreeWalk.forPath(db, path, tip.getTree())) {
                if (tree == null) {
                    return Optional.empty();
                }
                ObjectLoader loader = db.open(tree.getObjectId(0));
                return Optional.of(new String(loader.getBytes(), java.nio.charset.StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Optional<byte[]> readBytes(BareRepo repo, String branch, String path) {
        try (Repository db = repo.open(); RevWalk walk = new RevWalk(db)) {
            var ref = db.exactRef(Constants.R_HEADS + branch);
            if (ref == null) {
                return Optional.empty();
            }
            try (TreeWalk tree = TreeWalk.forPath(db, path, walk.parseCommit(ref.getObjectId()).getTree())) {
                return tree == null ? Optional.empty() : Optional.of(db.open(tree.getObjectId(0)).getBytes());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Full commit messages on a branch, newest first. */
    static List<String> messages(BareRepo repo, String branch) {
        try (Repository db = repo.open(); RevWalk walk = new RevWalk(db)) {
            var ref = db.exactRef(Constants.R_HEADS + branch);
            List<String> messages = new ArrayList<>();
            if (ref == null) {
                return messages;
            }
            walk.markStart(walk.parseCommit(ref.getObjectId()));
            for (RevCommit c : walk) {
                messages.add(c.getFullMessage());
            }
            return messages;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Path tempDir(String prefix) {
        try {
            return Files.createTempDirectory(prefix);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Map<String, String> noFiles() {
        return Map.of();
    }
}
