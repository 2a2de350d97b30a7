package dev.conveyor.fluxsync.client;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.conveyor.fluxsync.client.ChartRenderer.RenderException;
import dev.conveyor.fluxsync.domain.ChartSource;
import dev.conveyor.fluxsync.domain.SemverRange;

/**
 * Pulls a Helm chart from an OCI registry with the distribution API, so that the chart is on disk to be prepared like
 * any downloaded archive: the version's tag (exact, or the highest tag a semver range or {@code *} matches in
 * {@code tags/list}), its manifest, the layer of media type {@value #CHART_LAYER}, and that blob, whose size is bounded
 * and whose sha256 digest is checked. Anonymous, basic auth, or the registry token flow (a {@code 401} with a
 * {@code Bearer} challenge: a pull token from the challenge's realm, asked with the credential). Every URL (the
 * registry, each redirect hop, the token service) is checked against the outbound policy right before it is dialled;
 * a credential or token goes to the origin it belongs to only, and no message holds one. Blobs are cached by digest:
 * the manifest is always asked for first (with the release's own credential), so a cached chart is only served to a
 * release the registry lets see it.
 */
final class OciPuller {

    static final String MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json";
    static final String CHART_LAYER = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";
    /** Largest manifest, tag list page or token answer read (distribution's own manifest limit is 4 MiB). */
    static final int MAX_DOCUMENT_BYTES = 4 * 1024 * 1024;
    /** Pages of {@code tags/list} followed ({@code Link: <...>; rel="next"}). */
    static final int MAX_TAG_PAGES = 50;

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern CHALLENGE_PARAM = Pattern.compile("(\\w+)=(?:\"([^\"]*)\"|([^,\\s]*))");
    private static final Pattern NEXT_LINK = Pattern.compile("<([^>]+)>\\s*;\\s*rel=\"?next\"?");
    private static final Pattern DIGEST = Pattern.compile("sha256:[0-9a-f]{64}");
    /** A repository name, as the distribution specification has it. */
    private static final Pattern REPOSITORY = Pattern.compile(
            "[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*)*");

    /** The outbound check of {@link ChartRenderer}: throws a refusal naming the field. */
    interface Outbound {
        void check(String field, String url, String what) throws RenderException;
    }

    private final HttpClient http;
    private final Outbound outbound;
    private final Path cacheDir;
    private final long maxChartBytes;

    /**
     * @param http a client that follows no redirects (they are followed here, each hop checked)
     * @param cacheDir where pulled charts are kept, named by digest
     * @param maxChartBytes the largest chart blob pulled
     */
    OciPuller(HttpClient http, Outbound outbound, Path cacheDir, long maxChartBytes) {
        this.http = http;
        this.outbound = outbound;
        this.cacheDir = cacheDir;
        this.maxChartBytes = maxChartBytes;
    }

    /** One pull's conversation with a registry: its base URL, the repository, the credential and the pull token. */
    final class Session {
        final ChartSource.Oci oci;
        final URI base;
        final String repository;
        final ChartCredentials.Credential credential;
        private String bearer;

        private Session(ChartSource.Oci oci, boolean plainHttp, ChartCredentials.Credential credential)
                throws RenderException {
            this.oci = oci;
            this.credential = credential;
            String rest = oci.reference().startsWith("oci://") ? oci.reference().substring(6) : oci.reference();
            int slash = rest.indexOf('/');
            this.repository = slash < 0 ? "" : rest.substring(slash + 1);
            if (repository.isEmpty() || !REPOSITORY.matcher(repository).matches()) {
                throw new RenderException(oci.field() + " " + oci.reference() + " is not a valid OCI chart reference "
                        + "(oci://host[:port]/path/chart, lower case)");
            }
            try {
                this.base = URI.create((plainHttp ? "http://" : "https://") + oci.host());
            } catch (IllegalArgumentException e) {
                throw new RenderException(oci.field() + " " + oci.reference() + " has no valid registry host");
            }
            if (base.getHost() == null) {
                throw new RenderException(oci.field() + " " + oci.reference() + " has no valid registry host");
            }
        }

        String what() {
            return "OCI chart " + oci.reference();
        }

        private String scrub(String text) {
            String out = credential == null ? text : credential.scrub(text);
            return bearer == null || out == null ? out : out.replace(bearer, "***");
        }
    }

    Session session(ChartSource.Oci oci, boolean plainHttp, ChartCredentials.Credential credential)
            throws RenderException {
        if (credential != null && credential.token() != null) {
            throw new RenderException(credential.origin() + " holds a bearerToken; OCI registries take a username "
                    + "and password");
        }
        return new Session(oci, plainHttp, credential);
    }

