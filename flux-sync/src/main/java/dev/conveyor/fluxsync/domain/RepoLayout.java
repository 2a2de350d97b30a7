package dev.conveyor.fluxsync.domain;

import static dev.conveyor.fluxsync.domain.Objects2.bool;
import static dev.conveyor.fluxsync.domain.Objects2.list;
import static dev.conveyor.fluxsync.domain.Objects2.map;
import static dev.conveyor.fluxsync.domain.Objects2.string;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * Reads a GitOps repository in the seed's layout into a {@link DesiredState}:
 *
 * <pre>
 * charts/&lt;chart&gt;/...                 charts of FluxHelmReleases (chartGitPath is relative to charts/)
 * namespaces/*.yaml                    namespaces (and anything they need first)
 * releases/manifests/&lt;ns&gt;/**.yaml     plain manifests; objects without a namespace go to &lt;ns&gt;
 * releases/helm/&lt;ns&gt;/**.yaml          release objects (FluxHelmRelease, HelmRelease v1 and v2)
 * </pre>
 *
 * CRDs found anywhere are applied right after the namespaces. Other files are not applied. A file that does not
 * parse, an object without a kind or name, or a release that names a chart outside the repository is reported as a
 * {@link SyncProblem}; everything else is still returned.
 */
public final class RepoLayout {

    public static final String NAMESPACES = "namespaces/";
    public static final String MANIFESTS = "releases/manifests/";
    public static final String HELM = "releases/helm/";

    /** Annotation on FluxHelmRelease and Helm Operator releases: comma-separated {@code namespace/name} list. */
    public static final String DEPENDS_ON_ANNOTATION = "conveyor.dev/depends-on";
    /** Annotation that suspends a release of any kind ({@code "true"}). */
    public static final String SUSPEND_ANNOTATION = "conveyor.dev/suspend";
    /** Annotation that turns on rollback after a failed upgrade for FluxHelmReleases ({@code "true"}). */
    public static final String ROLLBACK_ANNOTATION = "conveyor.dev/rollback-on-failure";

    private final String chartsDir;

    /** @param chartsDir the charts directory, relative to the repository path ({@code charts}) */
    public RepoLayout(String chartsDir) {
        this.chartsDir = chartsDir.replaceAll("^/+|/+$", "");
    }

    /** Whether a repository file is read by {@link #parse}. */
    public static boolean isSyncedFile(String path) {
        return (path.startsWith(NAMESPACES) || path.startsWith(MANIFESTS) || path.startsWith(HELM))
                && (path.endsWith(".yaml") || path.endsWith(".yml"));
    }

