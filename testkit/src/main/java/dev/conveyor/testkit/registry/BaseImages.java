package dev.conveyor.testkit.registry;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

import com.google.cloud.tools.jib.api.Containerizer;
import com.google.cloud.tools.jib.api.Jib;
import com.google.cloud.tools.jib.api.JibContainer;
import com.google.cloud.tools.jib.api.JibContainerBuilder;
import com.google.cloud.tools.jib.api.RegistryImage;
import com.google.cloud.tools.jib.api.TarImage;
import com.google.cloud.tools.jib.api.buildplan.AbsoluteUnixPath;
import com.google.cloud.tools.jib.api.buildplan.FileEntriesLayer;
import com.google.cloud.tools.jib.api.buildplan.FilePermissions;

import dev.conveyor.testkit.TempDirs;

/**
 * A tiny, reproducible base image for Conveyor's tests and local stack, built with Jib from scratch so that neither the
 * internet nor a Docker daemon is needed.
 *
 * <p>
 * The image has one layer with {@code /etc/passwd} (users {@code root} and {@code nonroot}, uid/gid 65532),
 * {@code /etc/group} and {@code /etc/os-release} naming it the Conveyor test base; it runs as {@code 65532:65532} and
 * is {@code linux/amd64}. Jib's fixed timestamps make every build byte-identical, so its digest is stable across runs
 * and machines.
 */
public final class BaseImages {

    /** Repository the base image is pushed to, in every registry. */
    public static final String REPOSITORY = "conveyor/base";
    /** Tag of the base image. */
    public static final String TAG = "1";
    /** Uid and gid of the {@code nonroot} user the image runs as. */
    public static final int NONROOT_UID = 65532;

    private static final Map<String, String> FILES = files();
    private static final String SEND_CREDENTIALS_OVER_HTTP = "sendCredentialsOverHttp";

    private BaseImages() {
    }

    private static Map<String, String> files() {
        Map<String, String> files = new LinkedHashMap<>();
        files.put("/etc/passwd", "root:x:0:0:root:/root:/sbin/nologin\n" + "nonroot:x:" + NONROOT_UID + ":"
                + NONROOT_UID + ":nonroot:/home/nonroot:/sbin/nologin\n");
        files.put("/etc/group", "root:x:0:\n" + "nonroot:x:" + NONROOT_UID + ":\n");
        files.put("/etc/os-release", "NAME=\"Conveyor test base\"\n" + "ID=conveyor-test-base\n" + "VERSION_ID=" + TAG
                + "\n" + "PRETTY_NAME=\"Conveyor test base " + TAG + "\"\n");
        return Map.copyOf(files);
    }

    /** Paths and contents of the files in the base image's single layer. */
    public static Map<String, String> contents() {
        return FILES;
    }

    /**
     * Pushes the base image to {@code registry} as {@value #REPOSITORY}:{@value #TAG} and returns that reference, e.g.
     * {@code 127.0.0.1:5000/conveyor/base:1}.
     */
    public static String seed(OciRegistry registry) {
        return seed(registry.host(), registry.credentials());
    }

    /**
     * Pushes the base image to the registry at {@code host} ({@code 127.0.0.1:<port>}, plain HTTP), for registries
     * this JVM did not start (the local stack's). Returns the reference, as {@link #seed(OciRegistry)}.
     */
    public static String seed(String host, Optional<OciRegistry.Credentials> credentials) {
        String reference = host + "/" + REPOSITORY + ":" + TAG;
        build(reference, work -> {
            RegistryImage target = RegistryImage.named(reference);
            credentials.ifPresent(c -> {
                target.addCredential(c.user(), c.password());
                // Jib refuses to send credentials over plain HTTP unless this JVM-wide switch is on; the registry is
                // on loopback, so nothing leaves the machine.
                System.setProperty(SEND_CREDENTIALS_OVER_HTTP, "true");
            });
            return Containerizer.to(target).setAllowInsecureRegistries(true);
        });
        return reference;
    }

    /**
     * Writes the base image as a {@code docker load}-compatible tar named {@code conveyor/base:1}, for the local stack
     * when no registry runs. Returns the image digest.
     */
    public static String seedTar(Path tarFile) {
        return build(REPOSITORY + ":" + TAG,
                work -> Containerizer.to(TarImage.at(tarFile).named(REPOSITORY + ":" + TAG)))
                .getDigest().toString();
    }

    /** The Jib builder for the base image, for callers that want to add their own layers on top without a push. */
    public static JibContainerBuilder builder(Path scratchDir) throws IOException {
        FileEntriesLayer.Builder layer = FileEntriesLayer.builder().setName("conveyor-base");
        for (Map.Entry<String, String> file : new TreeMap<>(FILES).entrySet()) {
            Path source = scratchDir.resolve(file.getKey().substring(1).replace('/', '_'));
            Files.writeString(source, file.getValue(), StandardCharsets.UTF_8);
            // Fixed permissions, because the source file's mode depends on the umask of whoever runs the tests.
            layer.addEntry(source, AbsoluteUnixPath.get(file.getKey()), FilePermissions.fromOctalString("644"));
        }
        return Jib.fromScratch().addFileEntriesLayer(layer.build()).setUser(NONROOT_UID + ":" + NONROOT_UID)
                .addEnvironmentVariable("PATH", "/usr/local/bin:/usr/bin:/bin")
                .addLabel("org.opencontainers.image.title", "Conveyor test base");
    }

    @FunctionalInterface
    private interface Target {
        Containerizer containerizer(Path work) throws Exception;
    }

    private static JibContainer build(String reference, Target target) {
        // Own caches per build: Jib's shared default cache is not safe for several test JVMs writing at once.
        Path work = TempDirs.create("base-image");
        try {
            Path scratch = Files.createDirectories(work.resolve("files"));
            Containerizer containerizer = target.containerizer(work)
                    .setBaseImageLayersCache(work.resolve("base-cache"))
                    .setApplicationLayersCache(work.resolve("app-cache")).setToolName("conveyor-testkit");
            return builder(scratch).containerize(containerizer);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while building " + reference, e);
        } catch (Exception e) {
            throw new IllegalStateException("cannot build base image " + reference + ": " + e, e);
        } finally {
            TempDirs.deleteQuietly(work);
        }
    }
}
