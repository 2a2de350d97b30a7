package dev.conveyor.manifests.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import java.util.stream.Stream;

import dev.conveyor.manifests.client.SchemaLocations;
import dev.conveyor.manifests.domain.ManifestInputException;
import dev.conveyor.manifests.domain.ManifestParser;
import dev.conveyor.manifests.domain.Problem;
import dev.conveyor.manifests.domain.RenderedObject;
import dev.conveyor.manifests.domain.ValidationSettings;
import dev.conveyor.manifests.domain.Validator;
import dev.conveyor.manifests.domain.schema.BuiltinSchemas;
import dev.conveyor.manifests.domain.schema.SchemaRegistry;

/** {@code conveyor validate}: kubeconform's flags, output formats and exit codes over Conveyor's validator. */
final class ValidateCommand {

    static final String HELP = """
            Usage: conveyor validate [flags] [FILE|DIR|-]...

            Validates Kubernetes manifests offline, like kubeconform, plus the API server's checks that schemas miss.
            Reads YAML or JSON files, directories (recursively: *.yaml, *.yml, *.json), multi-document streams and
            kind: List objects; '-' or no argument reads standard input. CustomResourceDefinitions among the inputs
            give their custom resources a schema.

            Flags (-flag and --flag, -flag value and -flag=value are all accepted):
              -strict                      unknown fields are errors (duplicate keys are errors in every mode)
              -ignore-missing-schemas      skip kinds without a schema instead of failing them
              -kubernetes-version VERSION  schemas of this Kubernetes version (default: the newest, %s;
                                           available: %s; 'master' and 'latest' mean the newest)
              -schema-location LOCATION    more schemas, repeatable: a local path template such as
                                           '/schemas/{{ .ResourceKind }}{{ .KindSuffix }}.json' (variables .Group,
                                           .ResourceKind, .ResourceAPIVersion, .KindSuffix, .StrictSuffix,
                                           .NormalizedKubernetesVersion), or a directory laid out like
                                           kubernetes-json-schema; 'default' names the bundled schemas (always used)
              -skip KINDS                  comma-separated kinds or apiVersion/kinds to skip (Deployment, apps/v1/Deployment)
              -reject KINDS                comma-separated kinds or apiVersion/kinds to reject as errors
              -ignore-filename-pattern RE  skip files whose path matches this regular expression (repeatable)
              -no-api-checks               only schemas, without the API server's checks (images, selectors, names, ...)
              -summary                     print a summary at the end
              -verbose                     print valid and skipped resources too
              -output FORMAT               text (default), json, junit or tap
              -n WORKERS                   validation threads (default 4)
              -h, --help                   this help

            Exit codes: 0 all valid, 1 a resource is invalid or failed validation, 2 usage error,
            3 an input could not be read.
            """;

    enum Status {
        VALID("statusValid"), INVALID("statusInvalid"), ERROR("statusError"), SKIPPED("statusSkipped");

        final String json;

        Status(String json) {
            this.json = json;
        }
    }

    /** One validated resource, or a document that is no resource ({@code object} null). */
    record Result(String file, RenderedObject object, int document, int line, Status status, List<Problem> problems) {

        String kind() {
            return object == null ? "" : object.kind();
        }

        String name() {
            return object == null ? "" : object.name();
        }

        String version() {
            return object == null ? "" : object.apiVersion();
        }
    }

    private static final Set<String> BOOLEANS = Set.of("strict", "ignore-missing-schemas", "summary", "verbose", "h",
            "help", "no-api-checks");
    private static final Map<String, String> VALUED = Map.of("kubernetes-version", "kubernetes-version",
            "schema-location", "schema-location", "skip", "skip", "reject", "reject", "output", "output", "n", "n",
            "ignore-filename-pattern", "ignore-filename-pattern");

    private final PrintStream out;
    private final PrintStream err;
    private boolean ioFailed;

