package dev.conveyor.imagebuilder.domain;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

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
        // The shared reader enforces the size, alias and nesting limits and names structural errors.
        ConveyorYaml checked = ConveyorYaml.parse(text);
        checked.section("image").allowOnly(KEYS);
        if (text.isBlank()) {
            return defaults();
        }
        Map<?, ?> root = load(text);
        if (root == null) {
            return defaults();
        }
        Object section = root.get("image");
        String path = "image";
        Object apps = root.get("apps");
        if (apps instanceof List<?> entries) {
            for (int i = 0; i < entries.size(); i++) {
                if (entries.get(i) instanceof Map<?, ?> entry && app.equals(String.valueOf(entry.get("name")))
                        && entry.get("image") != null) {
                    section = entry.get("image");
                    path = "apps[" + i + "].image";
                }
            }
        }
        if (section == null) {
            return defaults();
        }
        if (!(section instanceof Map<?, ?> image)) {
            throw new InvalidConfigException(path, path + " must be a mapping");
        }
        return read(image, path);
    }

    private static Map<?, ?> load(String text) {
        LoaderOptions options = new LoaderOptions();
        options.setMaxAliasesForCollections(20);
        options.setAllowDuplicateKeys(false);
        options.setCodePointLimit(ConveyorYaml.MAX_BYTES);
        options.setNestingDepthLimit(32);
        Object document = new Yaml(new SafeConstructor(options)).load(text);
        return document instanceof Map<?, ?> map ? map : null;
    }

    private static ImageSettings read(Map<?, ?> image, String path) {
        for (Object key : image.keySet()) {
            if (!KEYS.contains(String.valueOf(key))) {
                throw new InvalidConfigException(path + "." + key, "unknown field " + path + "." + key + " in "
                        + ConveyorYaml.FILE_NAME + " (known: " + String.join(", ", KEYS.stream().sorted().toList())
                        + ")");
            }
        }
        Optional<String> base = scalar(image, "base", path);
        base.ifPresent(b -> require(IMAGE_REFERENCE.matcher(b).matches() && b.length() <= 512, path + ".base",
                "must be an image reference such as eclipse-temurin:17-jre"));
        Optional<String> name = scalar(image, "name", path);
        name.ifPresent(n -> require(REPOSITORY.matcher(n).matches() && n.length() <= 255, path + ".name",
                "must be a repository name of lower-case letters, digits, '.', '_', '-' and '/'"));
        Optional<ArtifactKind> kind = scalar(image, "kind", path).map(k -> ArtifactKind.parse(k)
                .orElseThrow(() -> new InvalidConfigException(path + ".kind",
                        path + ".kind must be 'jar' or 'directory' but was '" + k + "'")));
        List<String> entrypoint = command(image, "entrypoint", path);
        List<String> args = command(image, "args", path);
        List<String> ports = new ArrayList<>();
        for (String port : list(image, "ports", path)) {
            var matcher = PORT.matcher(port);
            int number = matcher.matches() ? Integer.parseInt(matcher.group(1)) : 0;
            require(number >= 1 && number <= 65535, path + ".ports", "entries must be port numbers such as 8080 or "
                    + "53/udp but one was '" + port + "'");
            ports.add(number + "/" + (matcher.group(2) == null ? "tcp" : matcher.group(2)));
        }
        Map<String, String> env = new TreeMap<>();
        Object rawEnv = image.get("env");
        if (rawEnv != null) {
            if (!(rawEnv instanceof Map<?, ?> vars)) {
                throw new InvalidConfigException(path + ".env", path + ".env must be a mapping of names to values");
            }
            for (Map.Entry<?, ?> var : vars.entrySet()) {
                String key = String.valueOf(var.getKey());
                require(ENV_NAME.matcher(key).matches(), path + ".env." + key, "is not a valid variable name");
                require(var.getValue() == null || !(var.getValue() instanceof Map || var.getValue() instanceof List),
                        path + ".env." + key, "must be a string");
                env.put(key, var.getValue() == null ? "" : String.valueOf(var.getValue()));
            }
        }
        Optional<String> user = scalar(image, "user", path);
        user.ifPresent(u -> require(USER.matcher(u).matches(), path + ".user",
                "must be a user name or uid, optionally with ':group'"));
        Optional<String> workdir = scalar(image, "workdir", path);
        workdir.ifPresent(w -> require(w.startsWith("/") && !List.of(w.split("/")).contains(".."),
                path + ".workdir", "must be an absolute path without '..'"));
        return new ImageSettings(base, name, kind, entrypoint, args, ports.stream().distinct().sorted().toList(), env,
                user, workdir);
    }

    private static Optional<String> scalar(Map<?, ?> image, String key, String path) {
        Object value = image.get(key);
        if (value == null) {
            return Optional.empty();
        }
        if (value instanceof Map || value instanceof List) {
            throw new InvalidConfigException(path + "." + key, path + "." + key + " must be a string");
        }
        String text = String.valueOf(value).trim();
        if (text.isEmpty()) {
            throw new InvalidConfigException(path + "." + key, path + "." + key + " must not be empty");
        }
        return Optional.of(text);
    }

    private static List<String> list(Map<?, ?> image, String key, String path) {
        Object value = image.get(key);
        if (value == null) {
            return List.of();
        }
        if (!(value instanceof List<?> items)) {
            throw new InvalidConfigException(path + "." + key, path + "." + key + " must be a list");
        }
        List<String> result = new ArrayList<>();
        for (int i = 0; i < items.size(); i++) {
            Object item = items.get(i);
            if (item == null || item instanceof Map || item instanceof List) {
                throw new InvalidConfigException(path + "." + key + "[" + i + "]",
                        path + "." + key + "[" + i + "] must be a string");
            }
            result.add(String.valueOf(item));
        }
        return result;
    }

    private static List<String> command(Map<?, ?> image, String key, String path) {
        Object value = image.get(key);
        if (value instanceof String line) {
            // One string is split on whitespace, like a shell would without quotes.
            return List.of(line.trim().split("\\s+"));
        }
        return list(image, key, path);
    }

    private static void require(boolean ok, String field, String problem) {
        if (!ok) {
            throw new InvalidConfigException(field, field + " " + problem);
        }
    }
}
