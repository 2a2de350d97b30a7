package dev.conveyor.manifests.domain;

import java.util.List;
import java.util.Set;

import dev.conveyor.stage.config.ConveyorYaml;
import dev.conveyor.stage.config.InvalidConfigException;

/**
 * The {@code manifests} section of an app's {@code .conveyor.yaml}; every key optional.
 *
 * <pre>
 * manifests:
 *   chart: chart                # the chart directory
 *   releaseName: shop           # .Release.Name; default: the app id
 *   namespace: shop             # .Release.Namespace; default: the service's default namespace
 *   values:                     # environment overlays over the chart's values.yaml, in order
 *     - file: deploy/values-prod.yaml
 *   image:                      # where the image goes in the values
 *     repository: image.repository
 *     tag: image.tag
 *     digest: image.digest
 *   crds:                       # directories of CRDs to validate custom resources against
 *     - path: crds
 *   baseBranch: main            # CI: the branch a pull request's rendering is diffed against
 *   kubernetesVersion: "1.33"   # render for and validate against; default: the service's
 * </pre>
 *
 * @param chartPath normalised chart directory
 * @param releaseName release name
 * @param namespace release namespace
 * @param valuesFiles overlay files, normalised, in order
 * @param imageRepositoryKey dotted values key of the image repository
 * @param imageTagKey dotted values key of the image tag
 * @param imageDigestKey dotted values key of the image digest
 * @param crdPaths directories with CRDs, normalised
 * @param baseBranch base branch for the CI diff
 * @param kubernetesVersion the bundled Kubernetes minor version the app asks for, if any
 */
public record AppManifestConfig(String chartPath, String releaseName, String namespace, List<String> valuesFiles,
        String imageRepositoryKey, String imageTagKey, String imageDigestKey, List<String> crdPaths,
        String baseBranch, java.util.Optional<String> kubernetesVersion) {

    /** Without a Kubernetes version of its own. */
    public AppManifestConfig(String chartPath, String releaseName, String namespace, List<String> valuesFiles,
            String imageRepositoryKey, String imageTagKey, String imageDigestKey, List<String> crdPaths,
            String baseBranch) {
        this(chartPath, releaseName, namespace, valuesFiles, imageRepositoryKey, imageTagKey, imageDigestKey,
                crdPaths, baseBranch, java.util.Optional.empty());
    }

    static final String SECTION = "manifests";
    private static final java.util.regex.Pattern VALUES_KEY = java.util.regex.Pattern.compile(
            "^[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*$");
    private static final java.util.regex.Pattern RELEASE_NAME = java.util.regex.Pattern.compile(
            "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$");

    /**
     * Reads the section, with defaults for what is absent.
     *
     * @throws InvalidConfigException naming the field when a value is invalid
     */
    public static AppManifestConfig from(ConveyorYaml yaml, String app, String defaultNamespace, String defaultBase) {
        ConveyorYaml.Section section = yaml.section(SECTION).allowOnly(Set.of("chart", "releaseName", "namespace",
                "values", "image", "crds", "baseBranch", "kubernetesVersion"));
        String chart = RepoPaths.normalize(relativePath(section, "chart").orElse("chart"), "manifests.chart");
        String release = section.string("releaseName").orElse(app.toLowerCase().replaceAll("[^a-z0-9-]", "-")
                .replaceAll("^-+|-+$", ""));
        if (release.length() > 53 || !RELEASE_NAME.matcher(release).matches()) {
            throw new InvalidConfigException("manifests.releaseName", "manifests.releaseName '" + release
                    + "' is not a valid release name (lower-case DNS label of at most 53 characters)");
        }
        String namespace = section.string("namespace").orElse(defaultNamespace);
        if (namespace.length() > 63 || !RELEASE_NAME.matcher(namespace).matches()) {
            throw new InvalidConfigException("manifests.namespace", "manifests.namespace '" + namespace
                    + "' is not a DNS-1123 label");
        }
        List<ConveyorYaml.Section> values = section.list("values");
        List<String> files = new java.util.ArrayList<>();
        for (ConveyorYaml.Section v : values) {
            v.allowOnly(Set.of("file"));
            String field = v.path() + ".file";
            files.add(RepoPaths
                    .normalize(relativePath(v, "file").orElseThrow(() -> new InvalidConfigException(field, field
                            + " is required")), field));
        }
        ConveyorYaml.Section image = section.section("image").allowOnly(Set.of("repository", "tag", "digest"));
        String repositoryKey = key(image, "repository", "image.repository");
        String tagKey = key(image, "tag", "image.tag");
        String digestKey = key(image, "digest", "image.digest");
        List<String> crds = new java.util.ArrayList<>();
        for (ConveyorYaml.Section c : section.list("crds")) {
            c.allowOnly(Set.of("path"));
            String field = c.path() + ".path";
            crds.add(RepoPaths
                    .normalize(relativePath(c, "path").orElseThrow(() -> new InvalidConfigException(field, field
                            + " is required")), field));
        }
        String base = section.string("baseBranch").orElse(defaultBase);
        java.util.Optional<String> version = section.string("kubernetesVersion").map(v -> {
            try {
                return dev.conveyor.manifests.domain.schema.BuiltinSchemas.minor(v);
            } catch (IllegalArgumentException e) {
                throw new InvalidConfigException("manifests.kubernetesVersion", "manifests.kubernetesVersion: " + e
                        .getMessage());
            }
        });
        return new AppManifestConfig(chart, release, namespace, List.copyOf(files), repositoryKey, tagKey, digestKey,
                List.copyOf(crds), base, version);
    }

    /** A path-like key: relative, no {@code ..} segment at all, no backslash or control character. */
    private static java.util.Optional<String> relativePath(ConveyorYaml.Section section, String key) {
        try {
            return section.relativePath(key);
        } catch (InvalidConfigException e) {
            throw new RepoPaths.EscapingPath(e.field(), e.getMessage());
        }
    }

    private static String key(ConveyorYaml.Section image, String name, String fallback) {
        String key = image.string(name).orElse(fallback);
        if (!VALUES_KEY.matcher(key).matches()) {
            throw new InvalidConfigException(image.path() + "." + name, image.path() + "." + name
                    + " must be a dotted values key such as " + fallback);
        }
        return key;
    }
}
