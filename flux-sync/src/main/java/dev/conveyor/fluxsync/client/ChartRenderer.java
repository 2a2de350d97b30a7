package dev.conveyor.fluxsync.client;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.Yaml;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.RegistryCommand;
import com.marcnuri.helm.TemplateCommand;

import dev.conveyor.fluxsync.domain.ChartSource;
import dev.conveyor.fluxsync.domain.LiveComparison;
import dev.conveyor.fluxsync.domain.YamlDocuments;

/**
 * Renders charts with helm-java (Helm's own engine, in-process, no Tiller and no cluster access): a chart directory
 * from the GitOps repository, a chart archive from a classic Helm repository (found through its {@code index.yaml}),
 * or an OCI reference. The values are written to a private temporary file that is deleted right after.
 */
public final class ChartRenderer {

    /** A chart that could not be fetched or rendered; the message names the chart, never the values. */
    public static final class RenderException extends Exception {
        private final boolean authDenied;

        public RenderException(String message) {
            this(message, false);
        }

        public RenderException(String message, boolean authDenied) {
            super(message);
            this.authDenied = authDenied;
        }

        /** Whether the chart's repository or registry refused the credentials (or wanted some). */
        public boolean authDenied() {
            return authDenied;
        }
    }

    /** OCI pulls run one at a time: a registry login is process-wide in Helm, it holds for one pull only. */
    private static final Object OCI_LOCK = new Object();

