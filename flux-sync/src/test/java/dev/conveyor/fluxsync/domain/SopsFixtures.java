package dev.conveyor.fluxsync.domain;

import java.io.ByteArrayOutputStream;
import java.nio.channels.Channels;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Pattern;

import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.Yaml;

import com.exceptionfactory.jagged.framework.armor.ArmoredEncryptingChannelFactory;
import com.exceptionfactory.jagged.x25519.X25519KeyPairGenerator;
import com.exceptionfactory.jagged.x25519.X25519RecipientStanzaWriterFactory;

/**
 * A SOPS encryptor for tests: writes files in SOPS's YAML format (values encrypted with AES-256-GCM under a fresh data
 * key, the MAC, the data key encrypted to an age recipient with jagged, or by a given function such as the
 * {@code age} CLI).
 */
public final class SopsFixtures {

    private static final SecureRandom RANDOM = new SecureRandom();

    private SopsFixtures() {
    }

    /** An age key pair: {@code [identity, recipient]}. */
    public static String[] keyPair() throws Exception {
        KeyPair pair = new X25519KeyPairGenerator().generateKeyPair();
        return new String[]{pair.getPrivate().toString(), pair.getPublic().toString()};
    }

    /** Encrypts {@code yaml} to {@code recipient}; {@code encryptedRegex} as SOPS's option (null: everything). */
    public static String encrypt(String yaml, String recipient, String encryptedRegex) throws Exception {
        return encrypt(yaml, recipient, encryptedRegex, key -> ageArmor(key, recipient));
    }

    /** Encrypts {@code yaml}, the data key encrypted by {@code keyEncryptor} (armored age file). */
    @SuppressWarnings("unchecked")
    public static String encrypt(String yaml, String recipient, String encryptedRegex,
            Function<byte[], String> keyEncryptor) throws Exception {
        byte[] key = new byte[32];
        RANDOM.nextBytes(key);
        SopsTree.Metadata rules = new SopsTree.Metadata(List.of(), "x", "x", encryptedRegex == null
                ? SopsTree.DEFAULT_UNENCRYPTED_SUFFIX
                : null, null, null, encryptedRegex == null ? null : Pattern.compile(encryptedRegex), false);
        MessageDigest hash = MessageDigest.getInstance("SHA-512");
        List<Map<String, Object>> out = new ArrayList<>();
        for (Map<String, Object> doc : YamlDocuments.parse("fixture", yaml)) {
            out.add((Map<String, Object>) walk(doc, new ArrayList<>(), rules, key, hash));
        }
        String lastModified = "2026-11-24T00:30:00Z";
        String mac = SopsTree.encryptValue(HexFormat.of().withUpperCase().formatHex(hash.digest()), key, lastModified,
                RANDOM);
        Map<String, Object> sops = new LinkedHashMap<>();
        Map<String, Object> age = new LinkedHashMap<>();
        age.put("recipient", recipient);
        age.put("enc", keyEncryptor.apply(key));
        sops.put("age", List.of(age));
        sops.put("lastmodified", lastModified);
        sops.put("mac", mac);
        if (encryptedRegex != null) {
            sops.put("encrypted_regex", encryptedRegex);
        }
        sops.put("version", "3.9.4");
        out.forEach(d -> d.put("sops", sops));
        DumperOptions options = new DumperOptions();
        options.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
        options.setSplitLines(false);
        return new Yaml(options).dumpAll(out.iterator());
    }

    @SuppressWarnings("unchecked")
    private static Object walk(Object value, List<String> path, SopsTree.Metadata rules, byte[] key,
            MessageDigest hash) throws Exception {
        if (value instanceof Map<?, ?> m) {
            Map<String, Object> out = new LinkedHashMap<>();
            for (Map.Entry<String, Object> e : ((Map<String, Object>) m).entrySet()) {
                path.add(e.getKey());
                out.put(e.getKey(), walk(e.getValue(), path, rules, key, hash));
                path.remove(path.size() - 1);
            }
            return out;
        }
        if (value instanceof List<?> l) {
            List<Object> out = new ArrayList<>();
            for (Object item : l) {
                out.add(walk(item, path, rules, key, hash));
            }
            return out;
        }
        if (value == null) {
            return null;
        }
        hash.update(SopsTree.toBytes(value));
        return rules.encrypted(path) ? SopsTree.encryptValue(value, key, SopsTree.pathText(path), RANDOM) : value;
    }

    /** The data key as an armored age file for {@code recipient} (jagged). */
    public static String ageArmor(byte[] key, String recipient) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (WritableByteChannel channel = new ArmoredEncryptingChannelFactory().newEncryptingChannel(Channels
                    .newChannel(bytes),
                    List.of(X25519RecipientStanzaWriterFactory.newRecipientStanzaWriter(
                            recipient)))) {
                channel.write(java.nio.ByteBuffer.wrap(key));
            }
            return bytes.toString(StandardCharsets.US_ASCII);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
