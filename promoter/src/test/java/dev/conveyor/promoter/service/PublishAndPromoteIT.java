package dev.conveyor.promoter.service;

import static dev.conveyor.promoter.service.Fixtures.IMAGE_DIGEST;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

import com.marcnuri.helm.Helm;
import com.sun.net.httpserver.HttpServer;

import dev.conveyor.events.v1.ChartPublished;
import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.ManifestsValidated;
import dev.conveyor.events.v1.PromotionMode;
import dev.conveyor.events.v1.ReleasePromoted;
import dev.conveyor.promoter.client.ChartRepository;
import dev.conveyor.promoter.client.GitIndexChartRepository;
import dev.conveyor.promoter.client.OciChartRepository;
import dev.conveyor.promoter.domain.ReleaseDocumentsTestSupport;
import dev.conveyor.stage.FailureKind;
import dev.conveyor.stage.StageException;
import dev.conveyor.stage.git.GitAccess;
import dev.conveyor.stage.git.RepoMirrors;
import dev.conveyor.testkit.git.BareRepo;
import dev.conveyor.testkit.git.GitServers;
import dev.conveyor.testkit.registry.OciRegistry;

/**
 * The whole promotion against real servers: a chart packaged from an app repository on the git daemon, published to the
 * Debian registry (OCI) and to an index.yaml repository kept in git, both read back and rendered by Helm, and promoted
 * into the seed's GitOps layout with a diff that touches only the promoted lines. Replays change nothing.
 */
class PublishAndPromoteIT {

    static GitServers git;
    static OciRegistry registry;
    static GitAccess access;
    static HttpServer site;
    static BareRepo siteRepo;
    static Path dir;

    @BeforeAll
    static void start() throws IOException {
        git = GitServers.start(false);
        registry = OciRegistry.start();
        access = Fixtures.access();
        dir = Fixtures.tempDir("promoter-it");
        siteRepo = git.repos().createBare("chart-site");
        // An existing classic repository with another chart's entry that must survive.
        siteRepo.writer().file("index.yaml", """
                apiVersion: v1
                entries:
                  legacy:
                  - apiVersion: v1
                    name: legacy
                    version: 1.0.0
                    digest: %s
                    created: "2025-01-01T00:00:00Z"
                    urls: [legacy-1.0.0.tgz]
                generated: "2025-01-01T00:00:00Z"
                """.formatted("ab".repeat(32))).message("existing index").commit();
        site = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        site.createContext("/", exchange -> {
            Optional<byte[]> body = Fixtures.readBytes(siteRepo, "main", exchange.getRequestURI().getPath()
                    .substring(1));
            if (body.isEmpty()) {
                exchange.sendResponseHeaders(404, -1);
            } else {
                exchange.sendResponseHeaders(200, body.get().length);
                exchange.getResponseBody().write(body.get());
            }
            exchange.close();
        });
        site.start();
    }

    @AfterAll
    static void stop() {
        site.stop(0);
        access.close();
        registry.close();
        git.close();
    }

    String siteUrl() {
        return "http://127.0.0.1:" + site.getAddress().getPort();
    }

    PromotionService service(String name, String gitopsUrl, String app) {
        Path own = dir.resolve(name);
        RepoMirrors mirrors = new RepoMirrors(own.resolve("chart-mirrors"), access);
        List<ChartRepositoryRule> repos = List.of(
                new ChartRepositoryRule(new OciChartRepository("oci", "oci://" + registry.host() + "/charts", true,
                        Optional.empty(), Optional.empty(), dev.conveyor.stage.net.OutboundPolicy.builder().build()),
                        List.of(), List.of()),
                new ChartRepositoryRule(new GitIndexChartRepository("site", siteUrl(), git.daemon().url(siteRepo),
                        "main", "", Fixtures.committer(mirrors, access, 10), Clock.systemUTC()), List.of(),
                        List
                                .of()));
        return Fixtures.service(own, access, repos, List.of(Fixtures.target("staging", gitopsUrl, "shop",
                PromotionMode.AUTO, app)), null, 10);
    }

