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
        public RenderException(String message) {
            super(message);
        }
    }

    private final Path workDir;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10))
            .followRedirects(HttpClient.Redirect.NORMAL).build();

    private final Set<String> plainHttpHosts;

    public ChartRenderer(Path workDir) {
        this(workDir, Set.of());
    }

    /** @param plainHttpHosts OCI registries ({@code host:port}) reached over plain HTTP */
    public ChartRenderer(Path workDir, Set<String> plainHttpHosts) {
        this.workDir = workDir;
        this.plainHttpHosts = Set.copyOf(plainHttpHosts);
    }

    /** Renders the chart at {@code chartDir} (a directory or a .tgz). */
    public String render(Path chart, String releaseName, String namespace, Map<String, Object> values)
            throws RenderException {
        return template(new Helm(chart).template(), releaseName, namespace, values, chart.getFileName().toString());
    }

    /** Renders a chart from a Helm repository or an OCI registry. */
    public String renderRemote(ChartSource source, String releaseName, String namespace, Map<String, Object> values)
            throws RenderException {
        if (source instanceof ChartSource.Oci oci) {
            TemplateCommand cmd = Helm.template(oci.reference());
            if (!"*".equals(oci.version())) {
                cmd = cmd.withVersion(oci.version());
            }
            if (oci.plainHttp() || plainHttpHosts.contains(oci.host())) {
                cmd = cmd.plainHttp();
            }
            return template(cmd, releaseName, namespace, values, oci.reference());
        }
        ChartSource.HelmRepository repo = (ChartSource.HelmRepository) source;
        return render(download(repo), releaseName, namespace, values);
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
    Path download(ChartSource.HelmRepository repo) throws RenderException {
        String base = repo.url().endsWith("/") ? repo.url() : repo.url() + "/";
        Path cached = workDir.resolve("remote").resolve(LiveComparison.hash(Map.of("u", base, "c", repo.chart(), "v",
                repo.version())) + ".tgz");
        if (Files.exists(cached)) {
            return cached;
        }
        try {
            String index = get(URI.create(base + "index.yaml"), String.class);
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
                    try (InputStream in = get(url, InputStream.class)) {
                        Files.copy(in, tmp, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                    }
                    Files.move(tmp, cached, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                    return cached;
                }
            }
            throw new RenderException("chart " + repo.chart() + " " + repo.version() + " is not in " + base
                    + "index.yaml");
        } catch (IOException | RuntimeException e) {
            throw new RenderException("cannot fetch chart " + repo.chart() + " " + repo.version() + " from " + base
                    + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RenderException("interrupted while fetching " + repo.chart());
        }
    }

    @SuppressWarnings("unchecked")
    private <T> T get(URI uri, Class<T> type) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(60)).GET().build();
        if (type == String.class) {
            HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                throw new IOException("HTTP " + r.statusCode() + " for " + uri);
            }
            return (T) r.body();
        }
        HttpResponse<InputStream> r = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
        if (r.statusCode() != 200) {
            r.body().close();
            throw new IOException("HTTP " + r.statusCode() + " for " + uri);
        }
        return (T) r.body();
    }
}
