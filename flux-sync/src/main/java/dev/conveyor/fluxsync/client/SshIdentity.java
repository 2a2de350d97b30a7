package dev.conveyor.fluxsync.client;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.util.Arrays;
import java.util.Base64;
import java.util.Map;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;

/**
 * The instance's SSH identity, as the seed's Flux had: an ed25519 key generated at first start and kept in a Secret
 * ({@code identity}: the private key, PKCS#8 PEM; {@code identity.pub}: the public key in OpenSSH format), so it
 * survives restarts and can be added as a deploy key. Only the public key is ever logged or served.
 */
public final class SshIdentity {

    private SshIdentity() {
    }

    /** The public key in the Secret, creating the Secret with a new key if it does not exist. */
    public static String ensure(KubernetesClient client, String namespace, String secretName) {
        Secret secret = secret(client, namespace, secretName);
        return new String(Base64.getDecoder().decode(secret.getData().get("identity.pub")), StandardCharsets.UTF_8)
                .trim();
    }

    /**
     * The identity's Secret, created with a new key if it does not exist: one read when it exists (a create, and a
     * read when another replica created it first, when not).
     */
    static Secret secret(KubernetesClient client, String namespace, String secretName) {
        Secret existing = client.secrets().inNamespace(namespace).withName(secretName).get();
        if (existing != null && existing.getData() != null && existing.getData().containsKey("identity.pub")) {
            return existing;
        }
        try {
            KeyPair pair = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
            String publicKey = openSshPublicKey(pair.getPublic().getEncoded(), "flux-sync@" + namespace);
            String pem = "-----BEGIN PRIVATE KEY-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(
                    StandardCharsets.US_ASCII)).encodeToString(pair.getPrivate().getEncoded())
                    + "\n-----END PRIVATE KEY-----\n";
            Secret secret = new SecretBuilder().withNewMetadata().withName(secretName).withNamespace(namespace)
                    .addToLabels(KubeCluster.MANAGED_BY_LABEL, KubeCluster.MANAGED_BY).endMetadata()
                    .withType("Opaque").withData(Map.of("identity", b64(pem), "identity.pub", b64(publicKey
                            + "\n")))
                    .build();
            try {
                client.secrets().inNamespace(namespace).resource(secret).create();
                return secret;
            } catch (KubernetesClientException e) {
                if (e.getCode() == 409) {
                    // Another replica created it first: use theirs.
                    return secret(client, namespace, secretName);
                }
                throw e;
            }
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot generate the SSH identity: " + e.getMessage(), e);
        }
    }

    /**
     * Writes the identity's private key in OpenSSH format to {@code dir/identity} (mode 0600), creating the Secret with
     * a new key if it does not exist, and returns the file: the key git uses over SSH when none is configured.
     */
    public static Path writePrivateKey(KubernetesClient client, String namespace, String secretName, Path dir) {
        Secret secret = secret(client, namespace, secretName);
        if (secret == null || secret.getData() == null || !secret.getData().containsKey("identity")) {
            throw new IllegalStateException("the SSH identity Secret " + namespace + "/" + secretName
                    + " has no key identity");
        }
        String pem = new String(Base64.getDecoder().decode(secret.getData().get("identity")), StandardCharsets.UTF_8);
        String pub = new String(Base64.getDecoder().decode(secret.getData().get("identity.pub")),
                StandardCharsets.UTF_8).trim();
        try {
            Files.createDirectories(dir);
            Path file = dir.resolve("identity");
            Path tmp = Files.createTempFile(dir, "identity-", ".tmp", PosixFilePermissions.asFileAttribute(
                    PosixFilePermissions.fromString("rw-------")));
            Files.writeString(tmp, openSshPrivateKey(pem, pub), StandardCharsets.US_ASCII);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the SSH identity to " + dir, e);
        }
    }

    /**
     * The OpenSSH private key file ({@code -----BEGIN OPENSSH PRIVATE KEY-----}, unencrypted) of an Ed25519 key given
     * as PKCS#8 PEM and its OpenSSH public key line: the format every SSH client reads.
     */
    static String openSshPrivateKey(String pkcs8Pem, String publicKeyLine) throws IOException {
        byte[] der = Base64.getMimeDecoder().decode(pkcs8Pem.replaceAll("-----[A-Z ]+-----", "").trim());
        // PKCS#8 of Ed25519: ... OCTET STRING { OCTET STRING (32-byte seed) }
        int at = -1;
        for (int i = 0; i + 4 <= der.length; i++) {
            if (der[i] == 0x04 && der[i + 1] == 0x22 && der[i + 2] == 0x04 && der[i + 3] == 0x20) {
                at = i + 4;
                break;
            }
        }
        if (at < 0 || at + 32 > der.length) {
            throw new IOException("the identity is not an Ed25519 PKCS#8 key");
        }
        byte[] seed = Arrays.copyOfRange(der, at, at + 32);
        String[] parts = publicKeyLine.trim().split("\\s+");
        byte[] blob = Base64.getDecoder().decode(parts[1]);
        byte[] pub = Arrays.copyOfRange(blob, blob.length - 32, blob.length);
        String comment = parts.length > 2 ? parts[2] : "";
        ByteArrayOutputStream priv = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(priv)) {
            int check = new java.security.SecureRandom().nextInt();
            out.writeInt(check);
            out.writeInt(check);
            sshString(out, "ssh-ed25519".getBytes(StandardCharsets.US_ASCII));
            sshString(out, pub);
            byte[] both = new byte[64];
            System.arraycopy(seed, 0, both, 0, 32);
            System.arraycopy(pub, 0, both, 32, 32);
            sshString(out, both);
            sshString(out, comment.getBytes(StandardCharsets.UTF_8));
            for (int pad = 1; (priv.size() % 8) != 0; pad++) {
                out.writeByte(pad);
            }
        }
        ByteArrayOutputStream file = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(file)) {
            out.write("openssh-key-v1\0".getBytes(StandardCharsets.US_ASCII));
            sshString(out, "none".getBytes(StandardCharsets.US_ASCII));
            sshString(out, "none".getBytes(StandardCharsets.US_ASCII));
            sshString(out, new byte[0]);
            out.writeInt(1);
            sshString(out, blob);
            sshString(out, priv.toByteArray());
        }
        return "-----BEGIN OPENSSH PRIVATE KEY-----\n" + Base64.getMimeEncoder(70, "\n".getBytes(
                StandardCharsets.US_ASCII)).encodeToString(file.toByteArray())
                + "\n-----END OPENSSH PRIVATE KEY-----\n";
    }

    private static void sshString(DataOutputStream out, byte[] bytes) throws IOException {
        out.writeInt(bytes.length);
        out.write(bytes);
    }

    /** {@code ssh-ed25519 <base64> comment} from an X.509 SubjectPublicKeyInfo of an Ed25519 key. */
    static String openSshPublicKey(byte[] spki, String comment) throws IOException {
        byte[] raw = Arrays.copyOfRange(spki, spki.length - 32, spki.length);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            byte[] type = "ssh-ed25519".getBytes(StandardCharsets.US_ASCII);
            out.writeInt(type.length);
            out.write(type);
            out.writeInt(raw.length);
            out.write(raw);
        }
        return "ssh-ed25519 " + Base64.getEncoder().encodeToString(bytes.toByteArray()) + " " + comment;
    }

    private static String b64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }
}
