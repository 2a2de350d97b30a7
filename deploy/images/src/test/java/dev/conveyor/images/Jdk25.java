package dev.conveyor.images;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Optional;
import java.util.stream.Stream;

/** The JDK 25+ the images are built from: {@code $CONVEYOR_JDK25}, else the newest {@code /usr/lib/jvm/*25*}. */
final class Jdk25 {

    private Jdk25() {
    }

    static Optional<Path> find() {
        String named = System.getenv().getOrDefault("CONVEYOR_JDK25", "").strip();
        if (!named.isEmpty()) {
            return Optional.of(Path.of(named));
        }
        try (Stream<Path> jvms = Files.list(Path.of("/usr/lib/jvm"))) {
            return jvms.filter(p -> p.getFileName().toString().matches(".*-2[5-9]-.*|.*-[3-9][0-9]-.*")).filter(
                    p -> Files.isExecutable(p.resolve("bin/java"))).max(Comparator.naturalOrder());
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /**
     * What the chain needs on this machine, or a message saying what is missing: root (chroot, mknod, chown), the
     * {@code unshare} and {@code tar} commands, and a JDK 25+.
     */
    static Optional<String> missing() {
        StringBuilder missing = new StringBuilder();
        if (!"root".equals(System.getProperty("user.name"))) {
            missing.append("root (chroot, device nodes and chown need it; CI runs as root); ");
        }
        for (String command : new String[]{"unshare", "tar", "ldd", "mknod", "docker-registry"}) {
            if (Stream.of(System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")).noneMatch(d -> Files
                    .isExecutable(Path.of(d, command)))) {
                missing.append("the command ").append(command).append("; ");
            }
        }
        if (find().isEmpty()) {
            missing.append("a JDK 25 or newer in /usr/lib/jvm or $CONVEYOR_JDK25; ");
        }
        return missing.isEmpty() ? Optional.empty() : Optional.of(missing.toString());
    }
}
