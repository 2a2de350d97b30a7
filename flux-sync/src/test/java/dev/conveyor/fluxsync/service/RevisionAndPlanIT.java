package dev.conveyor.fluxsync.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.eclipse.jgit.lib.Repository;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.conveyor.fluxsync.client.SopsDecryptor;
import dev.conveyor.fluxsync.domain.ProblemReason;
import dev.conveyor.stage.StageException;
import dev.conveyor.stage.git.GitAccess;
import dev.conveyor.stage.git.GitCredentials;
import dev.conveyor.stage.git.RepoMirrors;
import dev.conveyor.testkit.git.BareRepo;
import dev.conveyor.testkit.git.GitRepos;
import dev.conveyor.testkit.kube.KubernetesApiStandIn;

/** Phases "read the revision" and "plan", against real git repositories over {@code file://}. */
class RevisionAndPlanIT {

    static KubernetesApiStandIn kube;
    static GitRepos repos;
    static GitAccess access;
    static RepoMirrors mirrors;
    static RevisionReader reader;

    @BeforeAll
    static void start() throws Exception {
        kube = KubernetesApiStandIn.start();
        repos = new GitRepos();
        access = GitAccess.create(GitCredentials.none());
        Path work = Files.createTempDirectory("flux-sync-phases");
        mirrors = new RepoMirrors(work.resolve("mirrors"), access);
        reader = new RevisionReader(new ReportedRevisions(PhasesStandIn.cluster(kube), "conveyor"));
    }

    @AfterAll
    static void stop() {
        access.close();
        repos.close();
        kube.close();
    }

    static RepoSpec spec(String name, BareRepo repo, String branch) {
        return new RepoSpec(name, repo.fileUrl(), branch, "", java.time.Duration.ofMinutes(5), true, false);
    }

    @Test
    void theRevisionIsTheBranchHeadWithTheRunsOfItsCommits() throws Exception {
        BareRepo repo = repos.createBare("rev");
        repo.writer().file("releases/manifests/a/cm.yaml", SeedRepo.configMap("cm", "1")).message(
                "one\n\nConveyor-Run: r-0123456789abcdef01234567\n").commit();
        String head = repo.writer().file("releases/manifests/a/cm.yaml", SeedRepo.configMap("cm", "2")).message(
                "two\n\nConveyor-Run: r-89abcdef0123456789abcdef\n").commit();
        try (Repository git = mirrors.fetch(repo.fileUrl())) {
            RevisionReader.Revision first = reader.read(spec("rev", repo, "main"), git, null);
            assertThat(first.id()).isEqualTo(head);
            assertThat(first.newRevision()).isTrue();
            assertThat(first.runIds()).containsExactly("r-0123456789abcdef01234567", "r-89abcdef0123456789abcdef");
            assertThat(reader.read(spec("rev", repo, "main"), git, head).newRevision()).isFalse();
        }
    }

    @Test
    void aMissingBranchIsATerminalFailureNamingTheField() throws Exception {
        BareRepo repo = repos.createBare("nobranch");
        repo.writer().file("README.md", "x").message("init").commit();
        try (Repository git = mirrors.fetch(repo.fileUrl())) {
            assertThatThrownBy(() -> reader.read(spec("nb", repo, "release"), git, null)).isInstanceOfSatisfying(
                    StageException.class, e -> {
                        assertThat(e.reason()).isEqualTo(FluxSyncFailure.BRANCH_NOT_FOUND.name());
                        assertThat(e.getMessage()).isEqualTo("branch release does not exist in " + repo.fileUrl()
                                + "; its branches: main — set conveyor.flux-sync.repos.nb.branch=main");
                    });
        }
    }

    @Test
    void thePlanHoldsTheObjectsTheReleasesAndTheProblemsOfARevision() throws Exception {
        BareRepo repo = repos.createBare("plan");
        SeedRepo.chart(repo.writer()).file("releases/manifests/p/cm.yaml", SeedRepo.configMap("cm", "1")).file(
                "releases/manifests/p/broken.yaml", "kind: [").file("releases/helm/p/web.yaml",
                        SeedRepo
                                .fluxHelmRelease("web", "p", "nginx:1", ""))
                .message("plan").commit();
        try (Repository git = mirrors.fetch(repo.fileUrl())) {
            RevisionReader.Revision revision = reader.read(spec("plan", repo, "main"), git, null);
            Planner.Plan plan = new Planner("charts", new SopsDecryptor(List::of)).plan(spec("plan", repo, "main"),
                    revision.snapshot());
            assertThat(plan.desired().releases()).extracting(r -> r.id()).containsExactly("p/web");
            assertThat(plan.desired().objects()).extracting(m -> m.ref().toString()).contains("ConfigMap p/cm",
                    "FluxHelmRelease p/web");
            assertThat(plan.problems()).singleElement().satisfies(p -> {
                assertThat(p.reason()).isEqualTo(ProblemReason.INVALID_FILE);
                assertThat(p.owner()).isEqualTo("file:releases/manifests/p/broken.yaml");
            });
            assertThat(plan.held()).contains("file:releases/manifests/p/broken.yaml");
            assertThat(plan.undecrypted()).isEmpty();
            assertThat(plan.sensitive()).isEmpty();
        }
    }
}
