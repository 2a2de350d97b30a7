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
import dev.conveyor.stage.FailureKind;
import dev.conveyor.stage.StageException;
import dev.conveyor.stage.git.GitUrls;
import dev.conveyor.stage.helm.HelmSignals;
import dev.conveyor.stage.helm.HookRenaming;
import dev.conveyor.stage.net.OutboundPolicy;
import dev.conveyor.stage.net.OutboundRefused;

/**
 * Renders charts with helm-java (Helm's own engine, in-process, no Tiller and no cluster access): a chart directory
 * from the GitOps repository, a chart archive from a classic Helm repository (found through its {@code index.yaml}),
 * or one pulled from an OCI registry ({@link OciPuller}). The values are written to a private temporary file that is deleted right after.
 */
public final class ChartRenderer {

    /**
     * A chart that could not be fetched or rendered; the message names the chart and the root cause (host not found,
     * connection refused, TLS, HTTP status), never the values.
     */
    public static final class RenderException extends Exception {
        private final boolean authDenied;
        private final boolean retriable;
        private final boolean renderFailed;
        private final boolean outboundRefused;

        /** A failure a retry cannot fix (the chart, its values or its source must change). */
        public RenderException(String message) {
            this(message, false, false);
        }

        public RenderException(String message, boolean authDenied) {
            this(message, authDenied, false);
        }

        /**
         * @param retriable whether the same sync later can succeed (the source was unreachable, answered 5xx or
         *     timed out), as opposed to a chart, ref, version or credential that must change
         */
        public RenderException(String message, boolean authDenied, boolean retriable) {
            this(message, authDenied, retriable, false);
        }

        private RenderException(String message, boolean authDenied, boolean retriable, boolean renderFailed) {
            this(message, authDenied, retriable, renderFailed, false);
        }

        private RenderException(String message, boolean authDenied, boolean retriable, boolean renderFailed,
                boolean outboundRefused) {
            super(message);
            this.authDenied = authDenied;
            this.retriable = retriable;
            this.renderFailed = renderFailed;
            this.outboundRefused = outboundRefused;
        }

        /**
         * A chart source the outbound policy refuses: {@code what} (the chart, the repository, redacted) and the
         * refusal, which names the field the URL came from and the rule. Nothing was dialled; a retry cannot fix it.
         */
        public static RenderException outboundRefused(String what, OutboundRefused refusal) {
            return new RenderException(what + " refused by the outbound policy (conveyor.outbound.*): " + refusal
                    .getMessage(), false, false, false, true);
        }

        /** Whether the installation's outbound policy refused the source (or a redirect it answered). */
        public boolean outboundRefused() {
            return outboundRefused;
        }

        /** A chart that was fetched but that Helm could not render with the values (the chart or values must change). */
        public static RenderException renderFailed(String message) {
            return new RenderException(message, false, false, true);
        }

        /**
         * Whether the chart was there (fetched, or a local directory) and Helm failed to render it: a template or values
         * error, not a failure of the source.
         */
        public boolean renderFailed() {
            return renderFailed;
        }

        /** Whether the chart's repository or registry refused the credentials (or wanted some). */
        public boolean authDenied() {
            return authDenied;
        }

        /**
         * Whether a retry can fix it: a network failure, a timeout, an HTTP 5xx or 429. The reconciler marks a release
         * {@code Stalled} only when this is false.
         */
        public boolean retriable() {
            return retriable;
        }
    }

    /** Redirects a Helm repository may answer in a row; each hop is checked against the outbound policy. */
    static final int MAX_REDIRECTS = 5;

    /**
     * Largest chart archive downloaded from a Helm repository or pulled from an OCI registry (the limit Helm puts on a
     * decompressed chart: a larger archive cannot be a chart Helm renders).
     */
    static final long MAX_ARCHIVE_BYTES = GitopsSnapshot.MAX_CHART_BYTES;

