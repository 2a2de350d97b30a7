package dev.conveyor.deploy.grafana;

import java.util.Collection;
import java.util.Set;
import java.util.TreeSet;

/**
 * The metric names in a Prometheus text exposition (what {@code /q/metrics} serves, in the 0.0.4 text format or
 * OpenMetrics): every family named by a {@code # TYPE} or {@code # HELP} line, and every sample name, so a histogram
 * {@code x_seconds} contributes {@code x_seconds}, {@code x_seconds_bucket}, {@code x_seconds_count} and
 * {@code x_seconds_sum}.
 */
public final class Exposition {

    private Exposition() {
    }

    /** The names in one exposition. */
    public static Set<String> metricNames(String exposition) {
        Set<String> names = new TreeSet<>();
        for (String raw : exposition.split("\n")) {
            String line = raw.strip();
            if (line.isEmpty()) {
                continue;
            }
            if (line.startsWith("#")) {
                String[] parts = line.split("\\s+", 4);
                if (parts.length >= 3 && (parts[1].equals("TYPE") || parts[1].equals("HELP"))) {
                    names.add(parts[2]);
                }
                continue;
            }
            int end = 0;
            while (end < line.length() && line.charAt(end) != '{' && !Character.isWhitespace(line.charAt(end))) {
                end++;
            }
            if (end > 0) {
                names.add(line.substring(0, end));
            }
        }
        return names;
    }

    /** The names in several expositions (every service of a stack), together. */
    public static Set<String> metricNames(Collection<String> expositions) {
        Set<String> names = new TreeSet<>();
        expositions.forEach(e -> names.addAll(metricNames(e)));
        return names;
    }
}
