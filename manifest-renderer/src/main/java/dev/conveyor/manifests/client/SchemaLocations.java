package dev.conveyor.manifests.client;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.conveyor.manifests.domain.schema.SchemaRegistry;

/**
 * A kubeconform-compatible schema location on the local file system: a templated path such as
 * {@code /schemas/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json}. Supported variables:
 * {@code .Group}, {@code .ResourceKind} (lower-case kind), {@code .ResourceAPIVersion}, {@code .KindSuffix},
 * {@code .NormalizedKubernetesVersion}, {@code .StrictSuffix}. Remote (http) locations are refused: validation is
 * offline.
 */
public final class SchemaLocations implements SchemaRegistry.SchemaLookup {

    private static final Pattern VARIABLE = Pattern.compile("\\{\\{\\s*\\.(\\w+)\\s*}}");
    private static final ObjectMapper JSON = new ObjectMapper();
    /** What kubeconform appends to a location that is a plain directory. */
    public static final String DIRECTORY_LAYOUT = "{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json";
    private static final long MAX_SCHEMA_BYTES = 8L * 1024 * 1024;

    private final String template;
    private final String kubernetesVersion;
    private final boolean strict;

    public SchemaLocations(String template, String kubernetesVersion, boolean strict) {
        if (template.matches("(?i)^[a-z]+://.*") && !template.startsWith("file://")) {
            throw new IllegalArgumentException("schema location " + template
                    + " is not a local path; validation runs offline");
        }
        String local = template.startsWith("file://") ? template.substring("file://".length()) : template;
        // As in kubeconform, a location without variables that names no .json file is a base directory laid out like
        // kubernetes-json-schema.
        if (!local.contains("{{") && !local.endsWith(".json")) {
            local = local.replaceFirst("/+$", "") + "/" + DIRECTORY_LAYOUT;
        }
        this.template = local;
        this.kubernetesVersion = kubernetesVersion;
        this.strict = strict;
    }

    /** The path the template gives for a kind. */
    public Path path(String group, String version, String kind) {
        Matcher m = VARIABLE.matcher(template);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String value = switch (m.group(1)) {
                case "Group" -> group.toLowerCase(Locale.ROOT);
                case "ResourceKind" -> kind.toLowerCase(Locale.ROOT);
                case "ResourceAPIVersion" -> version;
                case "KindSuffix" -> group.isEmpty()
                        ? "-" + version
                        : "-" + group.split("\\.")[0].toLowerCase(Locale.ROOT) + "-" + version;
                case "NormalizedKubernetesVersion" -> "v" + kubernetesVersion.replaceFirst("^v", "")
                        + (kubernetesVersion.chars().filter(c -> c == '.').count() == 1 ? ".0" : "");
                case "StrictSuffix" -> strict ? "-strict" : "";
                default -> throw new IllegalArgumentException("schema location " + template
                        + " uses an unknown variable ." + m.group(1));
            };
            m.appendReplacement(out, Matcher.quoteReplacement(value));
        }
        m.appendTail(out);
        return Path.of(out.toString());
    }

    @Override
    public Optional<JsonNode> find(String group, String version, String kind) {
        Path path = path(group, version, kind);
        if (!Files.isRegularFile(path)) {
            return Optional.empty();
        }
        try {
            if (Files.size(path) > MAX_SCHEMA_BYTES) {
                throw new IllegalArgumentException("schema " + path + " is larger than " + MAX_SCHEMA_BYTES
                        + " bytes");
            }
            return Optional.of(JSON.readTree(path.toFile()));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read schema " + path, e);
        }
    }
}