    /**
     * The tag the source's version names: itself when it is exact ({@code +} written {@code _}, as Helm pushes it);
     * for {@code *} or a semver range, the highest tag of the repository that satisfies it.
     */
    String resolveTag(Session s) throws RenderException {
        String wanted = s.oci.version();
        if (SemverRange.isExact(wanted)) {
            return wanted.strip().replace('+', '_');
        }
        SemverRange range;
        try {
            range = SemverRange.parse(wanted);
        } catch (IllegalArgumentException e) {
            throw new RenderException(s.what() + ": version " + e.getMessage());
        }
        Map<String, String> byVersion = new LinkedHashMap<>();
        for (String tag : tags(s)) {
            byVersion.putIfAbsent(tag.replace('_', '+'), tag);
        }
        String version = range.highest(byVersion.keySet()).orElseThrow(() -> new RenderException("no tag of "
                + s.oci.reference() + " in the OCI registry " + s.oci.host() + " satisfies " + wanted + (byVersion
                        .isEmpty()
                                ? " (it has no tag)"
                                : " (it has " + String.join(", ", byVersion.keySet().stream().limit(10).toList())
                                        + (byVersion.size() > 10 ? ", ..." : "") + ")")));
        return byVersion.get(version);
    }

    /** The repository's tags, every page. */
    List<String> tags(Session s) throws RenderException {
        List<String> tags = new ArrayList<>();
        URI uri = s.base.resolve("/v2/" + s.repository + "/tags/list");
        for (int page = 0; page < MAX_TAG_PAGES && uri != null; page++) {
            HttpResponse<InputStream> r = registryGet(s, uri, "application/json", "listing the tags of");
            JsonNode doc = json(s, r, "the tag list of " + s.oci.reference());
            doc.path("tags").forEach(t -> tags.add(t.asText()));
            URI next = r.headers().firstValue("Link").map(NEXT_LINK::matcher).filter(Matcher::find).map(
                    m -> uriOrNull(s.base, m.group(1))).orElse(null);
            uri = next != null && sameOrigin(s.base, next) ? next : null;
        }
        return tags;
    }

    /** A chart layer of a manifest. */
    record Layer(String tag, String digest, long size) {
    }

    /** The chart layer of the manifest {@code tag} names. */
    Layer chartLayer(Session s, String tag) throws RenderException {
        URI uri = s.base.resolve("/v2/" + s.repository + "/manifests/" + URLEncoder.encode(tag,
                StandardCharsets.UTF_8));
        JsonNode manifest = json(s, registryGet(s, uri, MANIFEST_TYPE, "getting the manifest of"), "the manifest of "
                + s.oci.reference() + ":" + tag);
        for (JsonNode layer : manifest.path("layers")) {
            if (CHART_LAYER.equals(layer.path("mediaType").asText())) {
                String digest = layer.path("digest").asText();
                if (!DIGEST.matcher(digest).matches()) {
                    throw new RenderException(s.what() + ":" + tag + " names its chart layer by the digest '"
                            + digest + "' (only sha256 is supported)");
                }
                return new Layer(tag, digest, layer.path("size").asLong(-1));
            }
        }
        throw new RenderException(s.what() + ":" + tag + " in the OCI registry " + s.oci.host() + " is not a Helm "
                + "chart: its manifest has no layer of media type " + CHART_LAYER);
    }

