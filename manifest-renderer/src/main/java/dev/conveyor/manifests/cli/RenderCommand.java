package dev.conveyor.manifests.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import dev.conveyor.manifests.domain.Problem;

/** {@code conveyor render CHART}: the manifests as the pipeline would commit them, hooks and tests included. */
final class RenderCommand {

    static final String HELP = """
            Usage: conveyor render CHART [flags]

            Renders the Helm chart in the directory CHART as Conveyor does (Helm's engine in-process, no helm binary):
            missing dependencies built, hooks and tests included with their annotations, helm lint --strict, every
            object validated strictly (kubeconform's checks plus the API server's), the release namespace placed,
            Secret values redacted. Prints the files Conveyor would commit under manifests/, each headed by
            '# manifests/<file>', or writes them with --output-dir. Problems go to standard error.

            Flags:
            %s  --output-dir DIR             write the files into DIR instead of printing them
              -h, --help                   this help

            Secret values become 'REDACTED hmac-sha256:...' placeholders keyed with CONVEYOR_REDACTION_KEY when set
            (the pipeline's key gives the pipeline's placeholders), else with a key made for this run.
            Exit codes: 0 rendered and valid, 1 invalid or not renderable, 2 usage error, 3 input/output error.
            """;

    private final PrintStream out;
    private final PrintStream err;

    RenderCommand(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    int run(List<String> arguments) {
        Args args = Args.parse(arguments, ChartRun.BOOLEANS, ChartRun.valued("output-dir"));
        if (args.bool("h") || args.bool("help")) {
            out.print(HELP.formatted(ChartRun.commonFlags()));
            return Cli.OK;
        }
        if (args.operands.size() != 1) {
            throw new Args.UsageException("needs exactly one CHART directory, got " + args.operands.size()
                    + " arguments");
        }
        Path chart = Path.of(args.operands.get(0));
        ChartRun.Options options = ChartRun.options(args, chart);
        ChartRun.Outcome outcome;
        try {
            outcome = new ChartRun().render(chart, options, ChartRun.redactor(), chart.toString());
        } catch (ChartRun.RenderFailure e) {
            err.println("conveyor render: " + e.getMessage());
            return Cli.INVALID;
        } catch (IOException e) {
            err.println("conveyor render: " + e.getMessage());
            return Cli.IO;
        }
        if (!outcome.valid()) {
            outcome.lintErrors().forEach(err::println);
            for (Problem p : outcome.report().errors()) {
                err.println(p.renderWithPosition());
            }
            err.println("conveyor render: " + (outcome.report().errors().size() + outcome.lintErrors().size())
                    + " problem(s); nothing would be committed");
            return Cli.INVALID;
        }
        for (Problem p : outcome.report().warnings()) {
            err.println("warning: " + p.renderWithPosition());
        }
        String dir = args.value("output-dir", "");
        try {
            if (!dir.isEmpty()) {
                Path target = Files.createDirectories(Path.of(dir));
                for (Map.Entry<String, String> file : outcome.files().files().entrySet()) {
                    Files.writeString(target.resolve(file.getKey()), file.getValue());
                }
                err.println("conveyor render: " + outcome.files().size() + " files written to " + target);
            } else {
                StringBuilder text = new StringBuilder();
                for (Map.Entry<String, String> file : outcome.files().files().entrySet()) {
                    text.append("---\n# manifests/").append(file.getKey()).append('\n').append(file.getValue());
                }
                out.print(text);
            }
        } catch (IOException e) {
            err.println("conveyor render: cannot write " + dir + ": " + e.getMessage());
            return Cli.IO;
        }
        return Cli.OK;
    }
}
