package dev.conveyor.gateway.domain;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The bearer tokens that may read runs and replay them. Each is configured as {@code <name>:<role>:<sha256 hex of
 * the token>}, so the configuration never holds a token itself; the name is who the audit says replayed. A presented
 * token is hashed and compared with every configured hash in constant time.
 */
public final class AccessTokens {

    static final Pattern NAME = Pattern.compile("[A-Za-z0-9._@-]{1,64}");
    static final Pattern SHA256_HEX = Pattern.compile("[0-9a-f]{64}");

    /** What a token may do. An operator may do everything a viewer may. */
    public enum Role {
        /** Read runs: the run API, both streams, the run page. */
        VIEWER,
        /** Also replay runs. */
        OPERATOR;

        /** Whether this role may do what {@code needed} may. */
        public boolean allows(Role needed) {
            return ordinal() >= needed.ordinal();
        }
    }

    /**
     * Who made a request.
     *
     * @param name the token's configured name (what the replay audit records)
     * @param role what it may do
     */
    public record Caller(String name, Role role) {
    }

    private record Entry(Caller caller, byte[] sha256) {
    }

    private final List<Entry> entries;

    private AccessTokens(List<Entry> entries) {
        this.entries = List.copyOf(entries);
    }

    /**
     * The tokens configured as {@code <name>:<role>:<sha256 hex>} entries.
     *
     * @throws IllegalArgumentException naming the bad entry by position (never echoing it)
     */
    public static AccessTokens of(List<String> configured) {
        List<Entry> entries = new ArrayList<>();
        for (int i = 0; i < configured.size(); i++) {
            String[] parts = configured.get(i).trim().split(":");
            String where = "conveyor.gateway.auth.tokens[" + i + "]";
            if (parts.length != 3) {
                throw new IllegalArgumentException(where + " must be <name>:<viewer|operator>:<sha256 hex>");
            }
            if (!NAME.matcher(parts[0]).matches()) {
                throw new IllegalArgumentException(where + ": the name must be 1-64 of A-Z a-z 0-9 . _ @ -");
            }
            Role role;
            try {
                role = Role.valueOf(parts[1].toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(where + ": the role must be viewer or operator");
            }
            String hash = parts[2].toLowerCase(Locale.ROOT);
            if (!SHA256_HEX.matcher(hash).matches()) {
                throw new IllegalArgumentException(where + ": the hash must be 64 hex digits (sha256 of the token)");
            }
            entries.add(new Entry(new Caller(parts[0], role), HexFormat.of().parseHex(hash)));
        }
        return new AccessTokens(entries);
    }

    /** These tokens and one more, given as the token itself (a legacy single-token setting). */
    public AccessTokens with(String name, Role role, String token) {
        List<Entry> all = new ArrayList<>(entries);
        all.add(new Entry(new Caller(name, role), sha256(token)));
        return new AccessTokens(all);
    }

    /** Whether no token is configured (then every request is refused). */
    public boolean isEmpty() {
        return entries.isEmpty();
    }

    /** The caller an {@code Authorization: Bearer <token>} header names, if the token is configured. */
    public Optional<Caller> authenticate(String authorization) {
        if (authorization == null) {
            return Optional.empty();
        }
        String value = authorization.trim();
        if (value.length() < 8 || !value.substring(0, 7).equalsIgnoreCase("bearer ")) {
            return Optional.empty();
        }
        return authenticateToken(value.substring(7).trim());
    }

    /** The caller a bare token names, if it is configured. */
    public Optional<Caller> authenticateToken(String token) {
        if (token == null || token.isEmpty()) {
            return Optional.empty();
        }
        byte[] presented = sha256(token);
        Caller found = null;
        // Every entry is compared, so the time taken does not tell which one matched.
        for (Entry entry : entries) {
            if (MessageDigest.isEqual(entry.sha256(), presented) && found == null) {
                found = entry.caller();
            }
        }
        return Optional.ofNullable(found);
    }

    /** The hex SHA-256 of a token: what the configuration holds for it. */
    public static String hash(String token) {
        return HexFormat.of().formatHex(sha256(token));
    }

    private static byte[] sha256(String token) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by the Java platform", e);
        }
    }
}
