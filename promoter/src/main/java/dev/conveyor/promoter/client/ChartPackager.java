package dev.conveyor.promoter.client;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

import com.marcnuri.helm.Helm;

import dev.conveyor.promoter.domain.InvalidDocumentException;
import dev.conveyor.promoter.domain.YamlText;
import dev.conveyor.stage.StageException;

/**
 * Packages a chart at the run's version with Helm (helm-java) and makes the package reproducible: Helm stamps the
 * packaging time into every tar header and the gzip header, so the archive is rewritten with fixed times and owners.
 * The same chart content therefore always has the same digest, which is what lets a replay recognise a chart it
 * already published and an immutable repository refuse a changed one.
 */
public final class ChartPackager {

    /** Helm's engine keeps process-wide state; one package at a time (packaging takes milliseconds). */
    private static final Object HELM = new Object();

    /** Fixed modification time of every packaged file: 2000-01-01T00:00:00Z. */
    static final java.util.Date FIXED_TIME = new java.util.Date(946_684_800_000L);

    /**
     * Sets {@code version} (and {@code appVersion}) in the chart's Chart.yaml in place, then packages it into
     * {@code destination}.
     *
     * @param chartDir an extracted chart directory (a scratch copy: its Chart.yaml is edited)
     * @param expectedName the chart name the event announced
     */
    public PackagedChart packageChart(Path chartDir, String expectedName, String version, Path destination)
            throws IOException {
        Path chartYaml = chartDir.resolve("Chart.yaml");
        String text = Files.readString(chartYaml, StandardCharsets.UTF_8);
        YamlText doc;
        try {
            doc = YamlText.parse("Chart.yaml", text);
        } catch (InvalidDocumentException e) {
            throw StageException.terminal(ChartSource.Failure.CHART_INVALID, e.getMessage(), Map.of("field",
                    "Chart.yaml"));
        }
        String name = doc.string("name").orElse(null);
        if (!expectedName.equals(name)) {
            throw StageException.terminal(ChartSource.Failure.CHART_INVALID, "Chart.yaml names the chart " + name
                    + ", but the run's chart is " + expectedName, Map.of("field", "Chart.yaml name"));
        }
        try {
            doc = doc.set(version, "version").set(version, "appVersion");
        } catch (InvalidDocumentException e) {
            throw StageException.terminal(ChartSource.Failure.CHART_INVALID, e.getMessage(), Map.of("field",
                    "Chart.yaml " + e.field()));
        }
        Files.writeString(chartYaml, doc.text(), StandardCharsets.UTF_8);

        Path raw = Files.createDirectories(destination.resolve("raw"));
        try {
            synchronized (HELM) {
                new Helm(chartDir).packageIt().withDestination(raw).call();
            }
        } catch (RuntimeException e) {
            throw StageException.terminal(ChartSource.Failure.CHART_INVALID, "helm package failed: " + firstLine(e
                    .getMessage()), Map.of("field", "chartPath"));
        }
        Path packaged = raw.resolve(name + "-" + version + ".tgz");
        if (!Files.isRegularFile(packaged)) {
            throw new IOException("helm package did not write " + packaged.getFileName());
        }
        Path file = destination.resolve(packaged.getFileName());
        String digest = normalise(packaged, file);
        Files.delete(packaged);
        return new PackagedChart(name, version, file, digest, metadata(doc.text()));
    }

    /** Rewrites a .tgz with fixed times and owners; returns the new file's sha256. */
    static String normalise(Path in, Path out) throws IOException {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        try (InputStream raw = Files.newInputStream(in);
                TarArchiveInputStream tar = new TarArchiveInputStream(new java.util.zip.GZIPInputStream(raw));
                OutputStream file = Files.newOutputStream(out);
                // The JDK writes a gzip header without time or name: the same bytes every time.
                OutputStream hashed = new java.security.DigestOutputStream(file, sha);
                TarArchiveOutputStream target = new TarArchiveOutputStream(
                        new java.util.zip.GZIPOutputStream(hashed))) {
            target.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            for (TarArchiveEntry entry = tar.getNextEntry(); entry != null; entry = tar.getNextEntry()) {
                TarArchiveEntry copy = new TarArchiveEntry(entry.getName());
                copy.setSize(entry.getSize());
                copy.setMode(entry.isDirectory() ? 0755 : 0644);
                copy.setModTime(FIXED_TIME);
                copy.setUserId(0);
                copy.setGroupId(0);
                copy.setUserName("");
                copy.setGroupName("");
                target.putArchiveEntry(copy);
                tar.transferTo(target);
                target.closeArchiveEntry();
            }
            target.finish();
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    /** sha256 of a file, 64 hex digits. */
    public static String sha256(Path file) throws IOException {
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), MessageDigest.getInstance(
                "SHA-256"))) {
            in.transferTo(OutputStream.nullOutputStream());
            return HexFormat.of().formatHex(((DigestInputStream) in).getMessageDigest().digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> metadata(String chartYaml) {
        LoaderOptions options = new LoaderOptions();
        options.setMaxAliasesForCollections(20);
        options.setAllowDuplicateKeys(false);
        Object doc = new Yaml(new SafeConstructor(options)).load(chartYaml);
        return new LinkedHashMap<>((Map<String, Object>) doc);
    }

    private static String firstLine(String message) {
        if (message == null) {
            return "";
        }
        return message.lines().findFirst().orElse("");
    }
}
