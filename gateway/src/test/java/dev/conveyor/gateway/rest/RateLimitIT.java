package dev.conveyor.gateway.rest;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;

import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.conveyor.testkit.kafka.KafkaBrokerResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.response.Response;

/** Per-source rate limits on hooks (per client address) and replays (per token): 429 with Retry-After. */
@QuarkusTest
@QuarkusTestResource(KafkaBrokerResource.class)
@TestProfile(RateLimitIT.Tight.class)
class RateLimitIT {

    /** Three hooks and two replays a minute. */
    public static class Tight implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("conveyor.gateway.hook.rate-limit.requests", "3",
                    "conveyor.gateway.hook.rate-limit.period", "1m",
                    "conveyor.gateway.api.replay-rate-limit.requests", "2",
                    "conveyor.gateway.api.replay-rate-limit.period", "1m");
        }
    }

    @Test
    void hooksBeyondTheLimitOfOneAddressAre429WithRetryAfter() {
        for (int i = 0; i < 3; i++) {
            // Refused hooks count too: the limit is on what a source sends, not on what is accepted.
            given().contentType("application/json").body("{}").post("/hooks/jenkins").then().statusCode(401);
        }
        Response limited = given().header("Authorization", "Bearer " + HookIT.TOKEN).contentType("application/json")
                .body(HookIT.hook("rate-hook", 201, "SUCCESS", "https://jenkins.example.com/job/rate/1"))
                .post("/hooks/jenkins");
        limited.then().statusCode(429).contentType("application/problem+json").body("reason",
                equalTo("RATE_LIMITED"));
        // 3 a minute: the next one in about 20 s.
        assertThat(Integer.parseInt(limited.header("Retry-After"))).isBetween(1, 20);
    }

    @Test
    void replaysBeyondTheLimitOfOneTokenAre429WithRetryAfter() {
        String unknown = "/runs/r-000000000000000000000abc/replay?from=versioner";
        for (int i = 0; i < 2; i++) {
            given().header("Authorization", "Bearer test-operator-token").post(unknown).then().statusCode(404);
        }
        Response limited = given().header("Authorization", "Bearer test-operator-token").post(unknown);
        limited.then().statusCode(429).body("reason", equalTo("RATE_LIMITED"));
        assertThat(Integer.parseInt(limited.header("Retry-After"))).isBetween(1, 30);
        // Another token has its own allowance.
        given().header("Authorization", "Bearer test-api-token").post(unknown).then().statusCode(404);
    }
}
