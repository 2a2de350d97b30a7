package dev.conveyor.gateway.rest;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.lessThan;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.conveyor.gateway.support.RunEvents;
import dev.conveyor.testkit.kafka.KafkaBrokerResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.config.EncoderConfig;
import io.restassured.config.RestAssuredConfig;
import io.restassured.response.Response;

/**
 * Strict hooks over HTTP: only {@code application/json} in UTF-8 (415 otherwise), only the fields the result uses
 * (400 naming the field), limits per field and for the body (413), and no error echoing huge input.
 */
@QuarkusTest
@QuarkusTestResource(KafkaBrokerResource.class)
class HookStrictIT {

    /** Content types exactly as given: rest-assured must not append a charset of its own. */
    static final RestAssuredConfig RAW = RestAssuredConfig.config().encoderConfig(
            EncoderConfig.encoderConfig().appendDefaultContentCharsetToContentTypeIfUndefined(false));

    static Response post(String contentType, byte[] body) {
        var request = given().config(RAW).header("Authorization", "Bearer " + HookIT.TOKEN);
        if (contentType != null) {
            request.contentType(contentType);
        }
        return request.body(body).post("/hooks/jenkins");
    }

    @TestHTTPResource("/hooks/jenkins")
    URI hook;

    /** Sent as is by the JDK's client: rest-assured would encode form and multipart bodies itself. */
    HttpResponse<String> raw(String contentType, byte[] body) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(hook).header("Authorization", "Bearer " + HookIT.TOKEN)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (contentType != null) {
            request.header("Content-Type", contentType);
        }
        return HttpClient.newHttpClient().send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    static Response post(String body) {
        return post("application/json", body.getBytes(StandardCharsets.UTF_8));
    }

    static String success(String app, int seed) {
        return HookIT.hook(app, seed, "SUCCESS", "https://jenkins.example.com/job/" + app + "/1").trim();
    }

    /** {@code hook} with one more top-level member, given as raw JSON text. */
    static String with(String hook, String member) {
        return hook.substring(0, hook.lastIndexOf('}')) + ", " + member + "}";
    }

    @Test
    void anythingButJsonInUtf8IsRefusedWith415() throws Exception {
        byte[] body = success("strict-media", 101).getBytes(StandardCharsets.UTF_8);
        for (String type : List.of("text/plain", "text/plain; charset=utf-8", "application/x-www-form-urlencoded",
                "application/xml", "text/xml", "multipart/form-data; boundary=x", "application/octet-stream",
                "application/json; charset=utf-16", "application/json; charset=UTF-16LE",
                "application/json; charset=iso-8859-1", "application/json-patch+json", "application/jsonx",
                "application/json; version=2")) {
            HttpResponse<String> refused = raw(type, body);
            assertThat(refused.statusCode()).as(type).isEqualTo(415);
            assertThat(refused.headers().firstValue("Content-Type")).hasValue("application/problem+json");
            assertThat(refused.body()).contains("\"reason\":\"UNSUPPORTED_MEDIA_TYPE\"");
        }
        assertThat(raw(null, body).statusCode()).isEqualTo(415);
        post("application/json", success("strict-media", 102).getBytes(StandardCharsets.UTF_8)).then()
                .statusCode(202);
        post("Application/JSON; charset=\"UTF-8\"", success("strict-media", 103).getBytes(StandardCharsets.UTF_8))
                .then().statusCode(202);
    }

    @Test
    void aUtf16BodyDeclaredAsJsonIsNotGuessedButRefused() {
        post("application/json", success("strict-utf16", 104).getBytes(StandardCharsets.UTF_16LE)).then()
                .statusCode(400).body("reason", equalTo("INVALID_HOOK"));
        post("application/json", success("strict-utf16", 105).getBytes(StandardCharsets.UTF_16)).then()
                .statusCode(400);
    }

