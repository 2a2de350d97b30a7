package dev.conveyor.fluxsync.service;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import dev.conveyor.fluxsync.client.ChartRenderer;
import dev.conveyor.fluxsync.client.GitopsSnapshot;
import dev.conveyor.fluxsync.client.KubeCluster;
import dev.conveyor.fluxsync.domain.ChartSource;
import dev.conveyor.fluxsync.domain.HelmHooks;
import dev.conveyor.fluxsync.domain.KindOrder;
import dev.conveyor.fluxsync.domain.LiveComparison;
import dev.conveyor.fluxsync.domain.Manifest;
import dev.conveyor.fluxsync.domain.ObjectRef;
import dev.conveyor.fluxsync.domain.ProblemReason;
import dev.conveyor.fluxsync.domain.ReleaseSpec;
import dev.conveyor.fluxsync.domain.Values;
import dev.conveyor.fluxsync.domain.ValuesRef;
import dev.conveyor.fluxsync.domain.YamlDocuments;

/**
 * Phase "render releases": merges a release's values (inline and {@code valuesFrom}), renders its chart (cached by
 * chart content, values, name and namespace; hooks and tests included, see {@link ChartRenderer#render}) and reads the
 * rendering into objects of the release. Helm hooks are never applied as objects ({@link HelmHooks}): test hooks
 * ({@code helm.sh/hook: test}, {@code test-success}, {@code test-failure}) are dropped, as {@code helm upgrade} never
 * runs them; install/upgrade/delete/rollback hooks are not run and are reported as skipped, each with its reason, in
 * the release's message and the log (see the README, "Helm hooks").
 */
final class ReleaseRenderer {

    /** The annotation that makes a document a Helm hook. */
    static final String HOOK_ANNOTATION = HelmHooks.ANNOTATION;

    /** A release that cannot be rendered, with its typed reason. */
    static final class Failure extends Exception {
        final ProblemReason reason;

        Failure(ProblemReason reason, String message) {
            super(message);
            this.reason = reason;
        }
    }

    /**
     * A rendering.
     *
     * @param manifests the objects to apply, in kind order
     * @param skippedHooks the hooks not run ({@code Kind/namespace/name (hook events; reason)}); test hooks are not
     *     listed
     * @param key the render key (chart content, values, name, namespace)
     * @param yaml what Helm rendered without its hooks and tests: the release's manifest, as Helm stores it
     * @param values the merged values
     * @param chart the chart's name and version, for Helm's storage
     */
    record Rendering(List<Manifest> manifests, List<String> skippedHooks, String key, String yaml,
            Map<String, Object> values, ChartRenderer.Resolved chart) {
    }

    private final KubeCluster cluster;
    private final ChartRenderer renderer;
    private final Path workDir;

    ReleaseRenderer(KubeCluster cluster, ChartRenderer renderer, Path workDir) {
        this.cluster = cluster;
        this.renderer = renderer;
        this.workDir = workDir;
    }

