package dev.conveyor.manifests.domain;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import org.junit.jupiter.api.Test;

class ManifestSetTest {

    final ManifestParser parser = new ManifestParser(ManifestParser.Limits.defaults());

    List<RenderedObject> objects() {
        return parser.parse("""
                apiVersion: v1
                kind: Service
                metadata: {name: Web, namespace: shop}
                ---
                apiVersion: rbac.authorization.k8s.io/v1
                kind: ClusterRole
                metadata: {name: "system:reader"}
                ---
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: web, namespace: shop}
                """, "t").objects();
    }

    @Test
    void filesAreNamedStablySortedAndDigestedIndependentlyOfRenderOrder() {
        List<RenderedObject> objects = objects();
        ManifestSet set = ManifestSet.of(objects);
        List<RenderedObject> reversed = new ArrayList<>(objects);
        Collections.reverse(reversed);

        assertThat(set.files().keySet()).containsExactly("clusterrole-system_reader.yaml",
                "deployment-shop-web.yaml", "service-shop-web.yaml");
        assertThat(set.files().get("deployment-shop-web.yaml")).isEqualTo("""
                # Source: t
                apiVersion: apps/v1
                kind: Deployment
                metadata:
                  name: web
                  namespace: shop
                """);
        assertThat(ManifestSet.of(reversed).digest()).isEqualTo(set.digest()).matches("sha256:[0-9a-f]{64}");
        assertThat(ManifestSet.of(objects.subList(0, 2)).digest()).isNotEqualTo(set.digest());
    }

    @Test
    void secretValuesAreRedactedForPeopleButChangesStillShow() {
        List<RenderedObject> one = parser.parse("""
                apiVersion: v1
                kind: Secret
                metadata: {name: db}
                data: {password: aHVudGVyMg==}
                stringData: {user: admin}
                """, "t").objects();
        List<RenderedObject> two = parser.parse("""
                apiVersion: v1
                kind: Secret
                metadata: {name: db}
                data: {password: c2VjcmV0}
                stringData: {user: admin}
                """, "t").objects();
        SecretRedactor redactor = new SecretRedactor("a key of sixteen+ bytes".getBytes(
                java.nio.charset.StandardCharsets.UTF_8), List.of("Secret"));
        String first = redactor.files("app", one).files().get("secret-db.yaml");
        String second = redactor.files("app", two).files().get("secret-db.yaml");
        assertThat(first).doesNotContain("aHVudGVyMg==").doesNotContain("admin").containsPattern(
                "password: REDACTED hmac-sha256:[0-9a-f]{16}\n");
        assertThat(second).isNotEqualTo(first);
        assertThat(ManifestSet.of(one).files().get("secret-db.yaml")).contains("aHVudGVyMg==");
    }
}
