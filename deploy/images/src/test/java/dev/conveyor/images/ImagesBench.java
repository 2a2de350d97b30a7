package dev.conveyor.images;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import dev.conveyor.testkit.TempDirs;
import dev.conveyor.testkit.git.GitServers;
import dev.conveyor.testkit.kafka.KafkaBroker;
import dev.conveyor.testkit.registry.OciRegistry;

/**
 * Builds the JDK 25 images of the given services, trains each one's AOT cache on its image, pushes the final images,
 * verifies them, and measures start-up to ready and RSS with and without the cache, alternating in one run.
 *
 * <pre>
 * ./mvnw -B -ntp package -DskipTests -pl versioner,manifest-renderer -am   # the services' target/quarkus-app
 * bench/run deploy/images dev.conveyor.images.ImagesBench [--runs N] [service ...]
 * </pre>
 *
 * Runs as root (chroot). The registry and the broker are the testkit's, on loopback, started for the run and removed
 * after it. Default services: every one whose {@code target/quarkus-app} exists; default runs: 3 per variant.
 */
public final class ImagesBench {

    /** The chart's {@code jvm.javaToolOptions}, plus the chart's memory limit as the JVM would see it in a pod. */
    static final String JAVA_TOOL_OPTIONS = "-XX:MaxRAMPercentage=75 -XX:+ExitOnOutOfMemoryError -XX:MaxRAM=768m";

    static final List<String> SERVICES = List.of("gateway", "versioner", "image-builder", "manifest-renderer",
            "promoter", "notifier", "flux-sync");

    private ImagesBench() {
    }

