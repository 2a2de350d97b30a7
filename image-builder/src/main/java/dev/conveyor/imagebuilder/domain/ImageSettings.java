package dev.conveyor.imagebuilder.domain;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

import dev.conveyor.stage.config.ConveyorYaml;
import dev.conveyor.stage.config.InvalidConfigException;

/**
 * An app's image settings, the {@code image} section of its {@code .conveyor.yaml}. Every key is optional; what is not
 * set comes from the platform defaults.
 *
 * <pre>
 * image:
 *   base: eclipse-temurin:17-jre       # base image
 *   name: team/shop                    # repository in the target registry (default: namespace/app)
 *   kind: jar                          # jar | directory (default: the artifact's kind, else jar)
 *   entrypoint: [java, -jar, app.jar]  # list, or one string split on spaces
 *   args: [--port, "8080"]
 *   ports: [8080, 9090/udp]
 *   env: {JAVA_TOOL_OPTIONS: -XX:MaxRAMPercentage=75}
 *   user: "65532:65532"
 *   workdir: /app
 * </pre>
 *
 * Monorepos set it per app under {@code apps[i].image}, which replaces the top-level section for that app.
 *
 * @param base the base image reference
 * @param name the repository name, without registry
 * @param kind the artifact kind
 * @param entrypoint the entrypoint; empty for the kind's default
 * @param args the program arguments
 * @param ports exposed ports as {@code <number>/<tcp|udp>}, sorted
 * @param env environment variables, sorted by name
 * @param user the user (name or uid, optionally {@code :group})
 * @param workdir the absolute working directory
 */
public record ImageSettings(
        Optional<String> base,
        Optional<String> name,
        Optional<ArtifactKind> kind,
        List<String> entrypoint,
        List<String> args,
        List<String> ports,
        Map<String, String> env,
        Optional<String> user,
        Optional<String> workdir) {

    /** Keys known in the {@code image} section. */
    public static final Set<String> KEYS = Set.of("base", "name", "kind", "entrypoint", "args", "ports", "env",
            "user", "workdir");

    private static final Pattern REPOSITORY = Pattern
            .compile("[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*)*");
    private static final Pattern PORT = Pattern.compile("(\\d{1,5})(?:/(tcp|udp))?");
    private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    private static final Pattern USER = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]*(?::[A-Za-z0-9_][A-Za-z0-9_.-]*)?");
    private static final Pattern IMAGE_REFERENCE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:/@+-]*");

    public ImageSettings {
        entrypoint = List.copyOf(entrypoint);
        args = List.copyOf(args);
        ports = List.copyOf(ports);
        env = Map.copyOf(env);
    }

    /** No settings: everything from the platform defaults. */
    public static ImageSettings defaults() {
        return new ImageSettings(Optional.empty(), Optional.empty(), Optional.empty(), List.of(), List.of(), List.of(),
                Map.of(), Optional.empty(), Optional.empty());
    }

    /**
     * The settings of {@code app} in the text of {@code .conveyor.yaml}; {@link InvalidConfigException} names the
     * offending field.
     */
    public static ImageSettings parse(String text, String app) {
        // The shared reader enforces the size, alias, nesting and duplicate-key limits and names every bad field.
        ConveyorYaml yaml = ConveyorYaml.parse(text);
        ConveyorYaml.Section image = yaml.section("image");
        for (ConveyorYaml.Section entry : yaml.root().list("apps")) {
            if (entry.string("name").filter(app::equals).isPresent() && entry.section("image").isPresent()) {
                image = entry.section("image");
            }
        }
        return image.isPresent() ? read(image.allowOnly(KEYS)) : defaults();
    }

    private static ImageSettings read(ConveyorYaml.Section image) {
        String path = image.path();
        Optional<String> base = image.string("base");
        base.ifPresent(b -> require(IMAGE_REFERENCE.matcher(b).matches() && b.length() <= 512, path + ".base",
                "must be an image reference such as eclipse-temurin:17-jre"));
        Optional<String> name = image.string("name");
        name.ifPresent(n -> require(REPOSITORY.matcher(n).matches() && n.length() <= 255, path + ".name",
                "must be a repository name of lower-case letters, digits, '.', '_', '-' and '/'"));
        Optional<ArtifactKind> kind = image.string("kind").map(k -> ArtifactKind.parse(k)
                .orElseThrow(() -> new InvalidConfigException(path + ".kind",
                        path + ".kind must be 'jar' or 'directory' but was '" + k + "'")));
        List<String> entrypoint = command(image, "entrypoint");
        List<String> args = command(image, "args");
        List<String> ports = new ArrayList<>();
        for (String port : image.strings("ports")) {
            var matcher = PORT.matcher(port);
            int number = matcher.matches() ? Integer.parseInt(matcher.group(1)) : 0;
            require(number >= 1 && number <= 65535, path + ".ports", "entries must be port numbers such as 8080 or "
                    + "53/udp but one was '" + port + "'");
            ports.add(number + "/" + (matcher.group(2) == null ? "tcp" : matcher.group(2)));
        }
        Map<String, String> env = new TreeMap<>();
        image.stringMap("env").forEach((key, value) -> {
            require(ENV_NAME.matcher(key).matches(), path + ".env." + key, "is not a valid variable name");
            env.put(key, value);
        });
        Optional<String> user = image.string("user");
        user.ifPresent(u -> require(USER.matcher(u).matches(), path + ".user",
                "must be a user name or uid, optionally with ':group'"));
        Optional<String> workdir = image.string("workdir");
        workdir.ifPresent(w -> require(w.startsWith("/") && !List.of(w.split("/")).contains(".."),
                path + ".workdir", "must be an absolute path without '..'"));
        return new ImageSettings(base, name, kind, entrypoint, args, ports.stream().distinct().sorted().toList(), env,
                user, workdir);
    }

    private static List<String> command(ConveyorYaml.Section image, String key) {
        if (image.isScalar(key)) {
            // One string is split on whitespace, like a shell would without quotes.
            return List.of(image.string(key).orElseThrow().split("\\s+"));
        }
        return image.strings(key);
    }

    private static void require(boolean ok, String field, String problem) {
        if (!ok) {
            throw new InvalidConfigException(field, field + " " + problem);
        }
    }
}
