package dev.conveyor.promoter.domain;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import dev.conveyor.events.v1.PromotionMode;
import dev.conveyor.stage.config.ConveyorYaml;
import dev.conveyor.stage.config.InvalidConfigException;

/**
 * Works out where a chart is promoted: the platform's targets that match the app or chart, plus the app's own
 * {@code promote:} entries from {@code .conveyor.yaml}. The platform wins: an app entry for a GitOps repository and
 * environment the platform already targets is ignored (so an app cannot turn a pull-request environment into an
 * automatic one), and an app may only name GitOps repositories the platform knows.
 */
public final class Targets {

    /** Keys of one {@code promote:} entry. */
    public static final Set<String> APP_KEYS = Set.of("gitopsRepo", "branch", "environment", "namespace", "release",
            "mode", "kind");

    private Targets() {
    }

    /**
     * The targets of one promotion, without duplicates, platform targets first.
     *
     * @param knownRepos GitOps repositories an app may name (every platform target's repository is known anyway)
     */
    public static List<PromotionTarget> resolve(List<TargetRule> platform, ConveyorYaml app, String appId,
            String chart, Set<String> knownRepos, String defaultBranch) {
        Map<String, PromotionTarget> byKey = new LinkedHashMap<>();
        for (TargetRule rule : platform) {
            if (rule.matches(appId, chart)) {
                PromotionTarget t = rule.target();
                PromotionTarget resolved = new PromotionTarget(t.gitopsRepo(), t.branch(), t.environment(),
                        t.namespace(), t.release() == null ? chart : t.release(), t.mode(), t.kind());
                byKey.putIfAbsent(key(resolved), resolved.validate("conveyor.promoter.targets." + rule.id()));
            }
        }
        Set<String> known = new java.util.HashSet<>(knownRepos);
        platform.forEach(r -> known.add(r.target().gitopsRepo()));
        for (PromotionTarget fromApp : fromApp(app, chart, defaultBranch)) {
            if (!known.contains(fromApp.gitopsRepo())) {
                throw new InvalidConfigException("promote.gitopsRepo", "promote.gitopsRepo "
                        + dev.conveyor.stage.git.GitUrls.redact(fromApp.gitopsRepo())
                        + " is not a GitOps repository the platform promotes to");
            }
            boolean platformHasEnvironment = byKey.values().stream().anyMatch(t -> t.gitopsRepo().equals(fromApp
                    .gitopsRepo()) && t.environment().equals(fromApp.environment()));
            if (!platformHasEnvironment) {
                byKey.putIfAbsent(key(fromApp), fromApp);
            }
        }
        return new ArrayList<>(byKey.values());
    }

    /** The {@code promote:} entries of {@code .conveyor.yaml}. */
    static List<PromotionTarget> fromApp(ConveyorYaml app, String chart, String defaultBranch) {
        List<PromotionTarget> targets = new ArrayList<>();
        for (ConveyorYaml.Section entry : app.root().list("promote")) {
            entry.allowOnly(APP_KEYS);
            String where = entry.path();
            String repo = entry.string("gitopsRepo").orElseThrow(() -> new InvalidConfigException(where
                    + ".gitopsRepo", where + ".gitopsRepo is required"));
            String environment = entry.string("environment").orElseThrow(() -> new InvalidConfigException(where
                    + ".environment", where + ".environment is required"));
            String namespace = entry.string("namespace").orElseThrow(() -> new InvalidConfigException(where
                    + ".namespace", where + ".namespace is required"));
            PromotionMode mode = entry.string("mode").map(m -> mode(m, where + ".mode")).orElse(PromotionMode.AUTO);
            ReleaseKind kind = entry.string("kind").map(k -> kind(k, where + ".kind"))
                    .orElse(ReleaseKind.FLUX_HELM_RELEASE);
            PromotionTarget target = new PromotionTarget(repo, entry.string("branch").orElse(defaultBranch),
                    environment, namespace, entry.string("release").orElse(chart), mode, kind);
            try {
                targets.add(target.validate(where));
            } catch (InvalidDocumentException e) {
                throw new InvalidConfigException(e.field(), e.getMessage());
            }
        }
        return targets;
    }

    /** {@code auto} or {@code pull-request}. */
    public static PromotionMode mode(String text, String field) {
        return switch (text.toLowerCase(Locale.ROOT)) {
            case "auto" -> PromotionMode.AUTO;
            case "pull-request", "pull_request", "pr" -> PromotionMode.PULL_REQUEST;
            default -> throw new InvalidConfigException(field, field + " must be auto or pull-request, not " + text);
        };
    }

    /** {@code flux-helm-release}, {@code helm-operator} or {@code flux-v2}. */
    public static ReleaseKind kind(String text, String field) {
        return switch (text.toLowerCase(Locale.ROOT)) {
            case "flux-helm-release", "fluxhelmrelease" -> ReleaseKind.FLUX_HELM_RELEASE;
            case "helm-operator" -> ReleaseKind.HELM_OPERATOR;
            case "flux-v2" -> ReleaseKind.FLUX_V2;
            default -> throw new InvalidConfigException(field, field + " must be one of " + Set.of(
                    "flux-helm-release", "helm-operator", "flux-v2").stream().sorted().collect(Collectors.joining(
                            ", "))
                    + ", not " + text);
        };
    }

    private static String key(PromotionTarget t) {
        return t.gitopsRepo() + "#" + t.environment() + "#" + t.namespace() + "/" + t.release();
    }
}
