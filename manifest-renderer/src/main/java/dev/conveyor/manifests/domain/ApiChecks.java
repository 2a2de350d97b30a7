package dev.conveyor.manifests.domain;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Checks the API server makes that OpenAPI schemas do not carry: names that are not DNS-1123, label keys and values it
 * would refuse, containers without an image, duplicate container names and ports, and workload selectors that do not
 * select their own pod template. Messages and paths follow the API server's wording.
 */
final class ApiChecks {

    private static final Pattern DNS1123_LABEL = Pattern.compile("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$");
    private static final Pattern DNS1123_SUBDOMAIN = Pattern.compile(
            "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$");
    private static final Pattern DNS1035_LABEL = Pattern.compile("^[a-z]([-a-z0-9]*[a-z0-9])?$");
    private static final Pattern LABEL_NAME = Pattern.compile("^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$");
    private static final Pattern LABEL_VALUE = Pattern.compile("^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$");
    private static final Pattern PORT_NAME = Pattern.compile("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$");

    /** Kinds whose name must be a DNS-1123 label (63 characters, no dots), others a subdomain. */
    private static final Set<String> LABEL_NAMED = Set.of("Namespace");
    /** Kinds whose name must be a DNS-1035 label (starts with a letter). */
    private static final Set<String> DNS1035_NAMED = Set.of("Service");
    /** Kinds with a pod template at {@code spec.template} and a required, matching selector. */
    private static final Set<String> SELECTING_WORKLOADS = Set.of("Deployment", "StatefulSet", "DaemonSet",
            "ReplicaSet");

    private ApiChecks() {
    }

    static void check(RenderedObject object, List<Problem> errors) {
        JsonNode body = object.body();
        JsonNode metadata = body.path("metadata");
        name(object, metadata, errors);
        labels(object, metadata.path("labels"), "metadata.labels", errors);
        String kind = object.kind();
        String group = object.group();
        boolean core = group.isEmpty();
        if (core && kind.equals("Pod")) {
            podSpec(object, body.path("spec"), "spec", errors);
        } else if ((group.equals("apps") && SELECTING_WORKLOADS.contains(kind)) || (core && kind.equals(
                "ReplicationController"))) {
            workload(object, body.path("spec"), errors);
        } else if (group.equals("batch") && kind.equals("Job")) {
            template(object, body.path("spec").path("template"), "spec.template", errors);
        } else if (group.equals("batch") && kind.equals("CronJob")) {
            template(object, body.path("spec").path("jobTemplate").path("spec").path("template"),
                    "spec.jobTemplate.spec.template", errors);
        } else if (core && kind.equals("PodTemplate")) {
            template(object, body.path("template"), "template", errors);
        } else if (core && kind.equals("Service")) {
            servicePorts(object, body.path("spec"), errors);
        }
    }

    private static void name(RenderedObject object, JsonNode metadata, List<Problem> errors) {
        String name = object.name();
        if (name.isEmpty()) {
            if (!metadata.path("generateName").isTextual()) {
                errors.add(object.problem("metadata.name", "name or generateName is required"));
            }
        } else if (DNS1035_NAMED.contains(object.kind()) && object.group().isEmpty()) {
            if (name.length() > 63 || !DNS1035_LABEL.matcher(name).matches()) {
                errors.add(object.problem("metadata.name", "invalid name \"" + name
                        + "\": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, end with an alphanumeric character and be at most 63 characters"));
            }
        } else if (LABEL_NAMED.contains(object.kind()) && object.group().isEmpty()) {
            if (name.length() > 63 || !DNS1123_LABEL.matcher(name).matches()) {
                errors.add(object.problem("metadata.name", "invalid name \"" + name
                        + "\": a DNS-1123 label must consist of lower case alphanumeric characters or '-', start and end with an alphanumeric character and be at most 63 characters"));
            }
        } else if (!isRbac(object) && (name.length() > 253 || !DNS1123_SUBDOMAIN.matcher(name).matches())) {
            errors.add(object.problem("metadata.name", "invalid name \"" + name
                    + "\": a DNS-1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', start and end with an alphanumeric character and be at most 253 characters"));
        }
        String namespace = object.namespace();
        if (!namespace.isEmpty() && (namespace.length() > 63 || !DNS1123_LABEL.matcher(namespace).matches())) {
            errors.add(object.problem("metadata.namespace", "invalid namespace \"" + namespace
                    + "\": must be a DNS-1123 label"));
        }
    }

