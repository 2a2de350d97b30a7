package dev.conveyor.fluxsync.domain;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * What flux-sync does with a rendered document annotated {@code helm.sh/hook}, by its events (the annotation's
 * comma-separated value): a test ({@code test}, {@code test-success}, {@code test-failure}, as Helm 2 named them too)
 * is never applied and not reported, since {@code helm upgrade} never runs tests either; any other hook is not run and
 * is reported with the reason of each kind of event it names. No hook is ever an object of the release.
 */
public final class HelmHooks {

    /** The annotation that makes a document a Helm hook. */
    public static final String ANNOTATION = "helm.sh/hook";

    /** Why install and upgrade hooks are not run. */
    static final String INSTALL_UPGRADE = "install/upgrade hooks are not run: flux-sync applies the release on every "
            + "sync and has no install or upgrade step to run them around";
    /** Why delete hooks are not run. */
    static final String DELETE = "delete hooks are not run: flux-sync prunes a removed release's objects and never "
            + "uninstalls it with Helm";
    /** Why rollback hooks are not run. */
    static final String ROLLBACK = "rollback hooks are not run: a flux-sync rollback applies the previous manifest "
            + "again without Helm's rollback";

    private static final Set<String> TESTS = Set.of("test", "test-success", "test-failure");

    private HelmHooks() {
    }

    /** Whether every event of a hook annotation is a test event. */
    public static boolean isTest(String events) {
        for (String e : events.split(",")) {
            if (!TESTS.contains(e.trim())) {
                return false;
            }
        }
        return true;
    }

    /**
     * How a hook that is not a test is reported: {@code Kind/namespace/name (events; reason[; reason])}, the reasons
     * of the kinds of events it names, in the order install/upgrade, delete, rollback, other.
     *
     * @param namespace empty for a cluster-scoped kind
     */
    public static String skipped(String kind, String namespace, String name, String events) {
        Set<String> reasons = new LinkedHashSet<>();
        List<String> unknown = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (String e : events.split(",")) {
            String t = e.trim();
            if (t.isEmpty()) {
                continue;
            }
            names.add(t);
            switch (t) {
                case "pre-install", "post-install", "pre-upgrade", "post-upgrade" -> reasons.add(INSTALL_UPGRADE);
                case "pre-delete", "post-delete" -> reasons.add(DELETE);
                case "pre-rollback", "post-rollback" -> reasons.add(ROLLBACK);
                default -> {
                    if (!TESTS.contains(t)) {
                        unknown.add(t);
                    }
                }
            }
        }
        List<String> ordered = new ArrayList<>();
        for (String r : List.of(INSTALL_UPGRADE, DELETE, ROLLBACK)) {
            if (reasons.contains(r)) {
                ordered.add(r);
            }
        }
        if (!unknown.isEmpty()) {
            ordered.add(String.join("/", unknown) + (unknown.size() == 1 ? " is" : " are")
                    + " not a Helm 3 hook event: not run");
        }
        return kind + "/" + (namespace.isEmpty() ? "" : namespace + "/") + name + " (" + String.join(",", names)
                + "; " + String.join("; ", ordered) + ")";
    }
}