    public static void main(String[] args) throws Exception {
        int runs = 3;
        List<String> services = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--runs")) {
                runs = Integer.parseInt(args[++i]);
            } else if (SERVICES.contains(args[i])) {
                services.add(args[i]);
            } else {
                throw new IllegalArgumentException("unknown argument '" + args[i] + "'; services: " + SERVICES);
            }
        }
        Path project = Path.of("").toAbsolutePath();
        if (services.isEmpty()) {
            SERVICES.stream().filter(s -> Files.isRegularFile(app(project, s).resolve("quarkus-run.jar"))).forEach(
                    services::add);
        }
        Jdk25.missing().ifPresent(m -> {
            throw new IllegalStateException("ImagesBench needs " + m);
        });
        Path jdk = Jdk25.find().orElseThrow();
        System.out.println("jdk: " + jdk.toRealPath() + " (" + BaseImage.jdkVersion(jdk.toRealPath()) + ")");
        System.out.println("services: " + services + ", runs per variant: " + runs);
        System.out.println("JAVA_TOOL_OPTIONS: " + JAVA_TOOL_OPTIONS + " [+ -XX:AOTCache=" + ServiceImage.AOT_CACHE
                + "]");

        Path work = TempDirs.create("images-bench");
        try (KafkaBroker broker = KafkaBroker.start();
                OciRegistry registry = OciRegistry.start();
                GitServers git = GitServers.start(false)) {
            String host = registry.host();
            List<Path> natives = new ArrayList<>();
            for (String service : services) {
                natives.addAll(ImageChain.nativeLibraries(app(project, service), work.resolve("natives/" + service)));
            }
            long t = System.nanoTime();
            ImageChain.Pushed base = ImageChain.pushBase(host, jdk, natives, Files.createDirectories(work.resolve(
                    "base-1")));
            System.out.printf("base %s %s in %d ms (native libraries scanned: %d)%n", base.reference(), base.digest(),
                    ms(t), natives.size());
            t = System.nanoTime();
            ImageChain.Pushed again = ImageChain.pushBase(host, jdk, natives, Files.createDirectories(work.resolve(
                    "base-2")));
            System.out.printf("base rebuilt with empty caches: %s in %d ms — %s%n", again.digest(), ms(t), again
                    .digest().equals(base.digest()) ? "same digest" : "DIFFERENT DIGEST");

            List<String> failed = new ArrayList<>();
            for (String service : services) {
                try {
                    benchService(service, project, host, base, broker, git, runs, work);
                } catch (RuntimeException e) {
                    // One service that cannot start here does not hide the others' figures.
                    failed.add(service);
                    System.out.printf("%s: FAILED: %s%n", service, e.getMessage());
                }
            }
            if (!failed.isEmpty()) {
                throw new IllegalStateException("failed: " + failed);
            }
        } finally {
            TempDirs.deleteQuietly(work);
        }
    }

    /** Builds, trains, pushes and measures one service; prints as it goes. */
    private static void benchService(String service, Path project, String host, ImageChain.Pushed base,
            KafkaBroker broker, GitServers git, int runs, Path work) throws java.io.IOException {
        Workloads.Workload workload = service.equals("versioner")
                ? Workloads.versioner(broker, git)
                : Workloads.none();
        Path dir = Files.createDirectories(work.resolve(service));
        long t = System.nanoTime();
        ImageChain.Pushed image = ImageChain.pushService(host, base, service, app(project, service),
                "bench-untrained", dir);
        long built = ms(t);
        ImageChain.Training training = ImageChain.train(host, service, "bench-untrained", workload.config(), broker
                .bootstrapServers(), JAVA_TOOL_OPTIONS, workload.run(), dir);
        ImageChain.Pushed trained = ImageChain.pushWithCache(host, service, image, training.cache(), "bench", dir);
        System.out.printf("%s: image %d ms; training (%s) ready %d ms, total %d ms, cache %.1f MiB; %s %s  [load %s]%n",
                service, built, workload.run() == null ? "start-up" : "start-up + " + Workloads.BUILDS + " builds",
                training.ready().toMillis(), training.total().toMillis(), training.bytes() / 1048576.0, trained
                        .reference(),
                trained.digest(), load());

        System.out.println("service            variant   run  ready_ms  rss_mib  load1");
        Path root = dir.resolve("measure-root");
        boolean first = true;
        List<long[]> with = new ArrayList<>();
        List<long[]> without = new ArrayList<>();
        for (int run = 1; run <= runs; run++) {
            // Alternate which variant goes first, so a drift in the machine's load hits both alike.
            boolean cacheFirst = run % 2 == 1;
            for (boolean cache : cacheFirst ? new boolean[]{true, false} : new boolean[]{false, true}) {
                String options = JAVA_TOOL_OPTIONS + (cache
                        ? " -XX:AOTCache=" + ServiceImage.AOT_CACHE
                                + " -XX:AOTMode=on -Xlog:aot=info:file=/tmp/aot.log"
                        : "");
                long[] m;
                try {
                    m = measure(host, service, root, first, options, broker.bootstrapServers(), workload.config());
                } catch (RuntimeException | java.io.IOException e) {
                    throw e;
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
                first = false;
                (cache ? with : without).add(m);
                System.out.printf("%-18s %-9s %3d  %8d  %7.1f  %s%n", service, cache ? "aot" : "no-aot", run, m[0],
                        m[1] / 1024.0, load());
            }
        }
        System.out.printf("%-18s median ready %d ms with the cache, %d ms without; median RSS %.1f / %.1f MiB%n",
                service, median(with, 0), median(without, 0), median(with, 1) / 1024.0, median(without, 1) / 1024.0);
    }

    /** One start of the final image: {ready ms, RSS KiB at ready}. The root is unpacked on the first start only. */
    private static long[] measure(String host, String service, Path root, boolean unpack, String options,
            String bootstrap, Map<String, String> config) throws Exception {
        if (unpack) {
            ImageRoot.unpack(host, ImageChain.repository(service), "bench", root);
            ChrootContainer.preparePod(root, service, config);
        }
        Files.deleteIfExists(root.resolve("tmp/aot.log"));
        ChrootContainer container = startReady(root, bootstrap, options);
        try (container) {
            long rss = container.rssKib();
            container.stop(Duration.ofSeconds(30));
            if (options.contains("AOTCache=") && !Files.readString(root.resolve("tmp/aot.log")).contains(
                    "Opened AOT cache")) {
                throw new IllegalStateException(service + ": the JVM did not open the AOT cache");
            }
            return new long[]{container.readyTime().toMillis(), rss};
        }
    }

    /**
     * Starts the unpacked root and waits until it is ready; a start that lost its free port to another process
     * before binding it (Quarkus: "seems to be in use") is retried on a new port, up to three times.
     */
    private static ChrootContainer startReady(Path root, String bootstrap, String options) throws Exception {
        for (int attempt = 1;; attempt++) {
            ChrootContainer container = ChrootContainer.start(root, ImageRoot.unpackedConfig(root), ImageChain
                    .freePort(), bootstrap, options, root.resolveSibling("measure.log"));
            try {
                container.awaitReady(Duration.ofSeconds(120));
                return container;
            } catch (IllegalStateException e) {
                container.close();
                if (attempt >= 3 || !String.valueOf(e.getMessage()).contains("seems to be in use")) {
                    throw e;
                }
            }
        }
    }

    private static Path app(Path project, String service) {
        return project.resolve(service).resolve("target/quarkus-app");
    }

    private static long ms(long since) {
        return (System.nanoTime() - since) / 1_000_000;
    }

    private static long median(List<long[]> values, int index) {
        List<Long> sorted = values.stream().map(v -> v[index]).sorted().toList();
        return sorted.get(sorted.size() / 2);
    }

    static String load() {
        try {
            String[] parts = Files.readString(Path.of("/proc/loadavg")).split(" ");
            return parts[0] + " " + parts[1] + " " + parts[2];
        } catch (java.io.IOException e) {
            return "?";
        }
    }
}