    ValidateCommand(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    static String help() {
        return HELP.formatted(BuiltinSchemas.newest(), String.join(", ", BuiltinSchemas.bundledVersions()));
    }

    int run(List<String> arguments) {
        Args args = Args.parse(arguments, BOOLEANS, VALUED);
        if (args.bool("h") || args.bool("help")) {
            out.print(help());
            return Cli.OK;
        }
        boolean strict = args.bool("strict");
        String version = kubernetesVersion(args.value("kubernetes-version", ""));
        String format = args.value("output", "text");
        if (!List.of("text", "json", "junit", "tap").contains(format)) {
            throw new Args.UsageException("-output must be text, json, junit or tap, got " + format);
        }
        int workers;
        try {
            workers = Integer.parseInt(args.value("n", "4"));
        } catch (NumberFormatException e) {
            throw new Args.UsageException("-n must be a number of workers, got " + args.value("n", ""));
        }
        if (workers < 1 || workers > 256) {
            throw new Args.UsageException("-n must be between 1 and 256, got " + workers);
        }
        List<Pattern> ignored = new ArrayList<>();
        for (String pattern : args.values("ignore-filename-pattern")) {
            try {
                ignored.add(Pattern.compile(pattern));
            } catch (PatternSyntaxException e) {
                throw new Args.UsageException("-ignore-filename-pattern " + pattern + " is not a regular expression: "
                        + e.getDescription());
            }
        }
        List<SchemaRegistry.SchemaLookup> lookups = new ArrayList<>();
        for (String location : args.values("schema-location")) {
            if (location.equals("default")) {
                continue; // the bundled schemas are always consulted first
            }
            try {
                lookups.add(new SchemaLocations(location, version, strict));
            } catch (IllegalArgumentException e) {
                throw new Args.UsageException("-schema-location: " + e.getMessage());
            }
        }
        Set<String> skip = Set.copyOf(args.commaValues("skip"));
        Set<String> reject = Set.copyOf(args.commaValues("reject"));
        boolean ignoreMissing = args.bool("ignore-missing-schemas");

        SchemaRegistry registry = new SchemaRegistry(BuiltinSchemas.load(version), lookups);
        Validator validator = new Validator(registry, new ValidationSettings(strict,
                ValidationSettings.MissingSchema.ERROR, !args.bool("no-api-checks")));

        List<String> operands = args.operands.isEmpty() ? List.of("-") : args.operands;
        List<Path> files = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (String operand : operands) {
            if (operand.equals("-")) {
                names.add("-");
                files.add(null);
                continue;
            }
            for (Path file : expand(Path.of(operand), ignored)) {
                names.add(file.toString());
                files.add(file);
            }
        }

        ExecutorService pool = Executors.newFixedThreadPool(workers, r -> {
            Thread t = new Thread(r, "validate");
            t.setDaemon(true);
            return t;
        });
        try {
            long started = System.nanoTime();
            // Read and parse the files on the workers, then register every CRD, then validate the objects.
            List<Future<List<Result>>> parsing = new ArrayList<>();
            for (int i = 0; i < files.size(); i++) {
                Path file = files.get(i);
                String name = file == null ? "stdin" : names.get(i);
                parsing.add(pool.submit(() -> parse(name, file)));
            }
            List<Result> results = new ArrayList<>();
            for (Future<List<Result>> parsed : parsing) {
                results.addAll(join(parsed));
            }
            for (int i = 0; i < results.size(); i++) {
                Result r = results.get(i);
                if (r.object() != null && "apiextensions.k8s.io/v1".equals(r.object().apiVersion())
                        && "CustomResourceDefinition".equals(r.object().kind())) {
                    List<Problem> problems = new ArrayList<>(r.problems());
                    problems.addAll(registry.addCrd(r.object()));
                    results.set(i, new Result(r.file(), r.object(), r.document(), r.line(), r.status(), problems));
                }
            }
            int slices = Math.min(workers, Math.max(1, results.size()));
            List<Future<?>> validating = new ArrayList<>();
            List<Result> validated = new ArrayList<>(results);
            for (int s = 0; s < slices; s++) {
                int from = (int) ((long) results.size() * s / slices);
                int to = (int) ((long) results.size() * (s + 1) / slices);
                validating.add(pool.submit(() -> {
                    for (int i = from; i < to; i++) {
                        validated.set(i, validate(results.get(i), registry, validator, skip, reject, ignoreMissing));
                    }
                }));
            }
            for (Future<?> f : validating) {
                join(f);
            }
            duplicates(validated);
            double seconds = (System.nanoTime() - started) / 1e9;
            Report report = new Report(validated, files.size(), seconds, args.bool("verbose"), args.bool("summary"));
            switch (format) {
                case "json" -> report.json(out);
                case "junit" -> report.junit(out);
                case "tap" -> report.tap(out);
                default -> report.text(out);
            }
            out.flush();
            if (ioFailed) {
                return Cli.IO;
            }
            return report.failed() ? Cli.INVALID : Cli.OK;
        } finally {
            pool.shutdownNow();
        }
    }

    static String kubernetesVersion(String requested) {
        if (requested.isEmpty() || requested.equals("master") || requested.equals("latest")) {
            return BuiltinSchemas.newest();
        }
        try {
            return BuiltinSchemas.minor(requested);
        } catch (IllegalArgumentException e) {
            throw new Args.UsageException(e.getMessage());
        }
    }

    private List<Path> expand(Path operand, List<Pattern> ignored) {
        if (!Files.exists(operand)) {
            err.println("conveyor validate: " + operand + ": no such file or directory");
            ioFailed = true;
            return List.of();
        }
        if (!Files.isDirectory(operand)) {
            return ignoredFile(operand, ignored) ? List.of() : List.of(operand);
        }
        try (Stream<Path> walk = Files.walk(operand)) {
            return walk.filter(Files::isRegularFile).filter(p -> {
                String name = p.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
                return name.endsWith(".yaml") || name.endsWith(".yml") || name.endsWith(".json");
            }).filter(p -> !ignoredFile(p, ignored)).sorted().toList();
        } catch (IOException | UncheckedIOException e) {
            err.println("conveyor validate: cannot list " + operand + ": " + e.getMessage());
            ioFailed = true;
            return List.of();
        }
    }

    private static boolean ignoredFile(Path file, List<Pattern> ignored) {
        return ignored.stream().anyMatch(p -> p.matcher(file.toString()).find());
    }

    private List<Result> parse(String name, Path file) {
        String text;
        try {
            text = file == null
                    ? new String(System.in.readAllBytes(), StandardCharsets.UTF_8)
                    : Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException | UncheckedIOException e) {
            synchronized (this) {
                err.println("conveyor validate: cannot read " + name + ": " + e.getMessage());
                ioFailed = true;
            }
            return List.of();
        }
        ManifestParser.Result parsed;
        try {
            // No size cap beyond Java's own: the files are the user's, not a chart's output.
            parsed = new ManifestParser(new ManifestParser.Limits(Integer.MAX_VALUE - 16, 100, 200_000, 64)).parse(
                    text, name);
        } catch (ManifestInputException e) {
            return List.of(new Result(name, null, 0, 0, Status.ERROR, List.of(new Problem(name, "", "", "", "", e
                    .getMessage()))));
        }
        // Duplicate keys are reported while parsing, for their object; other parse problems are documents of their own.
        Map<String, List<Problem>> byObject = new HashMap<>();
        List<Result> results = new ArrayList<>();
        Set<Integer> documentsWithObjects = new HashSet<>();
        parsed.objects().forEach(o -> documentsWithObjects.add(o.document()));
        List<Problem> standalone = new ArrayList<>();
        for (Problem p : parsed.problems()) {
            if (documentsWithObjects.contains(p.document())) {
                byObject.computeIfAbsent(p.document() + "/" + p.kind() + "/" + p.namespace() + "/" + p.name(),
                        k -> new ArrayList<>()).add(p);
            } else {
                standalone.add(p);
            }
        }
        for (RenderedObject o : parsed.objects()) {
            List<Problem> problems = byObject.getOrDefault(o.document() + "/" + o.kind() + "/" + o.namespace() + "/"
                    + o.name(), List.of());
            results.add(new Result(name, o, o.document(), o.line(), problems.isEmpty()
                    ? Status.VALID
                    : Status.INVALID, problems));
        }
        for (Problem p : standalone) {
            results.add(new Result(name, null, p.document(), p.line(), Status.ERROR, List.of(p)));
        }
        results.sort(java.util.Comparator.comparingInt(Result::document));
        return results;
    }

    private static Result validate(Result parsed, SchemaRegistry registry, Validator validator, Set<String> skip,
            Set<String> reject, boolean ignoreMissing) {
        RenderedObject o = parsed.object();
        if (o == null) {
            return parsed;
        }
        List<Problem> problems = new ArrayList<>(parsed.problems());
        if (o.kind().isEmpty() || o.apiVersion().isEmpty()) {
            problems.add(o.problem("", "missing " + (o.kind().isEmpty() ? "kind" : "apiVersion")));
            return with(parsed, Status.ERROR, problems);
        }
        if (matches(o, skip)) {
            return with(parsed, Status.SKIPPED, problems);
        }
        if (matches(o, reject)) {
            problems.add(o.problem("", "prohibited resource kind " + o.kind()));
            return with(parsed, Status.ERROR, problems);
        }
        if (registry.find(o.apiVersion(), o.kind()).isEmpty()) {
            if (ignoreMissing) {
                return with(parsed, Status.SKIPPED, problems);
            }
            problems.add(o.problem("", "could not find schema for " + o.kind() + " (" + o.apiVersion() + ")"));
            return with(parsed, Status.ERROR, problems);
        }
        List<Problem> warnings = new ArrayList<>();
        validator.validate(o, problems, warnings);
        return with(parsed, problems.isEmpty() ? Status.VALID : Status.INVALID, problems);
    }

    private static boolean matches(RenderedObject o, Set<String> kinds) {
        return kinds.contains(o.kind()) || kinds.contains(o.apiVersion() + "/" + o.kind());
    }

    private static Result with(Result r, Status status, List<Problem> problems) {
        return new Result(r.file(), r.object(), r.document(), r.line(), status, problems);
    }

    /** Two objects with the same identity in one file: the second is invalid, as the API server would refuse it. */
    private static void duplicates(List<Result> results) {
        Map<String, Set<String>> seen = new HashMap<>();
        for (int i = 0; i < results.size(); i++) {
            Result r = results.get(i);
            RenderedObject o = r.object();
            if (o == null || o.kind().isEmpty() || o.name().isEmpty() || r.status() == Status.SKIPPED) {
                continue;
            }
            String identity = o.group() + "/" + o.kind() + "/" + o.namespace() + "/" + o.name();
            if (!seen.computeIfAbsent(r.file(), f -> new HashSet<>()).add(identity)) {
                List<Problem> problems = new ArrayList<>(r.problems());
                problems.add(o.problem("", "duplicate object: another " + o.kind() + " has the same name"));
                results.set(i, with(r, r.status() == Status.ERROR ? Status.ERROR : Status.INVALID, problems));
            }
        }
    }

    private static <T> T join(Future<T> future) {
        try {
            return future.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException runtime) {
                throw runtime;
            }
            throw new IllegalStateException(e.getCause());
        }
    }
}
