package dev.conveyor.manifests.cli;

import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.conveyor.manifests.cli.ValidateCommand.Result;
import dev.conveyor.manifests.cli.ValidateCommand.Status;
import dev.conveyor.manifests.domain.Problem;

/** The results of {@code conveyor validate} in kubeconform's four output formats. */
final class Report {

    private final List<Result> results;
    private final int files;
    private final double seconds;
    private final boolean verbose;
    private final boolean summary;
    private final Map<Status, Integer> counts = new LinkedHashMap<>();

    Report(List<Result> results, int files, double seconds, boolean verbose, boolean summary) {
        this.results = results;
        this.files = files;
        this.seconds = seconds;
        this.verbose = verbose;
        this.summary = summary;
        for (Status s : Status.values()) {
            counts.put(s, 0);
        }
        results.forEach(r -> counts.merge(r.status(), 1, Integer::sum));
    }

    boolean failed() {
        return counts.get(Status.INVALID) > 0 || counts.get(Status.ERROR) > 0;
    }

    private static String position(Result r) {
        if (r.document() == 0) {
            return r.file();
        }
        return r.file() + " (document " + r.document() + (r.line() > 0 ? ", line " + r.line() : "") + ")";
    }

    private static String subject(Result r) {
        return r.object() == null ? "" : " " + r.kind() + " " + r.name();
    }

    private static String problem(Problem p) {
        return p.path().isEmpty() ? p.message() : p.path() + ": " + p.message();
    }

    /** kubeconform's text: one line per problem (valid and skipped resources with -verbose), then the summary. */
    void text(PrintStream out) {
        StringBuilder lines = new StringBuilder();
        for (Result r : results) {
            switch (r.status()) {
                case VALID -> {
                    if (verbose) {
                        lines.append(position(r)).append(" -").append(subject(r)).append(" is valid\n");
                    }
                }
                case SKIPPED -> {
                    if (verbose) {
                        lines.append(position(r)).append(" -").append(subject(r)).append(" skipped\n");
                    }
                }
                case INVALID, ERROR -> {
                    String verb = r.status() == Status.INVALID ? " is invalid: " : " failed validation: ";
                    for (Problem p : r.problems()) {
                        lines.append(position(r)).append(" -").append(subject(r)).append(verb).append(problem(p))
                                .append('\n');
                    }
                }
            }
            if (lines.length() > 1 << 16) {
                out.append(lines);
                lines.setLength(0);
            }
        }
        out.append(lines);
        if (summary) {
            out.println(summaryLine());
        }
    }

    String summaryLine() {
        int n = results.size();
        return "Summary: " + n + " resource" + (n == 1 ? "" : "s") + " found in " + files + " file" + (files == 1
                ? ""
                : "s") + " - Valid: " + counts.get(Status.VALID) + ", Invalid: " + counts.get(Status.INVALID)
                + ", Errors: " + counts.get(Status.ERROR) + ", Skipped: " + counts.get(Status.SKIPPED);
    }

