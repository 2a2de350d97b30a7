package dev.conveyor.local;

import java.io.IOException;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

import dev.conveyor.events.v1.Flow;
import dev.conveyor.events.v1.Stage;

/**
 * {@code ./conveyor}: the local stack from the command line.
 *
 * <pre>
 * ./conveyor demo                          start the stack (fresh) and run the sample app through CD and CI
 * ./conveyor up [--replicas N]             start whatever is not healthy (N processes of every stage service)
 * ./conveyor status                        every process: pid, state, URL, memory
 * ./conveyor logs &lt;name&gt; [-f]              a service's log (or stack, kafka)
 * ./conveyor replay &lt;run&gt; --from &lt;stage&gt;   rerun a run from a stage and follow it
 * ./conveyor down [--purge]                stop everything; --purge also deletes the data directory
 * </pre>
 *
 * The data directory is {@code $CONVEYOR_DATA_DIR}, by default {@code .conveyor/} in the project. A real cluster is
 * used when {@code KUBECONFIG} names a file; otherwise the Kubernetes API stand-in.
 */
public final class Conveyor {

    private final Path projectDir;
    private final Path dataDir;
    private final PrintStream out;

    Conveyor(Path projectDir, Path dataDir, PrintStream out) {
        this.projectDir = projectDir;
        this.dataDir = dataDir;
        this.out = out;
    }

    public static void main(String[] args) {
        Path project = Path.of(System.getProperty("conveyor.project.dir", ".")).toAbsolutePath().normalize();
        Path data = Optional.ofNullable(System.getenv("CONVEYOR_DATA_DIR")).filter(s -> !s.isBlank()).map(Path::of)
                .orElse(project.resolve(".conveyor")).toAbsolutePath().normalize();
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        try {
            System.exit(new Conveyor(project, data, out).run(args));
        } catch (LocalStack.StackDownException e) {
            System.err.println("conveyor: " + e.getMessage());
            System.exit(4);
        } catch (IllegalStateException | IllegalArgumentException e) {
            System.err.println("conveyor: " + e.getMessage());
            System.exit(1);
        }
    }

    int run(String[] args) {
        String command = args.length == 0 ? "help" : args[0];
        List<String> rest = List.of(args).subList(Math.min(1, args.length), args.length);
        LocalStack stack = new LocalStack(projectDir, dataDir, System.getProperty("java.class.path"), out);
        if (rest.contains("--no-registry")) {
            stack.withoutRegistry();
        }
        replicas(rest).ifPresent(stack::withReplicas);
        switch (command) {
            case "demo" -> {
                return demo(stack);
            }
            case "up" -> {
                out.println("Starting whatever is not healthy in the local stack in " + dataDir);
                LocalStack.Supervision supervision = stack.ensureUp(kubeconfig());
                out.println(supervision.restarted().isEmpty()
                        ? "Everything was healthy and current; nothing restarted."
                        : "Started: " + String.join(", ", supervision.restarted()) + (supervision.killed().isEmpty()
                                ? ""
                                : " (killed first, unhealthy: " + String.join(", ", supervision.killed()) + ")")
                                + (supervision.changed().isEmpty()
                                        ? ""
                                        : " (restarted, out of date: " + String.join(", ", supervision.changed()
                                                .keySet()) + ")"));
                printEndpoints(stack, supervision.running());
                return 0;
            }
            case "down" -> {
                List<String> stopped = stack.down();
                out.println(stopped.isEmpty() ? "Nothing was running." : "Stopped: " + String.join(", ", stopped));
                if (rest.contains("--purge")) {
                    deleteTree(dataDir);
                    out.println("Deleted " + dataDir);
                }
                return 0;
            }
            case "status" -> {
                out.println("Data directory " + dataDir);
                stack.status().forEach(out::println);
                printLogin(stack);
                return stack.isUp() ? 0 : 3;
            }
            case "logs" -> {
                if (rest.isEmpty()) {
                    throw new IllegalArgumentException("usage: ./conveyor logs <service|service-N|stack|kafka> [-f]");
                }
                return logs(stack.layout(), rest.get(0), rest.contains("-f"));
            }
            case "replay" -> {
                int from = rest.indexOf("--from");
                if (rest.isEmpty() || from < 0 || from + 1 >= rest.size() || from == 0) {
                    throw new IllegalArgumentException("usage: ./conveyor replay <run id> --from <stage>; stages: "
                            + "versioner, image-builder, manifest-renderer, promoter, flux-sync");
                }
                String runId = rest.get(0);
                String stage = Stage.fromId(rest.get(from + 1)).id();
                LocalStack.Running running = stack.running().orElseThrow(() -> new IllegalStateException(
                        "the stack is not running: ./conveyor up"));
                Demo demo = new Demo(running, stack.layout(), out);
                Flow flow = Flow.valueOf(demo.pipeline().run(runId).path("flow").asText("CD"));
                Pipeline.RunEvents events = demo.replay(runId, stage, flow);
                return events.succeeded() ? 0 : 2;
            }
            case "chaos" -> {
                return ChaosSuite.command(stack, rest, kubeconfig(), out);
            }
            case "help", "--help", "-h" -> {
                out.println("""
                        usage: ./conveyor <command>
                          demo                          start the local stack (fresh) and run the sample app: a commit
                                                        on main to the cluster (CD), then a pull request (CI)
                          up                            start whatever is not healthy, on the same ports (safe to
                                                        rerun), and restart what runs an older build or
                                                        configuration; exit code 4 naming what is still down
                          demo|up|chaos --replicas N    N processes of every stage service and the gateway (each its
                                                        own port and data); kept until the next --replicas
                          demo|up --no-registry         without an OCI registry (as where docker-registry is not
                                                        installed): images to an OCI image layout, charts to git
                          status                        every process: pid, state, URL, memory
                          logs <name> [-f]              a service's log, versioner-2 for a replica (or: stack, kafka,
                                                        registry)
                          replay <run> --from <stage>   rerun a run from versioner, image-builder, manifest-renderer,
                                                        promoter or flux-sync, and follow it
                          down [--purge]                stop everything; --purge also deletes the data directory
                          chaos --runs N --kill <service>|services|broker|stack [--seed S] [--replicas N]   CD runs,
                                                        each with a process killed mid-work (with replicas: one
                                                        replica of the stage); checks the invariants (exit 4 if not)
                        data directory: $CONVEYOR_DATA_DIR, default .conveyor/ in the project
                        cluster: the Kubernetes API stand-in, or the cluster of $KUBECONFIG when it is set""");
                return 0;
            }
            default -> throw new IllegalArgumentException("unknown command '" + command + "'; ./conveyor help");
        }
    }