    private final Path workDir;
    // Redirects are followed by hand (get), each hop checked against the outbound policy before it is requested.
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10))
            .followRedirects(HttpClient.Redirect.NEVER).build();
    private final OutboundPolicy outbound;

    private final Set<String> plainHttpHosts;
    private final ChartCredentials credentials;
    private volatile GitCharts gitCharts;
    private final OciPuller ociPuller;

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
        this(workDir, plainHttpHosts, credentials, null);
    }

    /**
     * @param plainHttpHosts OCI registries ({@code host:port}) reached over plain HTTP
     * @param credentials the credentials of Helm repositories and OCI registries
     * @param gitCharts charts from other git repositories, or null for anonymous access (file://, public HTTPS)
     */
    public ChartRenderer(Path workDir, Set<String> plainHttpHosts, ChartCredentials credentials, GitCharts gitCharts) {
        this(workDir, plainHttpHosts, credentials, gitCharts, null);
    }

    /**
     * @param plainHttpHosts OCI registries ({@code host:port}) reached over plain HTTP
     * @param credentials the credentials of Helm repositories and OCI registries
     * @param gitCharts charts from other git repositories, or null for anonymous access (file://, public HTTPS)
     * @param outbound the installation's outbound policy: every chart source URL named in a GitOps repository (Helm
     *     repository, {@code index.yaml}, its chart URLs and every redirect hop, OCI registry, chart git repository)
     *     is checked against it right before it is dialled; null checks nothing (tests of the fetching alone)
     */
    public ChartRenderer(Path workDir, Set<String> plainHttpHosts, ChartCredentials credentials, GitCharts gitCharts,
            OutboundPolicy outbound) {
        this.outbound = outbound;
        this.workDir = workDir;
        this.plainHttpHosts = Set.copyOf(plainHttpHosts);
        this.credentials = credentials;
        this.gitCharts = gitCharts;
        this.ociPuller = new OciPuller(http, this::checkOutbound, workDir.resolve("remote").resolve("oci"),
                MAX_ARCHIVE_BYTES);
    }

    private GitCharts gitCharts() {
        GitCharts g = gitCharts;
        if (g == null) {
            synchronized (this) {
                if (gitCharts == null) {
                    dev.conveyor.stage.git.GitAccess anonymous = dev.conveyor.stage.git.GitAccess.create(
                            dev.conveyor.stage.git.GitCredentials.none());
                    if (outbound != null) {
                        anonymous = anonymous.restrictedTo(outbound, GitCharts.FIELD);
                    }
                    dev.conveyor.stage.git.RepoMirrors mirrors = new dev.conveyor.stage.git.RepoMirrors(workDir
                            .resolve("chart-mirrors"), anonymous);
                    gitCharts = new GitCharts(url -> mirrors, workDir, outbound);
                }
                g = gitCharts;
            }
        }
        return g;
    }

    /**
     * The render-cache key of a chart source other than {@link ChartSource.GitPath} (whose key is the content of its
     * directory): for a git source the URL, path and the commit its ref resolves to now (so a moved branch renders
     * again); for a Helm repository with a semver range, the version the range resolves to in the index now; the
     * source itself otherwise. Fetches what it must to know (the git remote, the index).
     *
     * @throws RenderException when the source cannot be reached or the ref/version does not exist, with the root cause
     */
    public String sourceKey(ChartSource source) throws RenderException {
        return resolve(source).key();
    }

    /**
     * What a chart source other than {@link ChartSource.GitPath} resolves to now.
     *
     * @param key the render-cache key ({@link #sourceKey})
     * @param chartName the chart's name (a git chart's own {@code Chart.yaml}, else the name the source asks for)
     * @param chartVersion the chart's version (a git chart's {@code Chart.yaml}, a range's resolved version)
     * @param appVersion a git chart's {@code appVersion}, or null
     */
    public record Resolved(String key, String chartName, String chartVersion, String appVersion) {

        /**
         * A chart whose {@code Chart.yaml} is {@code text}: its name, version and appVersion ({@code name} and
         * {@code 0.0.0} when it has none or cannot be read: the render says why).
         */
        public static Resolved ofChartYaml(String key, String file, String text, String name) {
            Map<String, Object> chart;
            try {
                chart = YamlDocuments.parseMap(file, text);
            } catch (YamlDocuments.InvalidYamlException e) {
                chart = Map.of();
            }
            return new Resolved(key, String.valueOf(chart.getOrDefault("name", name)), String.valueOf(chart
                    .getOrDefault("version", "0.0.0")), chart.get("appVersion") == null
                            ? null
                            : String.valueOf(chart.get("appVersion")));
        }
    }

    /**
     * Resolves a chart source other than {@link ChartSource.GitPath}: a git ref to its commit (and writes that
     * commit's chart directory, once), a Helm repository's range to a version of its index. Fetches what it must.
     *
     * @throws RenderException when the source cannot be reached or the ref/version does not exist, with the root cause
     */
    public Resolved resolve(ChartSource source) throws RenderException {
        if (source instanceof ChartSource.GitPath) {
            throw new IllegalArgumentException("the key of a chart of the GitOps repository is its content key");
        }
        if (source instanceof ChartSource.Git git) {
            String commit = gitCharts().resolve(git);
            Path chartYaml = gitCharts().chart(git, commit).resolve("Chart.yaml");
            String text;
            try {
                text = Files.readString(chartYaml);
            } catch (IOException e) {
                text = "";
            }
            return Resolved.ofChartYaml("git " + dev.conveyor.stage.git.GitUrls.redact(git.url()) + " " + git.path()
                    + " @" + commit, chartYaml.toString(), text,
                    git.path().isEmpty()
                            ? "chart"
                            : git.path().substring(git.path().lastIndexOf('/') + 1));
        }
        if (source instanceof ChartSource.HelmRepository repo && !dev.conveyor.fluxsync.domain.SemverRange.isExact(
                repo.version())) {
            String version = resolveVersion(repo, credential(source));
            return new Resolved("helm " + repo.url() + " " + repo.chart() + " " + version, repo.chart(), version, null);
        }
        if (source instanceof ChartSource.HelmRepository repo) {
            return new Resolved(source.toString(), repo.chart(), repo.version(), null);
        }
        ChartSource.Oci oci = (ChartSource.Oci) source;
        String name = oci.reference().substring(oci.reference().lastIndexOf('/') + 1);
        if (!dev.conveyor.fluxsync.domain.SemverRange.isExact(oci.version())) {
            String tag = ociPuller.resolveTag(ociSession(oci, credential(source)));
            String version = tag.replace('_', '+');
            return new Resolved("oci " + oci.reference() + " " + version, name, version, null);
        }
        return new Resolved(source.toString(), name, oci.version(), null);
    }

    private ChartCredentials.Credential credential(ChartSource source) throws RenderException {
        try {
            return credentials.of(source).orElse(null);
        } catch (ChartCredentials.Unavailable e) {
            throw new RenderException(e.getMessage());
        }
    }

    /**
     * Renders the chart at {@code chart} (a directory or a .tgz), hooks and tests included with their
     * {@code helm.sh/hook} annotations, as {@code helm template} prints them: the chart is rendered from a private copy
     * whose hook annotation is renamed for Helm and back in the output ({@link HookRenaming}); the copy is deleted
     * right after. {@code chart} itself is never changed (it is a cached directory or download).
     */
    public String render(Path chart, String releaseName, String namespace, Map<String, Object> values)
            throws RenderException {
        return render(chart, chart.getFileName().toString(), releaseName, namespace, values);
    }

    /** {@link #render(Path, String, String, Map)}, the chart named {@code what} in messages. */
    private String render(Path chart, String what, String releaseName, String namespace, Map<String, Object> values)
            throws RenderException {
        Path copy = null;
        try {
            Files.createDirectories(workDir);
            copy = Files.createTempDirectory(workDir, "render-");
            Path dir = Files.isDirectory(chart)
                    ? copyTree(chart, copy.resolve("chart"))
                    : HookRenaming.unpackChart(chart, copy);
            HookRenaming.prepare(dir, List.of());
            return HookRenaming.restore(template(new Helm(dir).template(), releaseName, namespace, values, what,
                    true));
        } catch (RenderException e) {
            throw RenderException.renderFailed(HookRenaming.restore(e.getMessage()));
        } catch (HookRenaming.Refused e) {
            throw RenderException.renderFailed("chart " + what + ": " + e.getMessage());
        } catch (IOException | java.io.UncheckedIOException e) {
            throw RenderException.renderFailed("cannot prepare chart " + what + " for rendering: " + e.getMessage());
        } finally {
            deleteTree(copy);
        }
    }

    /** Copies the directories and regular files of {@code from} (nothing else: a chart holds no links). */
    private static Path copyTree(Path from, Path to) throws IOException {
        try (java.util.stream.Stream<Path> files = Files.walk(from)) {
            for (Path f : files.toList()) {
                Path target = to.resolve(from.relativize(f).toString());
                if (Files.isDirectory(f, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                    Files.createDirectories(target);
                } else if (Files.isRegularFile(f, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                    Files.copy(f, target);
                }
            }
        }
        return to;
    }

    private static void deleteTree(Path dir) {
        if (dir == null) {
            return;
        }
        try (java.util.stream.Stream<Path> files = Files.walk(dir)) {
            for (Path f : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(f);
            }
        } catch (IOException | java.io.UncheckedIOException ignored) {
            // best effort; the work directory is private to the service
        }
    }

    /** Renders a chart from a Helm repository or an OCI registry. */
    public String renderRemote(ChartSource source, String releaseName, String namespace, Map<String, Object> values)
            throws RenderException {
        if (source instanceof ChartSource.Git git) {
            GitCharts charts = gitCharts();
            return render(charts.chart(git, charts.resolve(git)), releaseName, namespace, values);
        }
        if (source instanceof ChartSource.GitPath) {
            throw new IllegalArgumentException("a chart of the GitOps repository is rendered from its directory");
        }
        ChartCredentials.Credential credential = credential(source);
        if (source instanceof ChartSource.Oci oci) {
            return renderOci(oci, credential, releaseName, namespace, values);
        }
        ChartSource.HelmRepository repo = (ChartSource.HelmRepository) source;
        return render(download(repo, credential), releaseName, namespace, values);
    }

    /**
     * Renders a chart from an OCI registry: flux-sync pulls it itself ({@link OciPuller}: the tag, its manifest, the
     * chart layer, digest and size checked, anonymous, basic auth or the registry's token flow, every URL through the
     * outbound policy) and renders the archive like a Helm repository's ({@link #render}), so its hooks are reported
     * and its tests never applied (README, "Helm hooks and tests").
     */
    private String renderOci(ChartSource.Oci oci, ChartCredentials.Credential credential, String releaseName,
            String namespace, Map<String, Object> values) throws RenderException {
        OciPuller.Session session = ociSession(oci, credential);
        OciPuller.Layer layer = ociPuller.chartLayer(session, ociPuller.resolveTag(session));
        return render(ociPuller.archive(session, layer), oci.reference() + ":" + layer.tag(), releaseName,
                namespace, values);
    }

    private OciPuller.Session ociSession(ChartSource.Oci oci, ChartCredentials.Credential credential)
            throws RenderException {
        return ociPuller.session(oci, oci.plainHttp() || plainHttpHosts.contains(oci.host()), credential);
    }

    private String template(TemplateCommand cmd, String releaseName, String namespace, Map<String, Object> values,
            String what) throws RenderException {
        return template(cmd, releaseName, namespace, values, what, false);
    }

    /** @param renameHooks whether the chart was prepared by {@link HookRenaming} (the values are renamed with it) */
    private String template(TemplateCommand cmd, String releaseName, String namespace, Map<String, Object> values,
            String what, boolean renameHooks) throws RenderException {
        Path valuesFile = null;
        try {
            Files.createDirectories(workDir);
            valuesFile = Files.createTempFile(workDir, "values-", ".yaml",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            DumperOptions options = new DumperOptions();
            options.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
            String dumped = new Yaml(options).dump(values);
            Files.writeString(valuesFile, renameHooks ? HookRenaming.rename(dumped) : dumped);
            return cmd.withName(releaseName).withNamespace(namespace).withValuesFile(valuesFile).call();
        } catch (IOException e) {
            throw new RenderException("cannot prepare the values of " + what + ": " + e.getMessage());
        } catch (RuntimeException e) {
            throw new RenderException("helm template " + what + " failed: " + e.getMessage());
        } finally {
            HelmSignals.takeBack();
            if (valuesFile != null) {
                try {
                    Files.deleteIfExists(valuesFile);
                } catch (IOException ignored) {
                    // best effort; the directory is private to the service
                }
            }
        }
    }

    /**
     * The version of the chart the source's version resolves to in the repository's index: itself when exact, the
     * highest that satisfies it when it is a semver range or {@code *}.
     */
    String resolveVersion(ChartSource.HelmRepository repo, ChartCredentials.Credential credential)
            throws RenderException {
        return entry(repo, credential).version;
    }

    private record IndexEntry(String version, URI url) {
    }

    /** Reads the index and finds the chart version the source asks for. */
    @SuppressWarnings("unchecked")
    private IndexEntry entry(ChartSource.HelmRepository repo, ChartCredentials.Credential credential)
            throws RenderException {
        String base = repo.url().endsWith("/") ? repo.url() : repo.url() + "/";
        URI indexUri;
        try {
            indexUri = URI.create(base + "index.yaml");
        } catch (IllegalArgumentException e) {
            throw new RenderException(repo.field() + " " + GitUrls.redact(repo.url()) + " is not a valid URL");
        }
        String index = fetch(repo, base, indexUri, String.class, credential, repo.field());
        Map<String, Object> doc;
        try {
            doc = YamlDocuments.parseMap("index.yaml of " + base, index);
        } catch (YamlDocuments.InvalidYamlException e) {
            throw new RenderException("the index.yaml of the Helm repository " + base + " is not valid: " + e
                    .getMessage());
        }
        Object entries = doc.get("entries") instanceof Map<?, ?> m ? m.get(repo.chart()) : null;
        if (!(entries instanceof List<?> versions)) {
            throw new RenderException("chart " + repo.chart() + " is not in " + base + "index.yaml");
        }
        Map<String, Map<String, Object>> byVersion = new java.util.LinkedHashMap<>();
        for (Object v : versions) {
            if (v instanceof Map<?, ?> entry && entry.get("urls") instanceof List<?> u && !u.isEmpty()) {
                byVersion.putIfAbsent(String.valueOf(entry.get("version")), (Map<String, Object>) entry);
            }
        }
        String wanted = repo.version();
        String version;
        if (byVersion.containsKey(wanted)) {
            version = wanted;
        } else if (dev.conveyor.fluxsync.domain.SemverRange.isExact(wanted)) {
            throw new RenderException("chart " + repo.chart() + " " + wanted + " is not in " + base + "index.yaml"
                    + latest(byVersion.keySet()));
        } else {
            dev.conveyor.fluxsync.domain.SemverRange range;
            try {
                range = dev.conveyor.fluxsync.domain.SemverRange.parse(wanted);
            } catch (IllegalArgumentException e) {
                throw new RenderException("chart " + repo.chart() + ": version " + e.getMessage());
            }
            version = range.highest(byVersion.keySet()).orElseThrow(() -> new RenderException("no version of chart "
                    + repo.chart() + " in " + base + "index.yaml satisfies " + wanted + latest(byVersion.keySet())));
        }
        List<?> urls = (List<?>) byVersion.get(version).get("urls");
        try {
            return new IndexEntry(version, URI.create(base).resolve(String.valueOf(urls.get(0))));
        } catch (IllegalArgumentException e) {
            throw new RenderException("chart " + repo.chart() + " " + version + " in " + GitUrls.redact(base)
                    + "index.yaml has an URL that is not valid");
        }
    }

    private static String latest(java.util.Collection<String> versions) {
        return versions.isEmpty()
                ? " (it has no version)"
                : " (it has " + String.join(", ", versions.stream()
                        .limit(10).toList()) + (versions.size() > 10 ? ", ..." : "") + ")";
    }

    /** Fetches {@code chart-version.tgz} through the repository's index, cached by URL and resolved version. */
    Path download(ChartSource.HelmRepository repo, ChartCredentials.Credential credential) throws RenderException {
        String base = repo.url().endsWith("/") ? repo.url() : repo.url() + "/";
        boolean exact = dev.conveyor.fluxsync.domain.SemverRange.isExact(repo.version());
        // Cached per credential origin too: a chart fetched with one tenant's credentials is not another's.
        Path cached = cachedArchive(base, repo.chart(), repo.version(), credential);
        if (exact && Files.exists(cached)) {
            return cached;
        }
        IndexEntry entry = entry(repo, credential);
        cached = cachedArchive(base, repo.chart(), entry.version, credential);
        if (Files.exists(cached)) {
            return cached;
        }
        String baseHost = ChartCredentials.hostOf(base);
        // Credentials go to the repository's own host only (Helm's default, no passCredentials).
        ChartCredentials.Credential forUrl = baseHost != null && baseHost.equals(ChartCredentials.hostOf(entry.url
                .toString())) ? credential : null;
        try {
            Files.createDirectories(cached.getParent());
            Path tmp = Files.createTempFile(cached.getParent(), "chart-", ".tgz");
            try (InputStream in = fetch(repo, base, entry.url, InputStream.class, forUrl, indexField(repo));
                    java.io.OutputStream out = Files.newOutputStream(tmp)) {
                byte[] buffer = new byte[64 * 1024];
                long total = 0;
                for (int n; (n = in.read(buffer)) >= 0;) {
                    total += n;
                    if (total > MAX_ARCHIVE_BYTES) {
                        Files.deleteIfExists(tmp);
                        throw new RenderException("chart " + repo.chart() + " " + entry.version + " from " + base
                                + " is larger than " + MAX_ARCHIVE_BYTES + " bytes");
                    }
                    out.write(buffer, 0, n);
                }
            }
            // rename(2) replaces in one step: REPLACE_EXISTING alone deletes the target first, and a render reading it
            // then (another release of the same chart, in parallel) finds no file.
            Files.move(tmp, cached, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            return cached;
        } catch (IOException e) {
            throw new RenderException("cannot fetch chart " + repo.chart() + " " + entry.version + " from " + base
                    + ": " + cause(e, entry.url).text, false, cause(e, entry.url).retriable);
        }
    }

    private Path cachedArchive(String base, String chart, String version, ChartCredentials.Credential credential) {
        return workDir.resolve("remote").resolve(LiveComparison.hash(Map.of("u", base, "c", chart, "v", version, "a",
                credential == null ? "" : credential.origin())) + ".tgz");
    }

    /** The field the URLs of a chart's {@code index.yaml} entry come from (the index the repository serves). */
    static String indexField(ChartSource.HelmRepository repo) {
        return "index.yaml entries." + repo.chart() + ".urls (" + repo.field() + ")";
    }

    /**
     * Checks {@code url} against the outbound policy right before it is dialled (with DNS: every address the host
     * resolves to).
     *
     * @param field the field the URL came from, named in the refusal
     * @param what the chart or repository for people (redacted)
     * @throws RenderException a refusal ({@link RenderException#outboundRefused()}), or a host that does not resolve
     *     now (retriable)
     */
    private void checkOutbound(String field, String url, String what) throws RenderException {
        if (outbound == null) {
            return;
        }
        try {
            outbound.checkConnect(field, url);
        } catch (OutboundRefused e) {
            throw RenderException.outboundRefused(what, e);
        } catch (StageException e) {
            throw new RenderException(what + ": " + e.getMessage(), false, e.kind() == FailureKind.TRANSIENT);
        }
    }

    /** One GET with the failures turned into a {@link RenderException} naming the root cause. */
    private <T> T fetch(ChartSource.HelmRepository repo, String base, URI uri, Class<T> type,
            ChartCredentials.Credential credential, String field) throws RenderException {
        try {
            return get(uri, type, credential, field, "chart " + repo.chart() + " " + repo.version() + " from "
                    + GitUrls.redact(base));
        } catch (AuthDenied e) {
            throw new RenderException("the Helm repository " + base + " answered HTTP " + e.status + " to " + e.uri
                    + (credential == null
                            ? " (it wants credentials: configure a secretRef or conveyor.flux-sync.chart-repositories)"
                            : ": it refused the credentials of " + credential.origin()),
                    true);
        } catch (IOException | RuntimeException e) {
            Cause c = cause(e, uri);
            String text = credential == null ? c.text : credential.scrub(c.text);
            throw new RenderException("cannot fetch chart " + repo.chart() + " " + repo.version() + " from " + base
                    + ": " + text, false, c.retriable);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RenderException("interrupted while fetching " + repo.chart(), false, true);
        }
    }

    /** A failure's root cause for people, and whether a retry can fix it. */
    record Cause(String text, boolean retriable) {
    }

    /**
     * The root cause of a failed request: host not found, connection refused, timed out, TLS, or the HTTP status
     * (5xx and 429 can pass with a retry, other statuses cannot). Never {@code null}: Java's connect failures carry no
     * message of their own.
     */
    static Cause cause(Throwable e, URI uri) {
        String host = uri.getHost() + (uri.getPort() < 0 ? "" : ":" + uri.getPort());
        // Java wraps an unresolved host in a ConnectException: look for it through the whole chain first.
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof java.net.UnknownHostException
                    || t instanceof java.nio.channels.UnresolvedAddressException) {
                return new Cause("host not found (" + uri.getHost() + ")", true);
            }
        }
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof TooManyRedirects r) {
                return new Cause(r.getMessage(), false);
            }
            if (t instanceof HttpStatus s) {
                return new Cause("HTTP " + s.status + " for " + s.uri, s.status >= 500 || s.status == 429
                        || s.status == 408);
            }
            if (t instanceof java.net.ConnectException && !(t instanceof java.net.http.HttpConnectTimeoutException)) {
                return new Cause("connection refused by " + host, true);
            }
            if (t instanceof java.net.http.HttpTimeoutException || t instanceof java.net.SocketTimeoutException) {
                return new Cause("timed out talking to " + host, true);
            }
            if (t instanceof javax.net.ssl.SSLException) {
                return new Cause("TLS with " + host + " failed: " + t.getMessage(), false);
            }
            if (t instanceof java.net.NoRouteToHostException) {
                return new Cause("no route to " + host, true);
            }
        }
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return new Cause(root.getClass().getSimpleName() + (root.getMessage() == null
                ? ""
                : ": " + root
                        .getMessage())
                + " (" + host + ")", true);
    }

    /** An HTTP status other than 200 from a Helm repository. */
    static class HttpStatus extends IOException {
        final int status;
        final URI uri;

        HttpStatus(int status, URI uri) {
            super("HTTP " + status + " for " + uri);
            this.status = status;
            this.uri = uri;
        }
    }

    /** More than {@link #MAX_REDIRECTS} redirects in a row (a retry cannot fix a loop). */
    static final class TooManyRedirects extends IOException {
        TooManyRedirects(URI uri) {
            super("more than " + MAX_REDIRECTS + " redirects for " + GitUrls.redact(uri.toString()));
        }
    }

    /** HTTP 401 or 403 from a Helm repository. */
    private static final class AuthDenied extends HttpStatus {
        AuthDenied(int status, URI uri) {
            super(status, uri);
        }
    }

    /**
     * A GET that follows redirects by hand: the URL and every hop are checked against the outbound policy right
     * before they are requested (so an allowed repository cannot redirect to a refused address), and the credential
     * goes to the first URL's host only. A redirect's target is never quoted; only the refusal's rule is.
     */
    @SuppressWarnings("unchecked")
    private <T> T get(URI start, Class<T> type, ChartCredentials.Credential credential, String field, String what)
            throws IOException, InterruptedException, RenderException {
        URI uri = start;
        for (int hop = 0; hop <= MAX_REDIRECTS; hop++) {
            checkOutbound(field, uri.toString(), hop == 0
                    ? what
                    : what + " (a redirect answered by " + start.getHost() + ")");
            HttpRequest.Builder builder = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(60)).GET();
            if (credential != null && sameOrigin(start, uri)) {
                builder.header("Authorization", credential.authorization());
            }
            HttpResponse<InputStream> r = http.send(builder.build(), HttpResponse.BodyHandlers.ofInputStream());
            int status = r.statusCode();
            if (status >= 300 && status < 400 && status != 304 && r.headers().firstValue("Location").isPresent()) {
                r.body().close();
                try {
                    uri = uri.resolve(r.headers().firstValue("Location").get());
                } catch (IllegalArgumentException e) {
                    throw new HttpStatus(status, start);
                }
                continue;
            }
            if (status == 401 || status == 403) {
                r.body().close();
                throw new AuthDenied(status, start);
            }
            if (status != 200) {
                r.body().close();
                throw new HttpStatus(status, start);
            }
            if (type == String.class) {
                try (InputStream in = r.body()) {
                    return (T) new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
                }
            }
            return (T) r.body();
        }
        throw new TooManyRedirects(start);
    }

    /** Same scheme, host and port: where a credential may be sent again. */
    private static boolean sameOrigin(URI a, URI b) {
        return java.util.Objects.equals(a.getScheme(), b.getScheme()) && java.util.Objects.equals(a.getHost(), b
                .getHost()) && a.getPort() == b.getPort();
    }
}
