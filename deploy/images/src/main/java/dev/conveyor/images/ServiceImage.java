package dev.conveyor.images;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import com.google.cloud.tools.jib.api.InvalidImageReferenceException;
import com.google.cloud.tools.jib.api.Jib;
import com.google.cloud.tools.jib.api.JibContainerBuilder;
import com.google.cloud.tools.jib.api.RegistryImage;
import com.google.cloud.tools.jib.api.buildplan.AbsoluteUnixPath;
import com.google.cloud.tools.jib.api.buildplan.FileEntriesLayer;
import com.google.cloud.tools.jib.api.buildplan.FilePermissions;

/**
 * A service's image on the {@link BaseImage}: its {@code target/quarkus-app} directory exactly as the build left it
 * (fast-jar, aot-jar or another layout that starts with {@code quarkus-run.jar}) at {@value #APP_DIR}, run as
 * {@code java -jar quarkus-run.jar} in that directory by user 185; and the same image with a trained AOT cache added
 * as one more layer at {@value #AOT_CACHE}.
 */
final class ServiceImage {

    /** The working directory and the application's directory in the image. */
    static final String APP_DIR = "/deployments";
    /** Where the trained cache is in the final image: the chart's {@code jvm.aotCache}. */
    static final String AOT_CACHE = "/deployments/app.aot";
    /** The image's entrypoint. */
    static final List<String> ENTRYPOINT = List.of(BaseImage.JAVA_HOME + "/bin/java", "-jar", "quarkus-run.jar");

    private ServiceImage() {
    }

    /**
     * The plan of a service's image: two layers, the libraries ({@code lib/}, which change less often) and the rest
     * of {@code quarkus-app}.
     *
     * @param base the base image's reference in the registry the image is pushed to
     * @param quarkusApp the service's {@code target/quarkus-app}
     */
    static JibContainerBuilder builder(String base, String service, Path quarkusApp) throws IOException,
            InvalidImageReferenceException {
        if (!Files.isRegularFile(quarkusApp.resolve("quarkus-run.jar"))) {
            throw new IllegalArgumentException("quarkus-app: " + quarkusApp + " has no quarkus-run.jar; package the "
                    + "service first (./mvnw -B package -DskipTests -pl " + service + " -am)");
        }
        FileEntriesLayer.Builder libs = FileEntriesLayer.builder().setName("app-lib");
        FileEntriesLayer.Builder app = FileEntriesLayer.builder().setName("app");
        for (Path file : files(quarkusApp)) {
            Path relative = quarkusApp.relativize(file);
            AbsoluteUnixPath target = AbsoluteUnixPath.get(APP_DIR).resolve(relative.toString());
            (relative.startsWith("lib") ? libs : app).addEntry(file, target, BaseImage.mode(file));
        }
        return Jib.from(RegistryImage.named(base)).addFileEntriesLayer(libs.build()).addFileEntriesLayer(app.build())
                .setEntrypoint(ENTRYPOINT).setProgramArguments(List.of())
                .setWorkingDirectory(AbsoluteUnixPath.get(APP_DIR)).setUser(BaseImage.UID + ":" + BaseImage.UID)
                .addLabel("org.opencontainers.image.title", "conveyor-" + service);
    }

    /** The plan of the final image: {@code image} plus one layer with the cache at {@value #AOT_CACHE}. */
    static JibContainerBuilder withAotCache(String image, Path cache) throws InvalidImageReferenceException {
        FileEntriesLayer layer = FileEntriesLayer.builder().setName("aot-cache").addEntry(cache, AbsoluteUnixPath.get(
                AOT_CACHE), FilePermissions.fromOctalString("644")).build();
        return Jib.from(RegistryImage.named(image)).addFileEntriesLayer(layer).addLabel("dev.conveyor.aot-cache",
                AOT_CACHE);
    }

    private static List<Path> files(Path dir) {
        try (Stream<Path> walk = Files.walk(dir)) {
            return walk.filter(p -> !p.equals(dir)).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
    }
}
