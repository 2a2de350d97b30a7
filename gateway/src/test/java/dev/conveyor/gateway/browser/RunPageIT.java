package dev.conveyor.gateway.browser;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;

import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.microsoft.playwright.Browser;
import com.microsoft.playwright.BrowserType;
import com.microsoft.playwright.Locator;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.Playwright;
import com.microsoft.playwright.assertions.LocatorAssertions;
import com.microsoft.playwright.assertions.PlaywrightAssertions;

import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.gateway.support.RunEvents;
import dev.conveyor.gateway.support.Topic;
import dev.conveyor.testkit.kafka.KafkaBrokerResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kafka.InjectKafkaCompanion;
import io.restassured.RestAssured;
import io.smallrye.reactive.messaging.kafka.companion.KafkaCompanion;

/**
 * The run page in a real headless Chromium (Debian's {@code chromium}): a run appears in the list as its build is
 * reported, and its stages turn green one by one as the stages' events are published on the broker. The page asks for
 * a token first, and shows who replayed a run.
 */
@QuarkusTest
@QuarkusTestResource(KafkaBrokerResource.class)
class RunPageIT {

    static final Path CHROMIUM = Paths.get("/usr/bin/chromium");
    static final LocatorAssertions.HasAttributeOptions WAIT = new LocatorAssertions.HasAttributeOptions()
            .setTimeout(20_000);

    static Playwright playwright;
    static Browser browser;

    @InjectKafkaCompanion
    KafkaCompanion companion;

    @TestHTTPResource("/")
    URL base;

    @BeforeAll
    static void launch() {
        assertThat(CHROMIUM).as("Debian package chromium (apt-get install -y chromium)").isExecutable();
        playwright = Playwright.create();
        browser = playwright.chromium().launch(new BrowserType.LaunchOptions().setExecutablePath(CHROMIUM)
                .setHeadless(true).setArgs(List.of("--headless", "--no-sandbox", "--disable-gpu",
                        "--disable-background-networking", "--disable-component-update", "--disable-sync",
                        "--no-first-run")));
    }

    @AfterAll
    static void close() {
        if (browser != null) {
            browser.close();
        }
        if (playwright != null) {
            playwright.close();
        }
    }

    void publish(ConveyorEvent event) {
        companion.produce(String.class, ConveyorEvent.class)
                .fromRecords(new ProducerRecord<>(event.eventType().topic(), event.run().app(), event))
                .awaitCompletion(Duration.ofSeconds(30));
    }

    /** Signs in with the viewer token through the page's form, as a person would. */
    static void signIn(Page page) {
        PlaywrightAssertions.assertThat(page.locator("#login-view")).isVisible();
        page.locator("#login input[name='token']").fill("test-viewer-token");
        page.locator("#login button").click();
        PlaywrightAssertions.assertThat(page.locator("#whoami")).hasText("viewer (viewer)");
        PlaywrightAssertions.assertThat(page.locator("#list-view")).isVisible();
    }

    @Test
    void thePageAsksForATokenAndShowsNoRunWithoutOne() {
        Page page = browser.newPage();
        page.setDefaultTimeout(20_000);
        page.navigate(base.toString());
        PlaywrightAssertions.assertThat(page.locator("#login-view")).isVisible();
        PlaywrightAssertions.assertThat(page.locator("#list-view")).isHidden();
        page.locator("#login input[name='token']").fill("not-a-token");
        page.locator("#login button").click();
        PlaywrightAssertions.assertThat(page.locator("#login-error")).containsText("not accepted");
        PlaywrightAssertions.assertThat(page.locator("#list-view")).isHidden();
        assertThat((Object) page.evaluate("sessionStorage.getItem('conveyor.token')")).isNull();
        signIn(page);
        assertThat((Object) page.evaluate("sessionStorage.getItem('conveyor.token')")).isEqualTo("test-viewer-token");
        page.locator("#logout").click();
        PlaywrightAssertions.assertThat(page.locator("#login-view")).isVisible();
        page.close();
    }

