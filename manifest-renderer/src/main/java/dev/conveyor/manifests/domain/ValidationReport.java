package dev.conveyor.manifests.domain;

import java.util.List;
import java.util.stream.Collectors;

/** Every error and warning found in a rendered set, in object order. */
public record ValidationReport(List<Problem> errors, List<Problem> warnings) {

    public ValidationReport {
        errors = List.copyOf(errors);
        warnings = List.copyOf(warnings);
    }

    public boolean valid() {
        return errors.isEmpty();
    }

    /** The errors, one line each with its document and line, at most {@code max} lines and a count of the rest. */
    public String summary(int max) {
        String lines = errors.stream().limit(max).map(Problem::renderWithPosition).collect(Collectors.joining("\n"));
        return errors.size() > max ? lines + "\n... and " + (errors.size() - max) + " more" : lines;
    }
}
