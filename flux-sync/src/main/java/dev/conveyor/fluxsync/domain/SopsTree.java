package dev.conveyor.fluxsync.domain;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * SOPS's YAML file format, without the key services: reading the {@code sops} metadata of a document, decrypting its
 * values with the (already recovered) data key and verifying the MAC over the cleartext values.
 *
 * <p>
 * The format, as SOPS writes it: every document of the file carries the same {@code sops} mapping; each value that
 * the file's rules select ({@code unencrypted_suffix} — {@code _unencrypted} when no rule is set —,
 * {@code encrypted_suffix}, {@code encrypted_regex}, {@code unencrypted_regex}, each checked against every key on the
 * value's path) is {@code ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]}: AES-256-GCM under the data key with the value's
 * key path as additional data ({@code a:b:c:}; list items add nothing to the path). The MAC is SHA-512 (upper-case
 * hex) over the cleartext values in document order (only the encrypted ones when {@code mac_only_encrypted}),
 * itself encrypted with the {@code lastmodified} timestamp as additional data. Empty strings stay empty.
 *
 * <p>
 * Nothing here puts a value, encrypted or not, into an exception message: messages name key paths only.
 */
public final class SopsTree {

    /** Metadata key of an encrypted document. */
    public static final String METADATA_KEY = "sops";
    /** Suffix of keys left in cleartext when the file sets no rule. */
    public static final String DEFAULT_UNENCRYPTED_SUFFIX = "_unencrypted";
    /** Bytes SOPS feeds to the MAC first when it covers only encrypted values ({@code sha256("sops")}). */
    static final byte[] MAC_ONLY_ENCRYPTED_INIT = HexFormat.of().parseHex(
            "8a3fd2ad54ce66527b1034f3d147be0b0b975b3bf44f72c6fdadec8176f27d69");

    private static final Pattern ENC = Pattern.compile(
            "^ENC\\[AES256_GCM,data:(.+),iv:(.+),tag:(.+),type:(.+)\\]");
    private static final int TAG_BYTES = 16;

    /** A file that cannot be decrypted: the message names the file and key path, never a value. */
    public static final class SopsException extends Exception {
        public SopsException(String message) {
            super(message);
        }
    }

    /** One age recipient of the data key: its public key and the armored age file holding the data key. */
    public record AgeStanza(String recipient, String enc) {
    }

    /** The metadata of an encrypted file. */
    public record Metadata(List<AgeStanza> age, String lastModified, String mac, String unencryptedSuffix,
            String encryptedSuffix, Pattern unencryptedRegex, Pattern encryptedRegex, boolean macOnlyEncrypted) {

        /** Whether the value at {@code path} is encrypted under the file's rules (SOPS's shouldBeEncrypted). */
        boolean encrypted(List<String> path) {
            boolean encrypted = true;
            if (unencryptedSuffix != null && path.stream().anyMatch(k -> k.endsWith(unencryptedSuffix))) {
                encrypted = false;
            }
            if (encryptedSuffix != null) {
                encrypted = path.stream().anyMatch(k -> k.endsWith(encryptedSuffix));
            }
            if (unencryptedRegex != null && path.stream().anyMatch(k -> unencryptedRegex.matcher(k).find())) {
                encrypted = false;
            }
            if (encryptedRegex != null) {
                encrypted = path.stream().anyMatch(k -> encryptedRegex.matcher(k).find());
            }
            return encrypted;
        }
    }

    private SopsTree() {
    }

    /** Whether a document carries SOPS metadata (a top-level {@code sops} mapping with a {@code mac}). */
    public static boolean isEncrypted(Map<String, Object> doc) {
        return doc.get(METADATA_KEY) instanceof Map<?, ?> m && m.containsKey("mac");
    }