    /** Renders {@code release}; {@code sensitive} withholds Helm's message (values decrypted from SOPS). */
    Rendering render(RepoState state, GitopsSnapshot snapshot, ReleaseSpec release, boolean sensitive)
            throws Failure {
        Map<String, Object> values = new LinkedHashMap<>(release.values());
        for (ValuesRef ref : release.valuesFrom()) {
            String where = ref.kind() + " " + ref.namespace() + "/" + ref.name();
            String text = cluster.readData(ref.kind(), ref.namespace(), ref.name(), ref.key()).orElse(null);
            if (text == null) {
                if (ref.optional()) {
                    continue;
                }
                throw new Failure(ProblemReason.VALUES_INVALID, where + " has no key " + ref.key());
            }
            try {
                values = Values.merge(values, YamlDocuments.parseMap(where + " key " + ref.key(), text));
            } catch (YamlDocuments.InvalidYamlException e) {
                // The message names the object and key; the content (maybe secret) is never quoted.
                throw new Failure(ProblemReason.VALUES_INVALID, where + " key " + ref.key()
                        + " is not valid YAML values");
            }
        }
        // The chart's key: the content of its directory for a chart of this repository; otherwise what the source
        // resolves to now (a git ref's commit, a range's version), so a moved branch or a new version renders again.
        if (release.chart() instanceof ChartSource.GitPath g && !snapshot.symlinksUnder(g.path()).isEmpty()) {
            // Never followed nor written out: a chart with a link would render differently from what git holds.
            GitopsSnapshot.Symlink link = snapshot.symlinksUnder(g.path()).get(0);
            throw new Failure(link.leaves() ? ProblemReason.CHART_PATH_ESCAPES : ProblemReason.RENDER_FAILED,
                    "chart " + g.path() + ": " + link.describe());
        }
        ChartRenderer.Resolved chart;
        try {
            chart = release.chart() instanceof ChartSource.GitPath g
                    ? gitPathChart(snapshot, g, release.releaseName())
                    : renderer.resolve(release.chart());
        } catch (ChartRenderer.RenderException e) {
            throw failure(release, e, sensitive);
        }
        String chartKey = chart.key();
        String key = LiveComparison.hash(Map.of("chart", chartKey, "values", LiveComparison.hash(values), "name",
                release.releaseName(), "ns", release.targetNamespace()));
        String yaml = state.renders.get(key);
        if (yaml == null) {
            try {
                if (release.chart() instanceof ChartSource.GitPath g) {
                    Path dir = workDir.resolve("charts").resolve(chartKey);
                    if (!Files.exists(dir)) {
                        Files.createDirectories(dir.getParent());
                        snapshot.materialize(g.path(), dir);
                    }
                    yaml = renderer.render(dir, release.releaseName(), release.targetNamespace(), values);
                } else {
                    yaml = renderer.renderRemote(release.chart(), release.releaseName(), release.targetNamespace(),
                            values);
                }
            } catch (ChartRenderer.RenderException e) {
                throw failure(release, e, sensitive);
            } catch (IOException e) {
                throw new Failure(ProblemReason.RENDER_FAILED, "cannot write the chart: " + rootCause(e));
            }
            if (state.renders.size() > 2_000) {
                state.renders.clear();
                state.parsed.clear();
            }
            state.renders.put(key, yaml);
        }
        // the objects of a rendering read once per render key and release (a no-op sync does not parse them again);
        // they are never changed after (applies copy them)
        String parsedKey = key + "\n" + release.owner();
        RepoState.Parsed parsed = state.parsed.get(parsedKey);
        if (parsed == null || !parsed.yaml().equals(yaml)) {
            List<String> hooks = new ArrayList<>();
            List<Manifest> manifests = parse(release, yaml, hooks);
            parsed = new RepoState.Parsed(yaml, List.copyOf(manifests), List.copyOf(hooks), withoutHooks(release,
                    yaml));
            if (state.parsed.size() > 2_000) {
                state.parsed.clear();
            }
            state.parsed.put(parsedKey, parsed);
        }
        return new Rendering(parsed.manifests(), parsed.hooks(), key, parsed.withoutHooks(), values, chart);
    }

    /** Chart.yaml of a chart of this repository, by content key, path and release name: read once, not per sync. */
    private final Map<String, ChartRenderer.Resolved> gitPathCharts = new java.util.concurrent.ConcurrentHashMap<>();

    private ChartRenderer.Resolved gitPathChart(GitopsSnapshot snapshot, ChartSource.GitPath g, String releaseName) {
        String contentKey = snapshot.contentKey(g.path());
        String cacheKey = contentKey + "\n" + g.path() + "\n" + releaseName;
        ChartRenderer.Resolved resolved = gitPathCharts.get(cacheKey);
        if (resolved == null) {
            resolved = ChartRenderer.Resolved.ofChartYaml(contentKey, g.path() + "/Chart.yaml", chartYaml(snapshot, g),
                    releaseName);
            if (gitPathCharts.size() > 4_000) {
                gitPathCharts.clear();
            }
            gitPathCharts.put(cacheKey, resolved);
        }
        return resolved;
    }

    private static Failure failure(ReleaseSpec release, ChartRenderer.RenderException e, boolean sensitive) {
        return new Failure(reason(release, e), sensitive
                ? "helm template failed (its message is withheld: the release's values were decrypted from SOPS)"
                : e.getMessage());
    }

    /**
     * The reason of a render failure: refused credentials; a chart that Helm could not render (any source); a source
     * that a retry may reach ({@link ChartRenderer.RenderException#retriable()}: never {@code Stalled}); else a source
     * that does not hold what the release asks for.
     */
    static ProblemReason reason(ReleaseSpec release, ChartRenderer.RenderException e) {
        if (e.outboundRefused()) {
            return ProblemReason.OUTBOUND_REFUSED;
        }
        if (e.authDenied()) {
            return ProblemReason.CHART_REPO_AUTH_DENIED;
        }
        if (release.chart() instanceof ChartSource.GitPath || e.renderFailed()) {
            return ProblemReason.RENDER_FAILED;
        }
        return e.retriable() ? ProblemReason.CHART_SOURCE_UNREACHABLE : ProblemReason.CHART_SOURCE_INVALID;
    }

