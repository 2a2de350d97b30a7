package dev.conveyor.testkit.registry;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Optional;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** The token-auth registry: distribution itself verifies the tokens our service signs, scope by scope. */
class TokenAuthRegistryIT {

    static TokenAuthRegistry registry;
    static final HttpClient HTTP = HttpClient.newHttpClient();
    static final ObjectMapper JSON = new ObjectMapper();

    @BeforeAll
    static void start() {
        registry = TokenAuthRegistry.start("ci", "token-secret");
    }

    @AfterAll
    static void stop() {
        registry.close();
    }

    @Test
    void theRegistryChallengesWithItsTokenServiceAndAcceptsOnlyTokensScopedToTheRepository() throws Exception {
        HttpResponse<String> anonymous = get(registry.url() + "/v2/shop/tags/list", null);
        assertThat(anonymous.statusCode()).isEqualTo(401);
        assertThat(anonymous.headers().firstValue("WWW-Authenticate")).contains("Bearer realm=\"" + registry.realm()
                + "\",service=\"" + TokenAuthRegistry.SERVICE + "\",scope=\"repository:shop:pull\"");

        String seeded = BaseImages.seed(registry.host(), Optional.of(registry.credentials()));
        assertThat(registry.tags(BaseImages.REPOSITORY)).containsExactly(BaseImages.TAG);
        assertThat(seeded).isEqualTo(registry.host() + "/" + BaseImages.REPOSITORY + ":" + BaseImages.TAG);
        assertThat(registry.grantedScopes()).contains("repository:conveyor/base:pull,push");

        String token = token("ci", "token-secret", "repository:conveyor/base:pull");
        JsonNode claims = TokenAuthRegistry.claims(token);
        assertThat(claims.path("iss").asText()).isEqualTo(TokenAuthRegistry.ISSUER);
        assertThat(claims.path("aud").asText()).isEqualTo(TokenAuthRegistry.SERVICE);
        assertThat(claims.path("sub").asText()).isEqualTo("ci");
        assertThat(claims.path("access").get(0).path("name").asText()).isEqualTo("conveyor/base");
        assertThat(get(registry.url() + "/v2/conveyor/base/tags/list", token).statusCode()).isEqualTo(200);
        // The same token does not open another repository.
        HttpResponse<String> other = get(registry.url() + "/v2/other/tags/list", token);
        assertThat(other.statusCode()).isEqualTo(401);
        assertThat(other.headers().firstValue("WWW-Authenticate").orElse("")).contains("insufficient_scope");
        // A token signed by someone else is refused.
        String[] parts = token.split("\\.");
        String forged = parts[0] + "." + parts[1] + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(
                new byte[256]);
        assertThat(get(registry.url() + "/v2/conveyor/base/tags/list", forged).statusCode()).isEqualTo(401);
    }

    @Test
    void aWrongPasswordGets401FromTheTokenService() throws Exception {
        int before = registry.deniedTokenRequests();
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create(registry.realm()
                + "?service=" + TokenAuthRegistry.SERVICE + "&scope=repository:shop:pull")).header("Authorization",
                        basic("ci", "wrong"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(401);
        assertThat(response.body()).doesNotContain("token\"");
        assertThat(registry.deniedTokenRequests()).isEqualTo(before + 1);
    }

    private static String token(String user, String password, String scope) throws IOException,
            InterruptedException {
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create(registry.realm() + "?service="
                + TokenAuthRegistry.SERVICE + "&scope=" + scope)).header("Authorization", basic(user, password))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        return JSON.readTree(response.body()).path("token").asText();
    }

    private static HttpResponse<String> get(String url, String token) throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url));
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(
                StandardCharsets.UTF_8));
    }
}
