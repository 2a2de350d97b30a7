package dev.conveyor.fluxsync.client;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ReadableByteChannel;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.Yaml;

import com.exceptionfactory.jagged.RecipientStanzaReader;
import com.exceptionfactory.jagged.framework.armor.ArmoredDecryptingChannelFactory;
import com.exceptionfactory.jagged.x25519.X25519RecipientStanzaReaderFactory;

import dev.conveyor.fluxsync.domain.SopsTree;
import dev.conveyor.fluxsync.domain.YamlDocuments;

/**
 * Decrypts SOPS-encrypted YAML files of a GitOps repository with age identities: the data key is recovered from the
 * file's {@code sops.age[].enc} with the first identity that opens it (jagged, the age format in Java), then
 * {@link SopsTree} decrypts the values and checks the MAC. Files without SOPS metadata pass through unchanged.
 *
 * <p>
 * Decrypted content stays in memory: it is handed to the layout as YAML text and never logged; failures carry the
 * file and key path only.
 */
public final class SopsDecryptor {

    /** The files of one revision after decryption: the readable ones, and why the others could not be read. */
    public record Decrypted(Map<String, String> files, Map<String, String> failures, Set<String> decrypted) {
    }

    private final Supplier<List<String>> identities;

    /** @param identities age identities ({@code AGE-SECRET-KEY-1...}), asked for only when a file is encrypted */
    public SopsDecryptor(Supplier<List<String>> identities) {
        this.identities = identities;
    }

    /** Reads age identities from a key file's text: one per line, {@code #} comments and blank lines ignored. */
    public static List<String> parseIdentities(String keyFile) {
        List<String> out = new ArrayList<>();
        for (String line : keyFile.split("\\R")) {
            String t = line.trim();
            if (t.startsWith("AGE-SECRET-KEY-1")) {
                out.add(t);
            }
        }
        return out;
    }

    /** Decrypts every encrypted file of {@code files}; plain files are returned as they are. */
    public Decrypted decryptAll(Map<String, String> files) {
        Map<String, String> out = new LinkedHashMap<>();
        Map<String, String> failures = new LinkedHashMap<>();
        List<RecipientStanzaReader> readers = null;
        Set<String> decrypted = new java.util.LinkedHashSet<>();
        for (Map.Entry<String, String> file : files.entrySet()) {
            String text = file.getValue();
            if (!text.contains(SopsTree.METADATA_KEY + ":")) {
                out.put(file.getKey(), text);
                continue;
            }
            List<Map<String, Object>> docs;
            try {
                docs = YamlDocuments.parse(file.getKey(), text);
            } catch (YamlDocuments.InvalidYamlException e) {
                out.put(file.getKey(), text); // the layout reports it
                continue;
            }
            if (docs.isEmpty() || !SopsTree.isEncrypted(docs.get(0))) {
                out.put(file.getKey(), text);
                continue;
            }
            try {
                if (readers == null) {
                    readers = readers();
                }
                out.put(file.getKey(), dump(decrypt(file.getKey(), docs, readers)));
                decrypted.add(file.getKey());
            } catch (SopsTree.SopsException e) {
                failures.put(file.getKey(), e.getMessage());
            }
        }
        return new Decrypted(out, failures, decrypted);
    }

    private List<RecipientStanzaReader> readers() throws SopsTree.SopsException {
        List<String> ids;
        try {
            ids = identities.get();
        } catch (RuntimeException e) {
            throw new SopsTree.SopsException("the age identities cannot be read: " + e.getMessage());
        }
        List<RecipientStanzaReader> readers = new ArrayList<>();
        for (String id : ids) {
            try {
                readers.add(X25519RecipientStanzaReaderFactory.newRecipientStanzaReader(id));
            } catch (GeneralSecurityException | RuntimeException e) {
                // The identity itself is never quoted.
                throw new SopsTree.SopsException("an age identity is not a valid AGE-SECRET-KEY-1 key");
            }
        }
        return readers;
    }

    /** Decrypts the documents of one file. */
    public static List<Map<String, Object>> decrypt(String file, List<Map<String, Object>> docs,
            List<RecipientStanzaReader> readers) throws SopsTree.SopsException {
        SopsTree.Metadata metadata = SopsTree.metadata(file, docs.get(0));
        if (readers.isEmpty()) {
            throw new SopsTree.SopsException(file + ": the file is SOPS-encrypted and no age identity is configured "
                    + "(conveyor.flux-sync.sops.age-key-file or .age-key-secret)");
        }
        byte[] dataKey = null;
        for (SopsTree.AgeStanza stanza : metadata.age()) {
            dataKey = dataKey(stanza.enc(), readers);
            if (dataKey != null) {
                break;
            }
        }
        if (dataKey == null) {
            throw new SopsTree.SopsException(file + ": none of the configured age identities can decrypt the data "
                    + "key (recipients " + metadata.age().stream().map(SopsTree.AgeStanza::recipient).toList() + ")");
        }
        if (dataKey.length != 32) {
            throw new SopsTree.SopsException(file + ": the data key is not 32 bytes");
        }
        try {
            return SopsTree.decrypt(file, docs, metadata, dataKey);
        } finally {
            java.util.Arrays.fill(dataKey, (byte) 0);
        }
    }

    private static byte[] dataKey(String armored, List<RecipientStanzaReader> readers) {
        ArmoredDecryptingChannelFactory factory = new ArmoredDecryptingChannelFactory();
        ReadableByteChannel in = Channels.newChannel(new java.io.ByteArrayInputStream(armored.getBytes(
                StandardCharsets.US_ASCII)));
        try (ReadableByteChannel plain = factory.newDecryptingChannel(in, readers)) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteBuffer buffer = ByteBuffer.allocate(256);
            while (plain.read(buffer) >= 0) {
                buffer.flip();
                out.write(buffer.array(), 0, buffer.limit());
                buffer.clear();
                if (out.size() > 1024) {
                    return null;
                }
            }
            return out.toByteArray();
        } catch (GeneralSecurityException | IOException | RuntimeException e) {
            return null;
        }
    }

    private static String dump(List<Map<String, Object>> docs) {
        DumperOptions options = new DumperOptions();
        options.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
        options.setSplitLines(false);
        return new Yaml(options).dumpAll(docs.iterator());
    }
}
