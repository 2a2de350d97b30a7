package dev.conveyor.local;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

import dev.conveyor.testkit.Binaries;
import dev.conveyor.testkit.Ports;

/**
 * The local stack as the ITs build it: this checkout's services (Failsafe passes {@code conveyor.project.dir}) and the
 * launcher's classpath from {@code deploy/local/target}, data under the test's own directory.
 *
 * <p>
 * The ITs run in two lanes at once (JUnit's parallel execution, configured in the pom): the {@linkplain #STACK_LANE
 * stack lane} ({@code SupervisionIT}, {@code LocalStackIT}, {@code LocalStackWithoutRegistryIT}) and the
 * {@linkplain #CHAOS_LANE chaos lane} ({@code ChaosIT}, {@code ChaosReplicasIT}); each class holds its lane's lock, so
 * one stack of each lane runs at a time. The chaos lane's stacks {@linkplain #chaosStack never take the services'
 * preferred ports} (the stack lane's do) and keep their class caches in a directory of their own: a cache is written by
 * the JVM that trains it, straight into its file, so two stacks must never train the same file at once.
 */
final class TestStacks {

    /** The lock of the ITs that start a stack and stop it without killing its services. */
    static final String STACK_LANE = "conveyor-local-stack-lane";
    /** The lock of the chaos ITs. */
    static final String CHAOS_LANE = "conveyor-local-chaos-lane";

    private TestStacks() {
    }

    /** The checkout the build runs in. */
    static Path project() {
        return Path.of(System.getProperty("conveyor.project.dir")).toAbsolutePath().normalize();
    }

    /** The launcher's class path: this module's classes and its dependencies. */
    static String classpath() throws IOException {
        Path target = project().resolve("deploy/local/target");
        return target.resolve("classes") + ":" + Files.readString(target.resolve("classpath.txt")).trim();
    }

    /** A stack of the stack lane (nothing started) keeping its data in {@code data}, printing its progress to {@code out}. */
    static LocalStack stack(Path data, PrintStream out) throws IOException {
        return new LocalStack(project(), data, classpath(), out);
    }

    /** {@link #stack(Path, PrintStream)} printing to the test's output. */
    static LocalStack stack(Path data) throws IOException {
        return stack(data, new PrintStream(System.out, true, StandardCharsets.UTF_8));
    }

    /**
     * A stack of the chaos lane, printing to the test's output: free ports for the services (recorded before the first
     * start, so the preferred 8080… stay with the stack lane's stack running at the same time) and, when Failsafe shares
     * one cache directory ({@code CONVEYOR_AOT_DIR}), the sibling {@code <dir>-chaos} instead. The lane's first stack
     * trains its caches; a service killed while training writes none (it trains again at its next start, up to
     * {@link ServiceJvm}'s limit), and the first {@code down} writes those of the services it stops. Only speed depends
     * on them.
     */
    static LocalStack chaosStack(Path data) throws IOException {
        LocalStack stack = stack(data);
        Optional<Path> shared = Optional.ofNullable(System.getenv("CONVEYOR_AOT_DIR")).filter(d -> !d.isBlank()).map(
                Path::of);
        if (shared.isPresent()) {
            Path own = shared.get().resolveSibling(shared.get().getFileName() + "-chaos");
            stack.withServiceBuilds(project(), own);
        }
        Map<String, String> ports = new LinkedHashMap<>();
        ServiceSpec.ALL.forEach(s -> ports.put(s.name(), Integer.toString(Ports.free())));
        if (Binaries.find("docker-registry").isPresent()) {
            // recorded at the first start or never (LocalStack.assignPorts): a stack with ports recorded takes none
            ports.put(LocalStack.REGISTRY, Integer.toString(Ports.free()));
        }
        stack.layout().writePorts(ports);
        return stack;
    }
}
