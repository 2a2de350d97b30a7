package dev.conveyor.promoter.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.ManifestsValidated;
import dev.conveyor.events.v1.PromotionMode;
import dev.conveyor.events.v1.ReleasePromoted;
import dev.conveyor.promoter.domain.YamlText;
import dev.conveyor.stage.git.GitAccess;
import dev.conveyor.testkit.git.BareRepo;
import dev.conveyor.testkit.git.GitServers;

/**
 * Twenty promotions of different apps into one GitOps repository at once, each by its own replica (own mirrors), over
 * the real git daemon: every push that loses the race is fetched, re-applied and pushed again, so all twenty land and
 * none overwrites another.
 */
class ConcurrentPromotionIT {

    static final int APPS = 20;

    @Test
    void twentyConcurrentPromotionsIntoOneRepositoryAllLand() throws Exception {
        try (GitServers git = GitServers.start(false); GitAccess access = Fixtures.access()) {
            BareRepo gitops = git.repos().createBare("platform/gitops");
            Fixtures.seedGitops(gitops, "existing");
            String gitopsUrl = git.daemon().url(gitops);
            Path dir = Fixtures.tempDir("promoter-race");
            List<ManifestsValidated> inputs = new ArrayList<>();
            List<PromotionService> replicas = new ArrayList<>();
            java.util.concurrent.atomic.AtomicInteger lostRaces = new java.util.concurrent.atomic.AtomicInteger();
            for (int i = 0; i < APPS; i++) {
                String name = String.format("app-%02d", i);
                BareRepo app = git.repos().createBare("apps/" + name);
                String commit = Fixtures.seedApp(app, name, "v" + i);
                inputs.add(Fixtures.validated(name, git.daemon().url(app), commit, name, "1." + i + ".0"));
                replicas.add(Fixtures.service(dir.resolve(name), access, List.of(), List.of(Fixtures.target("all",
                        gitopsUrl, "load", PromotionMode.AUTO)), null, 60, d -> {
                            lostRaces.incrementAndGet();
                            Thread.sleep(d.toMillis());
                        }));
            }

            ExecutorService pool = Executors.newFixedThreadPool(APPS);
            CountDownLatch go = new CountDownLatch(1);
            List<Future<List<ConveyorEvent>>> results = new ArrayList<>();
            for (int i = 0; i < APPS; i++) {
                int n = i;
                results.add(pool.submit(() -> {
                    go.await();
                    return replicas.get(n).promote(inputs.get(n), null);
                }));
            }
            go.countDown();
            Set<String> reported = new HashSet<>();
            for (Future<List<ConveyorEvent>> result : results) {
                ReleasePromoted promoted = (ReleasePromoted) result.get(120, TimeUnit.SECONDS).get(1);
                reported.add(promoted.gitopsCommit());
            }
            pool.shutdown();

            // The pushes really raced: some were rejected and re-applied on a newer tip.
            assertThat(lostRaces.get()).isPositive();
            List<String> messages = Fixtures.messages(gitops, "main");
            assertThat(messages).hasSize(APPS + 1);
            Set<String> runs = new HashSet<>();
            for (String message : messages.subList(0, APPS)) {
                runs.add(message.lines().filter(l -> l.startsWith("Conveyor-Run: ")).findFirst().orElseThrow());
            }
            assertThat(runs).hasSize(APPS).containsExactlyInAnyOrderElementsOf(inputs.stream().map(
                    i -> "Conveyor-Run: " + i.run().runId()).toList());
            assertThat(reported).hasSize(APPS);
            for (int i = 0; i < APPS; i++) {
                String name = String.format("app-%02d", i);
                YamlText release = YamlText.parse(name, Fixtures.read(gitops, "main", "releases/helm/load/" + name
                        + ".yaml").orElseThrow());
                assertThat(release.string("spec", "values", "image", "tag")).contains("1." + i + ".0");
                assertThat(release.string("spec", "chartGitPath")).contains(name);
                assertThat(Fixtures.read(gitops, "main", "charts/" + name + "/Chart.yaml").orElseThrow())
                        .contains("version: 1." + i + ".0");
            }
            assertThat(Fixtures.read(gitops, "main", "namespaces/load.yaml")).isPresent();
            assertThat(Fixtures.read(gitops, "main", "releases/helm/shop/existing.yaml")).contains(Fixtures.RELEASE
                    .formatted("existing"));
        }
    }
}