    /** Reads the metadata of the first document; {@code file} names the file in messages. */
    public static Metadata metadata(String file, Map<String, Object> doc) throws SopsException {
        if (!(doc.get(METADATA_KEY) instanceof Map<?, ?> sops)) {
            throw new SopsException(file + ": no sops metadata");
        }
        if (sops.get("unencrypted_comment_regex") != null || sops.get("encrypted_comment_regex") != null) {
            throw new SopsException(file + ": sops.encrypted_comment_regex/unencrypted_comment_regex are not "
                    + "supported (comments are not read); encrypt with a key rule instead");
        }
        List<AgeStanza> age = new ArrayList<>(ageStanzas(file, sops.get("age")));
        if (sops.get("key_groups") instanceof List<?> groups && !groups.isEmpty()) {
            if (groups.size() > 1) {
                throw new SopsException(file + ": sops.key_groups has " + groups.size()
                        + " groups (Shamir secret sharing), which is not supported; use one group");
            }
            if (groups.get(0) instanceof Map<?, ?> group) {
                age.addAll(ageStanzas(file, group.get("age")));
            }
        }
        if (age.isEmpty()) {
            throw new SopsException(file + ": the data key is not encrypted to any age recipient (sops.age is "
                    + "empty); only age keys are supported");
        }
        String mac = text(sops.get("mac"));
        String lastModified = text(sops.get("lastmodified"));
        if (mac == null || lastModified == null) {
            throw new SopsException(file + ": sops.mac or sops.lastmodified is missing");
        }
        String unencryptedSuffix = text(sops.get("unencrypted_suffix"));
        String encryptedSuffix = text(sops.get("encrypted_suffix"));
        String unencryptedRegex = text(sops.get("unencrypted_regex"));
        String encryptedRegex = text(sops.get("encrypted_regex"));
        if (unencryptedSuffix == null && encryptedSuffix == null && unencryptedRegex == null
                && encryptedRegex == null) {
            unencryptedSuffix = DEFAULT_UNENCRYPTED_SUFFIX;
        }
        try {
            return new Metadata(List.copyOf(age), lastModified, mac, unencryptedSuffix, encryptedSuffix,
                    unencryptedRegex == null ? null : Pattern.compile(unencryptedRegex),
                    encryptedRegex == null ? null : Pattern.compile(encryptedRegex),
                    Boolean.TRUE.equals(sops.get("mac_only_encrypted")));
        } catch (java.util.regex.PatternSyntaxException e) {
            throw new SopsException(file + ": sops.encrypted_regex/unencrypted_regex is not a valid pattern");
        }
    }

    private static List<AgeStanza> ageStanzas(String file, Object value) throws SopsException {
        if (value == null) {
            return List.of();
        }
        if (!(value instanceof List<?> list)) {
            throw new SopsException(file + ": sops.age is not a list");
        }
        List<AgeStanza> out = new ArrayList<>();
        for (Object o : list) {
            if (!(o instanceof Map<?, ?> m) || text(m.get("enc")) == null) {
                throw new SopsException(file + ": an entry of sops.age has no enc");
            }
            out.add(new AgeStanza(String.valueOf(m.get("recipient")), text(m.get("enc"))));
        }
        return out;
    }

    private static String text(Object o) {
        return o == null || String.valueOf(o).isEmpty() ? null : String.valueOf(o);
    }

