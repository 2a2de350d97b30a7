package dev.conveyor.manifests.schemagen;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Generates the bundled Kubernetes schemas ({@code dev/conveyor/manifests/schemas/kubernetes-<v>.json}) from the model
 * classes of {@code io.kubernetes:client-java-api}: every model's JSON fields ({@code openapiFields}), its required
 * fields ({@code openapiRequiredFields}) and each field's Java type, plus the group, version, kind and scope of every
 * top-level kind from the API classes' create requests. Enum values, which the client keeps only in Javadoc, come from
 * {@link #ENUMS}.
 *
 * <p>
 * It runs in the build ({@code process-test-classes}, manifest-renderer's {@code pom.xml}) for every client version the
 * pom lists, each loaded child-first from its own jar (copied by the dependency plugin), and writes into
 * {@code target/classes}, so the jar carries one schema per Kubernetes minor version and never needs the client or the
 * network at run time. Arguments: the output directory, then {@code <kubernetes minor>=<client jar>} pairs:
 *
 * <pre>
 * SchemaGenerator target/classes 1.30=client-java-api-22.0.0.jar 1.31=client-java-api-23.0.0.jar ...
 * </pre>
 */
public final class SchemaGenerator {

    static final String MODELS = "io.kubernetes.client.openapi.models.";

    /** Enum values the API documents but the generated client types as plain strings. */
    static final Map<String, String> ENUMS = new LinkedHashMap<>();

    static {
        String pullPolicy = "Always,IfNotPresent,Never";
        ENUMS.put("V1Container.imagePullPolicy", pullPolicy);
        ENUMS.put("V1EphemeralContainer.imagePullPolicy", pullPolicy);
        ENUMS.put("V1Container.terminationMessagePolicy", "File,FallbackToLogsOnError");
        ENUMS.put("V1PodSpec.restartPolicy", "Always,OnFailure,Never");
        ENUMS.put("V1PodSpec.dnsPolicy", "ClusterFirst,ClusterFirstWithHostNet,Default,None");
        ENUMS.put("V1PodSpec.preemptionPolicy", "PreemptLowerPriority,Never");
        String protocol = "TCP,UDP,SCTP";
        ENUMS.put("V1ContainerPort.protocol", protocol);
        ENUMS.put("V1ServicePort.protocol", protocol);
        ENUMS.put("V1NetworkPolicyPort.protocol", protocol);
        ENUMS.put("V1ServiceSpec.type", "ClusterIP,NodePort,LoadBalancer,ExternalName");
        ENUMS.put("V1ServiceSpec.sessionAffinity", "ClientIP,None");
        ENUMS.put("V1ServiceSpec.externalTrafficPolicy", "Cluster,Local");
        ENUMS.put("V1ServiceSpec.internalTrafficPolicy", "Cluster,Local");
        ENUMS.put("V1ServiceSpec.ipFamilyPolicy", "SingleStack,PreferDualStack,RequireDualStack");
        ENUMS.put("V1DeploymentStrategy.type", "Recreate,RollingUpdate");
        ENUMS.put("V1DaemonSetUpdateStrategy.type", "RollingUpdate,OnDelete");
        ENUMS.put("V1StatefulSetUpdateStrategy.type", "RollingUpdate,OnDelete");
        ENUMS.put("V1StatefulSetSpec.podManagementPolicy", "OrderedReady,Parallel");
        ENUMS.put("V1JobSpec.completionMode", "NonIndexed,Indexed");
        ENUMS.put("V1JobSpec.podReplacementPolicy", "TerminatingOrFailed,Failed");
        ENUMS.put("V1CronJobSpec.concurrencyPolicy", "Allow,Forbid,Replace");
        ENUMS.put("V1HTTPIngressPath.pathType", "Exact,Prefix,ImplementationSpecific");
        ENUMS.put("V1PersistentVolumeClaimSpec.accessModes",
                "ReadWriteOnce,ReadOnlyMany,ReadWriteMany,ReadWriteOncePod");
        ENUMS.put("V1PersistentVolumeClaimSpec.volumeMode", "Block,Filesystem");
        ENUMS.put("V1Toleration.operator", "Exists,Equal");
        ENUMS.put("V1Toleration.effect", "NoSchedule,PreferNoSchedule,NoExecute");
        ENUMS.put("V1Taint.effect", "NoSchedule,PreferNoSchedule,NoExecute");
        ENUMS.put("V1LabelSelectorRequirement.operator", "In,NotIn,Exists,DoesNotExist");
        ENUMS.put("V1NodeSelectorRequirement.operator", "In,NotIn,Exists,DoesNotExist,Gt,Lt");
        ENUMS.put("V1NetworkPolicySpec.policyTypes", "Ingress,Egress");
        ENUMS.put("V1HTTPGetAction.scheme", "HTTP,HTTPS");
        ENUMS.put("V1TopologySpreadConstraint.whenUnsatisfiable", "DoNotSchedule,ScheduleAnyway");
    }

    private SchemaGenerator() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            throw new IllegalArgumentException("usage: SchemaGenerator <output dir> <minor>=<client jar>...");
        }
        for (int i = 1; i < args.length; i++) {
            String[] pair = args[i].split("=", 2);
            Path jar = Path.of(pair[1]);
            String client = jar.getFileName().toString().replaceFirst("^client-java-api-(.*)\\.jar$", "$1");
            try (ChildFirst loader = new ChildFirst(jar, SchemaGenerator.class.getClassLoader())) {
                generate(pair[0], "io.kubernetes:client-java-api:" + client, jar, loader, Path.of(args[0]));
            }
        }
    }

    /** Loads the client's classes from its own jar first, everything else (gson, okhttp) from the parent. */
    static final class ChildFirst extends java.net.URLClassLoader {
        ChildFirst(Path jar, ClassLoader parent) throws java.net.MalformedURLException {
            super(new java.net.URL[]{jar.toUri().toURL()}, parent);
        }

        @Override
        protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
            if (!name.startsWith("io.kubernetes.client.")) {
                return super.loadClass(name, resolve);
            }
            synchronized (getClassLoadingLock(name)) {
                Class<?> c = findLoadedClass(name);
                if (c == null) {
                    try {
                        c = findClass(name);
                    } catch (ClassNotFoundException e) {
                        c = super.loadClass(name, false);
                    }
                }
                return c;
            }
        }
    }

    static void generate(String kubernetesVersion, String source, Path clientJar, ClassLoader loader, Path outDir)
            throws Exception {
        Path out = outDir.resolve("dev/conveyor/manifests/schemas/kubernetes-" + kubernetesVersion + ".json");
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS);
        Map<String, Map<String, Object>> kinds = new TreeMap<>();
        Deque<Class<?>> queue = new ArrayDeque<>();
        for (Class<?> api : apiClasses(clientJar, loader)) {
            Matcher m = Pattern.compile("^(.*?)(V\\d+(?:(?:alpha|beta)\\d+)?)Api$").matcher(api.getSimpleName());
            if (!m.matches()) {
                continue;
            }
            String group = group(m.group(1));
            String version = m.group(2).toLowerCase();
            for (Class<?> request : api.getDeclaredClasses()) {
                Matcher r = Pattern.compile("^APIcreate(Namespaced)?(\\w+)Request$").matcher(request.getSimpleName());
                if (!r.matches()) {
                    continue;
                }
                Method execute = request.getMethod("execute");
                Class<?> model = execute.getReturnType();
                String kind = model.getSimpleName().replaceFirst("^V\\d+(?:(?:alpha|beta)\\d+)?", "");
                if (!kind.equals(r.group(2)) || !model.getName().startsWith(MODELS)) {
                    continue; // subresources such as PodEviction, ServiceAccountToken
                }
                String apiVersion = group.isEmpty() ? version : group + "/" + version;
                Map<String, Object> entry = new LinkedHashMap<>();
                entry.put("type", model.getSimpleName());
                entry.put("namespaced", r.group(1) != null);
                kinds.put(apiVersion + "/" + kind, entry);
                queue.add(model);
            }
        }
        Map<String, Object> types = new TreeMap<>();
        Set<String> done = new TreeSet<>();
        while (!queue.isEmpty()) {
            Class<?> model = queue.poll();
            if (!done.add(model.getSimpleName())) {
                continue;
            }
            types.put(model.getSimpleName(), describe(model, queue));
        }
        ObjectNode root = json.createObjectNode();
        root.put("kubernetesVersion", kubernetesVersion);
        root.put("source", source);
        root.set("kinds", json.valueToTree(kinds));
        root.set("types", json.valueToTree(types));
        Files.createDirectories(out.getParent());
        Files.writeString(out, json.writeValueAsString(root) + "\n");
        System.out.printf("%d kinds, %d types -> %s%n", kinds.size(), types.size(), out);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> describe(Class<?> model, Deque<Class<?>> queue) throws Exception {
        Set<String> fields = (Set<String>) staticField(model, "openapiFields");
        Set<String> required = (Set<String>) staticField(model, "openapiRequiredFields");
        Map<String, Field> byJsonName = new LinkedHashMap<>();
        for (Field f : model.getDeclaredFields()) {
            if (Modifier.isStatic(f.getModifiers())) {
                continue;
            }
            com.google.gson.annotations.SerializedName sn = f.getAnnotation(
                    com.google.gson.annotations.SerializedName.class);
            byJsonName.put(sn != null ? sn.value() : f.getName(), f);
        }
        Map<String, String> properties = new TreeMap<>();
        for (String name : fields) {
            Field f = byJsonName.get(name);
            if (f == null) {
                throw new IllegalStateException(model.getSimpleName() + "." + name + " has no Java field");
            }
            String enumValues = ENUMS.get(model.getSimpleName() + "." + name);
            properties.put(name, spec(f.getGenericType(), enumValues, queue));
        }
        Map<String, Object> type = new LinkedHashMap<>();
        type.put("properties", properties);
        if (!required.isEmpty()) {
            type.put("required", new TreeSet<>(required));
        }
        return type;
    }

    private static String spec(Type type, String enumValues, Deque<Class<?>> queue) {
        if (type instanceof ParameterizedType p) {
            Class<?> raw = (Class<?>) p.getRawType();
            if (List.class.isAssignableFrom(raw) || Set.class.isAssignableFrom(raw)) {
                return "[]" + spec(p.getActualTypeArguments()[0], enumValues, queue);
            }
            if (Map.class.isAssignableFrom(raw)) {
                return "{}" + spec(p.getActualTypeArguments()[1], enumValues, queue);
            }
            throw new IllegalStateException("unexpected generic " + type);
        }
        Class<?> c = (Class<?>) type;
        if (c == String.class) {
            return enumValues != null ? "enum:" + enumValues : "string";
        }
        if (c == Integer.class || c == Long.class || c == int.class || c == long.class) {
            return "integer";
        }
        if (c == Double.class || c == Float.class || c == java.math.BigDecimal.class) {
            return "number";
        }
        if (c == Boolean.class || c == boolean.class) {
            return "boolean";
        }
        if (c == byte[].class) {
            return "byte";
        }
        if (c == java.time.OffsetDateTime.class) {
            return "date-time";
        }
        if (c == Object.class) {
            return "any";
        }
        String name = c.getName();
        if (name.equals("io.kubernetes.client.custom.IntOrString")) {
            return "int-or-string";
        }
        if (name.equals("io.kubernetes.client.custom.Quantity")) {
            return "quantity";
        }
        if (name.startsWith("io.kubernetes.client.custom.")) {
            return "any";
        }
        if (name.startsWith(MODELS)) {
            queue.add(c);
            return "#" + c.getSimpleName();
        }
        throw new IllegalStateException("unexpected type " + name);
    }

    private static Object staticField(Class<?> c, String name) throws Exception {
        Field f = c.getDeclaredField(name);
        f.setAccessible(true);
        return f.get(null);
    }

    private static String group(String prefix) {
        switch (prefix) {
            case "Core" :
                return "";
            case "Apps" :
            case "Batch" :
            case "Autoscaling" :
            case "Policy" :
                return prefix.toLowerCase();
            default :
                return String.join(".", prefix.split("(?=[A-Z])")).toLowerCase() + ".k8s.io";
        }
    }

    private static List<Class<?>> apiClasses(Path jar, ClassLoader loader) throws Exception {
        List<Class<?>> classes = new java.util.ArrayList<>();
        try (JarFile file = new JarFile(jar.toFile())) {
            for (String entry : file.stream().map(e -> e.getName()).sorted().toList()) {
                if (entry.startsWith("io/kubernetes/client/openapi/apis/") && entry.endsWith("Api.class")) {
                    classes.add(Class.forName(entry.replace('/', '.').replace(".class", ""), true, loader));
                }
            }
        }
        return classes;
    }
}