    private final Path workDir;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10))
            .followRedirects(HttpClient.Redirect.NORMAL).build();

    private final Set<String> plainHttpHosts;
    private final ChartCredentials credentials;

    public ChartRenderer(Path workDir) {
        this(workDir, Set.of());
    }

    /** @param plainHttpHosts OCI registries ({@code host:port}) reached over plain HTTP */
    public ChartRenderer(Path workDir, Set<String> plainHttpHosts) {
        this(workDir, plainHttpHosts, ChartCredentials.none());
    }

    /**
     * @param plainHttpHosts OCI registries ({@code host:port}) reached over plain HTTP
     * @param credentials the credentials of Helm repositories and OCI registries
     */
    public ChartRenderer(Path workDir, Set<String> plainHttpHosts, ChartCredentials credentials) {
        this.workDir = workDir;
        this.plainHttpHosts = Set.copyOf(plainHttpHosts);
        this.credentials = credentials;
    }

    /** Renders the chart at {@code chartDir} (a directory or a .tgz). */
    public String render(Path chart, String releaseName, String namespace, Map<String, Object> values)
            throws RenderException {
        return template(new Helm(chart).template(), releaseName, namespace, values, chart.getFileName().toString());
    }

    /** Renders a chart from a Helm repository or an OCI registry. */
    public String renderRemote(ChartSource source, String releaseName, String namespace, Map<String, Object> values)
            throws RenderException {
        ChartCredentials.Credential credential;
        try {
            credential = credentials.of(source).orElse(null);
        } catch (ChartCredentials.Unavailable e) {
            throw new RenderException(e.getMessage());
        }
        if (source instanceof ChartSource.Oci oci) {
            return renderOci(oci, credential, releaseName, namespace, values);
        }
        ChartSource.HelmRepository repo = (ChartSource.HelmRepository) source;
        return render(download(repo, credential), releaseName, namespace, values);
    }

    /**
     * Renders a chart from an OCI registry; with a credential, Helm logs in to the registry for this pull only (and
     * out again). Helm's messages are scrubbed of the credential.
     */
    private String renderOci(ChartSource.Oci oci, ChartCredentials.Credential credential, String releaseName,
            String namespace, Map<String, Object> values) throws RenderException {
        boolean plainHttp = oci.plainHttp() || plainHttpHosts.contains(oci.host());
        TemplateCommand cmd = Helm.template(oci.reference());
        if (!"*".equals(oci.version())) {
            cmd = cmd.withVersion(oci.version());
        }
        if (plainHttp) {
            cmd = cmd.plainHttp();
        }
        synchronized (OCI_LOCK) {
            if (credential == null) {
                try {
                    return template(cmd, releaseName, namespace, values, oci.reference());
                } catch (RenderException e) {
                    if (deniedText(e.getMessage())) {
                        throw new RenderException("the OCI registry " + oci.host() + " refused to serve "
                                + oci.reference() + " without credentials (configure a secretRef or "
                                + "conveyor.flux-sync.chart-repositories for it)", true);
                    }
                    throw e;
                }
            }
            if (credential.token() != null) {
                throw new RenderException(credential.origin() + " holds a bearerToken; OCI registries take a "
                        + "username and password");
            }
            RegistryCommand.LoginCommand login = Helm.registry().login().withHost(oci.host()).withUsername(credential
                    .username()).withPassword(credential.password());
            if (plainHttp) {
                login = login.plainHttp();
            }
            try {
                login.call();
            } catch (RuntimeException e) {
                String message = credential.scrub(String.valueOf(e.getMessage()));
                if (deniedText(message)) {
                    throw new RenderException("the OCI registry " + oci.host() + " refused the credentials of "
                            + credential.origin(), true);
                }
                throw new RenderException("cannot log in to the OCI registry " + oci.host() + " with the credentials "
                        + "of " + credential.origin() + ": " + message);
            }
            try {
                return template(cmd, releaseName, namespace, values, oci.reference());
            } catch (RenderException e) {
                throw new RenderException(credential.scrub(e.getMessage()), deniedText(e.getMessage()));
            } finally {
                try {
                    RegistryCommand.LogoutCommand logout = Helm.registry().logout().withHost(oci.host());
                    (plainHttp ? logout.plainHttp() : logout).call();
                } catch (RuntimeException ignored) {
                    // nothing to forget
                }
            }
        }
    }

    private static boolean deniedText(String message) {
        String m = String.valueOf(message).toLowerCase(java.util.Locale.ROOT);
        return m.contains("401") || m.contains("403") || m.contains("unauthorized") || m.contains("denied")
                || m.contains("forbidden") || m.contains("credential not found");
    }

    private String template(TemplateCommand cmd, String releaseName, String namespace, Map<String, Object> values,
            String what) throws RenderException {
        Path valuesFile = null;
        try {
            Files.createDirectories(workDir);
            valuesFile = Files.createTempFile(workDir, "values-", ".yaml",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            DumperOptions options = new DumperOptions();
            options.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
            Files.writeString(valuesFile, new Yaml(options).dump(values));
            return cmd.withName(releaseName).withNamespace(namespace).withValuesFile(valuesFile).call();
        } catch (IOException e) {
            throw new RenderException("cannot prepare the values of " + what + ": " + e.getMessage());
        } catch (RuntimeException e) {
            throw new RenderException("helm template " + what + " failed: " + e.getMessage());
        } finally {
            if (valuesFile != null) {
                try {
                    Files.deleteIfExists(valuesFile);
                } catch (IOException ignored) {
                    // best effort; the directory is private to the service
                }
            }
        }
    }

    /** Fetches {@code chart-version.tgz} through the repository's index, cached by URL and version. */
    @SuppressWarnings("unchecked")
    Path download(ChartSource.HelmRepository repo, ChartCredentials.Credential credential) throws RenderException {
        String base = repo.url().endsWith("/") ? repo.url() : repo.url() + "/";
        // Cached per credential origin too: a chart fetched with one tenant's credentials is not another's.
        Path cached = workDir.resolve("remote").resolve(LiveComparison.hash(Map.of("u", base, "c", repo.chart(), "v",
                repo.version(), "a", credential == null ? "" : credential.origin())) + ".tgz");
        if (Files.exists(cached)) {
            return cached;
        }
        String baseHost = ChartCredentials.hostOf(base);
        try {
            String index = get(URI.create(base + "index.yaml"), String.class, credential);
            Map<String, Object> doc = YamlDocuments.parseMap("index.yaml of " + base, index);
            Object entries = doc.get("entries") instanceof Map<?, ?> m ? m.get(repo.chart()) : null;
            if (!(entries instanceof List<?> versions)) {
                throw new RenderException("chart " + repo.chart() + " is not in " + base + "index.yaml");
            }
            for (Object v : versions) {
                Map<String, Object> entry = (Map<String, Object>) v;
                if (repo.version().equals(String.valueOf(entry.get("version")))
                        && entry.get("urls") instanceof List<?> u
                        && !u.isEmpty()) {
                    URI url = URI.create(base).resolve(String.valueOf(u.get(0)));
                    Files.createDirectories(cached.getParent());
                    Path tmp = Files.createTempFile(cached.getParent(), "chart-", ".tgz");
                    // Credentials go to the repository's own host only (Helm's default, no passCredentials).
                    ChartCredentials.Credential forUrl = baseHost != null && baseHost.equals(ChartCredentials.hostOf(url
                            .toString())) ? credential : null;
                    try (InputStream in = get(url, InputStream.class, forUrl)) {
                        Files.copy(in, tmp, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                    }
                    Files.move(tmp, cached, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                    return cached;
                }
            }
            throw new RenderException("chart " + repo.chart() + " " + repo.version() + " is not in " + base
                    + "index.yaml");
        } catch (AuthDenied e) {
            throw new RenderException("the Helm repository " + base + " answered HTTP " + e.status + " to " + e.uri
                    + (credential == null
                            ? " (it wants credentials: configure a secretRef or conveyor.flux-sync.chart-repositories)"
                            : ": it refused the credentials of " + credential.origin()),
                    true);
        } catch (IOException | RuntimeException e) {
            String message = credential == null ? e.getMessage() : credential.scrub(e.getMessage());
            throw new RenderException("cannot fetch chart " + repo.chart() + " " + repo.version() + " from " + base
                    + ": " + message);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RenderException("interrupted while fetching " + repo.chart());
        }
    }

    /** HTTP 401 or 403 from a Helm repository. */
    private static final class AuthDenied extends IOException {
        final int status;
        final URI uri;

        AuthDenied(int status, URI uri) {
            super("HTTP " + status + " for " + uri);
            this.status = status;
            this.uri = uri;
        }
    }

    @SuppressWarnings("unchecked")
    private <T> T get(URI uri, Class<T> type, ChartCredentials.Credential credential) throws IOException,
            InterruptedException {
        HttpRequest.Builder builder = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(60)).GET();
        if (credential != null) {
            builder.header("Authorization", credential.authorization());
        }
        HttpRequest request = builder.build();
        if (type == String.class) {
            HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() == 401 || r.statusCode() == 403) {
                throw new AuthDenied(r.statusCode(), uri);
            }
            if (r.statusCode() != 200) {
                throw new IOException("HTTP " + r.statusCode() + " for " + uri);
            }
            return (T) r.body();
        }
        HttpResponse<InputStream> r = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
        if (r.statusCode() == 401 || r.statusCode() == 403) {
            r.body().close();
            throw new AuthDenied(r.statusCode(), uri);
        }
        if (r.statusCode() != 200) {
            r.body().close();
            throw new IOException("HTTP " + r.statusCode() + " for " + uri);
        }
        return (T) r.body();
    }
}