    /** RBAC names are path segments, not DNS names: {@code system:controller:x} is valid. */
    private static boolean isRbac(RenderedObject object) {
        return object.group().equals("rbac.authorization.k8s.io") && !object.name().contains("/")
                && !object.name().equals(".") && !object.name().equals("..");
    }

    private static void labels(RenderedObject object, JsonNode labels, String path, List<Problem> errors) {
        if (!labels.isObject()) {
            return;
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = labels.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> label = it.next();
            String key = label.getKey();
            String name = key.contains("/") ? key.substring(key.indexOf('/') + 1) : key;
            String prefix = key.contains("/") ? key.substring(0, key.indexOf('/')) : "";
            if (name.length() > 63 || !LABEL_NAME.matcher(name).matches() || (key.contains("/") && (prefix
                    .length() > 253 || !DNS1123_SUBDOMAIN.matcher(prefix).matches()))) {
                errors.add(object.problem(path, "invalid label key \"" + key + "\""));
            }
            JsonNode value = label.getValue();
            if (value.isTextual() && (value.asText().length() > 63 || !LABEL_VALUE.matcher(value.asText())
                    .matches())) {
                errors.add(object.problem(Validator.child(path, key), "invalid label value \"" + value.asText()
                        + "\": at most 63 characters, alphanumeric, '-', '_' or '.', starting and ending with an alphanumeric character"));
            }
        }
    }

    private static void workload(RenderedObject object, JsonNode spec, List<Problem> errors) {
        JsonNode template = spec.path("template");
        template(object, template, "spec.template", errors);
        JsonNode selector = spec.path("selector");
        JsonNode templateLabels = template.path("metadata").path("labels");
        if (object.kind().equals("ReplicationController")) {
            // A plain map selector, defaulted from the template when absent.
            if (selector.isObject() && selector.size() > 0 && !matchLabels(selector, templateLabels)) {
                errors.add(object.problem("spec.template.metadata.labels",
                        "`selector` does not match template `labels`"));
            }
            return;
        }
        if (!selector.isObject() || !template.isObject()) {
            return; // the schema reports a missing selector or template
        }
        JsonNode matchLabels = selector.path("matchLabels");
        JsonNode expressions = selector.path("matchExpressions");
        if ((!matchLabels.isObject() || matchLabels.size() == 0) && (!expressions.isArray() || expressions
                .size() == 0)) {
            errors.add(object.problem("spec.selector", "empty selector is invalid for " + object.kind()));
            return;
        }
        labels(object, matchLabels, "spec.selector.matchLabels", errors);
        if (!matchLabels(matchLabels, templateLabels) || !matchExpressions(expressions, templateLabels)) {
            errors.add(object.problem("spec.template.metadata.labels",
                    "`selector` does not match template `labels`"));
        }
    }

    private static boolean matchLabels(JsonNode matchLabels, JsonNode labels) {
        if (!matchLabels.isObject()) {
            return true;
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = matchLabels.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> wanted = it.next();
            JsonNode actual = labels.path(wanted.getKey());
            if (!actual.isValueNode() || !actual.asText().equals(wanted.getValue().asText())) {
                return false;
            }
        }
        return true;
    }

