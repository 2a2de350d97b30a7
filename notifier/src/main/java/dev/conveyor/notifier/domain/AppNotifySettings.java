package dev.conveyor.notifier.domain;

import java.util.Optional;
import java.util.Set;

import dev.conveyor.stage.config.ConveyorYaml;

/**
 * The {@code notify} section of an app's {@code .conveyor.yaml}:
 *
 * <pre>
 * notify:
 *   slack:
 *     channel: "#team-cart"   # the app's Slack channel (else the platform's per-app or default channel)
 *   jira:
 *     project: SHOP           # only SHOP-123 keys are taken (else the platform's project list)
 * </pre>
 *
 * Unknown keys are errors naming the field, so a typo never silently becomes a default.
 */
public record AppNotifySettings(Optional<String> slackChannel, Optional<String> jiraProject) {

    private static final java.util.regex.Pattern PROJECT = java.util.regex.Pattern.compile("[A-Z][A-Z0-9_]{1,9}");

    public static AppNotifySettings none() {
        return new AppNotifySettings(Optional.empty(), Optional.empty());
    }

    /** Reads the section; {@link dev.conveyor.stage.config.InvalidConfigException} names a bad field. */
    public static AppNotifySettings from(ConveyorYaml yaml) {
        ConveyorYaml.Section notify = yaml.section("notify").allowOnly(Set.of("slack", "jira"));
        Optional<String> channel = notify.section("slack").allowOnly(Set.of("channel")).string("channel")
                .map(String::strip).filter(c -> !c.isEmpty());
        ConveyorYaml.Section jira = notify.section("jira").allowOnly(Set.of("project"));
        Optional<String> project = jira.string("project").map(String::strip);
        if (project.isPresent() && !PROJECT.matcher(project.get()).matches()) {
            throw new dev.conveyor.stage.config.InvalidConfigException(jira.path() + ".project",
                    jira.path() + ".project must be a JIRA project key such as SHOP");
        }
        return new AppNotifySettings(channel, project);
    }
}
