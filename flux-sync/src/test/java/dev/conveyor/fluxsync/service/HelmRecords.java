package dev.conveyor.fluxsync.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;

import io.fabric8.kubernetes.client.KubernetesClient;

/** Helm's records of a release (the Secrets {@code helm list} reads), decoded as Helm decodes them. */
final class HelmRecords {

    /**
     * One record.
     *
     * @param secret the Secret's name ({@code sh.helm.release.v1.<release>.v<version>})
     * @param version the Helm revision
     * @param status the Secret's {@code status} label
     * @param chartName the chart's name in the payload
     * @param chartVersion the chart's version in the payload
     * @param infoStatus the payload's {@code info.status}
     * @param manifest the payload's manifest
     */
    record Entry(String secret, int version, String status, String chartName, String chartVersion, String infoStatus,
            String manifest) {
    }

    private HelmRecords() {
    }

    /** The records of {@code release} in {@code namespace}, newest first. */
    @SuppressWarnings("unchecked")
    static List<Entry> of(KubernetesClient client, String namespace, String release) throws IOException {
        List<Entry> out = new ArrayList<>();
        for (var s : client.secrets().inNamespace(namespace).withLabel("owner", "helm").withLabel("name", release)
                .list().getItems()) {
            assertThat(s.getType()).isEqualTo("helm.sh/release.v1");
            byte[] gz = Base64.getDecoder().decode(Base64.getDecoder().decode(s.getData().get("release")));
            Map<String, Object> rel;
            try (var in = new GZIPInputStream(new ByteArrayInputStream(gz))) {
                rel = client.getKubernetesSerialization().unmarshal(new String(in.readAllBytes(),
                        StandardCharsets.UTF_8), Map.class);
            }
            Map<String, Object> chart = (Map<String, Object>) ((Map<String, Object>) rel.get("chart")).get("metadata");
            out.add(new Entry(s.getMetadata().getName(), Integer.parseInt(s.getMetadata().getLabels().get("version")),
                    s.getMetadata().getLabels().get("status"), String.valueOf(chart.get("name")), String.valueOf(chart
                            .get("version")),
                    String.valueOf(((Map<String, Object>) rel.get("info")).get("status")),
                    String.valueOf(rel.get("manifest"))));
        }
        out.sort(Comparator.comparingInt(Entry::version).reversed());
        return out;
    }
}
