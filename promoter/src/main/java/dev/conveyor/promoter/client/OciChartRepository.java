package dev.conveyor.promoter.client;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.marcnuri.helm.Helm;

import dev.conveyor.stage.StageException;
import dev.conveyor.stage.net.OutboundPolicy;

/**
 * An OCI registry ({@code oci://host[:port]/path}): the chart's manifest is looked up first, and the chart is pushed
 * with Helm only when that version is not there. The chart layer's digest is the package's sha256, so a version
 * already in the registry is compared by content.
 */
public final class OciChartRepository implements ChartRepository {

    static final String CHART_LAYER = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern CHALLENGE_PARAM = Pattern.compile("(\\w+)=\"([^\"]*)\"");

    private final String id;
    private final URI url;
    private final boolean plainHttp;
    private final Optional<String> username;
    private final Optional<String> password;
    private final OutboundPolicy outbound;
    private volatile boolean loggedIn;

    /**
     * @param outbound checks a token realm on another host than the registry's before the credentials go there: the
     *        registry is configured, the realm its challenge names is not
     */
    public OciChartRepository(String id, String url, boolean plainHttp, Optional<String> username,
            Optional<String> password, OutboundPolicy outbound) {
        if (!url.startsWith("oci://")) {
            throw new IllegalArgumentException("chart repository " + id + ": an OCI url starts with oci://");
        }
        this.id = id;
        this.url = URI.create(url.endsWith("/") ? url.substring(0, url.length() - 1) : url);
        this.plainHttp = plainHttp;
        this.username = username;
        this.password = password;
        this.outbound = outbound;
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public String url() {
        return url.toString();
    }

    @Override
    public Outcome publish(PackagedChart chart, String runId) {
        Optional<String> existing = layerDigest(chart);
        if (existing.isPresent()) {
            if (existing.get().equals(chart.digest())) {
                return Outcome.ALREADY_PUBLISHED;
            }
            throw StageException.terminal(Failure.CHART_VERSION_CONFLICT, "chart " + chart.name() + " "
                    + chart.version() + " is already in " + url + " with digest " + existing.get()
                    + "; chart versions are immutable", Map.of("repository", id));
        }
        login();
        try {
            var push = Helm.push().withChart(chart.file()).withRemote(url);
            if (plainHttp) {
                push.plainHttp();
            }
            push.call();
        } catch (RuntimeException e) {
            String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            if (message.contains("401") || message.contains("403") || message.toLowerCase().contains(
                    "unauthorized")) {
                throw StageException.terminal(Failure.CHART_REPO_AUTH_DENIED, "helm push to " + url
                        + " was denied: check the repository's credentials", Map.of("repository", id));
            }
            throw StageException.transientFailure(Failure.CHART_REPO_UNAVAILABLE, "helm push to " + url
                    + " failed: " + message.lines().findFirst().orElse(""), e);
        }
        return Outcome.PUBLISHED;
    }

    /** The chart layer digest of {@code name:version} in the registry, or empty when it is not there. */
    Optional<String> layerDigest(PackagedChart chart) {
        String repository = (url.getPath().startsWith("/") ? url.getPath().substring(1) : url.getPath())
                + (url.getPath().isEmpty() ? "" : "/") + chart.name();
        URI manifest = URI.create(scheme() + url.getAuthority() + "/v2/" + repository + "/manifests/" + chart
                .version());
        HttpResponse<byte[]> response = sendAuthorized(manifest, repository);
        if (response.statusCode() == 404) {
            return Optional.empty();
        }
        if (response.statusCode() != 200) {
            throw HttpSupport.unexpected(response, "looking up " + chart.name() + ":" + chart.version(),
                    Failure.CHART_REPO_AUTH_DENIED, Failure.CHART_REPO_UNAVAILABLE, Failure.CHART_REPO_ERROR);
        }
        try {
            JsonNode root = JSON.readTree(response.body());
            for (JsonNode layer : root.path("layers")) {
                if (CHART_LAYER.equals(layer.path("mediaType").asText())) {
                    return Optional.of(layer.path("digest").asText());
                }
            }
            throw StageException.terminal(Failure.CHART_VERSION_CONFLICT, url + "/" + chart.name() + ":" + chart
                    .version() + " exists but is not a Helm chart", Map.of("repository", id));
        } catch (IOException e) {
            throw StageException.terminal(Failure.CHART_REPO_ERROR, "unreadable manifest of " + chart.name() + ":"
                    + chart.version() + " in " + url, Map.of("repository", id));
        }
    }

    private String scheme() {
        return plainHttp ? "http://" : "https://";
    }

    /**
     * GETs {@code manifest}, answering the registry's challenge: Basic with the configured credentials, or the token
     * flow (Docker Hub, {@code auth: token} registries) - a pull token for {@code repository} from the challenge's
     * realm, asked with the configured credentials, then the request again with {@code Bearer <token>}.
     */
    private HttpResponse<byte[]> sendAuthorized(URI manifest, String repository) {
        HttpResponse<byte[]> response = HttpSupport.send(manifestRequest(manifest, HttpSupport.basic(username,
                password)), Failure.CHART_REPO_UNAVAILABLE);
        if (response.statusCode() != 401) {
            return response;
        }
        String challenge = response.headers().firstValue("WWW-Authenticate").orElse("");
        if (!challenge.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return response;
        }
        String token = token(challenge, repository);
        return HttpSupport.send(manifestRequest(manifest, Optional.of("Bearer " + token)),
                Failure.CHART_REPO_UNAVAILABLE);
    }

    private static HttpRequest manifestRequest(URI manifest, Optional<String> authorization) {
        return HttpSupport.request(manifest, authorization)
                .header("Accept", "application/vnd.oci.image.manifest.v1+json")
                .GET().build();
    }

    private String token(String challenge, String repository) {
        Map<String, String> params = new LinkedHashMap<>();
        Matcher matcher = CHALLENGE_PARAM.matcher(challenge);
        while (matcher.find()) {
            params.put(matcher.group(1).toLowerCase(Locale.ROOT), matcher.group(2));
        }
        String realm = params.get("realm");
        URI realmUri = realm == null ? null : realmUri(realm);
        if (realmUri == null || realmUri.getHost() == null || !("https".equals(realmUri.getScheme())
                || plainHttp && "http".equals(realmUri.getScheme()))) {
            throw StageException.terminal(Failure.CHART_REPO_ERROR, url.getAuthority()
                    + " asked for a token without a usable realm (an https URL" + (plainHttp
                            ? ", or http for a plain HTTP registry"
                            : "")
                    + ")", Map.of("repository", id));
        }
        if (!realmUri.getHost().equalsIgnoreCase(url.getHost())) {
            // Another host (Docker Hub's auth.docker.io): dialled with the credentials only if the policy allows it.
            outbound.checkConnect("conveyor.promoter.chart-repositories." + id + " (the token service "
                    + url.getAuthority() + " named)", realm);
        }
        StringBuilder query = new StringBuilder(realm).append(realm.contains("?") ? '&' : '?').append("scope=")
                .append(URLEncoder.encode("repository:" + repository + ":pull", StandardCharsets.UTF_8));
        if (params.containsKey("service")) {
            query.append("&service=").append(URLEncoder.encode(params.get("service"), StandardCharsets.UTF_8));
        }
        // Not redirected: the credentials go to the realm that was checked, nowhere else.
        HttpResponse<byte[]> response = HttpSupport.sendOnce(HttpSupport.request(URI.create(query.toString()),
                HttpSupport.basic(username, password)).GET().build(), Failure.CHART_REPO_UNAVAILABLE);
        if (response.statusCode() == 401 || response.statusCode() == 403) {
            throw StageException.terminal(Failure.CHART_REPO_AUTH_DENIED, "the token service of " + url
                    .getAuthority() + " refused the credentials of chart repository " + id + " (HTTP "
                    + response
                            .statusCode()
                    + ")", Map.of("repository", id));
        }
        if (response.statusCode() != 200) {
            throw HttpSupport.unexpected(response, "asking " + url.getAuthority() + " for a token",
                    Failure.CHART_REPO_AUTH_DENIED, Failure.CHART_REPO_UNAVAILABLE, Failure.CHART_REPO_ERROR);
        }
        try {
            JsonNode body = JSON.readTree(response.body());
            String token = body.path("token").asText(body.path("access_token").asText(""));
            if (token.isEmpty()) {
                throw StageException.terminal(Failure.CHART_REPO_AUTH_DENIED, "the token service of " + url
                        .getAuthority() + " answered without a token", Map.of("repository", id));
            }
            return token;
        } catch (IOException e) {
            throw StageException.terminal(Failure.CHART_REPO_ERROR, "the token service of " + url.getAuthority()
                    + " answered with invalid JSON", Map.of("repository", id));
        }
    }

    private static URI realmUri(String realm) {
        try {
            return new URI(realm);
        } catch (java.net.URISyntaxException e) {
            return null;
        }
    }

    private void login() {
        if (loggedIn || username.isEmpty() || password.isEmpty()) {
            return;
        }
        try {
            var login = Helm.registry().login().withHost(url.getAuthority()).withUsername(username.get())
                    .withPassword(password.get());
            if (plainHttp) {
                login.plainHttp();
            }
            login.call();
            loggedIn = true;
        } catch (RuntimeException e) {
            throw StageException.terminal(Failure.CHART_REPO_AUTH_DENIED, "cannot log in to " + url.getAuthority()
                    + ": check the repository's credentials", Map.of("repository", id));
        }
    }
}
