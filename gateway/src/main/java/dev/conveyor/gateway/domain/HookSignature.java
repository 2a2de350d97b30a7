package dev.conveyor.gateway.domain;

import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Hook authentication: an HMAC-SHA256 signature over the raw body ({@code X-Conveyor-Signature: sha256=<hex>}) or a
 * bearer token. Every comparison is constant-time, so timing does not leak how much of a guess was right.
 */
public final class HookSignature {

    /** Prefix of the signature header's value. */
    public static final String SCHEME = "sha256=";

    private HookSignature() {
    }

    /** The header value a sender computes for {@code body} with {@code secret}: {@code sha256=<64 hex>}. */
    public static String sign(byte[] body, String secret) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            return SCHEME + HexFormat.of().formatHex(mac.doFinal(body));
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            throw new IllegalStateException("HmacSHA256 is required by the Java platform", e);
        }
    }

    /** Whether {@code header} is the signature of {@code body} with {@code secret}. */
    public static boolean verify(byte[] body, String header, String secret) {
        if (header == null || secret == null || secret.isEmpty()) {
            return false;
        }
        String expected = sign(body, secret);
        String given = header.trim().toLowerCase(Locale.ROOT);
        return MessageDigest.isEqual(expected.getBytes(StandardCharsets.US_ASCII),
                given.getBytes(StandardCharsets.US_ASCII));
    }

    /** Whether an {@code Authorization} header carries {@code Bearer <token>} for the configured token. */
    public static boolean bearerMatches(String authorization, String token) {
        if (authorization == null || token == null || token.isEmpty()) {
            return false;
        }
        String value = authorization.trim();
        if (value.length() < 7 || !value.substring(0, 7).equalsIgnoreCase("bearer ")) {
            return false;
        }
        return MessageDigest.isEqual(value.substring(7).trim().getBytes(StandardCharsets.UTF_8),
                token.getBytes(StandardCharsets.UTF_8));
    }
}