    @Test
    void fieldsTheResultDoesNotUseAreRefusedNamingTheField() {
        post(with(success("strict-fields", 106), "\"reason\": \"looks fine\"")).then().statusCode(400)
                .body("reason", equalTo("INVALID_HOOK")).body("errors.field", hasItem("reason"))
                .body("errors.message", hasItem("is not used when result is SUCCESS"));
        post(with(success("strict-fields", 107), "\"failedStep\": \"test\"")).then().statusCode(400)
                .body("errors.field", hasItem("failedStep"));
        post(with(success("strict-fields", 108), "\"deployTo\": \"prod\"")).then().statusCode(400)
                .body("errors.field", hasItem("deployTo"));
        String failure = HookIT.hook("strict-fields", 109, "FAILURE", "https://jenkins.example.com/job/x/1").trim();
        post(with(failure, "\"artifact\": {\"url\": \"https://x/app.jar\", \"sha256\": \"" + RunEvents.SHA + "\"}"))
                .then().statusCode(400).body("errors.field", hasItem("artifact"));
        String artifactExtra = success("strict-fields", 110).replace("\"kind\": \"jar\"",
                "\"kind\": \"jar\", \"token\": \"x\"");
        post(artifactExtra).then().statusCode(400).body("errors.field", hasItem("artifact.token"));
        post(success("strict-fields", 111).replace("\"skipped\": 2", "\"skipped\": 2, \"flaky\": 1")).then()
                .statusCode(400).body("errors.field", hasItem("tests.flaky"));
    }

    @Test
    void aHugeUnknownKeyOrManyOfThemAreNotEchoed() {
        String key = "k".repeat(20_000);
        Response response = post(with(success("strict-echo", 112), "\"" + key + "\": 1"));
        response.then().statusCode(400);
        assertThat(response.asString()).hasSizeLessThan(2_000).doesNotContain("k".repeat(100));
        StringBuilder many = new StringBuilder("\"x0\": 0");
        for (int i = 1; i < 500; i++) {
            many.append(", \"x").append(i).append("\": 0");
        }
        post(with(success("strict-echo", 113), many.toString())).then().statusCode(400)
                .body("errors.size()", lessThan(30))
                .body("errors.message", hasItem(containsString("more error(s) not listed")));
    }

    @Test
    void sizeLimitsAreA413NamingTheFieldOrTheBody() {
        String failure = HookIT.hook("strict-size", 114, "FAILURE", "https://jenkins.example.com/job/x/1").trim();
        post(failure.replace("3 tests failed", "r".repeat(3000))).then().statusCode(413)
                .body("reason", equalTo("FIELD_TOO_LARGE")).body("errors.field", equalTo(List.of("reason")))
                .body("errors.message", hasItem(containsString("2048")));
        post(with(success("strict-size", 115), "\"pullRequest\": 3, \"pullRequestTitle\": \"" + "t".repeat(600)
                + "\"")).then().statusCode(413).body("errors.field", equalTo(List.of("pullRequestTitle")));
        // A 1 MB reason, on either result: the body limit (64 KiB) refuses it before it is read as JSON.
        String megabyte = "r".repeat(1_000_000);
        Response big = post(failure.replace("3 tests failed", megabyte));
        big.then().statusCode(413).body("reason", equalTo("BODY_TOO_LARGE"));
        assertThat(big.asString()).hasSizeLessThan(1_000);
        post(with(success("strict-size", 116), "\"reason\": \"" + megabyte + "\"")).then().statusCode(413)
                .body("reason", equalTo("BODY_TOO_LARGE"));
    }

    @Test
    void deepNestingIsRefusedUnparsed() {
        String deep = "[".repeat(5_000) + "]".repeat(5_000);
        post(with(success("strict-deep", 117), "\"nested\": " + deep)).then().statusCode(400)
                .body("reason", equalTo("INVALID_HOOK")).body("errors.message", hasItem(containsString("deeper")));
        post("{\"a\":".repeat(50) + "1" + "}".repeat(50)).then().statusCode(400);
    }
}
