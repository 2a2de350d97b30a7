package dev.conveyor.fluxsync.domain;

import static dev.conveyor.fluxsync.domain.Objects2.bool;
import static dev.conveyor.fluxsync.domain.Objects2.list;
import static dev.conveyor.fluxsync.domain.Objects2.map;
import static dev.conveyor.fluxsync.domain.Objects2.string;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * Reads one revision of a GitOps repository into a {@link DesiredState}, the way Flux reads one: every YAML document
 * below the configured path(s) is read and classified by {@code apiVersion} and {@code kind}, wherever it lies.
 *
 * <p>
 * The seed's layout is one case of that, and is kept exactly as it was when the repository uses it (it has
 * {@code releases/manifests/} or {@code releases/helm/}): then only these directories are read and the rest is
 * reported as skipped:
 *
 * <pre>
 * charts/&lt;chart&gt;/...                 charts of FluxHelmReleases (chartGitPath is relative to charts/)
 * namespaces/*.yaml                    namespaces (and anything they need first)
 * releases/manifests/&lt;ns&gt;/**.yaml     plain manifests; objects without a namespace go to &lt;ns&gt;
 * releases/helm/&lt;ns&gt;/**.yaml          release objects (FluxHelmRelease, HelmRelease v1, v1beta1 and v2)
 * </pre>
 *
 * Namespaces and CRDs are applied first, wherever they lie. What is not applied is returned in
 * {@link DesiredState#skipped()} with its reason: non-YAML files, {@code .fluxignore}/{@code .sourceignore} entries,
 * hidden files, Helm charts (rendered by their releases), directories whose {@code kustomization.yaml} would need
 * kustomize to build, YAML that is not a Kubernetes object, Flux's own source and {@code Kustomization} objects (read
 * as chart sources, not applied), and Flux's own installation ({@code flux-system/gotk-components.yaml}). A file that
 * does not parse, an object without a kind or name, or a release that names a chart outside the repository is a
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

    /** Flux's source objects: read as chart sources, never applied. */
    public static final String FLUX_SOURCE_GROUP = "source.toolkit.fluxcd.io";
    /** Flux v2's {@code Kustomization} (not kustomize's): its path is read, the object is not applied. */
    public static final String FLUX_KUSTOMIZE_GROUP = "kustomize.toolkit.fluxcd.io";

    private static final List<String> KUSTOMIZATION_FILES = List.of("kustomization.yaml", "kustomization.yml",
            "Kustomization");
    /** Fields of a kustomization.yaml that only list files: such a kustomization is "built" by reading them. */
    private static final Set<String> PLAIN_KUSTOMIZATION_KEYS = Set.of("apiVersion", "kind", "resources",
            "namespace");

    /**
     * The synced repository itself: a Helm Operator {@code chart.git} or a Flux v2 {@code GitRepository} naming it is
     * read from the synced revision instead of being cloned again.
     *
     * @param url its remote
     * @param branch the synced branch
     */
    public record Self(String url, String branch) {
    }

    private final String chartsDir;
    private final Self self;

    /** @param chartsDir the charts directory, relative to the repository path ({@code charts}) */
    public RepoLayout(String chartsDir) {
        this(chartsDir, null);
    }

    /**
     * @param chartsDir the charts directory, relative to the repository path ({@code charts})
     * @param self the synced repository, or null when unknown (then only the {@code flux-system} GitRepository is
     *     taken for it)
     */
    public RepoLayout(String chartsDir, Self self) {
        this.chartsDir = chartsDir.replaceAll("^/+|/+$", "");
        this.self = self;
    }

    /** Whether a repository file is in one of the seed layout's directories (and YAML). */
    public static boolean isSyncedFile(String path) {
        return isSeedPath(path) && isYaml(path);
    }

    /**
     * Whether {@link #parse} needs the content of a file: every YAML file (wherever it lies: the layout classifies it)
     * and the ignore files.
     */
    public static boolean isReadFile(String path) {
        return isYaml(path) || IgnoreRules.isIgnoreFile(path) || KUSTOMIZATION_FILES.contains(name(path));
    }

    private static boolean isSeedPath(String path) {
        return path.startsWith(NAMESPACES) || path.startsWith(MANIFESTS) || path.startsWith(HELM);
    }

    private static boolean isYaml(String path) {
        return path.endsWith(".yaml") || path.endsWith(".yml");
    }

    private static String name(String path) {
        return path.substring(path.lastIndexOf('/') + 1);
    }

    private static String dirOf(String path) {
        return path.contains("/") ? path.substring(0, path.lastIndexOf('/')) : "";
    }

    /** A kustomization directory: either plain (a file list, maybe a namespace) or one that needs kustomize. */
    private record Kustomization(String dir, String file, Set<String> listed, String namespace, String notBuilt) {
    }

    /**
     * @param files the contents of the files for which {@link #isReadFile} holds (those of {@link #isSyncedFile} at
     *     least), by path
     * @param allPaths every file path of the revision (to check that charts exist, and to report what is skipped)
     */
    public DesiredState parse(Map<String, String> files, Set<String> allPaths) {
        List<SyncProblem> problems = new ArrayList<>();
        Set<String> held = new LinkedHashSet<>();
        Map<String, DesiredState.Skipped> skipped = new LinkedHashMap<>();
        Set<String> everything = new java.util.TreeSet<>(allPaths);
        everything.addAll(files.keySet());
        boolean seed = everything.stream().anyMatch(p -> p.startsWith(MANIFESTS) || p.startsWith(HELM));

        IgnoreRules ignore = new IgnoreRules();
        files.keySet().stream().filter(IgnoreRules::isIgnoreFile).sorted(Comparator.comparingInt(
                (String p) -> p.split("/").length).thenComparing(Comparator.naturalOrder())).forEach(p -> ignore.add(p,
                        files.get(p)));
        Set<String> chartDirs = new HashSet<>();
        Set<String> fluxInstallDirs = new HashSet<>();
        for (String p : everything) {
            if (name(p).equals("Chart.yaml")) {
                chartDirs.add(dirOf(p));
            } else if (name(p).equals("gotk-components.yaml")) {
                fluxInstallDirs.add(dirOf(p));
            }
        }
        Map<String, Kustomization> kustomizations = kustomizations(files);

        // Which files are read, and why the others are not.
        Map<String, String> yamlFiles = new TreeMap<>();
        for (String path : everything) {
            Optional<String> reason = skipReason(path, seed, ignore, chartDirs, fluxInstallDirs, kustomizations,
                    skipped);
            if (reason.isPresent()) {
                String key = reason.get().startsWith("dir:")
                        ? reason.get().substring(4, reason.get().indexOf('|'))
                        : path;
                String why = reason.get().startsWith("dir:")
                        ? reason.get().substring(reason.get().indexOf('|') + 1)
                        : reason.get();
                skipped.putIfAbsent(key, new DesiredState.Skipped(key, why));
            } else if (files.containsKey(path)) {
                yamlFiles.put(path, files.get(path));
            }
        }

        Map<String, List<Map<String, Object>>> docsByFile = new TreeMap<>();
        for (Map.Entry<String, String> file : yamlFiles.entrySet()) {
            try {
                docsByFile.put(file.getKey(), YamlDocuments.parse(file.getKey(), file.getValue()));
            } catch (YamlDocuments.InvalidYamlException e) {
                if (!isSeedPath(file.getKey()) && e.getMessage().endsWith(" is not a mapping")) {
                    // Valid YAML but a list or a scalar: no Kubernetes object, as above.
                    skipped.put(file.getKey() + "#", new DesiredState.Skipped(file.getKey(), "not a Kubernetes "
                            + "object (" + e.getMessage().substring(file.getKey().length() + 2) + ")"));
                    continue;
                }
                String owner = Manifest.fileOwner(file.getKey());
                problems.add(new SyncProblem(owner, ProblemReason.INVALID_FILE, e.getMessage()));
                held.add(owner);
            }
        }
        Map<String, Boolean> crdClusterScoped = crdScopes(docsByFile);

        Map<String, Manifest> byId = new LinkedHashMap<>();
        Map<String, Manifest> sources = new HashMap<>();
        for (Map.Entry<String, List<Map<String, Object>>> file : docsByFile.entrySet()) {
            String path = file.getKey();
            String owner = Manifest.fileOwner(path);
            boolean strict = isSeedPath(path);
            int index = 0;
            int notObjects = 0;
            for (Map<String, Object> doc : file.getValue()) {
                index++;
                String where = path + " (document " + index + ")";
                Optional<String> apiVersion = string(doc, "apiVersion");
                Optional<String> kind = string(doc, "kind");
                Optional<String> name = string(map(doc, "metadata"), "name");
                if (!strict && apiVersion.isEmpty() && kind.isEmpty()) {
                    // Outside the seed's directories, YAML that is no Kubernetes object (values, CI config) is
                    // not applied, as Flux v2 leaves it out of the kustomization it generates.
                    notObjects++;
                    continue;
                }
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
                    Optional<String> forced = kustomizationNamespace(path, kustomizations);
                    namespace = forced.orElseGet(() -> string(metadata, "namespace").orElse(defaultNamespace(path)));
                    metadata.put("namespace", namespace);
                } else {
                    metadata.remove("namespace");
                }
                ObjectRef ref = new ObjectRef(apiVersion.get(), kind.get(), namespace, name.get());
                Manifest manifest = new Manifest(ref, doc, owner);
                if (FLUX_SOURCE_GROUP.equals(ref.group()) || FLUX_KUSTOMIZE_GROUP.equals(ref.group())) {
                    sources.putIfAbsent(ref.kind() + " " + ref.namespace() + "/" + ref.name(), manifest);
                    String key = path + "#" + ref;
                    skipped.put(key, new DesiredState.Skipped(path, fluxObjectReason(ref, doc)));
                    continue;
                }
                Manifest before = byId.putIfAbsent(ref.id(), manifest);
                if (before != null) {
                    problems.add(new SyncProblem(owner, ProblemReason.DUPLICATE_OBJECT, where + ": " + ref
                            + " is already declared in " + before.owner().substring("file:".length())));
                    held.add(owner);
                }
            }
            if (notObjects > 0) {
                skipped.put(path + "#", new DesiredState.Skipped(path, (notObjects == index
                        ? ""
                        : notObjects + " of "
                                + index + " documents: ")
                        + "not a Kubernetes object (no apiVersion and kind)"));
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
                releases.add(release(kind.get(), m, everything, sources));
            } catch (ReleaseException e) {
                problems.add(new SyncProblem(owner, e.reason, m.owner().substring("file:".length()) + ": " + m.ref()
                        + ": " + e.getMessage()));
                held.add(owner);
            }
        }
        List<ReleaseSpec> ordered = ReleaseOrder.sort(releases, problems, held);
        List<Manifest> objects = new ArrayList<>(byId.values());
        objects.sort(KindOrder.APPLY);
        return new DesiredState(List.copyOf(objects), ordered, List.copyOf(problems), Set.copyOf(held), List.copyOf(
                skipped.values()));
    }

    /**
     * Why {@code path} is not read, if it is not: a reason for the file, or {@code dir:<dir/>|<reason>} when a whole
     * directory is left out (reported once).
     */
    private Optional<String> skipReason(String path, boolean seed, IgnoreRules ignore, Set<String> chartDirs,
            Set<String> fluxInstallDirs, Map<String, Kustomization> kustomizations,
            Map<String, DesiredState.Skipped> skipped) {
        if (IgnoreRules.isIgnoreFile(path)) {
            return Optional.of("ignore file: its patterns are applied");
        }
        Optional<IgnoreRules.Hit> hit = ignore.ignoredBy(path);
        if (hit.isPresent()) {
            return Optional.of(hit.get().path().endsWith("/")
                    ? "dir:" + hit.get().path() + "|ignored (" + hit.get().line() + ")"
                    : "ignored (" + hit.get().line() + ")");
        }
        for (String dir = dirOf(path); !dir.isEmpty(); dir = dirOf(dir)) {
            if (chartDirs.contains(dir)) {
                return Optional.of("dir:" + dir + "/|Helm chart: rendered by the releases that name it, not "
                        + "applied as manifests");
            }
        }
        if (path.equals(".flux.yaml") || path.endsWith("/.flux.yaml")) {
            return Optional.of("Flux v1 manifest generation (.flux.yaml) is not run: commit the generated "
                    + "manifests instead");
        }
        String[] segments = path.split("/");
        for (int i = 0; i < segments.length; i++) {
            if (segments[i].startsWith(".")) {
                String hidden = String.join("/", java.util.Arrays.copyOf(segments, i + 1));
                return Optional.of(i < segments.length - 1 ? "dir:" + hidden + "/|hidden directory" : "hidden file");
            }
        }
        for (String dir : fluxInstallDirs) {
            String why = "Flux's own installation (flux bootstrap: gotk-components.yaml): not applied, flux-sync "
                    + "syncs this repository itself";
            if (!dir.isEmpty() && path.startsWith(dir + "/")) {
                return Optional.of("dir:" + dir + "/|" + why);
            }
            if (dir.isEmpty() && !path.contains("/") && path.startsWith("gotk-")) {
                return Optional.of(why);
            }
        }
        if (seed && !isSeedPath(path)) {
            // Reported by top directory (by releases/<dir>/ under releases/, next to the seed's own).
            int depth = "releases".equals(segments[0]) ? 2 : 1;
            String why = "outside the seed layout's directories (namespaces/, releases/manifests/, releases/helm/), "
                    + "which this repository uses";
            return Optional.of(segments.length > depth
                    ? "dir:" + String.join("/", java.util.Arrays.copyOf(segments, depth)) + "/|" + why
                    : why);
        }
        if (!isYaml(path) && !KUSTOMIZATION_FILES.contains(name(path))) {
            return Optional.of("not a YAML file");
        }
        // The kustomizations above the file, outermost first.
        List<Kustomization> chain = new ArrayList<>();
        for (String dir = dirOf(path);; dir = dirOf(dir)) {
            Kustomization k = kustomizations.get(dir);
            if (k != null) {
                chain.add(0, k);
            }
            if (dir.isEmpty()) {
                break;
            }
        }
        for (Kustomization k : chain) {
            if (k.notBuilt() != null) {
                return Optional.of("dir:" + (k.dir().isEmpty() ? "" : k.dir() + "/") + "|" + k.file() + " "
                        + k.notBuilt() + ": flux-sync does not run kustomize, so the directory is not applied "
                        + "(render it into plain manifests, or keep to resources and namespace)");
            }
        }
        if (!chain.isEmpty()) {
            Kustomization nearest = chain.get(chain.size() - 1);
            if (path.equals(nearest.file())) {
                return Optional.of("kustomize configuration: the files it lists in resources are read");
            }
            if (!listed(path, nearest)) {
                return Optional.of("not in the resources of " + nearest.file() + " (kustomize would leave it out)");
            }
        }
        return Optional.empty();
    }

    private static boolean listed(String path, Kustomization k) {
        String rel = k.dir().isEmpty() ? path : path.substring(k.dir().length() + 1);
        for (String entry : k.listed()) {
            if (rel.equals(entry) || rel.startsWith(entry + "/")) {
                return true;
            }
        }
        return false;
    }

    /** The kustomization.yaml files, by directory. */
    private static Map<String, Kustomization> kustomizations(Map<String, String> files) {
        Map<String, Kustomization> out = new HashMap<>();
        for (Map.Entry<String, String> f : files.entrySet()) {
            if (!KUSTOMIZATION_FILES.contains(name(f.getKey()))) {
                continue;
            }
            String dir = dirOf(f.getKey());
            Map<String, Object> doc;
            try {
                List<Map<String, Object>> docs = YamlDocuments.parse(f.getKey(), f.getValue());
                doc = docs.isEmpty() ? Map.of() : docs.get(0);
            } catch (YamlDocuments.InvalidYamlException e) {
                out.put(dir, new Kustomization(dir, f.getKey(), Set.of(), null, "is not valid YAML"));
                continue;
            }
            List<String> extra = doc.keySet().stream().filter(k -> !PLAIN_KUSTOMIZATION_KEYS.contains(k)).sorted()
                    .toList();
            Set<String> listed = new HashSet<>();
            List<String> remote = new ArrayList<>();
            for (Object r : list(doc, "resources")) {
                String entry = String.valueOf(r);
                Optional<String> resolved = entry.contains("://") || entry.startsWith("git@")
                        ? Optional.empty()
                        : RepoPaths.resolveWithin("", (dir.isEmpty() ? "" : dir + "/") + entry);
                if (resolved.isEmpty()) {
                    remote.add(entry);
                } else if (dir.isEmpty() || resolved.get().startsWith(dir + "/")) {
                    listed.add(dir.isEmpty() ? resolved.get() : resolved.get().substring(dir.length() + 1));
                }
                // A resource in another directory (../base) is read where it lies.
            }
            String notBuilt = !extra.isEmpty()
                    ? "uses " + String.join(", ", extra)
                    : !remote.isEmpty() ? "has remote resources " + String.join(", ", remote) : null;
            out.put(dir, new Kustomization(dir, f.getKey(), Set.copyOf(listed), string(doc, "namespace").orElse(null),
                    notBuilt));
        }
        return out;
    }

    /** The namespace the nearest plain kustomization.yaml above a file sets, if any (kustomize sets it on all). */
    private static Optional<String> kustomizationNamespace(String path, Map<String, Kustomization> kustomizations) {
        for (String dir = dirOf(path);; dir = dirOf(dir)) {
            Kustomization k = kustomizations.get(dir);
            if (k != null && k.namespace() != null) {
                return Optional.of(k.namespace());
            }
            if (dir.isEmpty()) {
                return Optional.empty();
            }
        }
    }

    private static String fluxObjectReason(ObjectRef ref, Map<String, Object> doc) {
        if (FLUX_KUSTOMIZE_GROUP.equals(ref.group())) {
            String path = string(map(doc, "spec"), "path").orElse("./");
            return "Flux Kustomization " + ref.namespace() + "/" + ref.name() + " is not applied: flux-sync reads "
                    + "every YAML below the configured path(s) itself; its spec.path " + path + " is read only if it "
                    + "lies there (list it in conveyor.flux-sync.repos.<name>.path otherwise)";
        }
        return "Flux source " + ref.kind() + " " + ref.namespace() + "/" + ref.name() + " is not applied: "
                + "flux-sync reads it as the chart source of the releases that name it";
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

    private ReleaseSpec release(ReleaseKind kind, Manifest m, Set<String> allPaths, Map<String, Manifest> sources) {
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
                valueFileSecrets(spec, ns, valuesFrom);
                yield new ReleaseSpec(kind, m, string(spec, "releaseName").orElse(ns + "-" + name), ns,
                        new ChartSource.GitPath(path), values, valuesFrom, dependsOn, suspended,
                        bool(annotations, ROLLBACK_ANNOTATION));
            }
            case HELM_OPERATOR, HELM_OPERATOR_V1BETA1 -> {
                ChartSource source = helmOperatorChart(map(spec, "chart"), allPaths);
                for (Object from : list(spec, "valuesFrom")) {
                    if (from instanceof Map<?, ?> f) {
                        @SuppressWarnings("unchecked")
                        Map<String, Object> entry = (Map<String, Object>) f;
                        keyRef(map(entry, "configMapKeyRef"), "ConfigMap", ns).ifPresent(valuesFrom::add);
                        keyRef(map(entry, "secretKeyRef"), "Secret", ns).ifPresent(valuesFrom::add);
                    }
                }
                if (kind == ReleaseKind.HELM_OPERATOR_V1BETA1) {
                    valueFileSecrets(spec, ns, valuesFrom);
                }
                yield new ReleaseSpec(kind, m, string(spec, "releaseName").orElse(target + "-" + name), target,
                        source, values, valuesFrom, dependsOn, suspended, bool(map(spec, "rollback"), "enable"));
            }
            case FLUX2 -> {
                ChartSource source = flux2Chart(spec, ns, allPaths, sources);
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

    private static void valueFileSecrets(Map<String, Object> spec, String ns, List<ValuesRef> valuesFrom) {
        for (Object secret : list(spec, "valueFileSecrets")) {
            if (secret instanceof Map<?, ?> s && s.get("name") instanceof String sn) {
                valuesFrom.add(new ValuesRef("Secret", ns, sn, "values.yaml", false));
            }
        }
    }

    /**
     * Helm Operator's {@code spec.chart} (helm.fluxcd.io/v1 and flux.weave.works/v1beta1): {@code git} + {@code ref}
     * + {@code path} (another repository, cloned; the synced one is read from this revision),
     * {@code repository} + {@code name} + {@code version}, or {@code path} alone (this repository, a Conveyor
     * extension).
     */
    private ChartSource helmOperatorChart(Map<String, Object> chart, Set<String> allPaths) {
        Optional<String> git = string(chart, "git");
        if (git.isPresent()) {
            String p = string(chart, "path").orElse("");
            Optional<String> ref = string(chart, "ref");
            if (isSelf(git.get()) && ref.orElse(ChartSource.Git.DEFAULT_REF).equals(self.branch())) {
                String path = chartPath(p, "spec.chart.path");
                checkChart(path, allPaths, "spec.chart.path");
                return new ChartSource.GitPath(path);
            }
            String path = p.isBlank() || ".".equals(p) || "./".equals(p) ? "" : chartPath(p, "spec.chart.path");
            return new ChartSource.Git(git.get(), ref.orElse(ChartSource.Git.DEFAULT_REF), path, "spec.chart.git");
        }
        if (string(chart, "path").isPresent()) {
            String path = chartPath(string(chart, "path").get(), "spec.chart.path");
            checkChart(path, allPaths, "spec.chart.path");
            return new ChartSource.GitPath(path);
        }
        if (string(chart, "repository").isPresent() && string(chart, "name").isPresent()) {
            String repository = string(chart, "repository").get();
            String chartName = string(chart, "name").get();
            String version = string(chart, "version").orElseThrow(() -> new ReleaseException(
                    ProblemReason.INVALID_OBJECT, "spec.chart.version is mandatory with spec.chart.repository"));
            return repository.startsWith("oci://")
                    ? new ChartSource.Oci(trimSlash(repository) + "/" + chartName, version)
                    : new ChartSource.HelmRepository(repository, chartName, version);
        }
        throw new ReleaseException(ProblemReason.INVALID_OBJECT,
                "spec.chart needs either git (and path), or repository, name and version");
    }

    /** A path-like value ({@code valuesFiles}, {@code include[].fromPath}) that must stay inside its tree. */
    private static void withinChart(Object value, String field) {
        if (value == null || ".".equals(value) || "./".equals(value) || "".equals(value)) {
            return;
        }
        if (!(value instanceof String p) || RepoPaths.resolveWithin("", p).isEmpty()) {
            throw new ReleaseException(ProblemReason.CHART_PATH_ESCAPES, field + " '" + value
                    + "' leaves the repository (an absolute path or ../ past its root)");
        }
    }

    private static String chartPath(String p, String field) {
        return RepoPaths.resolveWithin("", p).orElseThrow(() -> new ReleaseException(
                ProblemReason.CHART_PATH_ESCAPES, field + " '" + p + "' leaves the repository"));
    }

    /** Whether a git URL names the synced repository. */
    private boolean isSelf(String url) {
        return self != null && normaliseUrl(url).equals(normaliseUrl(self.url()));
    }

    static String normaliseUrl(String url) {
        String u = url.trim();
        while (u.endsWith("/")) {
            u = u.substring(0, u.length() - 1);
        }
        if (u.endsWith(".git")) {
            u = u.substring(0, u.length() - 4);
        }
        return u;
    }

    /** Flux v2's {@code spec.chart.spec} or {@code spec.chartRef}, resolved against the sources of the repository. */
    private ChartSource flux2Chart(Map<String, Object> spec, String ns, Set<String> allPaths,
            Map<String, Manifest> sources) {
        Map<String, Object> chartSpec = map(map(spec, "chart"), "spec");
        Map<String, Object> chartRef = map(spec, "chartRef");
        if (chartSpec == null && chartRef == null) {
            throw new ReleaseException(ProblemReason.INVALID_OBJECT, "spec.chart.spec or spec.chartRef is mandatory");
        }
        if (chartSpec == null) {
            String refKind = string(chartRef, "kind").orElseThrow(() -> new ReleaseException(
                    ProblemReason.INVALID_OBJECT, "spec.chartRef.kind is mandatory"));
            Manifest source = source(sources, refKind, chartRef, ns, "spec.chartRef");
            if ("OCIRepository".equals(refKind)) {
                return ociRepository(source, "spec.chartRef");
            }
            if ("HelmChart".equals(refKind)) {
                Map<String, Object> helmChart = map(source.body(), "spec");
                return chartSpec(helmChart, source.ref().namespace(), "HelmChart " + source.ref().namespace() + "/"
                        + source.ref().name() + " spec", allPaths, sources);
            }
            throw new ReleaseException(ProblemReason.CHART_SOURCE_INVALID, "spec.chartRef.kind " + refKind
                    + " is not supported (OCIRepository or HelmChart)");
        }
        return chartSpec(chartSpec, ns, "spec.chart.spec", allPaths, sources);
    }

    /** A chart template ({@code HelmRelease.spec.chart.spec} or {@code HelmChart.spec}) and its source. */
    private ChartSource chartSpec(Map<String, Object> chartSpec, String ns, String field, Set<String> allPaths,
            Map<String, Manifest> sources) {
        String chart = string(chartSpec, "chart").orElseThrow(() -> new ReleaseException(
                ProblemReason.INVALID_OBJECT, field + ".chart is mandatory"));
        // Paths inside the chart (Flux reads them from the chart's source): never outside it.
        withinChart(chartSpec.get("valuesFile"), field + ".valuesFile");
        Object valuesFiles = chartSpec.get("valuesFiles");
        if (valuesFiles instanceof List<?> l) {
            for (int i = 0; i < l.size(); i++) {
                withinChart(l.get(i), field + ".valuesFiles[" + i + "]");
            }
        }
        Map<String, Object> sourceRef = map(chartSpec, "sourceRef");
        String sourceKind = string(sourceRef, "kind").orElse("GitRepository");
        switch (sourceKind) {
            case "HelmRepository" -> {
                Manifest repo = source(sources, sourceKind, sourceRef, ns, field + ".sourceRef");
                Map<String, Object> repoSpec = map(repo.body(), "spec");
                String url = string(repoSpec, "url").orElseThrow(() -> new ReleaseException(
                        ProblemReason.CHART_SOURCE_INVALID, "HelmRepository " + repo.ref().namespace() + "/"
                                + repo.ref().name() + " has no spec.url"));
                String version = string(chartSpec, "version").orElse("*");
                ChartSource.SecretRef secretRef = string(map(repoSpec, "secretRef"), "name").map(
                        n -> new ChartSource.SecretRef(repo.ref().namespace(), n)).orElse(null);
                String urlField = "HelmRepository " + repo.ref().namespace() + "/" + repo.ref().name() + " spec.url";
                return url.startsWith("oci://") || "oci".equals(repoSpec.get("type"))
                        ? new ChartSource.Oci(trimSlash(url) + "/" + chart, version, bool(repoSpec, "insecure"),
                                secretRef, urlField)
                        : new ChartSource.HelmRepository(url, chart, version, secretRef, urlField);
            }
            case "OCIRepository" -> {
                return ociRepository(source(sources, sourceKind, sourceRef, ns, field + ".sourceRef"),
                        field + ".sourceRef");
            }
            case "GitRepository" -> {
                Manifest git = sources.get("GitRepository " + string(sourceRef, "namespace").orElse(ns) + "/"
                        + string(sourceRef, "name").orElse(""));
                Map<String, Object> gitSpec = git == null ? null : map(git.body(), "spec");
                Optional<String> url = string(gitSpec, "url");
                boolean thisRepo = git == null || url.isEmpty() || isSelf(url.get())
                        || self == null && "flux-system".equals(git.ref().name());
                if (thisRepo) {
                    // Not declared (Flux's bootstrap GitRepository lives in the cluster), or the synced repository.
                    String path = chartPath(chart, field + ".chart");
                    checkChart(path, allPaths, field + ".chart");
                    return new ChartSource.GitPath(path);
                }
                String path = ".".equals(chart) || "./".equals(chart) ? "" : chartPath(chart, field + ".chart");
                List<?> include = list(gitSpec, "include");
                for (int i = 0; i < include.size(); i++) {
                    if (include.get(i) instanceof Map<?, ?> inc) {
                        String where = "GitRepository " + git.ref().namespace() + "/" + git.ref().name()
                                + " spec.include[" + i + "].";
                        withinChart(inc.get("fromPath"), where + "fromPath");
                        withinChart(inc.get("toPath"), where + "toPath");
                    }
                }
                return new ChartSource.Git(url.get(), gitRef(map(gitSpec, "ref"), git), path, "GitRepository "
                        + git.ref().namespace() + "/" + git.ref().name() + " spec.url");
            }
            default -> throw new ReleaseException(ProblemReason.CHART_SOURCE_INVALID, field + ".sourceRef.kind "
                    + sourceKind + " is not supported (HelmRepository, GitRepository or OCIRepository)");
        }
    }

    /** A GitRepository's {@code spec.ref}: commit, then tag, then branch ({@code master} by default, as Flux). */
    private static String gitRef(Map<String, Object> ref, Manifest git) {
        if (ref != null && (ref.containsKey("semver") || ref.containsKey("name"))) {
            throw new ReleaseException(ProblemReason.CHART_SOURCE_INVALID, "GitRepository " + git.ref().namespace()
                    + "/" + git.ref().name() + ": spec.ref." + (ref.containsKey("semver") ? "semver" : "name")
                    + " is not supported (use branch, tag or commit)");
        }
        return string(ref, "commit").or(() -> string(ref, "tag")).or(() -> string(ref, "branch")).orElse(
                ChartSource.Git.DEFAULT_REF);
    }

    private static ChartSource ociRepository(Manifest repo, String field) {
        Map<String, Object> spec = map(repo.body(), "spec");
        String what = "OCIRepository " + repo.ref().namespace() + "/" + repo.ref().name();
        String url = string(spec, "url").orElseThrow(() -> new ReleaseException(ProblemReason.CHART_SOURCE_INVALID,
                what + " has no spec.url"));
        if (!url.startsWith("oci://")) {
            throw new ReleaseException(ProblemReason.CHART_SOURCE_INVALID, what + ": spec.url must start with oci://");
        }
        Map<String, Object> ref = map(spec, "ref");
        if (ref != null && ref.containsKey("digest")) {
            throw new ReleaseException(ProblemReason.CHART_SOURCE_INVALID, what + ": spec.ref.digest is not "
                    + "supported (use tag or semver)");
        }
        String version = string(ref, "tag").or(() -> string(ref, "semver")).orElse("*");
        ChartSource.SecretRef secretRef = string(map(spec, "secretRef"), "name").map(
                n -> new ChartSource.SecretRef(repo.ref().namespace(), n)).orElse(null);
        return new ChartSource.Oci(trimSlash(url), version, bool(spec, "insecure"), secretRef, what + " spec.url");
    }

    private static Manifest source(Map<String, Manifest> sources, String kind, Map<String, Object> ref, String ns,
            String field) {
        String name = string(ref, "name").orElseThrow(() -> new ReleaseException(ProblemReason.INVALID_OBJECT,
                field + ".name is mandatory"));
        String refNs = string(ref, "namespace").orElse(ns);
        Manifest m = sources.get(kind + " " + refNs + "/" + name);
        if (m == null) {
            throw new ReleaseException(ProblemReason.CHART_SOURCE_INVALID, kind + " " + refNs + "/" + name
                    + " is not declared in the repository");
        }
        return m;
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
