package dev.conveyor.manifests.cli;

import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.storage.file.FileRepositoryBuilder;

import dev.conveyor.manifests.client.RepoFiles;
import dev.conveyor.manifests.domain.ManifestSet;
import dev.conveyor.manifests.domain.Problem;
import dev.conveyor.manifests.domain.RenderedDiff;
import dev.conveyor.manifests.domain.SecretRedactor;

/** {@code conveyor diff CHART --base REF [--head REF]}: the rendered diff a pull request comment shows. */
final class DiffCommand {

    static final String HELP = """
            Usage: conveyor diff CHART --base REF [--head REF] [flags]

            Renders the chart in directory CHART at two git refs of the repository holding it, as 'conveyor render'
            does, and prints the diff of the files Conveyor would commit: objects added, changed and removed, a unified
            diff per changed object, Secret values redacted — the text Conveyor posts on a pull request. Without
            --head, the chart as it is in the working tree is compared.

            Flags:
              --base REF                   base commit, branch or tag (required)
              --head REF                   head commit, branch or tag (default: the working tree)
            %s  --max-chars N                cap of the diff text (default 60000, as on pull requests)
              -h, --help                   this help

            Values files and --set apply to both sides. A base that cannot be rendered shows every object as added.
            Exit codes: 0 rendered (whether or not anything changed), 1 the head is invalid or not renderable,
            2 usage error, 3 input/output error (no git repository, unknown ref).
            """;

    private final PrintStream out;
    private final PrintStream err;

    DiffCommand(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    int run(List<String> arguments) {
        Args args = Args.parse(arguments, ChartRun.BOOLEANS, ChartRun.valued("base", "head", "max-chars"));
        if (args.bool("h") || args.bool("help")) {
            out.print(HELP.formatted(ChartRun.commonFlags()));
            return Cli.OK;
        }
        if (args.operands.size() != 1) {
            throw new Args.UsageException("needs exactly one CHART directory, got " + args.operands.size()
                    + " arguments");
        }
        String base = args.value("base", "");
        if (base.isEmpty()) {
            throw new Args.UsageException("--base REF is required");
        }
        String head = args.value("head", "");
        int maxChars;
        try {
            maxChars = Integer.parseInt(args.value("max-chars", "60000"));
        } catch (NumberFormatException e) {
            throw new Args.UsageException("--max-chars must be a number");
        }
        Path chart = Path.of(args.operands.get(0)).toAbsolutePath().normalize();
        ChartRun.Options options = ChartRun.options(args, chart);
        SecretRedactor redactor = ChartRun.redactor(); // one key for both sides: equal values, equal placeholders
        Path work = null;
        FileRepositoryBuilder builder = new FileRepositoryBuilder().findGitDir(chart.toFile());
        if (builder.getGitDir() == null) {
            err.println("conveyor diff: " + chart + " is not in a git repository");
            return Cli.IO;
        }
        try (Repository repo = builder.setMustExist(true).build()) {
            if (repo.isBare()) {
                err.println("conveyor diff: " + chart + " is not in a git working tree");
                return Cli.IO;
            }
            File workTree = repo.getWorkTree();
            Path root = workTree.toPath().toRealPath();
            Path real = Files.exists(chart) ? chart.toRealPath() : chart;
            if (!real.startsWith(root)) {
                err.println("conveyor diff: " + chart + " is not inside the repository " + root);
                return Cli.IO;
            }
            String chartPath = root.relativize(real).toString().replace(File.separatorChar, '/');
            work = Files.createTempDirectory("conveyor-diff-");
            ChartRun run = new ChartRun();

            ObjectId baseId = resolve(repo, base);
            String note = "";
            ManifestSet baseSet;
            Path baseChart = checkout(repo, baseId, chartPath, work.resolve("base"));
            if (baseChart == null) {
                baseSet = ManifestSet.ofFiles(Map.of());
                note = "Base " + base + " has no chart at " + chartPath + ": every object is shown as added.\n";
            } else {
                try {
                    ChartRun.Outcome outcome = run.render(baseChart, options, redactor, chartPath + "@" + base);
                    baseSet = outcome.files();
                    if (!outcome.valid()) {
                        note = "Base " + base + " renders invalid manifests (" + outcome.report().errors().size()
                                + " problem(s)); they are compared as rendered.\n";
                    }
                } catch (ChartRun.RenderFailure e) {
                    baseSet = ManifestSet.ofFiles(Map.of());
                    note = "Base " + base + " could not be rendered: every object is shown as added.\n";
                }
            }
            Path headChart = chart;
            String headName = chartPath + " (working tree)";
            if (!head.isEmpty()) {
                headChart = checkout(repo, resolve(repo, head), chartPath, work.resolve("head"));
                headName = chartPath + "@" + head;
                if (headChart == null) {
                    err.println("conveyor diff: head " + head + " has no chart at " + chartPath);
                    return Cli.INVALID;
                }
            }
            ChartRun.Outcome headOutcome;
            try {
                headOutcome = run.render(headChart, options, redactor, headName);
            } catch (ChartRun.RenderFailure e) {
                err.println("conveyor diff: " + e.getMessage());
                return Cli.INVALID;
            }
            if (!headOutcome.valid()) {
                headOutcome.lintErrors().forEach(err::println);
                for (Problem p : headOutcome.report().errors()) {
                    err.println(p.renderWithPosition());
                }
                err.println("conveyor diff: the head renders " + (headOutcome.report().errors().size() + headOutcome
                        .lintErrors().size()) + " problem(s); the pipeline would fail this pull request");
                return Cli.INVALID;
            }
            RenderedDiff diff = RenderedDiff.between(baseSet, headOutcome.files(), Math.max(0, maxChars - note
                    .length()));
            out.print(note + diff.text());
            if (!diff.text().endsWith("\n")) {
                out.println();
            }
            return Cli.OK;
        } catch (UnknownRef e) {
            err.println("conveyor diff: " + e.getMessage());
            return Cli.IO;
        } catch (IOException | IllegalArgumentException e) {
            err.println("conveyor diff: " + e.getMessage());
            return Cli.IO;
        } finally {
            if (work != null) {
                ChartRun.delete(work);
            }
        }
    }

    private static final class UnknownRef extends RuntimeException {
        UnknownRef(String message) {
            super(message);
        }
    }

    private static ObjectId resolve(Repository repo, String ref) throws IOException {
        ObjectId id;
        try {
            id = repo.resolve(ref + "^{commit}");
        } catch (org.eclipse.jgit.errors.RevisionSyntaxException | org.eclipse.jgit.errors.MissingObjectException
                | org.eclipse.jgit.errors.IncorrectObjectTypeException e) {
            id = null;
        }
        if (id == null) {
            throw new UnknownRef("unknown git ref " + ref + " in " + repo.getWorkTree());
        }
        return id;
    }

    /** The chart at a commit, copied out; null when the commit has no Chart.yaml there. */
    private static Path checkout(Repository repo, ObjectId commit, String chartPath, Path target) throws IOException {
        RepoFiles files = new RepoFiles(repo, commit, 4L * 1024 * 1024, 5000);
        if (files.read(chartPath.isEmpty() ? "Chart.yaml" : chartPath + "/Chart.yaml").isEmpty()) {
            return null;
        }
        files.copyTo(chartPath, target);
        return target;
    }
}
