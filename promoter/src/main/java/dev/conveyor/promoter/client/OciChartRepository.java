package dev.conveyor.promoter.client;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpResponse;
import java.util.Map;
import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.marcnuri.helm.Helm;

import dev.conveyor.stage.StageException;

/**
 * An OCI registry ({@code oci://host[:port]/path}): the chart's manifest is looked up first, and the chart is pushed
 * with Helm only when that version is not there. The chart layer's digest is the package's sha256, so a version
 * already in the registry is compared by content.
 */
public final class OciChartRepository implements ChartRepository {

    static final String CHART_LAYER = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String id;
    private final URI url;
    private final boolean plainHttp;
    private final Optional<String> username;
    private final Optional<String> password;
    private volatile boolean loggedIn;

    public OciChartRepository(String id, String url, boolean plainHttp, Optional<String> username,
            Optional<String> password) {
        if (!url.startsWith("oci://")) {
            throw new IllegalArgumentException("chart repository " + id + ": an OCI url starts with oci://");
        }
        this.id = id;
        this.url = URI.create(url.endsWith("/") ? url.substring(0, url.length() - 1) : url);
        this.plainHttp = plainHttp;
        this.username = username;
        this.password = password;
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
        URI manifest = URI.create((plainHttp ? "http://" : "https://") + url.getAuthority() + "/v2" + url.getPath()
                + "/" + chart.name() + "/manifests/" + chart.version());
        HttpResponse<byte[]> response = HttpSupport.send(HttpSupport.request(manifest, HttpSupport.basic(username,
                password)).header("Accept", "application/vnd.oci.image.manifest.v1+json").GET().build(),
                Failure.CHART_REPO_UNAVAILABLE);
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