    /**
     * @param yamlFiles the contents of the files for which {@link #isSyncedFile} holds, by repository path
     * @param allPaths every file path of the revision (to check that charts exist)
     */
    public DesiredState parse(Map<String, String> yamlFiles, Set<String> allPaths) {
        List<SyncProblem> problems = new ArrayList<>();
        Set<String> held = new LinkedHashSet<>();
        Map<String, List<Map<String, Object>>> docsByFile = new TreeMap<>();
        for (Map.Entry<String, String> file : new TreeMap<>(yamlFiles).entrySet()) {
            if (!isSyncedFile(file.getKey())) {
                continue;
            }
            try {
                docsByFile.put(file.getKey(), YamlDocuments.parse(file.getKey(), file.getValue()));
            } catch (YamlDocuments.InvalidYamlException e) {
                String owner = Manifest.fileOwner(file.getKey());
                problems.add(new SyncProblem(owner, ProblemReason.INVALID_FILE, e.getMessage()));
                held.add(owner);
            }
        }
        Map<String, Boolean> crdClusterScoped = crdScopes(docsByFile);

        Map<String, Manifest> byId = new LinkedHashMap<>();
        for (Map.Entry<String, List<Map<String, Object>>> file : docsByFile.entrySet()) {
            String path = file.getKey();
            String owner = Manifest.fileOwner(path);
            int index = 0;
            for (Map<String, Object> doc : file.getValue()) {
                index++;
                String where = path + " (document " + index + ")";
                Optional<String> apiVersion = string(doc, "apiVersion");
                Optional<String> kind = string(doc, "kind");
                Optional<String> name = string(map(doc, "metadata"), "name");
                if (apiVersion.isEmpty() || kind.isEmpty() || name.isEmpty()) {
                    problems.add(new SyncProblem(owner, ProblemReason.INVALID_OBJECT, where + ": "
                            + (apiVersion.isEmpty() ? "apiVersion" : kind.isEmpty() ? "kind" : "metadata.name")
                            + " is missing"));
                    held.add(owner);
                    continue;
                }
                ObjectRef probe = new ObjectRef(apiVersion.get(), kind.get(), "", name.get());
                boolean cluster = KindOrder.CLUSTER_SCOPED.contains(kind.get())
                        || crdClusterScoped.getOrDefault(probe.group() + "/" + kind.get(), false);
                Map<String, Object> metadata = map(doc, "metadata");
                String namespace = "";
                if (!cluster) {
                    namespace = string(metadata, "namespace").orElse(defaultNamespace(path));
                    metadata.put("namespace", namespace);
                } else {
                    metadata.remove("namespace");
                }
                ObjectRef ref = new ObjectRef(apiVersion.get(), kind.get(), namespace, name.get());
                Manifest manifest = new Manifest(ref, doc, owner);
                Manifest before = byId.putIfAbsent(ref.id(), manifest);
                if (before != null) {
                    problems.add(new SyncProblem(owner, ProblemReason.DUPLICATE_OBJECT, where + ": " + ref
                            + " is already declared in " + before.owner().substring("file:".length())));
                    held.add(owner);
                }
            }
        }

        Map<String, Manifest> helmRepositories = new HashMap<>();
        for (Manifest m : byId.values()) {
            if ("source.toolkit.fluxcd.io".equals(m.ref().group()) && "HelmRepository".equals(m.ref().kind())) {
                helmRepositories.put(m.ref().namespace() + "/" + m.ref().name(), m);
            }
        }
        List<ReleaseSpec> releases = new ArrayList<>();
        for (Manifest m : byId.values()) {
            Optional<ReleaseKind> kind = ReleaseKind.of(m.ref());
            if (kind.isEmpty()) {
                continue;
            }
            String owner = Manifest.releaseOwner(m.ref().namespace(), m.ref().name());
            try {
                releases.add(release(kind.get(), m, allPaths, helmRepositories));
            } catch (ReleaseException e) {
                problems.add(new SyncProblem(owner, e.reason, m.owner().substring("file:".length()) + ": " + m.ref()
                        + ": " + e.getMessage()));
                held.add(owner);
            }
        }
        List<ReleaseSpec> ordered = ReleaseOrder.sort(releases, problems, held);
        List<Manifest> objects = new ArrayList<>(byId.values());
        objects.sort(KindOrder.APPLY);
        return new DesiredState(List.copyOf(objects), ordered, List.copyOf(problems), Set.copyOf(held));
    }

    private static String defaultNamespace(String path) {
        for (String prefix : List.of(MANIFESTS, HELM)) {
            if (path.startsWith(prefix)) {
                String rest = path.substring(prefix.length());
                int slash = rest.indexOf('/');
                if (slash > 0) {
                    return rest.substring(0, slash);
                }
            }
        }
        return "default";
    }

    private static Map<String, Boolean> crdScopes(Map<String, List<Map<String, Object>>> docsByFile) {
        Map<String, Boolean> scopes = new HashMap<>();
        for (List<Map<String, Object>> docs : docsByFile.values()) {
            for (Map<String, Object> doc : docs) {
                if ("CustomResourceDefinition".equals(doc.get("kind"))) {
                    Map<String, Object> spec = map(doc, "spec");
                    Optional<String> group = string(spec, "group");
                    Optional<String> kind = string(map(spec, "names"), "kind");
                    if (group.isPresent() && kind.isPresent()) {
                        scopes.put(group.get() + "/" + kind.get(), "Cluster".equals(spec.get("scope")));
                    }
                }
            }
        }
        return scopes;
    }

    static final class ReleaseException extends RuntimeException {
        final ProblemReason reason;

        ReleaseException(ProblemReason reason, String message) {
            super(message);
            this.reason = reason;
        }
    }