    @Test
    void aRunAppearsAndItsStagesTurnGreenAsEventsArePublished() throws Exception {
        Topic.registerSerde(companion);
        RunEvents run = RunEvents.cd("page-app", 1, Instant.now().truncatedTo(ChronoUnit.SECONDS));
        String runId = run.run().runId();
        Page page = browser.newPage();
        page.setDefaultTimeout(20_000);
        page.navigate(base.toString());
        signIn(page);
        PlaywrightAssertions.assertThat(page.locator("#live")).hasClass("live on");

        publish(run.build());
        Locator row = page.locator("tr[data-run-id='" + runId + "']");
        row.waitFor();
        PlaywrightAssertions.assertThat(row).containsText("page-app");
        row.click();

        Locator stages = page.locator("#stages li.stage");
        PlaywrightAssertions.assertThat(page.locator("#run-view")).hasAttribute("data-run-id", runId, WAIT);
        PlaywrightAssertions.assertThat(stages).hasCount(6);
        PlaywrightAssertions.assertThat(page.locator("li[data-step='build']")).hasAttribute("data-status",
                "SUCCEEDED", WAIT);
        PlaywrightAssertions.assertThat(page.locator("li[data-step='versioner']")).hasAttribute("data-status",
                "RUNNING", WAIT);
        List<ConveyorEvent> rest = run.all().subList(1, run.all().size());
        String[] finished = {"versioner", "image-builder", "manifest-renderer", "promoter", "promoter",
                "flux-sync", "flux-sync"};
        for (int i = 0; i < rest.size(); i++) {
            publish(rest.get(i));
            if (!rest.get(i).eventType().eventName().equals("RepoSynced")
                    && !rest.get(i).eventType().eventName().equals("ChartPublished")) {
                PlaywrightAssertions.assertThat(page.locator("li[data-step='" + finished[i] + "']"))
                        .hasAttribute("data-status", "SUCCEEDED", WAIT);
            }
        }
        PlaywrightAssertions.assertThat(page.locator("#run-view")).hasAttribute("data-status", "SUCCEEDED", WAIT);
        assertThat(page.locator("#stages li.stage[data-status='SUCCEEDED']").count()).isEqualTo(6);
        PlaywrightAssertions.assertThat(page.locator("#links li[data-rel='gitops-commit'] a")).hasAttribute("href",
                java.util.regex.Pattern.compile("https://git.example.com/org/flux-prod/commit/.*"));
        PlaywrightAssertions.assertThat(page.locator("#stages li[data-step='flux-sync']")).containsText("16 s");

        Path screenshot = Paths.get("target", "run-page.png").toAbsolutePath();
        page.screenshot(new Page.ScreenshotOptions().setPath(screenshot).setFullPage(true));
        assertThat(Files.size(screenshot)).isPositive();
        System.out.println("run page screenshot: " + screenshot);

        page.navigate(base.toString());
        PlaywrightAssertions.assertThat(page.locator("tr[data-run-id='" + runId + "']")).hasAttribute(
                "data-status", "SUCCEEDED", WAIT);

        // An operator replays; the run page shows who, from where and which attempt, live.
        page.navigate(base.toString() + "#/runs/" + runId);
        PlaywrightAssertions.assertThat(page.locator("#no-replays")).isVisible();
        RestAssured.given().header("Authorization", "Bearer test-operator-token")
                .post("/runs/" + runId + "/replay?from=flux-sync").then().statusCode(202);
        Locator replay = page.locator("#replays li.replay[data-by='operator']");
        PlaywrightAssertions.assertThat(replay).hasAttribute("data-from", "flux-sync", WAIT);
        PlaywrightAssertions.assertThat(replay).hasAttribute("data-attempt", "2");
        PlaywrightAssertions.assertThat(replay).containsText("replayed from flux-sync by operator");
        PlaywrightAssertions.assertThat(page.locator("#events")).containsText("operator");
        page.screenshot(new Page.ScreenshotOptions().setPath(Paths.get("target", "run-page-replay.png"))
                .setFullPage(true));
        page.close();
    }
}
