package dev.conveyor.manifests.domain;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Keeps secret values out of everything the renderer writes where people can read it: the files committed under
 * {@code manifests/} and the pull request diff.
 *
 * <p>
 * Every value under {@code data} and {@code stringData} of an object whose kind is in the redact list (by default
 * {@code Secret}) becomes {@value #PREFIX}{@code <16 hex>}: the first 64 bits of an HMAC-SHA256 of the value, keyed
 * with a key derived from the renderer's redaction key and the app id, over the object's identity, the entry's key and
 * the value's bytes ({@code data} values base64-decoded). The placeholder is deterministic (the same value renders the
 * same file, so an unchanged secret makes no commit) and changes when the value changes (a rotated secret shows as a
 * change), but without the key it is no help in guessing the value, even a short one: a plain hash of a six-letter
 * password is found by brute force in seconds. The per-app key keeps equal values in two apps from showing as equal,
 * and the identity in the input does the same for two entries of one app.
 *
 * <p>
 * Left as they are: values SOPS has encrypted ({@code ENC[AES256_GCM,...]} in a document with SOPS metadata), and every
 * kind not listed, such as {@code SealedSecret}, whose values are ciphertext already. The
 * {@code kubectl.kubernetes.io/last-applied-configuration} annotation of a redacted object, which repeats the values,
 * is redacted as a whole.
 */
public final class SecretRedactor {

    /** Starts every placeholder. */
    public static final String PREFIX = "REDACTED hmac-sha256:";

    /** The comment that heads every committed file whose values were redacted. */
    public static final String FILE_NOTE = "# Values redacted by Conveyor: the cluster gets them through the GitOps"
            + " release, never from this file.\n";

    private static final String LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";
    private static final Pattern SOPS_VALUE = Pattern.compile(
            "ENC\\[AES256_GCM,data:[A-Za-z0-9+/=]*,iv:[A-Za-z0-9+/=]+,tag:[A-Za-z0-9+/=]+,type:[a-z]+\\]");
    private static final int MIN_KEY_BYTES = 16;

    private final byte[] key;
    private final Set<String> kinds;

    /**
     * @param key the redaction key, at least 16 bytes; never logged
     * @param kinds kinds whose {@code data}/{@code stringData} values are redacted, matched in every API group
     */
    public SecretRedactor(byte[] key, List<String> kinds) {
        if (key.length < MIN_KEY_BYTES) {
            throw new IllegalArgumentException("the redaction key must have at least " + MIN_KEY_BYTES + " bytes");
        }
        this.key = key.clone();
        this.kinds = Set.copyOf(kinds.stream().map(String::trim).filter(k -> !k.isEmpty()).toList());
    }

    /** Whether objects of this one's kind are redacted. */
    public boolean redacts(RenderedObject object) {
        return kinds.contains(object.kind());
    }

    /** The object with its secret values replaced by placeholders, or the object itself when its kind is not listed. */
    public RenderedObject redact(String app, RenderedObject object) {
        if (!redacts(object)) {
            return object;
        }
        Mac mac = mac(appKey(app));
        ObjectNode body = object.body().deepCopy();
        boolean sops = body.path("sops").isObject() && body.path("sops").has("mac");
        for (String field : new String[]{"data", "stringData"}) {
            JsonNode values = body.path(field);
            if (!values.isObject()) {
                continue;
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = values.fields(); it.hasNext();) {
                Map.Entry<String, JsonNode> entry = it.next();
                JsonNode value = entry.getValue();
                if (value.isNull() || sops && value.isTextual() && SOPS_VALUE.matcher(value.asText()).matches()) {
                    continue;
                }
                byte[] bytes = "data".equals(field) && value.isTextual()
                        ? decoded(value.asText())
                        : value.isTextual()
                                ? value.asText().getBytes(StandardCharsets.UTF_8)
                                : value.toString().getBytes(StandardCharsets.UTF_8);
                entry.setValue(body.textNode(placeholder(mac, object, entry.getKey(), bytes)));
            }
        }
        JsonNode annotations = body.path("metadata").path("annotations");
        if (annotations.isObject() && annotations.has(LAST_APPLIED)) {
            byte[] bytes = annotations.path(LAST_APPLIED).asText().getBytes(StandardCharsets.UTF_8);
            ((ObjectNode) annotations).put(LAST_APPLIED, placeholder(mac, object, "\0" + LAST_APPLIED, bytes));
        }
        return RenderedObject.of(object.source(), body);
    }

    /** The objects as committed files: redacted, and each redacted file headed by {@link #FILE_NOTE}. */
    public ManifestSet files(String app, List<RenderedObject> objects) {
        return ManifestSet.of(objects.stream().map(o -> redact(app, o)).toList(), this::redacts, FILE_NOTE);
    }

    private static String placeholder(Mac mac, RenderedObject object, String entry, byte[] value) {
        mac.reset();
        for (String part : new String[]{object.apiVersion(), object.kind(), object.namespace(), object.name(), entry}) {
            mac.update(part.getBytes(StandardCharsets.UTF_8));
            mac.update((byte) 0);
        }
        byte[] hmac = mac.doFinal(value);
        return PREFIX + HexFormat.of().formatHex(hmac, 0, 8);
    }

    private static byte[] decoded(String text) {
        try {
            return Base64.getDecoder().decode(text);
        } catch (IllegalArgumentException e) {
            return text.getBytes(StandardCharsets.UTF_8);
        }
    }

    private byte[] appKey(String app) {
        Mac mac = mac(key);
        return mac.doFinal(("conveyor manifests redaction v1\0" + app).getBytes(StandardCharsets.UTF_8));
    }

    private static Mac mac(byte[] key) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available", e);
        }
    }
}