    /**
     * Decrypts the documents of one file with the data key and checks the MAC over all of them. Returns new
     * documents without the {@code sops} key; the input is not changed.
     */
    public static List<Map<String, Object>> decrypt(String file, List<Map<String, Object>> docs, Metadata metadata,
            byte[] dataKey) throws SopsException {
        MessageDigest hash = sha512();
        if (metadata.macOnlyEncrypted()) {
            hash.update(MAC_ONLY_ENCRYPTED_INIT);
        }
        List<Map<String, Object>> out = new ArrayList<>();
        for (Map<String, Object> doc : docs) {
            Map<String, Object> copy = new LinkedHashMap<>(doc);
            copy.remove(METADATA_KEY);
            out.add(walkMap(file, copy, new ArrayList<>(), metadata, dataKey, hash));
        }
        String computed = HexFormat.of().withUpperCase().formatHex(hash.digest());
        Object stored;
        try {
            stored = decryptValue(metadata.mac(), dataKey, metadata.lastModified());
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new SopsException(file + ": the MAC cannot be decrypted (sops.mac or sops.lastmodified was "
                    + "changed, or the data key is wrong)");
        }
        if (!MessageDigest.isEqual(computed.getBytes(StandardCharsets.US_ASCII), String.valueOf(stored).getBytes(
                StandardCharsets.US_ASCII))) {
            throw new SopsException(file + ": MAC mismatch: the file was changed after it was encrypted");
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> walkMap(String file, Map<String, Object> in, List<String> path,
            Metadata metadata, byte[] key, MessageDigest hash) throws SopsException {
        Map<String, Object> out = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : in.entrySet()) {
            path.add(e.getKey());
            out.put(e.getKey(), walk(file, e.getValue(), path, metadata, key, hash));
            path.remove(path.size() - 1);
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    private static Object walk(String file, Object value, List<String> path, Metadata metadata, byte[] key,
            MessageDigest hash) throws SopsException {
        if (value == null) {
            return null;
        }
        if (value instanceof Map<?, ?> m) {
            return walkMap(file, (Map<String, Object>) m, path, metadata, key, hash);
        }
        if (value instanceof List<?> list) {
            List<Object> out = new ArrayList<>(list.size());
            for (Object item : list) {
                out.add(walk(file, item, path, metadata, key, hash));
            }
            return out;
        }
        boolean encrypted = metadata.encrypted(path);
        Object plain = value;
        if (encrypted) {
            if (!(value instanceof String s)) {
                throw new SopsException(file + ": the value at " + pathText(path) + " is not encrypted");
            }
            try {
                plain = decryptValue(s, key, pathText(path));
            } catch (GeneralSecurityException | IllegalArgumentException e) {
                throw new SopsException(file + ": the value at " + pathText(path)
                        + " cannot be decrypted (wrong data key, or the value or its key path was changed)");
            }
        }
        if (!metadata.macOnlyEncrypted() || encrypted) {
            hash.update(toBytes(plain));
        }
        return plain;
    }

    /** SOPS's additional data of a value: its keys joined and ended by {@code :}. */
    public static String pathText(List<String> path) {
        return String.join(":", path) + ":";
    }

    /** SOPS's byte form of a cleartext value (what the MAC covers). */
    public static byte[] toBytes(Object value) {
        String s;
        if (value instanceof Boolean b) {
            s = b ? "True" : "False";
        } else if (value instanceof Double || value instanceof Float) {
            double d = ((Number) value).doubleValue();
            s = BigDecimal.valueOf(d).stripTrailingZeros().toPlainString();
        } else if (value instanceof byte[] bytes) {
            return bytes;
        } else {
            s = String.valueOf(value);
        }
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** Decrypts one {@code ENC[AES256_GCM,...]} value; an empty string stays empty. */
    static Object decryptValue(String value, byte[] key, String additionalData) throws GeneralSecurityException {
        if (value.isEmpty()) {
            return "";
        }
        Matcher m = ENC.matcher(value);
        if (!m.find()) {
            throw new GeneralSecurityException("not in sops' format");
        }
        Base64.Decoder b64 = Base64.getDecoder();
        byte[] data = b64.decode(m.group(1));
        byte[] iv = b64.decode(m.group(2));
        byte[] tag = b64.decode(m.group(3));
        String type = m.group(4);
        byte[] sealed = new byte[data.length + tag.length];
        System.arraycopy(data, 0, sealed, 0, data.length);
        System.arraycopy(tag, 0, sealed, data.length, tag.length);
        Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
        cipher.init(Cipher.DECRYPT_MODE, new SecretKeySpec(key, "AES"), new GCMParameterSpec(TAG_BYTES * 8, iv));
        cipher.updateAAD(additionalData.getBytes(StandardCharsets.UTF_8));
        String plain = new String(cipher.doFinal(sealed), StandardCharsets.UTF_8);
        try {
            return switch (type) {
                case "str", "bytes" -> plain;
                case "int", "int64" -> narrow(new BigInteger(plain.trim()));
                case "float" -> Double.parseDouble(plain);
                case "bool" -> parseBool(plain);
                case "comment" -> plain;
                default -> throw new GeneralSecurityException("unknown value type");
            };
        } catch (NumberFormatException e) {
            throw new GeneralSecurityException("the value does not match its type");
        }
    }

    private static Object narrow(BigInteger i) {
        if (i.bitLength() < 32) {
            return i.intValue();
        }
        return i.bitLength() < 64 ? (Object) i.longValue() : i;
    }

    private static Boolean parseBool(String s) throws GeneralSecurityException {
        return switch (s) {
            case "1", "t", "T", "TRUE", "true", "True" -> true;
            case "0", "f", "F", "FALSE", "false", "False" -> false;
            default -> throw new GeneralSecurityException("not a boolean");
        };
    }

    /**
     * Encrypts one value the way SOPS does (32-byte random IV); for tests and tools that produce encrypted files.
     */
    public static String encryptValue(Object value, byte[] key, String additionalData, SecureRandom random)
            throws GeneralSecurityException {
        String type;
        if (value instanceof String s) {
            if (s.isEmpty()) {
                return "";
            }
            type = "str";
        } else if (value instanceof Boolean) {
            type = "bool";
        } else if (value instanceof Integer || value instanceof Long || value instanceof BigInteger) {
            type = "int";
        } else if (value instanceof Double || value instanceof Float) {
            type = "float";
        } else {
            throw new GeneralSecurityException("unsupported value type " + value.getClass().getSimpleName());
        }
        byte[] iv = new byte[32];
        random.nextBytes(iv);
        Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
        cipher.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "AES"), new GCMParameterSpec(TAG_BYTES * 8, iv));
        cipher.updateAAD(additionalData.getBytes(StandardCharsets.UTF_8));
        byte[] sealed = cipher.doFinal(toBytes(value));
        Base64.Encoder b64 = Base64.getEncoder();
        return "ENC[AES256_GCM,data:" + b64.encodeToString(java.util.Arrays.copyOf(sealed, sealed.length - TAG_BYTES))
                + ",iv:" + b64.encodeToString(iv) + ",tag:" + b64.encodeToString(java.util.Arrays.copyOfRange(sealed,
                        sealed.length - TAG_BYTES, sealed.length))
                + ",type:" + type + "]";
    }

    private static MessageDigest sha512() {
        try {
            return MessageDigest.getInstance("SHA-512");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
