package dev.conveyor.testkit.kube;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinitionVersion;

class ReleaseCrdsTest {

    @Test
    void manifestsMatchTheConstants() {
        List<CustomResourceDefinition> crds = ReleaseCrds.load();

        assertThat(crds).hasSize(ReleaseCrds.ALL.size());
        for (int i = 0; i < crds.size(); i++) {
            CustomResourceDefinition crd = crds.get(i);
            var context = ReleaseCrds.ALL.get(i);
            assertThat(crd.getMetadata().getName()).isEqualTo(context.getPlural() + "." + context.getGroup());
            assertThat(crd.getSpec().getGroup()).isEqualTo(context.getGroup());
            assertThat(crd.getSpec().getNames().getKind()).isEqualTo(context.getKind());
            assertThat(crd.getSpec().getNames().getPlural()).isEqualTo(context.getPlural());
            assertThat(crd.getSpec().getScope()).isEqualTo("Namespaced");
            assertThat(crd.getSpec().getVersions()).extracting(CustomResourceDefinitionVersion::getName)
                    .containsExactly(context.getVersion());
        }
    }

    @Test
    void schemasKeepUnknownSpecFieldsAndHaveAStatusSubresource() {
        for (CustomResourceDefinition crd : ReleaseCrds.load()) {
            CustomResourceDefinitionVersion version = crd.getSpec().getVersions().get(0);
            assertThat(version.getServed()).isTrue();
            assertThat(version.getStorage()).isTrue();
            assertThat(version.getSubresources().getStatus()).isNotNull();
            assertThat(version.getSchema().getOpenAPIV3Schema().getProperties().get("spec")
                    .getXKubernetesPreserveUnknownFields()).isTrue();
        }
    }

    @Test
    void apiVersionsAreGroupSlashVersion() {
        assertThat(ReleaseCrds.apiVersion(ReleaseCrds.FLUX_HELM_RELEASE))
                .isEqualTo("helm.integrations.flux.weave.works/v1alpha2");
        assertThat(ReleaseCrds.apiVersion(ReleaseCrds.HELM_OPERATOR_RELEASE)).isEqualTo("helm.fluxcd.io/v1");
        assertThat(ReleaseCrds.apiVersion(ReleaseCrds.HELM_OPERATOR_V1BETA1_RELEASE)).isEqualTo(
                "flux.weave.works/v1beta1");
        assertThat(ReleaseCrds.apiVersion(ReleaseCrds.FLUX2_RELEASE)).isEqualTo("helm.toolkit.fluxcd.io/v2");
    }

    @Test
    void loadReturnsFreshCopies() {
        ReleaseCrds.load().get(0).getMetadata().setName("changed");
        assertThat(ReleaseCrds.load().get(0).getMetadata().getName())
                .isEqualTo("fluxhelmreleases.helm.integrations.flux.weave.works");
    }
}
