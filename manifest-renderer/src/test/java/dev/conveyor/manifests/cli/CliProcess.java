package dev.conveyor.manifests.cli;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Runs {@code conveyor validate | render | diff} as its own process, as the {@code conveyor} script does: this JVM's
 * {@code java}, the module's {@code target/classes} and the runtime class path the build writes to
 * {@code target/classpath.txt}.
 */
final class CliProcess {

    /** What a run printed and how it ended. */
    record Run(int exit, String out, String err) {
    }

    static final Path MODULE = Path.of("").toAbsolutePath();

    private CliProcess() {
    }

    static Run run(Path dir, String stdin, Map<String, String> env, List<String> args) {
        try {
            String classpath = MODULE.resolve("target/classes") + java.io.File.pathSeparator + Files.readString(
                    MODULE.resolve("target/classpath.txt")).strip();
            List<String> command = new ArrayList<>();
            command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            command.add("-XX:TieredStopAtLevel=1");
            command.add("-cp");
            command.add(classpath);
            command.add(Cli.class.getName());
            command.addAll(args);
            ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile());
            builder.environment().remove("CONVEYOR_REDACTION_KEY");
            builder.environment().putAll(env);
            Process process = builder.start();
            CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> read(process.getInputStream()));
            CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> read(process.getErrorStream()));
            try (OutputStream in = process.getOutputStream()) {
                if (stdin != null) {
                    in.write(stdin.getBytes(StandardCharsets.UTF_8));
                }
            }
            if (!process.waitFor(120, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IllegalStateException("conveyor " + args + " did not end in 120 s");
            }
            return new Run(process.exitValue(), out.join(), err.join());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static Run run(Path dir, List<String> args) {
        return run(dir, null, Map.of(), args);
    }

    private static String read(java.io.InputStream stream) {
        try {
            return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