    /** The chart archive of {@code layer}: from the cache, else pulled and checked. */
    Path archive(Session s, Layer layer) throws RenderException {
        String hex = layer.digest().substring("sha256:".length());
        Path cached = cacheDir.resolve(hex + ".tgz");
        if (Files.exists(cached)) {
            return cached;
        }
        String what = s.what() + ":" + layer.tag();
        if (layer.size() > maxChartBytes) {
            throw new RenderException(what + " is larger than " + maxChartBytes + " bytes (its manifest says "
                    + layer.size() + ")");
        }
        URI uri = s.base.resolve("/v2/" + s.repository + "/blobs/" + layer.digest());
        HttpResponse<InputStream> r = registryGet(s, uri, "application/octet-stream", "pulling");
        Path tmp = null;
        try {
            Files.createDirectories(cacheDir);
            tmp = Files.createTempFile(cacheDir, "pull-", ".tgz");
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            long total = 0;
            try (InputStream in = r.body(); OutputStream out = Files.newOutputStream(tmp)) {
                byte[] buffer = new byte[64 * 1024];
                for (int n; (n = in.read(buffer)) >= 0;) {
                    total += n;
                    if (total > maxChartBytes) {
                        throw new RenderException(what + " is larger than " + maxChartBytes + " bytes");
                    }
                    sha.update(buffer, 0, n);
                    out.write(buffer, 0, n);
                }
            }
            String actual = "sha256:" + HexFormat.of().formatHex(sha.digest());
            if (!actual.equals(layer.digest())) {
                throw new RenderException(what + ": the chart layer pulled from " + s.oci.host() + " has the digest "
                        + actual + ", its manifest names " + layer.digest() + " (digest mismatch)");
            }
            // rename(2) replaces in one step: REPLACE_EXISTING alone deletes the target first, and a render of the same
            // chart by a parallel release would find no file (OciChartsIT saw it once).
            Files.move(tmp, cached, StandardCopyOption.ATOMIC_MOVE);
            tmp = null;
            return cached;
        } catch (IOException e) {
            ChartRenderer.Cause c = ChartRenderer.cause(e, uri);
            throw new RenderException(pullFailure(s) + s.scrub(c.text()), false, c.retriable());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // best effort; the directory is private to the service
                }
            }
        }
    }

    private static String pullFailure(Session s) {
        return "cannot pull " + s.oci.reference() + " " + s.oci.version() + " from the OCI registry " + s.oci.host()
                + ": ";
    }

    /**
     * A GET of the registry's API answered 200: with the session's credential (basic) or pull token, and once more
     * with a new token when the registry answers a {@code Bearer} challenge.
     *
     * @param doing what the request does, for messages ({@code "pulling"})
     */
    private HttpResponse<InputStream> registryGet(Session s, URI uri, String accept, String doing)
            throws RenderException {
        try {
            HttpResponse<InputStream> r = send(s, uri, accept, registryAuthorization(s), s.oci.field(), s.what());
            if (r.statusCode() == 401) {
                String challenge = r.headers().allValues("WWW-Authenticate").stream().filter(h -> h.regionMatches(
                        true, 0, "Bearer ", 0, 7)).findFirst().orElse(null);
                if (challenge != null) {
                    r.body().close();
                    s.bearer = token(s, challenge);
                    r = send(s, uri, accept, "Bearer " + s.bearer, s.oci.field(), s.what());
                }
            }
            int status = r.statusCode();
            if (status == 200) {
                return r;
            }
            r.body().close();
            if (status == 401 || status == 403) {
                throw denied(s, "the OCI registry " + s.oci.host());
            }
            if (status == 404) {
                throw new RenderException(pullFailure(s) + "HTTP 404 for " + uri + " (" + doing + " "
                        + s.oci.reference() + ": not found)");
            }
            ChartRenderer.Cause c = ChartRenderer.cause(new ChartRenderer.HttpStatus(status, uri), uri);
            throw new RenderException(pullFailure(s) + c.text(), false, c.retriable());
        } catch (IOException e) {
            ChartRenderer.Cause c = ChartRenderer.cause(e, uri);
            throw new RenderException(pullFailure(s) + s.scrub(c.text()), false, c.retriable());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RenderException("interrupted while pulling " + s.oci.reference(), false, true);
        }
    }

    private static String registryAuthorization(Session s) {
        if (s.bearer != null) {
            return "Bearer " + s.bearer;
        }
        return s.credential == null ? null : s.credential.authorization();
    }

    private static RenderException denied(Session s, String who) {
        return s.credential == null
                ? new RenderException(who + " refused to serve " + s.oci.reference() + " without credentials "
                        + "(configure a secretRef or conveyor.flux-sync.chart-repositories for it)", true)
                : new RenderException(who + " refused the credentials of " + s.credential.origin(), true);
    }

    /**
     * A pull token from the realm of a {@code Bearer} challenge ({@code realm}, {@code service}, {@code scope}), asked
     * with the session's credential (anonymously without one). The realm is checked against the outbound policy; it
     * must be HTTPS unless the registry itself is plain HTTP.
     */
    private String token(Session s, String challenge) throws RenderException, IOException, InterruptedException {
        Map<String, String> params = new LinkedHashMap<>();
        Matcher m = CHALLENGE_PARAM.matcher(challenge.substring(7));
        while (m.find()) {
            params.put(m.group(1).toLowerCase(Locale.ROOT), m.group(2) != null ? m.group(2) : m.group(3));
        }
        String realm = params.get("realm");
        URI realmUri = realm == null ? null : uriOrNull(s.base, realm);
        if (realmUri == null || !("https".equals(realmUri.getScheme()) || "http".equals(realmUri.getScheme())
                && "http".equals(s.base.getScheme())) || realmUri.getHost() == null) {
            throw new RenderException("the OCI registry " + s.oci.host() + " asked for a token without a usable realm"
                    + " (an https URL"
                    + ("http".equals(s.base.getScheme()) ? ", or http for a plain HTTP registry" : "")
                    + ")");
        }
        String scope = params.getOrDefault("scope", "repository:" + s.repository + ":pull");
        StringBuilder query = new StringBuilder(realm).append(realm.contains("?") ? '&' : '?');
        if (params.containsKey("service")) {
            query.append("service=").append(URLEncoder.encode(params.get("service"), StandardCharsets.UTF_8))
                    .append('&');
        }
        query.append("scope=").append(URLEncoder.encode(scope, StandardCharsets.UTF_8));
        URI tokenUri = URI.create(query.toString());
        String what = s.what() + " (the token service " + realmUri.getHost() + " the registry named)";
        HttpResponse<InputStream> r = send(s, tokenUri, "application/json", s.credential == null
                ? null
                : s.credential.authorization(), s.oci.field(), what);
        if (r.statusCode() == 401 || r.statusCode() == 403) {
            r.body().close();
            throw denied(s, "the token service of the OCI registry " + s.oci.host());
        }
        if (r.statusCode() != 200) {
            r.body().close();
            ChartRenderer.Cause c = ChartRenderer.cause(new ChartRenderer.HttpStatus(r.statusCode(), realmUri),
                    realmUri);
            throw new RenderException(pullFailure(s) + "the token service answered " + c.text(), false, c
                    .retriable());
        }
        JsonNode body = json(s, r, "the token service's answer");
        String token = body.path("token").asText(body.path("access_token").asText(""));
        if (token.isEmpty()) {
            throw new RenderException("the token service of the OCI registry " + s.oci.host()
                    + " answered without a token", true);
        }
        return token;
    }

    /**
     * A GET that follows redirects by hand: every URL is checked against the outbound policy right before it is
     * requested; {@code authorization} goes to the first URL's origin only. A redirect's target is never quoted.
     */
    private HttpResponse<InputStream> send(Session s, URI start, String accept, String authorization, String field,
            String what) throws RenderException, IOException, InterruptedException {
        URI uri = start;
        for (int hop = 0; hop <= ChartRenderer.MAX_REDIRECTS; hop++) {
            outbound.check(field, uri.toString(), hop == 0
                    ? what
                    : what + " (a redirect answered by " + start.getHost() + ")");
            HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(60)).header("Accept",
                    accept).GET();
            if (authorization != null && sameOrigin(start, uri)) {
                b.header("Authorization", authorization);
            }
            HttpResponse<InputStream> r = http.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
            int status = r.statusCode();
            if (status >= 300 && status < 400 && status != 304 && r.headers().firstValue("Location").isPresent()) {
                r.body().close();
                try {
                    uri = uri.resolve(r.headers().firstValue("Location").get());
                } catch (IllegalArgumentException e) {
                    throw new ChartRenderer.HttpStatus(status, start);
                }
                continue;
            }
            return r;
        }
        throw new ChartRenderer.TooManyRedirects(start);
    }

    /** The JSON body of a 200 answer, read up to {@link #MAX_DOCUMENT_BYTES}. */
    private static JsonNode json(Session s, HttpResponse<InputStream> r, String what) throws RenderException {
        byte[] bytes;
        try (InputStream in = r.body()) {
            bytes = in.readNBytes(MAX_DOCUMENT_BYTES + 1);
        } catch (IOException e) {
            ChartRenderer.Cause c = ChartRenderer.cause(e, r.uri());
            throw new RenderException(pullFailure(s) + s.scrub(c.text()), false, c.retriable());
        }
        if (bytes.length > MAX_DOCUMENT_BYTES) {
            throw new RenderException(what + " is larger than " + MAX_DOCUMENT_BYTES + " bytes");
        }
        try {
            return JSON.readTree(bytes);
        } catch (IOException e) {
            throw new RenderException(what + " from " + s.oci.host() + " is not valid JSON");
        }
    }

    private static URI uriOrNull(URI base, String text) {
        try {
            return base.resolve(text);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static boolean sameOrigin(URI a, URI b) {
        return Objects.equals(a.getScheme(), b.getScheme()) && Objects.equals(a.getHost(), b.getHost()) && a
                .getPort() == b.getPort();
    }
}