    private static boolean matchExpressions(JsonNode expressions, JsonNode labels) {
        if (!expressions.isArray()) {
            return true;
        }
        for (JsonNode expression : expressions) {
            String key = expression.path("key").asText();
            Set<String> values = new HashSet<>();
            expression.path("values").forEach(v -> values.add(v.asText()));
            JsonNode actual = labels.path(key);
            boolean present = actual.isValueNode();
            boolean ok = switch (expression.path("operator").asText()) {
                case "In" -> present && values.contains(actual.asText());
                case "NotIn" -> !present || !values.contains(actual.asText());
                case "Exists" -> present;
                case "DoesNotExist" -> !present;
                default -> true; // the schema's enum reports an invalid operator
            };
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    private static void template(RenderedObject object, JsonNode template, String path, List<Problem> errors) {
        labels(object, template.path("metadata").path("labels"), path + ".metadata.labels", errors);
        podSpec(object, template.path("spec"), path + ".spec", errors);
    }

    private static void podSpec(RenderedObject object, JsonNode spec, String path, List<Problem> errors) {
        if (!spec.isObject()) {
            return;
        }
        JsonNode containers = spec.path("containers");
        if (containers.isArray() && containers.isEmpty()) {
            errors.add(object.problem(path + ".containers", "at least one container is required"));
        }
        Set<String> names = new HashSet<>();
        containers(object, spec.path("initContainers"), path + ".initContainers", names, errors);
        containers(object, containers, path + ".containers", names, errors);
    }

    private static void containers(RenderedObject object, JsonNode containers, String path, Set<String> names,
            List<Problem> errors) {
        if (!containers.isArray()) {
            return;
        }
        for (int i = 0; i < containers.size(); i++) {
            JsonNode container = containers.get(i);
            String at = path + "[" + i + "]";
            if (!container.isObject()) {
                continue;
            }
            JsonNode image = container.path("image");
            if (!image.isTextual() || image.asText().isBlank()) {
                errors.add(object.problem(at + ".image", "image is required"));
            }
            JsonNode name = container.path("name");
            if (name.isTextual()) {
                if (!names.add(name.asText())) {
                    errors.add(object.problem(at + ".name", "duplicate container name \"" + name.asText() + "\""));
                }
                if (name.asText().length() > 63 || !DNS1123_LABEL.matcher(name.asText()).matches()) {
                    errors.add(object.problem(at + ".name", "invalid container name \"" + name.asText()
                            + "\": must be a DNS-1123 label"));
                }
            }
            ports(object, container.path("ports"), at + ".ports", errors);
        }
    }

    private static void ports(RenderedObject object, JsonNode ports, String path, List<Problem> errors) {
        if (!ports.isArray()) {
            return;
        }
        Map<String, Integer> seen = new HashMap<>();
        Set<String> portNames = new HashSet<>();
        for (int i = 0; i < ports.size(); i++) {
            JsonNode port = ports.get(i);
            String at = path + "[" + i + "]";
            JsonNode number = port.path("containerPort");
            if (number.isIntegralNumber()) {
                if (number.asLong() < 1 || number.asLong() > 65535) {
                    errors.add(object.problem(at + ".containerPort", "must be between 1 and 65535, inclusive"));
                }
                String key = number.asLong() + "/" + port.path("protocol").asText("TCP");
                if (seen.putIfAbsent(key, i) != null) {
                    errors.add(object.problem(at + ".containerPort", "duplicate port " + key));
                }
            }
            JsonNode name = port.path("name");
            if (name.isTextual()) {
                portName(object, name.asText(), at + ".name", errors);
                if (!portNames.add(name.asText())) {
                    errors.add(object.problem(at + ".name", "duplicate port name \"" + name.asText() + "\""));
                }
            }
        }
    }

    private static void portName(RenderedObject object, String name, String path, List<Problem> errors) {
        if (name.length() > 15 || !PORT_NAME.matcher(name).matches() || name.contains("--") || name.chars()
                .noneMatch(Character::isLetter)) {
            errors.add(object.problem(path, "invalid port name \"" + name
                    + "\": an IANA service name is at most 15 lower-case alphanumeric characters or '-', with at least one letter"));
        }
    }

    private static void servicePorts(RenderedObject object, JsonNode spec, List<Problem> errors) {
        JsonNode ports = spec.path("ports");
        if (!ports.isArray()) {
            return;
        }
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < ports.size(); i++) {
            JsonNode port = ports.get(i);
            String at = "spec.ports[" + i + "]";
            JsonNode number = port.path("port");
            if (number.isIntegralNumber()) {
                if (number.asLong() < 1 || number.asLong() > 65535) {
                    errors.add(object.problem(at + ".port", "must be between 1 and 65535, inclusive"));
                }
                String key = number.asLong() + "/" + port.path("protocol").asText("TCP");
                if (!seen.add(key)) {
                    errors.add(object.problem(at, "duplicate port " + key));
                }
            }
            if (ports.size() > 1 && !port.path("name").isTextual()) {
                errors.add(object.problem(at + ".name", "name is required when a Service has several ports"));
            }
        }
    }
}
