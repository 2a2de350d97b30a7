package dev.conveyor.promoter.domain;

import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.ScalarNode;

/**
 * Creates release objects and updates existing ones in place. An update touches only the promoted fields — chart
 * version or chart path, and the image tag and digest under {@code spec.values.image} — so the user's other values,
 * key order and comments survive byte for byte.
 */
public final class ReleaseDocuments {

    private ReleaseDocuments() {
    }

    /** The updated text of an existing release object (unchanged text when it already says all this). */
    public static String update(String file, String text, ReleaseUpdate update) {
        YamlText doc = YamlText.parse(file, text);
        String apiVersion = doc.string("apiVersion").orElseThrow(() -> new InvalidDocumentException("apiVersion",
                file + ": apiVersion is missing"));
        String kindName = doc.string("kind").orElseThrow(() -> new InvalidDocumentException("kind",
                file + ": kind is missing"));
        ReleaseKind kind = ReleaseKind.of(apiVersion, kindName).orElseThrow(() -> new InvalidDocumentException(
                "kind", file + ": " + apiVersion + " " + kindName + " is not a release kind the promoter writes"));
        switch (kind) {
            case FLUX_HELM_RELEASE -> {
                doc = doc.set(update.chartName(), "metadata", "labels", "chart");
                doc = doc.set(update.chartName(), "spec", "chartGitPath");
            }
            case HELM_OPERATOR -> {
                if (doc.find("spec", "chart", "repository").isPresent()) {
                    doc = doc.set(update.chartName(), "spec", "chart", "name");
                    doc = doc.set(update.chartVersion(), "spec", "chart", "version");
                } else {
                    doc = doc.set("charts/" + update.chartName(), "spec", "chart", "path");
                }
            }
            case FLUX_V2 -> doc = doc.set(update.chartVersion(), "spec", "chart", "spec", "version");
        }
        return setImage(doc, update).text();
    }

    private static YamlText setImage(YamlText doc, ReleaseUpdate update) {
        Node image = doc.find("spec", "values", "image").orElse(null);
        if (image instanceof ScalarNode) {
            // The seed's form, `image: repo:tag`: one reference, now pinned by digest.
            return doc.set(update.imageReference(), "spec", "values", "image");
        }
        if (image instanceof MappingNode && doc.find("spec", "values", "image", "repository").isPresent()) {
            doc = doc.set(update.imageRepository(), "spec", "values", "image", "repository");
        }
        if (image == null) {
            doc = doc.set(update.imageRepository(), "spec", "values", "image", "repository");
        }
        doc = doc.set(update.imageTag(), "spec", "values", "image", "tag");
        return doc.set(update.imageDigest(), "spec", "values", "image", "digest");
    }

    /**
     * A new release object of {@code kind} for a release that has no file yet.
     *
     * @param source Helm Operator: the GitOps repository's URL; Flux v2: the HelmRepository's name
     * @param branch Helm Operator: the GitOps branch the chart is read from
     */
    public static String create(ReleaseKind kind, ReleaseUpdate u, String source, String branch) {
        String values = """
                  values:
                    image:
                      repository: %s
                      tag: %s
                      digest: %s
                """.formatted(YamlText.render(u.imageRepository(), plain()), YamlText.render(u.imageTag(), plain()),
                YamlText.render(u.imageDigest(), plain()));
        String header = "# Created by Conveyor; edit values freely: promotions change only the chart and image fields.\n"
                + "apiVersion: " + kind.apiVersion() + "\nkind: " + kind.kind() + "\nmetadata:\n  name: "
                + u.release() + "\n  namespace: " + u.namespace() + "\n";
        return switch (kind) {
            case FLUX_HELM_RELEASE -> header + "  labels:\n    chart: " + u.chartName() + "\nspec:\n  chartGitPath: "
                    + u.chartName() + "\n  releaseName: " + u.release() + "\n" + values;
            case HELM_OPERATOR -> header + "spec:\n  releaseName: " + u.release() + "\n  chart:\n    git: "
                    + source + "\n    ref: " + branch + "\n    path: charts/" + u.chartName() + "\n" + values;
            case FLUX_V2 -> header + "spec:\n  interval: 5m\n  releaseName: " + u.release()
                    + "\n  chart:\n    spec:\n      chart: " + u.chartName() + "\n      version: "
                    + YamlText.render(u.chartVersion(), plain()) + "\n      sourceRef:\n        kind: HelmRepository\n"
                    + "        name: " + source + "\n" + values;
        };
    }

    private static org.yaml.snakeyaml.DumperOptions.ScalarStyle plain() {
        return org.yaml.snakeyaml.DumperOptions.ScalarStyle.PLAIN;
    }
}