    /** The text of the {@code Chart.yaml} of a chart of this repository, empty when it has none. */
    private static String chartYaml(GitopsSnapshot snapshot, ChartSource.GitPath g) {
        try {
            return snapshot.readFile(g.path() + "/Chart.yaml").orElse("");
        } catch (IOException e) {
            return "";
        }
    }

    private static String rootCause(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    }

    /** Reads a rendering into the release's objects; hooks not run are added to {@code skippedHooks}. */
    @SuppressWarnings("unchecked")
    static List<Manifest> parse(ReleaseSpec release, String yaml, List<String> skippedHooks) throws Failure {
        List<Map<String, Object>> docs;
        try {
            docs = YamlDocuments.parse("rendered chart of " + release.id(), yaml);
        } catch (YamlDocuments.InvalidYamlException e) {
            throw new Failure(ProblemReason.RENDER_FAILED, e.getMessage());
        }
        List<Manifest> out = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (Map<String, Object> doc : docs) {
            Object apiVersion = doc.get("apiVersion");
            Object kind = doc.get("kind");
            Map<String, Object> md = doc.get("metadata") instanceof Map<?, ?> m ? (Map<String, Object>) m : null;
            if (!(apiVersion instanceof String) || !(kind instanceof String) || md == null || !(md.get(
                    "name") instanceof String name)) {
                throw new Failure(ProblemReason.RENDER_FAILED,
                        "the chart rendered a document without apiVersion, kind or metadata.name");
            }
            String ns = "";
            if (!KindOrder.CLUSTER_SCOPED.contains(kind)) {
                ns = md.get("namespace") instanceof String n ? n : release.targetNamespace();
                md.put("namespace", ns);
            }
            Object hook = md.get("annotations") instanceof Map<?, ?> a ? a.get(HOOK_ANNOTATION) : null;
            if (hook != null) {
                if (!testHook(String.valueOf(hook))) {
                    skippedHooks.add(HelmHooks.skipped((String) kind, ns, name, String.valueOf(hook)));
                }
                continue;
            }
            Map<String, Object> annotations = (Map<String, Object>) md.computeIfAbsent("annotations",
                    k -> new LinkedHashMap<>());
            annotations.put("meta.helm.sh/release-name", release.releaseName());
            annotations.put("meta.helm.sh/release-namespace", release.targetNamespace());
            Map<String, Object> labels = (Map<String, Object>) md.computeIfAbsent("labels", k -> new LinkedHashMap<>());
            labels.putIfAbsent("app.kubernetes.io/managed-by", "Helm");
            ObjectRef ref = new ObjectRef((String) apiVersion, (String) kind, ns, name);
            if (seen.add(ref.id())) {
                out.add(new Manifest(ref, doc, release.owner()));
            }
        }
        out.sort(KindOrder.APPLY);
        return out;
    }

    /** Whether every event of a hook annotation is a test event ({@code test}, {@code test-success/-failure}). */
    static boolean testHook(String events) {
        return HelmHooks.isTest(events);
    }

    /**
     * The rendering without its hook and test documents, as Helm keeps a release's manifest apart from its hooks (what
     * {@code helm get manifest} prints). Documents are split at Helm's {@code ---} lines.
     */
    static String withoutHooks(ReleaseSpec release, String yaml) throws Failure {
        if (!yaml.contains(HOOK_ANNOTATION)) {
            return yaml;
        }
        StringBuilder out = new StringBuilder();
        for (String chunk : yaml.split("(?m)^---[ \\t]*$")) {
            if (!chunk.isBlank() && !holdsHook(release, chunk)) {
                out.append("---").append(chunk);
            }
        }
        return out.toString();
    }

    /** Whether {@code chunk} holds a hook document. */
    private static boolean holdsHook(ReleaseSpec release, String chunk) throws Failure {
        try {
            for (Map<String, Object> doc : YamlDocuments.parse("rendered chart of " + release.id(), chunk)) {
                if (doc.get("metadata") instanceof Map<?, ?> md && md.get("annotations") instanceof Map<?, ?> a && a
                        .get(HOOK_ANNOTATION) != null) {
                    return true;
                }
            }
            return false;
        } catch (YamlDocuments.InvalidYamlException e) {
            throw new Failure(ProblemReason.RENDER_FAILED, e.getMessage());
        }
    }
}
