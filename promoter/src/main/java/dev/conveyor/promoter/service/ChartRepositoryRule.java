package dev.conveyor.promoter.service;

import java.util.List;

import dev.conveyor.promoter.client.ChartRepository;

/**
 * A configured chart repository and the apps or charts published to it (all of them when both lists are empty).
 */
public record ChartRepositoryRule(ChartRepository repository, List<String> apps, List<String> charts) {

    public ChartRepositoryRule {
        apps = List.copyOf(apps);
        charts = List.copyOf(charts);
    }

    boolean matches(String app, String chart) {
        return apps.isEmpty() && charts.isEmpty() || apps.contains(app) || charts.contains(chart);
    }
}