    @Test
    void theChartIsPublishedRenderedFromBothRepositoriesAndPromotedTouchingOnlyPromotedFields() throws Exception {
        BareRepo app = git.repos().createBare("shop/cart");
        String commit = Fixtures.seedApp(app, "cart", "blue");
        BareRepo gitops = git.repos().createBare("team/gitops");
        Fixtures.seedGitops(gitops, "cart");
        String releaseBefore = Fixtures.read(gitops, "main", "releases/helm/shop/cart.yaml").orElseThrow();
        ManifestsValidated input = Fixtures.validated("cart", git.daemon().url(app), commit, "cart", "1.4.0");
        PromotionService service = service("main", git.daemon().url(gitops), "cart");

        List<ConveyorEvent> out = service.promote(input, "cause-1");

        ChartPublished published = (ChartPublished) out.get(0);
        assertThat(published.chartVersion()).isEqualTo("1.4.0");
        assertThat(published.repositories()).containsExactly("oci://" + registry.host() + "/charts", siteUrl());
        assertThat(published.imageDigest()).isEqualTo(IMAGE_DIGEST);
        // OCI: the registry serves the chart, its layer is the package, and Helm renders it from there.
        assertThat(registry.tags("charts/cart")).containsExactly("1.4.0");
        assertThat(registry.manifest("charts/cart", "1.4.0")).contains(published.chartDigest());
        String fromOci = Helm.template("oci://" + registry.host() + "/charts/cart").withVersion("1.4.0")
                .withName("shop-cart").plainHttp().call();
        assertThat(fromOci).contains("name: shop-cart-settings").contains("flavour: \"blue\"");
        // index.yaml: the old entry kept, the new one with the package's real digest, and Helm renders from it.
        byte[] tgz = Fixtures.readBytes(siteRepo, "main", "cart-1.4.0.tgz").orElseThrow();
        String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(tgz));
        assertThat("sha256:" + sha).isEqualTo(published.chartDigest());
        Map<String, Map<String, List<Map<String, Object>>>> index = new Yaml().load(Fixtures.read(siteRepo, "main",
                "index.yaml").orElseThrow());
        assertThat(index.get("entries").get("legacy")).hasSize(1);
        assertThat(index.get("entries").get("cart")).singleElement().satisfies(e -> {
            assertThat(e).containsEntry("version", "1.4.0").containsEntry("appVersion", "1.4.0")
                    .containsEntry("digest", sha).containsEntry("urls", List.of("cart-1.4.0.tgz"));
        });
        Path repoConfig = dir.resolve("repositories.yaml");
        Helm.repo().add().withRepositoryConfig(repoConfig).withName("conveyor-site").withUrl(URI.create(siteUrl()))
                .call();
        String fromIndex = Helm.template("conveyor-site/cart").withVersion("1.4.0").withName("shop-cart")
                .withRepositoryConfig(repoConfig).call();
        assertThat(fromIndex).isEqualTo(fromOci);

        // GitOps: one commit with the trailer, the chart copied, the release diff limited to the promoted lines.
        ReleasePromoted promoted = (ReleasePromoted) out.get(1);
        assertThat(out).hasSize(2);
        List<String> messages = Fixtures.messages(gitops, "main");
        assertThat(messages).hasSize(2);
        assertThat(messages.get(0)).startsWith("Promote cart 1.4.0 to staging/shop")
                .endsWith("\n\nConveyor-Run: " + input.run().runId() + "\n");
        assertThat(promoted.gitopsCommit()).isEqualTo(gitops.head("main").orElseThrow());
        assertThat(promoted.gitopsRepo()).isEqualTo(git.daemon().url(gitops));
        assertThat(promoted.environment()).isEqualTo("staging");
        assertThat(promoted.namespace()).isEqualTo("shop");
        assertThat(promoted.release()).isEqualTo("cart");
        assertThat(promoted.mode()).isEqualTo(PromotionMode.AUTO);
        assertThat(Fixtures.read(gitops, "main", "charts/cart/Chart.yaml").orElseThrow()).contains("version: 1.4.0")
                .contains("# the version is set by Conveyor");
        assertThat(Fixtures.read(gitops, "main", "charts/cart/templates/configmap.yaml")).isPresent();
        assertThat(Fixtures.read(gitops, "main", "charts/legacy/Chart.yaml")).isPresent();
        assertThat(Fixtures.read(gitops, "main", "releases/manifests/shop/quota.yaml")).isPresent();
        String releaseAfter = Fixtures.read(gitops, "main", "releases/helm/shop/cart.yaml").orElseThrow();
        assertThat(ReleaseDocumentsTestSupport.changedLines(releaseBefore, releaseAfter)).containsExactly(
                "      tag: \"0.9.0\" ->       tag: \"1.4.0\"",
                "      digest: sha256:0000000000000000000000000000000000000000000000000000000000000000 -> "
                        + "      digest: " + IMAGE_DIGEST);

