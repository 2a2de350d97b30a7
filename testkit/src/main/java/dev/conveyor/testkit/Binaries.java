package dev.conveyor.testkit;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** Locates the Debian programs the testkit drives (docker-registry, sshd, skopeo, git). */
public final class Binaries {

    private static final List<String> EXTRA_DIRS = List.of("/usr/sbin", "/usr/bin", "/usr/local/bin", "/sbin");

    private Binaries() {
    }

    /** The program's path, if it is on {@code PATH} or in one of the usual system directories. */
    public static Optional<Path> find(String program) {
        String pathEnv = System.getenv().getOrDefault("PATH", "");
        for (String dir : pathEnv.split(File.pathSeparator)) {
            Optional<Path> found = executable(Path.of(dir.isEmpty() ? "." : dir, program));
            if (found.isPresent()) {
                return found;
            }
        }
        for (String dir : EXTRA_DIRS) {
            Optional<Path> found = executable(Path.of(dir, program));
            if (found.isPresent()) {
                return found;
            }
        }
        return Optional.empty();
    }

    /**
     * The program's path, or a failure that says which Debian package installs it. This never skips a test: a
     * missing program is a broken machine, and CI installs every one of them in {@code .ci/run}.
     */
    public static Path require(String program, String debianPackage) {
        return find(program).orElseThrow(() -> new IllegalStateException(
          "'" + program + "' was not found on PATH or in /usr/sbin:/usr/bin. Install it with "
            + "'sudo apt-get install -y " + debianPackage + "' (.ci/run does this on CI machines)."));
    }

    private static Optional<Path> executable(Path candidate) {
        return Files.isRegularFile(candidate) && Files.isExecutable(candidate) ? Optional.of(candidate)
          : Optional.empty();
    }
}
