package dev.conveyor.testkit.git;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import dev.conveyor.testkit.Binaries;

/** Runs the real git CLI, isolated from the machine's git config, for cross-checking JGit results. */
final class GitCli {

    /** Exit code and combined stdout/stderr. */
    record Result(int exit, String output) {
    }

    private GitCli() {
    }

    static Result run(Path workDir, Map<String, String> env, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Binaries.require("git", "git").toString());
        command.add("-c");
        command.add("user.name=CLI Tester");
        command.add("-c");
        command.add("user.email=cli@conveyor.dev");
        command.addAll(List.of(args));
        Path log = Files.createTempFile("conveyor-git-cli", ".log");
        try {
            ProcessBuilder builder = new ProcessBuilder(command).directory(workDir.toFile()).redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
            // No user/system config and no prompts: the test must not depend on (or hang on) the machine's setup.
            builder.environment().put("GIT_CONFIG_NOSYSTEM", "1");
            builder.environment().put("GIT_CONFIG_GLOBAL", "/dev/null");
            builder.environment().put("GIT_TERMINAL_PROMPT", "0");
            builder.environment().putAll(env);
            Process process = builder.start();
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IllegalStateException(
                        "git " + String.join(" ", args) + " timed out: " + Files.readString(log));
            }
            return new Result(process.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(log);
        }
    }
}
