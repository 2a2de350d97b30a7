package dev.conveyor.manifests.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Command-line arguments in Go's {@code flag} style, as kubeconform takes them: {@code -flag}, {@code --flag},
 * {@code -flag value} and {@code -flag=value}; flags and operands may be mixed; {@code --} ends the flags and a lone
 * {@code -} is an operand (standard input).
 */
final class Args {

    /** Bad usage: exit code {@link Cli#USAGE}. */
    static final class UsageException extends RuntimeException {
        UsageException(String message) {
            super(message);
        }
    }

    /** One parsed flag: its name (without dashes) and value ({@code "true"} for a boolean given bare). */
    record Flag(String name, String value) {
    }

    final List<Flag> flags = new ArrayList<>();
    final List<String> operands = new ArrayList<>();

    /**
     * @param booleans flags that take no value ({@code -strict}; {@code -strict=false} is accepted)
     * @param valued flags that take a value, with their aliases mapped to one name ({@code f} to {@code values})
     */
    static Args parse(List<String> args, Set<String> booleans, Map<String, String> valued) {
        Args parsed = new Args();
        boolean flagsEnded = false;
        for (int i = 0; i < args.size(); i++) {
            String arg = args.get(i);
            if (flagsEnded || !arg.startsWith("-") || arg.equals("-")) {
                parsed.operands.add(arg);
                continue;
            }
            if (arg.equals("--")) {
                flagsEnded = true;
                continue;
            }
            String body = arg.startsWith("--") ? arg.substring(2) : arg.substring(1);
            String name = body;
            String value = null;
            int eq = body.indexOf('=');
            if (eq >= 0) {
                name = body.substring(0, eq);
                value = body.substring(eq + 1);
            }
            if (booleans.contains(name)) {
                if (value != null && !value.equals("true") && !value.equals("false")) {
                    throw new UsageException("flag -" + name + " takes no value other than true or false, got "
                            + value);
                }
                parsed.flags.add(new Flag(name, value == null ? "true" : value));
            } else if (valued.containsKey(name)) {
                if (value == null) {
                    if (i + 1 >= args.size()) {
                        throw new UsageException("flag -" + name + " needs a value");
                    }
                    value = args.get(++i);
                }
                parsed.flags.add(new Flag(valued.get(name), value));
            } else {
                throw new UsageException("unknown flag " + arg);
            }
        }
        return parsed;
    }

    boolean bool(String name) {
        boolean on = false;
        for (Flag f : flags) {
            if (f.name().equals(name)) {
                on = f.value().equals("true");
            }
        }
        return on;
    }

    /** The last value given, or {@code fallback}. */
    String value(String name, String fallback) {
        String value = fallback;
        for (Flag f : flags) {
            if (f.name().equals(name)) {
                value = f.value();
            }
        }
        return value;
    }

    /** Every value given, in order. */
    List<String> values(String name) {
        return flags.stream().filter(f -> f.name().equals(name)).map(Flag::value).toList();
    }

    /** Every value given, each split at commas, blanks dropped. */
    List<String> commaValues(String name) {
        List<String> out = new ArrayList<>();
        for (String v : values(name)) {
            for (String part : v.split(",")) {
                if (!part.isBlank()) {
                    out.add(part.trim());
                }
            }
        }
        return out;
    }
}