    private int demo(LocalStack stack) {
        long begin = System.nanoTime();
        out.println("Conveyor demo — data directory " + dataDir);
        if (!stack.isUp()) {
            stack.down();
            for (String dir : List.of("kafka", "registry", "kube", "git", "artifacts", "services", "logs")) {
                deleteTree(dataDir.resolve(dir));
            }
            out.println("Starting the local stack (each part in its own process):");
        } else {
            out.println("The local stack is running; reusing it:");
        }
        LocalStack.Running running = stack.up(kubeconfig());
        Demo demo = new Demo(running, stack.layout(), out);
        int change = demo.app().appRepo().commits("main").size() + 1;
        Pipeline.RunEvents cd = demo.cd(change, "feat: SHOP-" + change + " free shipping over 50 EUR");
        Pipeline.RunEvents ci = null;
        if (cd.succeeded()) {
            ci = demo.pr(change + 1, "feature/SHOP-" + (change + 1) + "-gift-cards", change + 1, "SHOP-" + (change + 1)
                    + " gift cards");
            demo.summary(cd, ci);
        }
        out.println();
        printEndpoints(stack, running);
        out.printf("%nDemo finished in %.1f s. The stack keeps running: ./conveyor status | logs <service> |"
                + " replay %s --from manifest-renderer | down%n",
                Duration.ofNanos(System.nanoTime() - begin)
                        .toMillis() / 1000.0,
                cd.runId());
        return cd.succeeded() && ci != null && ci.succeeded() ? 0 : 2;
    }

    private void printEndpoints(LocalStack stack, LocalStack.Running running) {
        Map<String, Integer> counts = stack.replicaCounts();
        if (counts.values().stream().anyMatch(n -> n > 1)) {
            out.println("Replicas: " + counts.entrySet().stream().map(e -> e.getKey() + " " + e.getValue() + (e
                    .getValue() == 1 && ServiceSpec.SINGLE_INSTANCE.contains(e.getKey())
                            ? " (not replica-safe yet)"
                            : ""))
                    .reduce((a, b) -> a + ", " + b).orElse(""));
        }
        out.println("Processes (data " + dataDir + ", logs " + stack.layout().logsDir() + "):");
        stack.status().forEach(l -> out.println("  " + l));
        out.println("Run page: " + running.gatewayUrl() + "/");
        printLogin(stack);
    }

    /** How to sign in to the run page: where the tokens are, never the tokens themselves. */
    private void printLogin(LocalStack stack) {
        out.println("  sign in with the viewer token (reads runs):     grep viewer-token "
                + stack.layout().secretsFile());
        out.println("  or the operator token (also replays):           grep api-token " + stack.layout().secretsFile());
    }

    private Optional<Path> kubeconfig() {
        return Optional.ofNullable(System.getenv("KUBECONFIG")).filter(s -> !s.isBlank()).map(Path::of).filter(
                Files::isRegularFile);
    }

    /** {@code --replicas N}, if given. */
    static Optional<Integer> replicas(List<String> args) {
        int i = args.indexOf("--replicas");
        if (i < 0) {
            return Optional.empty();
        }
        if (i + 1 >= args.size()) {
            throw new IllegalArgumentException("--replicas needs a number of processes per service, e.g. --replicas 2");
        }
        try {
            int n = Integer.parseInt(args.get(i + 1));
            if (n < 1 || n > 9) {
                throw new NumberFormatException();
            }
            return Optional.of(n);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(
                    "--replicas must be a number from 1 to 9, was '" + args.get(i + 1) + "'");
        }
    }

    private int logs(StackLayout layout, String name, boolean follow) {
        String file = switch (name) {
            case "stack", "kafka", "registry" -> name;
            default -> {
                if (ServiceSpec.ofReplica(name).isEmpty()) {
                    ServiceSpec.named(name); // names the services
                }
                yield name;
            }
        };
        Path log = "kafka".equals(file) ? layout.kafkaDir().resolve("broker.log") : layout.log(file);
        if (!Files.isRegularFile(log)) {
            throw new IllegalStateException("no log at " + log);
        }
        try (RandomAccessFile in = new RandomAccessFile(log.toFile(), "r")) {
            byte[] buf = new byte[8192];
            while (true) {
                int n = in.read(buf);
                if (n > 0) {
                    out.write(buf, 0, n);
                    continue;
                }
                if (!follow) {
                    out.flush();
                    return 0;
                }
                out.flush();
                Thread.sleep(250);
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + log + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 0;
        }
    }

    static void deleteTree(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            List<Path> paths = new ArrayList<>(walk.sorted(Comparator.reverseOrder()).toList());
            for (Path p : paths) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot delete " + root + ": " + e.getMessage());
        }
    }
}
