package dev.conveyor.fluxsync.domain;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import dev.conveyor.fluxsync.client.SopsDecryptor;

/** SOPS files (age) decrypted, verified and refused; fixtures are encrypted by the test, one by the age CLI. */
class SopsDecryptionTest {

    static final String SECRET = """
            apiVersion: v1
            kind: Secret
            metadata:
              name: db
            stringData:
              password: s3cr3t-hunter2
              port: 5432
              ratio: 1.5
              enabled: true
              empty: ""
              hosts:
                - db-0.internal
                - db-1.internal
            """;

    @Test
    void aFileEncryptedToTheConfiguredIdentityIsDecryptedToTheSameDocument() throws Exception {
        String[] keys = SopsFixtures.keyPair();
        String encrypted = SopsFixtures.encrypt(SECRET, keys[1], "^(data|stringData)$");
        assertThat(encrypted).doesNotContain("s3cr3t-hunter2").contains("ENC[AES256_GCM,data:").contains(
                "name: db");

        SopsDecryptor.Decrypted out = new SopsDecryptor(() -> List.of(keys[0])).decryptAll(Map.of("a.yaml",
                encrypted, "plain.yaml", "kind: ConfigMap\n"));

        assertThat(out.failures()).isEmpty();
        assertThat(out.decrypted()).containsExactly("a.yaml");
        assertThat(out.files()).containsEntry("plain.yaml", "kind: ConfigMap\n");
        assertThat(YamlDocuments.parse("a", out.files().get("a.yaml"))).isEqualTo(YamlDocuments.parse("s", SECRET));
    }

    @Test
    void everyValueIsEncryptedWithoutARuleAndKeysEndingInUnencryptedAreLeftAlone() throws Exception {
        String[] keys = SopsFixtures.keyPair();
        String plain = "a:\n  b: secret-one\n  note_unencrypted: visible\nlist: [listed-secret, 2]\n";
        String encrypted = SopsFixtures.encrypt(plain, keys[1], null);
        assertThat(encrypted).doesNotContain("secret-one").doesNotContain("listed-secret")
                .contains("note_unencrypted: visible");

        SopsDecryptor.Decrypted out = new SopsDecryptor(() -> List.of(keys[0])).decryptAll(Map.of("f.yaml",
                encrypted));

        assertThat(YamlDocuments.parse("f", out.files().get("f.yaml"))).isEqualTo(YamlDocuments.parse("p", plain));
    }

    @Test
    void aWrongKeyATamperedValueAndATamperedCleartextFieldAreRefusedWithoutQuotingValues() throws Exception {
        String[] keys = SopsFixtures.keyPair();
        String[] other = SopsFixtures.keyPair();
        String encrypted = SopsFixtures.encrypt(SECRET, keys[1], "^(data|stringData)$");
        // a value moved to another key: AES-GCM's additional data (the key path) no longer matches
        List<Map<String, Object>> docs = YamlDocuments.parse("x", encrypted);
        @SuppressWarnings("unchecked")
        Map<String, Object> data = (Map<String, Object>) docs.get(0).get("stringData");
        Object password = data.get("password");
        data.put("password", data.get("hosts") instanceof List<?> l ? l.get(0) : null);
        String swapped = new org.yaml.snakeyaml.Yaml().dumpAll(docs.iterator());
        // a cleartext field changed: only the MAC notices
        String renamed = encrypted.replace("name: db", "name: evil");

        SopsDecryptor.Decrypted out = new SopsDecryptor(() -> List.of(other[0])).decryptAll(Map.of("wrong.yaml",
                encrypted));
        SopsDecryptor.Decrypted tampered = new SopsDecryptor(() -> List.of(keys[0])).decryptAll(Map.of(
                "swapped.yaml", swapped, "renamed.yaml", renamed));
        SopsDecryptor.Decrypted none = new SopsDecryptor(List::of).decryptAll(Map.of("f.yaml", encrypted));

        assertThat(password).isNotNull();
        assertThat(out.files()).isEmpty();
        assertThat(out.failures().get("wrong.yaml")).startsWith("wrong.yaml: none of the configured age identities")
                .contains(keys[1]);
        assertThat(tampered.files()).isEmpty();
        assertThat(tampered.failures().get("swapped.yaml")).isEqualTo("swapped.yaml: the value at stringData:password:"
                + " cannot be decrypted (wrong data key, or the value or its key path was changed)");
        assertThat(tampered.failures().get("renamed.yaml")).isEqualTo(
                "renamed.yaml: MAC mismatch: the file was changed after it was encrypted");
        assertThat(none.failures().get("f.yaml")).contains("no age identity is configured");
        assertThat(String.join("\n", out.failures().values()) + tampered.failures().values() + none.failures()
                .values()).doesNotContain("s3cr3t").doesNotContain("5432").doesNotContain(keys[0]).doesNotContain(
                        other[0]);
    }

    @Test
    void aDataKeyEncryptedByTheAgeCliWithAKeyFromAgeKeygenIsReadable() throws Exception {
        Path dir = Files.createTempDirectory("age-cli");
        Path keyFile = dir.resolve("keys.txt");
        run(null, "age-keygen", "-o", keyFile.toString());
        String keyText = Files.readString(keyFile);
        String recipient = keyText.lines().filter(l -> l.startsWith("# public key: ")).findFirst().orElseThrow()
                .substring("# public key: ".length());
        String encrypted = SopsFixtures.encrypt(SECRET, recipient, "^(data|stringData)$", key -> {
            try {
                return run(key, "age", "--encrypt", "--armor", "--recipient", recipient);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        assertThat(encrypted).contains("-----BEGIN AGE ENCRYPTED FILE-----");

        SopsDecryptor.Decrypted out = new SopsDecryptor(() -> SopsDecryptor.parseIdentities(keyText)).decryptAll(Map
                .of("cli.yaml", encrypted));

        assertThat(out.failures()).isEmpty();
        assertThat(YamlDocuments.parse("a", out.files().get("cli.yaml"))).isEqualTo(YamlDocuments.parse("s", SECRET));
    }

    @Test
    void unsupportedSopsFeaturesAreNamed() throws Exception {
        String[] keys = SopsFixtures.keyPair();
        String encrypted = SopsFixtures.encrypt(SECRET, keys[1], "^(data|stringData)$");
        String shamir = encrypted.replace("  version:", "  key_groups: [{age: []}, {age: []}]\n  version:");
        String comments = encrypted.replace("  version:", "  encrypted_comment_regex: x\n  version:");

        SopsDecryptor.Decrypted out = new SopsDecryptor(() -> List.of(keys[0])).decryptAll(Map.of("s.yaml", shamir,
                "c.yaml", comments));

        assertThat(out.failures().get("s.yaml")).contains("Shamir");
        assertThat(out.failures().get("c.yaml")).contains("encrypted_comment_regex");
    }

    private static String run(byte[] stdin, String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(false).start();
        if (stdin != null) {
            p.getOutputStream().write(stdin);
        }
        p.getOutputStream().close();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        p.getInputStream().transferTo(out);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(String.join(" ", command)).isZero();
        return out.toString(StandardCharsets.US_ASCII);
    }
}
