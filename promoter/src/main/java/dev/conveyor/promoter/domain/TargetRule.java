package dev.conveyor.promoter.domain;

import java.util.List;

/**
 * A platform-configured target and the apps or charts it applies to.
 *
 * @param id the configuration key of the target
 * @param target the target; {@code release} may be {@code null} (the chart's name is used)
 * @param apps app ids this target applies to; empty with empty {@code charts} means every app
 * @param charts chart names this target applies to
 */
public record TargetRule(String id, PromotionTarget target, List<String> apps, List<String> charts) {

    public TargetRule {
        apps = List.copyOf(apps);
        charts = List.copyOf(charts);
    }

    /** Whether the rule applies to this app and chart. */
    public boolean matches(String app, String chart) {
        if (apps.isEmpty() && charts.isEmpty()) {
            return true;
        }
        return apps.contains(app) || charts.contains(chart);
    }
}
