package dev.conveyor.fluxsync.client;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
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
        Secret existing = client.secrets().inNamespace(namespace).withName(secretName).get();
        if (existing != null && existing.getData() != null && existing.getData().containsKey("identity.pub")) {
            return new String(Base64.getDecoder().decode(existing.getData().get("identity.pub")),
                    StandardCharsets.UTF_8).trim();
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
                return publicKey;
            } catch (KubernetesClientException e) {
                if (e.getCode() == 409) {
                    // Another replica created it first: use theirs.
                    return ensure(client, namespace, secretName);
                }
                throw e;
            }
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot generate the SSH identity: " + e.getMessage(), e);
        }
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