    private ReleaseSpec release(ReleaseKind kind, Manifest m, Set<String> allPaths,
            Map<String, Manifest> helmRepositories) {
        Map<String, Object> body = m.body();
        Map<String, Object> metadata = map(body, "metadata");
        Map<String, Object> annotations = map(metadata, "annotations");
        Map<String, Object> spec = map(body, "spec");
        if (spec == null) {
            throw new ReleaseException(ProblemReason.INVALID_OBJECT, "spec is missing");
        }
        String ns = m.ref().namespace();
        String name = m.ref().name();
        Map<String, Object> values = map(spec, "values") == null ? Map.of() : map(spec, "values");
        List<ValuesRef> valuesFrom = new ArrayList<>();
        List<String> dependsOn = new ArrayList<>();
        boolean suspended = bool(annotations, SUSPEND_ANNOTATION);
        String target = string(spec, "targetNamespace").orElse(ns);
        string(annotations, DEPENDS_ON_ANNOTATION).ifPresent(list -> {
            for (String d : list.split(",")) {
                if (!d.isBlank()) {
                    dependsOn.add(d.contains("/") ? d.trim() : ns + "/" + d.trim());
                }
            }
        });
        return switch (kind) {
            case FLUX_HELM_RELEASE -> {
                String label = string(map(metadata, "labels"), "chart").orElseThrow(() -> new ReleaseException(
                        ProblemReason.INVALID_OBJECT, "metadata.labels.chart is mandatory"));
                String gitPath = string(spec, "chartGitPath").orElseThrow(() -> new ReleaseException(
                        ProblemReason.INVALID_OBJECT, "spec.chartGitPath is mandatory"));
                String path = RepoPaths.resolveWithin(chartsDir, gitPath).orElseThrow(() -> new ReleaseException(
                        ProblemReason.CHART_PATH_ESCAPES, "spec.chartGitPath '" + gitPath + "' leaves " + chartsDir
                                + "/"));
                String dir = path.substring(path.lastIndexOf('/') + 1);
                if (!dir.equals(label)) {
                    throw new ReleaseException(ProblemReason.INVALID_OBJECT, "metadata.labels.chart '" + label
                            + "' does not match the chart directory '" + dir + "' of spec.chartGitPath");
                }
                checkChart(path, allPaths, "spec.chartGitPath");
                for (Object secret : list(spec, "valueFileSecrets")) {
                    if (secret instanceof Map<?, ?> s && s.get("name") instanceof String sn) {
                        valuesFrom.add(new ValuesRef("Secret", ns, sn, "values.yaml", false));
                    }
                }
                yield new ReleaseSpec(kind, m, string(spec, "releaseName").orElse(ns + "-" + name), ns,
                        new ChartSource.GitPath(path), values, valuesFrom, dependsOn, suspended,
                        bool(annotations, ROLLBACK_ANNOTATION));
            }
            case HELM_OPERATOR -> {
                Map<String, Object> chart = map(spec, "chart");
                ChartSource source;
                if (string(chart, "path").isPresent()) {
                    String p = string(chart, "path").get();
                    String path = RepoPaths.resolveWithin("", p).orElseThrow(() -> new ReleaseException(
                            ProblemReason.CHART_PATH_ESCAPES, "spec.chart.path '" + p + "' leaves the repository"));
                    checkChart(path, allPaths, "spec.chart.path");
                    source = new ChartSource.GitPath(path);
                } else if (string(chart, "repository").isPresent() && string(chart, "name").isPresent()) {
                    String repository = string(chart, "repository").get();
                    String chartName = string(chart, "name").get();
                    String version = string(chart, "version").orElseThrow(() -> new ReleaseException(
                            ProblemReason.INVALID_OBJECT,
                            "spec.chart.version is mandatory with spec.chart.repository"));
                    source = repository.startsWith("oci://")
                            ? new ChartSource.Oci(trimSlash(repository) + "/" + chartName, version)
                            : new ChartSource.HelmRepository(repository, chartName, version);
                } else {
                    throw new ReleaseException(ProblemReason.INVALID_OBJECT,
                            "spec.chart needs either path (git) or repository, name and version");
                }
                for (Object from : list(spec, "valuesFrom")) {
                    if (from instanceof Map<?, ?> f) {
                        @SuppressWarnings("unchecked")
                        Map<String, Object> entry = (Map<String, Object>) f;
                        keyRef(map(entry, "configMapKeyRef"), "ConfigMap", ns).ifPresent(valuesFrom::add);
                        keyRef(map(entry, "secretKeyRef"), "Secret", ns).ifPresent(valuesFrom::add);
                    }
                }
                yield new ReleaseSpec(kind, m, string(spec, "releaseName").orElse(target + "-" + name), target,
                        source, values, valuesFrom, dependsOn, suspended, bool(map(spec, "rollback"), "enable"));
            }
            case FLUX2 -> {
                Map<String, Object> chartSpec = map(map(spec, "chart"), "spec");
                if (chartSpec == null) {
                    throw new ReleaseException(ProblemReason.CHART_SOURCE_INVALID, map(spec, "chartRef") != null
                            ? "spec.chartRef is not supported yet; use spec.chart.spec"
                            : "spec.chart.spec is missing");
                }
                String chart = string(chartSpec, "chart").orElseThrow(() -> new ReleaseException(
                        ProblemReason.INVALID_OBJECT, "spec.chart.spec.chart is mandatory"));
                Map<String, Object> sourceRef = map(chartSpec, "sourceRef");
                String sourceKind = string(sourceRef, "kind").orElse("GitRepository");
                ChartSource source;
                if ("HelmRepository".equals(sourceKind)) {
                    String repoName = string(sourceRef, "name").orElseThrow(() -> new ReleaseException(
                            ProblemReason.INVALID_OBJECT, "spec.chart.spec.sourceRef.name is mandatory"));
                    String repoNs = string(sourceRef, "namespace").orElse(ns);
                    Manifest repo = helmRepositories.get(repoNs + "/" + repoName);
                    if (repo == null) {
                        throw new ReleaseException(ProblemReason.CHART_SOURCE_INVALID, "HelmRepository " + repoNs
                                + "/" + repoName + " is not declared in the repository");
                    }
                    Map<String, Object> repoSpec = map(repo.body(), "spec");
                    String url = string(repoSpec, "url").orElseThrow(() -> new ReleaseException(
                            ProblemReason.CHART_SOURCE_INVALID, "HelmRepository " + repoNs + "/" + repoName
                                    + " has no spec.url"));
                    String version = string(chartSpec, "version").orElse("*");
                    ChartSource.SecretRef secretRef = string(map(repoSpec, "secretRef"), "name").map(
                            n -> new ChartSource.SecretRef(repo.ref().namespace(), n)).orElse(null);
                    source = url.startsWith("oci://") || "oci".equals(repoSpec.get("type"))
                            ? new ChartSource.Oci(trimSlash(url) + "/" + chart, version, bool(repoSpec, "insecure"),
                                    secretRef)
                            : new ChartSource.HelmRepository(url, chart, version, secretRef);
                } else if ("GitRepository".equals(sourceKind)) {
                    String path = RepoPaths.resolveWithin("", chart).orElseThrow(() -> new ReleaseException(
                            ProblemReason.CHART_PATH_ESCAPES, "spec.chart.spec.chart '" + chart
                                    + "' leaves the repository"));
                    checkChart(path, allPaths, "spec.chart.spec.chart");
                    source = new ChartSource.GitPath(path);
                } else {
                    throw new ReleaseException(ProblemReason.CHART_SOURCE_INVALID,
                            "spec.chart.spec.sourceRef.kind " + sourceKind + " is not supported");
                }
                for (Object from : list(spec, "valuesFrom")) {
                    if (from instanceof Map<?, ?> f) {
                        @SuppressWarnings("unchecked")
                        Map<String, Object> entry = (Map<String, Object>) f;
                        String k = string(entry, "kind").orElse("");
                        if (!"Secret".equals(k) && !"ConfigMap".equals(k)) {
                            throw new ReleaseException(ProblemReason.INVALID_OBJECT,
                                    "spec.valuesFrom[].kind must be Secret or ConfigMap");
                        }
                        valuesFrom.add(new ValuesRef(k, ns, string(entry, "name").orElseThrow(
                                () -> new ReleaseException(ProblemReason.INVALID_OBJECT,
                                        "spec.valuesFrom[].name is mandatory")),
                                string(entry, "valuesKey").orElse("values.yaml"), bool(entry, "optional")));
                    }
                }
                for (Object dep : list(spec, "dependsOn")) {
                    if (dep instanceof Map<?, ?> d && d.get("name") instanceof String dn) {
                        dependsOn.add((d.get("namespace") instanceof String dns ? dns : ns) + "/" + dn);
                    }
                }
                String releaseName = string(spec, "releaseName").orElse(
                        spec.containsKey("targetNamespace") ? target + "-" + name : name);
                String strategy = string(map(map(spec, "upgrade"), "remediation"), "strategy").orElse("");
                yield new ReleaseSpec(kind, m, releaseName, target, source, values, valuesFrom, dependsOn,
                        suspended || bool(spec, "suspend"), "rollback".equals(strategy));
            }
        };
    }

    private static Optional<ValuesRef> keyRef(Map<String, Object> ref, String kind, String ns) {
        if (ref == null) {
            return Optional.empty();
        }
        String name = string(ref, "name").orElseThrow(() -> new ReleaseException(ProblemReason.INVALID_OBJECT,
                "spec.valuesFrom[]." + (kind.equals("Secret") ? "secretKeyRef" : "configMapKeyRef")
                        + ".name is mandatory"));
        return Optional.of(new ValuesRef(kind, string(ref, "namespace").orElse(ns), name,
                string(ref, "key").orElse("values.yaml"), bool(ref, "optional")));
    }

    private static void checkChart(String path, Set<String> allPaths, String field) {
        if (!allPaths.contains(path + "/Chart.yaml")) {
            throw new ReleaseException(ProblemReason.CHART_NOT_FOUND, field + ": no chart at " + path
                    + " (no Chart.yaml)");
        }
    }

    private static String trimSlash(String url) {
        return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    }
}
