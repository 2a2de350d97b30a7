package dev.conveyor.manifests.cli;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * {@code conveyor validate | render | diff}: the renderer's checks on the command line, without the stack, Kafka or
 * any service (a plain {@code main}, no Quarkus boot). Exit codes follow kubeconform: {@value #OK} valid,
 * {@value #INVALID} invalid (or a chart Helm cannot render), {@value #USAGE} bad usage, {@value #IO} input or output
 * that cannot be read or written.
 */
public final class Cli {

    public static final int OK = 0;
    public static final int INVALID = 1;
    public static final int USAGE = 2;
    public static final int IO = 3;

    static final String USAGE_TEXT = """
            Usage: conveyor <command> [flags] [arguments]

            Commands (work offline, without the Conveyor stack):
              validate [FILE|DIR|-]...   validate Kubernetes manifests like kubeconform (and the API server's checks)
              render CHART               render a Helm chart with its hooks and tests, validated, as Conveyor commits it
              diff CHART --base REF      the rendered manifests' diff between two git refs, as posted on pull requests

            Run 'conveyor <command> --help' for a command's flags.
            Exit codes: 0 valid, 1 invalid, 2 usage error, 3 input/output error.
            """;

    private Cli() {
    }

    public static void main(String[] args) {
        // JBoss LogManager is on the class path (Quarkus's); it must be named before JGit (diff) logs, or it complains.
        // Only there: loading it costs start-up time the other commands do not need to pay.
        if (args.length > 0 && args[0].equals("diff") && System.getProperty("java.util.logging.manager") == null) {
            System.setProperty("java.util.logging.manager", "org.jboss.logmanager.LogManager");
        }
        PrintStream out = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), false,
                StandardCharsets.UTF_8);
        PrintStream err = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.err), true,
                StandardCharsets.UTF_8);
        int code = run(Arrays.asList(args), out, err);
        out.flush();
        err.flush();
        System.exit(code);
    }

    /** Runs one command; the exit code. */
    public static int run(List<String> args, PrintStream out, PrintStream err) {
        if (args.isEmpty() || args.get(0).equals("--help") || args.get(0).equals("-h") || args.get(0).equals(
                "help")) {
            (args.isEmpty() ? err : out).print(USAGE_TEXT);
            return args.isEmpty() ? USAGE : OK;
        }
        List<String> rest = args.subList(1, args.size());
        try {
            return switch (args.get(0)) {
                case "validate" -> new ValidateCommand(out, err).run(rest);
                case "render" -> new RenderCommand(out, err).run(rest);
                case "diff" -> new DiffCommand(out, err).run(rest);
                default -> {
                    err.println("conveyor: unknown command " + args.get(0));
                    err.print(USAGE_TEXT);
                    yield USAGE;
                }
            };
        } catch (Args.UsageException e) {
            err.println("conveyor " + args.get(0) + ": " + e.getMessage());
            err.println("Run 'conveyor " + args.get(0) + " --help' for usage.");
            return USAGE;
        }
    }
}
