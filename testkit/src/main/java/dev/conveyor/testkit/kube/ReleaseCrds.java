package dev.conveyor.testkit.kube;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;

/**
 * The four Helm release kinds Conveyor understands, as CustomResourceDefinitions loaded from
 * {@code dev/conveyor/testkit/kube/release-crds.yaml}. All are namespaced and have a status subresource.
 */
public final class ReleaseCrds {

    /** Classpath location of the CRD manifests. */
    public static final String RESOURCE = "/dev/conveyor/testkit/kube/release-crds.yaml";

    /** Group of the Flux v1 Helm integration's {@code FluxHelmRelease} (the seed's kind). */
    public static final String FLUX_HELM_RELEASE_GROUP = "helm.integrations.flux.weave.works";
    /** Version of {@code FluxHelmRelease}. */
    public static final String FLUX_HELM_RELEASE_VERSION = "v1alpha2";
    /** Kind {@code FluxHelmRelease}. */
    public static final String FLUX_HELM_RELEASE_KIND = "FluxHelmRelease";
    /** Plural of {@code FluxHelmRelease}. */
    public static final String FLUX_HELM_RELEASE_PLURAL = "fluxhelmreleases";

    /** Group of the Helm Operator's {@code HelmRelease}. */
    public static final String HELM_OPERATOR_GROUP = "helm.fluxcd.io";
    /** Version of the Helm Operator's {@code HelmRelease}. */
    public static final String HELM_OPERATOR_VERSION = "v1";
    /** Kind of the Helm Operator's release. */
    public static final String HELM_OPERATOR_KIND = "HelmRelease";
    /** Plural of the Helm Operator's {@code HelmRelease}. */
    public static final String HELM_OPERATOR_PLURAL = "helmreleases";

    /** Group of the Helm Operator's older {@code HelmRelease} (helm-operator 0.x, Flux v1). */
    public static final String HELM_OPERATOR_V1BETA1_GROUP = "flux.weave.works";
    /** Version of the Helm Operator's older {@code HelmRelease}. */
    public static final String HELM_OPERATOR_V1BETA1_VERSION = "v1beta1";
    /** Kind of the Helm Operator's older release. */
    public static final String HELM_OPERATOR_V1BETA1_KIND = "HelmRelease";
    /** Plural of the Helm Operator's older {@code HelmRelease}. */
    public static final String HELM_OPERATOR_V1BETA1_PLURAL = "helmreleases";

    /** Group of Flux v2's {@code HelmRelease} (helm-controller). */
    public static final String FLUX2_GROUP = "helm.toolkit.fluxcd.io";
    /** Version of Flux v2's {@code HelmRelease}. */
    public static final String FLUX2_VERSION = "v2";
    /** Kind of Flux v2's release. */
    public static final String FLUX2_KIND = "HelmRelease";
    /** Plural of Flux v2's {@code HelmRelease}. */
    public static final String FLUX2_PLURAL = "helmreleases";

    /** {@code FluxHelmRelease}, for {@code client.resources(GenericKubernetesResource.class, context)} style calls. */
    public static final ResourceDefinitionContext FLUX_HELM_RELEASE = context(FLUX_HELM_RELEASE_GROUP,
            FLUX_HELM_RELEASE_VERSION, FLUX_HELM_RELEASE_KIND, FLUX_HELM_RELEASE_PLURAL);
    /** The Helm Operator's {@code HelmRelease}. */
    public static final ResourceDefinitionContext HELM_OPERATOR_RELEASE = context(HELM_OPERATOR_GROUP,
            HELM_OPERATOR_VERSION, HELM_OPERATOR_KIND, HELM_OPERATOR_PLURAL);
    /** The Helm Operator's older {@code flux.weave.works/v1beta1 HelmRelease}. */
    public static final ResourceDefinitionContext HELM_OPERATOR_V1BETA1_RELEASE = context(
            HELM_OPERATOR_V1BETA1_GROUP, HELM_OPERATOR_V1BETA1_VERSION, HELM_OPERATOR_V1BETA1_KIND,
            HELM_OPERATOR_V1BETA1_PLURAL);
    /** Flux v2's {@code HelmRelease}. */
    public static final ResourceDefinitionContext FLUX2_RELEASE = context(FLUX2_GROUP, FLUX2_VERSION, FLUX2_KIND,
            FLUX2_PLURAL);

    /** All four, in the order of the manifest file. */
    public static final List<ResourceDefinitionContext> ALL = List.of(FLUX_HELM_RELEASE, HELM_OPERATOR_RELEASE,
            HELM_OPERATOR_V1BETA1_RELEASE, FLUX2_RELEASE);

    private ReleaseCrds() {
    }

    /** {@code group/version}, the {@code apiVersion} of objects of that kind. */
    public static String apiVersion(ResourceDefinitionContext context) {
        return context.getGroup() + "/" + context.getVersion();
    }

    /** Parses the CRD manifests from the classpath; a fresh copy each call, so callers may modify them. */
    public static List<CustomResourceDefinition> load() {
        String yaml;
        try (InputStream in = ReleaseCrds.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(RESOURCE + " is missing from the classpath");
            }
            yaml = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + RESOURCE, e);
        }
        KubernetesSerialization serialization = new KubernetesSerialization();
        List<CustomResourceDefinition> crds = new ArrayList<>();
        for (String document : yaml.split("(?m)^---\\s*$")) {
            // The file starts with a comment-only document; the YAML parser would hand us null for it.
            if (document.lines().allMatch(line -> line.isBlank() || line.stripLeading().startsWith("#"))) {
                continue;
            }
            crds.add(serialization.unmarshal(document, CustomResourceDefinition.class));
        }
        return List.copyOf(crds);
    }

    private static ResourceDefinitionContext context(String group, String version, String kind, String plural) {
        return new ResourceDefinitionContext.Builder().withGroup(group).withVersion(version).withKind(kind)
                .withPlural(plural).withNamespaced(true).build();
    }
}
