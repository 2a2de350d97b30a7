package dev.conveyor.local;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The local stack as the ITs build it: this checkout's services (Failsafe passes {@code conveyor.project.dir}) and the
 * launcher's classpath from {@code deploy/local/target}, data under the test's own directory.
 */
final class TestStacks {

    private TestStacks() {
    }

    /** The checkout the build runs in. */
    static Path project() {
        return Path.of(System.getProperty("conveyor.project.dir")).toAbsolutePath().normalize();
    }

    /** A stack (nothing started) keeping its data in {@code data}, printing its progress to {@code out}. */
    static LocalStack stack(Path data, PrintStream out) throws IOException {
        Path target = project().resolve("deploy/local/target");
        String classpath = target.resolve("classes") + ":" + Files.readString(target.resolve("classpath.txt"))
                .trim();
        return new LocalStack(project(), data, classpath, out);
    }

    /** {@link #stack(Path, PrintStream)} printing to the test's output. */
    static LocalStack stack(Path data) throws IOException {
        return stack(data, new PrintStream(System.out, true, StandardCharsets.UTF_8));
    }
}
