package dev.conveyor.images;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

import com.google.cloud.tools.jib.api.Containerizer;
import com.google.cloud.tools.jib.api.JibContainer;
import com.google.cloud.tools.jib.api.JibContainerBuilder;
import com.google.cloud.tools.jib.api.RegistryImage;

/**
 * The chain from a JDK and a service's build to a pushed image with a trained AOT cache: {@link #pushBase},
 * {@link #pushService}, {@link #train} (the pushed image pulled, unpacked and run under chroot with
 * {@code -XX:AOTCacheOutput}), {@link #pushWithCache}; and {@link #run}, which starts a pushed image the same way for
 * verification and measurement. Images go to a plain-HTTP registry ({@code 127.0.0.1:<port>}).
 */
final class ImageChain {

    /** The base image's repository; its tag is the JDK's runtime version. */
    static final String BASE_REPOSITORY = "conveyor/jdk-base";
    /** Where the training JVM writes its cache inside the root (the image's {@code /deployments} is root's). */
    static final String TRAINING_OUTPUT = "/tmp/app.aot";

    private ImageChain() {
    }

    /** A pushed image. */
    record Pushed(String reference, String digest) {
    }

    /** The outcome of a training run: the cache (a file outside the root), its size and the run's ready time. */
    record Training(Path cache, long bytes, Duration ready, Duration total, String log) {
    }

    /** A service's image repository: the chart's {@code <image.registry>/conveyor-<service>}. */
    static String repository(String service) {
        return "conveyor/conveyor-" + service;
    }

    /** Pushes the base image ({@link BaseImage}) built from {@code jdkHome}. */
    static Pushed pushBase(String registry, Path jdkHome, List<Path> nativeLibraries, Path work) throws IOException {
        Path scratch = Files.createDirectories(work.resolve("base-files"));
        String tag = BaseImage.jdkVersion(jdkHome.toRealPath()).replaceAll("[^0-9A-Za-z_.-]", "_");
        return push(BaseImage.builder(jdkHome, nativeLibraries, scratch), registry + "/" + BASE_REPOSITORY + ":" + tag,
                work);
    }

    /** Pushes a service's image without a cache ({@link ServiceImage#builder}). */
    static Pushed pushService(String registry, Pushed base, String service, Path quarkusApp, String tag, Path work)
            throws IOException {
        try {
            return push(ServiceImage.builder(base.reference(), service, quarkusApp), registry + "/" + repository(
                    service) + ":" + tag, work);
        } catch (com.google.cloud.tools.jib.api.InvalidImageReferenceException e) {
            throw new IllegalArgumentException("bad image reference: " + e.getMessage(), e);
        }
    }

    /** Pushes {@code image} plus the cache layer as {@code <repository>:<tag>}. */
    static Pushed pushWithCache(String registry, String service, Pushed image, Path cache, String tag, Path work) {
        try {
            return push(ServiceImage.withAotCache(image.reference(), cache), registry + "/" + repository(service) + ":"
                    + tag, work);
        } catch (com.google.cloud.tools.jib.api.InvalidImageReferenceException e) {
            throw new IllegalArgumentException("bad image reference: " + e.getMessage(), e);
        }
    }

    /**
     * Trains a cache on a pushed image: unpacks it into {@code work/train-root}, starts it with
     * {@code -XX:AOTCacheOutput}, waits until it is ready, keeps it running for {@code workload} (null: none) and
     * stops it with SIGTERM; the JVM writes the cache as it exits.
     *
     * @param workload what the service does while it records (the training's "real work"), run once it is ready
     */
    static Training train(String registry, String service, String tag, Map<String, String> config, String bootstrap,
            String javaToolOptions, Runnable workload, Path work) throws IOException {
        Path root = work.resolve("train-root");
        ImageRoot.Config image = ImageRoot.unpack(registry, repository(service), tag, root);
        ChrootContainer.preparePod(root, service, config);
        long begin = System.nanoTime();
        Duration ready;
        String log;
        try (ChrootContainer container = ChrootContainer.start(root, image, freePort(), bootstrap, (javaToolOptions
                + " -XX:AOTCacheOutput=" + TRAINING_OUTPUT).strip(), work.resolve("train.log"))) {
            ready = container.awaitReady(Duration.ofSeconds(120));
            if (workload != null) {
                workload.run();
            }
            container.stop(Duration.ofSeconds(180)).orElseThrow(
                    () -> new IllegalStateException("the training run did not exit within 180 s of SIGTERM. Log "
                            + "tail:\n" + container.logTail()));
            log = container.output();
        }
        Path written = root.resolve(TRAINING_OUTPUT.substring(1));
        if (!Files.isRegularFile(written) || Files.size(written) == 0) {
            throw new IllegalStateException("the training run wrote no cache at " + TRAINING_OUTPUT + ". Log:\n" + log);
        }
        Path cache = Files.move(written, work.resolve(service + ".aot"));
        return new Training(cache, Files.size(cache), ready, Duration.ofNanos(System.nanoTime() - begin), log);
    }

    /**
     * Unpacks a pushed image into a fresh {@code root} and starts it as the chart would; the caller stops it.
     */
    static ChrootContainer run(String registry, String service, String tag, Map<String, String> config,
            String bootstrap, String javaToolOptions, Path root, int port) throws IOException {
        ImageRoot.Config image = ImageRoot.unpack(registry, repository(service), tag, root);
        ChrootContainer.preparePod(root, service, config);
        return ChrootContainer.start(root, image, port, bootstrap, javaToolOptions, root.resolveSibling(root
                .getFileName() + ".log"));
    }

    /**
     * The native libraries for Linux x86-64 inside the jars of a {@code quarkus-app} (helm-java's Helm, JNA's
     * dispatcher), extracted into {@code out}: the base image needs what they link against.
     */
    static List<Path> nativeLibraries(Path quarkusApp, Path out) throws IOException {
        List<Path> found = new ArrayList<>();
        List<Path> jars;
        try (Stream<Path> walk = Files.walk(quarkusApp)) {
            jars = walk.filter(p -> p.toString().endsWith(".jar")).sorted().toList();
        }
        for (Path jar : jars) {
            try (ZipFile zip = new ZipFile(jar.toFile())) {
                Enumeration<? extends ZipEntry> entries = zip.entries();
                while (entries.hasMoreElements()) {
                    ZipEntry entry = entries.nextElement();
                    String name = entry.getName();
                    if (name.endsWith(".so") && name.contains("linux") && (name.contains("x86-64") || name.contains(
                            "x86_64") || name.contains("amd64"))) {
                        Path target = Files.createDirectories(out.resolve(Integer.toString(found.size()))).resolve(Path
                                .of(name).getFileName().toString());
                        try (InputStream in = zip.getInputStream(entry)) {
                            Files.copy(in, target);
                        }
                        found.add(target);
                    }
                }
            }
        }
        return found;
    }

    static int freePort() {
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0, 1, java.net.InetAddress
                .getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free loopback port", e);
        }
    }

    private static Pushed push(JibContainerBuilder builder, String reference, Path work) {
        try {
            Containerizer containerizer = Containerizer.to(RegistryImage.named(reference)).setAllowInsecureRegistries(
                    true).setBaseImageLayersCache(work.resolve("jib-cache/base")).setApplicationLayersCache(work
                            .resolve("jib-cache/app"))
                    .setToolName("conveyor-images");
            JibContainer container = builder.containerize(containerizer);
            return new Pushed(reference, container.getDigest().toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while pushing " + reference, e);
        } catch (Exception e) {
            throw new IllegalStateException("cannot build and push " + reference + ": " + e, e);
        }
    }
}
