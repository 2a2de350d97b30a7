package dev.conveyor.notifier.domain;

import java.util.LinkedHashSet;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** JIRA issue keys ({@code SHOP-12}) mentioned in branch names, PR titles and commit subjects. */
public final class JiraKeys {

    private static final Pattern KEY = Pattern
            .compile("(?<![A-Za-z0-9])([A-Z][A-Z0-9_]{1,9})-([1-9][0-9]{0,8})(?![0-9])");

    private JiraKeys() {
    }

    /**
     * The keys in {@code text} in order of appearance; with a non-empty {@code projects}, only keys of those projects
     * (so {@code UTF-8} or {@code SHA-256} in a subject is not taken for an issue).
     */
    public static Set<String> in(String text, Set<String> projects) {
        Set<String> keys = new LinkedHashSet<>();
        if (text == null) {
            return keys;
        }
        Matcher m = KEY.matcher(text);
        while (m.find()) {
            if (projects.isEmpty() || projects.contains(m.group(1))) {
                keys.add(m.group(1) + "-" + m.group(2));
            }
        }
        return keys;
    }
}