        // Replay: same events, no new commit anywhere, nothing pushed again.
        int siteCommits = siteRepo.commits().size();
        List<ConveyorEvent> again = service.promote(input, "cause-1");
        assertThat(withoutTimes(again)).isEqualTo(withoutTimes(out));
        assertThat(Fixtures.messages(gitops, "main")).hasSize(2);
        assertThat(siteRepo.commits()).hasSize(siteCommits);
        assertThat(registry.tags("charts/cart")).containsExactly("1.4.0");
        // A second replica with empty mirrors (a restarted pod) reaches the same result.
        List<ConveyorEvent> fresh = service("replica", git.daemon().url(gitops), "cart").promote(input, "cause-1");
        assertThat(withoutTimes(fresh)).isEqualTo(withoutTimes(out));
        assertThat(Fixtures.messages(gitops, "main")).hasSize(2);
    }

    @Test
    void changedContentUnderAPublishedVersionIsRefused() {
        BareRepo app = git.repos().createBare("shop/basket");
        String first = Fixtures.seedApp(app, "basket", "blue");
        BareRepo gitops = git.repos().createBare("team/gitops-basket");
        Fixtures.seedGitops(gitops, "basket");
        PromotionService service = service("conflict", git.daemon().url(gitops), "basket");
        service.promote(Fixtures.validated("basket", git.daemon().url(app), first, "basket", "2.0.0"), null);
        String second = Fixtures.seedApp(app, "basket", "green");

        assertThatThrownBy(() -> service.promote(Fixtures.validated("basket", git.daemon().url(app), second,
                "basket", "2.0.0"), null)).isInstanceOfSatisfying(StageException.class, e -> {
                    assertThat(e.reason()).isEqualTo(ChartRepository.Failure.CHART_VERSION_CONFLICT.name());
                    assertThat(e.kind()).isEqualTo(FailureKind.TERMINAL);
                    assertThat(e.getMessage()).contains("basket 2.0.0").contains("immutable");
                });
        // Nothing of the refused chart reached the GitOps repository.
        assertThat(Fixtures.messages(gitops, "main")).hasSize(2);
    }

    @Test
    void aChartPathThatLeavesTheRepositoryIsRefusedNamingTheField() {
        BareRepo app = git.repos().createBare("shop/escape");
        String commit = Fixtures.seedApp(app, "escape", "blue");
        ManifestsValidated input = Fixtures.validated("escape", git.daemon().url(app), commit, "escape", "1.0.0");
        ManifestsValidated escaping = new ManifestsValidated(input.run(), input.occurredAt(), null, "1.0.0", input
                .imageRepository(), IMAGE_DIGEST, "escape", "../chart", null, 1, Fixtures.RENDERED, null, 0);
        assertThatThrownBy(() -> service("escape", "file:///nowhere", "nobody").promote(escaping, null))
                .isInstanceOfSatisfying(StageException.class, e -> {
                    assertThat(e.kind()).isEqualTo(FailureKind.TERMINAL);
                    assertThat(e.details()).containsEntry("field", "chartPath");
                });
    }

    static List<ConveyorEvent> withoutTimes(List<ConveyorEvent> events) {
        List<ConveyorEvent> out = new ArrayList<>();
        for (ConveyorEvent e : events) {
            if (e instanceof ChartPublished c) {
                out.add(new ChartPublished(c.run(), java.time.Instant.EPOCH, c.causationId(), c.chartName(), c
                        .chartVersion(), c.chartDigest(), c.repositories(), c.imageRepository(), c.imageDigest()));
            } else if (e instanceof ReleasePromoted r) {
                out.add(new ReleasePromoted(r.run(), java.time.Instant.EPOCH, r.causationId(), r.chartName(), r
                        .chartVersion(), r.gitopsRepo(), r.environment(), r.namespace(), r.release(),
                        r
                                .gitopsCommit(),
                        r.mode(), r.pullRequestUrl()));
            }
        }
        return out;
    }

}
