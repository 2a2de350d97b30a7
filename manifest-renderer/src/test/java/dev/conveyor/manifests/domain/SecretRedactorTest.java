package dev.conveyor.manifests.domain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.List;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.node.ObjectNode;

class SecretRedactorTest {

    static final ManifestParser PARSER = new ManifestParser(ManifestParser.Limits.defaults());
    static final byte[] KEY = "0123456789abcdef0123".getBytes(StandardCharsets.UTF_8);
    static final SecretRedactor REDACTOR = new SecretRedactor(KEY, List.of("Secret", "Credentials"));

    static RenderedObject object(String yaml) throws Exception {
        ManifestParser.Result parsed = PARSER.parse("---\n# Source: app/templates/x.yaml\n" + yaml,
                "app/<rendered>");
        assertThat(parsed.problems()).isEmpty();
        return parsed.objects().get(0);
    }

    static RenderedObject secret(String password) throws Exception {
        return object("""
                apiVersion: v1
                kind: Secret
                metadata:
                  name: db
                  namespace: shop
                stringData:
                  password: "%s"
                data:
                  token: %s
                """.formatted(password, java.util.Base64.getEncoder().encodeToString(password.getBytes(
                StandardCharsets.UTF_8))));
    }

    @Test
    void valuesBecomeKeyedDeterministicPlaceholders() throws Exception {
        RenderedObject redacted = REDACTOR.redact("shop", secret("hunter2"));

        String password = redacted.body().path("stringData").path("password").asText();
        String token = redacted.body().path("data").path("token").asText();
        assertThat(password).matches("REDACTED hmac-sha256:[0-9a-f]{16}");
        assertThat(token).matches("REDACTED hmac-sha256:[0-9a-f]{16}");
        assertThat(redacted.body().toString()).doesNotContain("hunter2").doesNotContain("aHVudGVyMg==");
        assertThat(redacted.body().path("metadata").path("name").asText()).isEqualTo("db");

        RenderedObject again = new SecretRedactor(KEY.clone(), List.of("Secret")).redact("shop", secret("hunter2"));
        assertThat(again.body()).as("same key, app and value: same file").isEqualTo(redacted.body());
        assertThat(REDACTOR.redact("shop", secret("hunter3")).body().path("stringData").path("password").asText())
                .as("a changed value shows").isNotEqualTo(password);
        assertThat(REDACTOR.redact("other-app", secret("hunter2")).body().path("stringData").path("password")
                .asText()).as("keyed per app").isNotEqualTo(password);
        assertThat(new SecretRedactor("another key entirely!".getBytes(StandardCharsets.UTF_8), List.of("Secret"))
                .redact("shop", secret("hunter2")).body().path("stringData").path("password").asText())
                .as("keyed: not a plain hash").isNotEqualTo(password);
        assertThat(password).as("not a plain SHA-256 of the value").isNotEqualTo("REDACTED hmac-sha256:"
                + "f52fbd32b2b3b86f");
        assertThat(password).as("two entries of one value do not show as equal").isNotEqualTo(token);
    }

    @Test
    void listedKindsOnlyAndCiphertextStays() throws Exception {
        RenderedObject sealed = object("""
                apiVersion: bitnami.com/v1alpha1
                kind: SealedSecret
                metadata: {name: db}
                spec:
                  encryptedData:
                    password: AgBy3i4OJSWK+PiTySYZZA==
                """);
        assertThat(REDACTOR.redact("shop", sealed)).isSameAs(sealed);
        RenderedObject configMap = object("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: b}\n");
        assertThat(REDACTOR.redact("shop", configMap)).isSameAs(configMap);

        RenderedObject custom = object("""
                apiVersion: example.com/v1
                kind: Credentials
                metadata: {name: c}
                data: {apiKey: plain-api-key}
                """);
        assertThat(REDACTOR.redact("shop", custom).body().toString()).doesNotContain("plain-api-key")
                .contains("REDACTED hmac-sha256:");

        String encrypted = "ENC[AES256_GCM,data:Tr7o1Q==,iv:1=,tag:k0Wq5H2xXR3nIhUd+8ExxA==,type:str]";
        RenderedObject sops = object("""
                apiVersion: v1
                kind: Secret
                metadata: {name: db}
                stringData:
                  password: "%s"
                  plain: in-clear
                sops:
                  mac: ENC[AES256_GCM,data:abc=,iv:def=,tag:ghi=,type:str]
                  version: 3.9.0
                """.formatted(encrypted));
        ObjectNode body = REDACTOR.redact("shop", sops).body();
        assertThat(body.path("stringData").path("password").asText()).isEqualTo(encrypted);
        assertThat(body.path("stringData").path("plain").asText()).startsWith("REDACTED hmac-sha256:");

        RenderedObject notSops = object("""
                apiVersion: v1
                kind: Secret
                metadata: {name: db}
                stringData:
                  password: "%s"
                """.formatted(encrypted));
        assertThat(REDACTOR.redact("shop", notSops).body().path("stringData").path("password").asText())
                .as("ENC[...] without SOPS metadata is not trusted").startsWith("REDACTED");
    }

    @Test
    void lastAppliedConfigurationIsRedactedToo() throws Exception {
        RenderedObject object = object("""
                apiVersion: v1
                kind: Secret
                metadata:
                  name: db
                  annotations:
                    kubectl.kubernetes.io/last-applied-configuration: '{"stringData":{"password":"hunter2"}}'
                    team: payments
                stringData: {password: hunter2}
                """);
        ObjectNode body = REDACTOR.redact("shop", object).body();
        assertThat(body.toString()).doesNotContain("hunter2").contains("\"team\":\"payments\"");
    }

    @Test
    void committedFilesCarryTheNoteAndNoValue() throws Exception {
        RenderedObject configMap = object("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: b}\n");
        ManifestSet files = REDACTOR.files("shop", List.of(secret("hunter2"), configMap));

        assertThat(files.files().get("secret-shop-db.yaml")).startsWith(SecretRedactor.FILE_NOTE
                + "# Source: app/templates/x.yaml\n").doesNotContain("hunter2");
        assertThat(files.files().get("configmap-c.yaml")).startsWith("# Source: ").contains("a: b");
        assertThat(files.digest()).isEqualTo(REDACTOR.files("shop", List.of(secret("hunter2"), configMap)).digest())
                .isNotEqualTo(REDACTOR.files("shop", List.of(secret("hunter3"), configMap)).digest());
    }

    @Test
    void aShortKeyIsRefused() {
        assertThatThrownBy(() -> new SecretRedactor("short".getBytes(StandardCharsets.UTF_8), List.of("Secret")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageNotContaining("short");
    }
}
