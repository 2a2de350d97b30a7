package dev.conveyor.versioner.domain;

import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

import dev.conveyor.stage.config.ConveyorYaml;
import dev.conveyor.stage.config.InvalidConfigException;

/**
 * Reads an app's {@link VersionSettings} from {@code .conveyor.yaml} over the platform defaults. A repository without
 * the file, or without a {@code version} section, gets the defaults: tags strategy, prefix {@code v}, 0.1.0 first.
 *
 * <p>
 * Monorepos list their apps under {@code apps}; the event's app id selects the entry by {@code name}. Each app gets its
 * own tag prefix ({@code <name>-v} unless set) and path filter ({@code path}, default {@code <name>/}); an entry's own
 * {@code version} section overrides the top-level one.
 */
public final class AppVersionConfig {

    private static final Set<String> VERSION_KEYS = Set.of("strategy", "tagPrefix", "initial", "file");

    private AppVersionConfig() {
    }

    /** The settings for {@code app}; {@link InvalidConfigException} names the offending field. */
    public static VersionSettings settingsFor(ConveyorYaml yaml, String app, String defaultPrefix,
            SemVer defaultInitial) {
        ConveyorYaml.Section top = yaml.section("version").allowOnly(VERSION_KEYS);
        List<ConveyorYaml.Section> apps = yaml.root().list("apps");
        if (apps.isEmpty()) {
            return settings(top, null, defaultPrefix, defaultInitial, List.of());
        }
        for (ConveyorYaml.Section entry : apps) {
            String name = entry.string("name")
                    .orElseThrow(() -> new InvalidConfigException(entry.path() + ".name",
                            entry.path() + ".name is required"));
            if (name.equals(app)) {
                String path = entry.relativePath("path").orElse(name + "/");
                String prefix = entry.string("tagPrefix").orElse(name + "-v");
                ConveyorYaml.Section own = entry.section("version").allowOnly(VERSION_KEYS);
                return settings(own.isPresent() ? own : top, prefix, defaultPrefix, defaultInitial, List.of(path));
            }
        }
        throw new InvalidConfigException("apps", "app '" + app + "' is not listed under apps in "
                + ConveyorYaml.FILE_NAME + " (listed: " + String.join(", ",
                        apps.stream().map(e -> e.string("name").orElse("?")).toList())
                + ")");
    }

    private static VersionSettings settings(ConveyorYaml.Section version, String appPrefix, String defaultPrefix,
            SemVer defaultInitial, List<String> paths) {
        VersionStrategy strategy = version.string("strategy").map(s -> parseStrategy(s, version.path()))
                .orElse(VersionStrategy.TAGS);
        String prefix = version.string("tagPrefix").orElse(appPrefix != null ? appPrefix : defaultPrefix);
        if (!prefix.matches("[A-Za-z0-9._/-]*")) {
            throw new InvalidConfigException(version.path() + ".tagPrefix",
                    version.path() + ".tagPrefix may only contain letters, digits, '.', '_', '-' and '/'");
        }
        SemVer initial = version.string("initial").map(s -> SemVer.parse(s)
                .filter(v -> !v.isPreRelease())
                .orElseThrow(() -> new InvalidConfigException(version.path() + ".initial",
                        version.path() + ".initial must be a release version such as 0.1.0")))
                .orElse(defaultInitial);
        Optional<String> file = version.relativePath("file");
        if (strategy == VersionStrategy.FILE && file.isEmpty()) {
            file = Optional.of("VERSION");
        }
        return new VersionSettings(strategy, prefix, initial, file.orElse(null), paths);
    }

    private static VersionStrategy parseStrategy(String value, String section) {
        try {
            return VersionStrategy.valueOf(value.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new InvalidConfigException(section + ".strategy",
                    section + ".strategy must be 'tags' or 'file' but was '" + value + "'");
        }
    }
}