    /** kubeconform's json: resources that are not valid (all with -verbose), and the summary with -summary. */
    void json(PrintStream out) {
        ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = mapper.createObjectNode();
        ArrayNode resources = root.putArray("resources");
        for (Result r : results) {
            if (!verbose && (r.status() == Status.VALID || r.status() == Status.SKIPPED)) {
                continue;
            }
            ObjectNode resource = resources.addObject();
            resource.put("filename", r.file());
            resource.put("kind", r.kind());
            resource.put("name", r.name());
            resource.put("namespace", r.object() == null ? "" : r.object().namespace());
            resource.put("version", r.version());
            resource.put("document", r.document());
            resource.put("line", r.line());
            resource.put("status", r.status().json);
            resource.put("msg", r.problems().stream().map(Report::problem).collect(Collectors.joining("; ")));
            if (r.status() == Status.INVALID) {
                ArrayNode errors = resource.putArray("validationErrors");
                for (Problem p : r.problems()) {
                    errors.addObject().put("path", p.path()).put("msg", p.message());
                }
            }
        }
        if (summary) {
            ObjectNode s = root.putObject("summary");
            s.put("valid", counts.get(Status.VALID));
            s.put("invalid", counts.get(Status.INVALID));
            s.put("errors", counts.get(Status.ERROR));
            s.put("skipped", counts.get(Status.SKIPPED));
        }
        try {
            out.println(mapper.writeValueAsString(root));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** TAP version 13: every resource is a test point; skipped ones carry the SKIP directive. */
    void tap(PrintStream out) {
        StringBuilder lines = new StringBuilder("TAP version 13\n");
        int i = 0;
        for (Result r : results) {
            i++;
            String what = position(r) + " (" + (r.object() == null ? "document" : r.kind() + " " + r.name()) + ")";
            switch (r.status()) {
                case VALID -> lines.append("ok ").append(i).append(" - ").append(what).append('\n');
                case SKIPPED -> lines.append("ok ").append(i).append(" - ").append(what).append(" # SKIP\n");
                default -> lines.append("not ok ").append(i).append(" - ").append(what).append(" - ").append(r
                        .problems().stream().map(Report::problem).collect(Collectors.joining("; "))).append('\n');
            }
            if (lines.length() > 1 << 16) {
                out.append(lines);
                lines.setLength(0);
            }
        }
        lines.append("1..").append(results.size()).append('\n');
        out.append(lines);
    }

    /** JUnit XML: one test suite per file, one test case per resource. */
    void junit(PrintStream out) {
        Map<String, List<Result>> byFile = results.stream().collect(Collectors.groupingBy(Result::file,
                LinkedHashMap::new, Collectors.toList()));
        StringBuilder xml = new StringBuilder("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        xml.append("<testsuites name=\"conveyor validate\" time=\"").append(String.format(Locale.ROOT, "%.3f",
                seconds)).append("\" tests=\"").append(results.size()).append("\" failures=\"").append(counts.get(
                        Status.INVALID))
                .append("\" errors=\"").append(counts.get(Status.ERROR)).append(
                        "\" skipped=\"")
                .append(counts.get(Status.SKIPPED)).append("\">\n");
        int id = 0;
        for (Map.Entry<String, List<Result>> file : byFile.entrySet()) {
            List<Result> rs = file.getValue();
            xml.append("  <testsuite name=\"").append(escape(file.getKey())).append("\" id=\"").append(id++).append(
                    "\" tests=\"").append(rs.size()).append("\" failures=\"").append(rs.stream().filter(
                            r -> r
                                    .status() == Status.INVALID)
                            .count())
                    .append("\" errors=\"").append(rs.stream().filter(
                            r -> r.status() == Status.ERROR).count())
                    .append("\" skipped=\"").append(rs
                            .stream().filter(r -> r.status() == Status.SKIPPED).count())
                    .append(
                            "\">\n");
            for (Result r : rs) {
                String name = r.object() == null ? "document " + r.document() : r.kind() + " " + r.name();
                xml.append("    <testcase name=\"").append(escape(name)).append("\" classname=\"").append(escape(r
                        .object() == null ? "" : r.kind() + "@" + r.version())).append("\"");
                String message = r.problems().stream().map(Report::problem).collect(Collectors.joining("; "));
                switch (r.status()) {
                    case VALID -> xml.append("/>\n");
                    case SKIPPED -> xml.append(">\n      <skipped/>\n    </testcase>\n");
                    case INVALID, ERROR -> {
                        String tag = r.status() == Status.INVALID ? "failure" : "error";
                        xml.append(">\n      <").append(tag).append(" message=\"").append(escape(message)).append(
                                "\" type=\"").append(r.status().json).append("\">");
                        for (Problem p : r.problems()) {
                            xml.append(escape(position(r) + ": " + problem(p))).append('\n');
                        }
                        xml.append("</").append(tag).append(">\n    </testcase>\n");
                    }
                }
            }
            xml.append("  </testsuite>\n");
        }
        xml.append("</testsuites>\n");
        out.append(xml);
    }

    private static String escape(String text) {
        StringBuilder b = new StringBuilder(text.length());
        for (char c : text.toCharArray()) {
            switch (c) {
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '&' -> b.append("&amp;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&apos;");
                default -> {
                    if (c < 0x20 && c != '\n' && c != '\t' && c != '\r') {
                        b.append(' ');
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.toString();
    }
}
