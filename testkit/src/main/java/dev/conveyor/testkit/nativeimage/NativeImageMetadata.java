package dev.conveyor.testkit.nativeimage;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.annotation.Annotation;
import java.lang.reflect.GenericArrayType;
import java.lang.reflect.Method;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.lang.reflect.WildcardType;
import java.net.JarURLConnection;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Enumeration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * A service's native-image metadata, read from its compiled classes directory and checked against the class path it
 * runs with, so that a native build does not learn of a typo or a forgotten registration only at run time. Each
 * service's {@code NativeImageMetadataTest} runs {@link #problems()}; nothing here runs in production.
 *
 * <p>
 * Read: {@code META-INF/native-image/**}{@code /reflect-config.json}, {@code jni-config.json}, {@code proxy-config.json},
 * {@code resource-config.json} and {@code native-image.properties} (its {@code --initialize-at-run-time=} list), the
 * {@code @RegisterForReflection} annotations of the module's classes ({@code targets}, {@code classNames}, or the
 * class itself), and {@code application.properties}' {@code quarkus.native.resources.includes} globs.
 *
 * <p>
 * Checked: every class named anywhere exists on the class path, and so does every field, method and constructor a
 * reflection or JNI entry names; every resource glob matches at least one resource and every resource bundle exists;
 * every class the module binds with Jackson is registered for reflection. A class of the module "binds with Jackson"
 * when its bytecode calls a binding method of {@code ObjectMapper}, {@code ObjectReader} or {@code ObjectWriter}
 * ({@code readValue}, {@code convertValue}, {@code treeToValue}, {@code writeValue*}, {@code valueToTree},
 * {@code readerFor}, {@code writerFor}); the types it binds are the module's records and Jackson-annotated classes its
 * constant pool names other than only as the owner of a method or field it calls (class literals, constructor calls,
 * casts), and their record components of the module, transitively. Types reached through a generic
 * parameter ({@code Object body}) are not seen: keep such bodies as maps or JSON trees.
 */
public final class NativeImageMetadata {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String REGISTER = "io.quarkus.runtime.annotations.RegisterForReflection";
    private static final Set<String> JACKSON_OWNERS = Set.of("com/fasterxml/jackson/databind/ObjectMapper",
            "com/fasterxml/jackson/databind/ObjectReader", "com/fasterxml/jackson/databind/ObjectWriter",
            "com/fasterxml/jackson/databind/json/JsonMapper");
    private static final Set<String> JACKSON_BINDING = Set.of("readValue", "readValues", "convertValue",
            "treeToValue", "writeValue", "writeValueAsString", "writeValueAsBytes", "valueToTree", "readerFor",
            "writerFor", "updateValue");

    private final Path classesDir;
    private final ClassLoader loader;
    private final List<String> problems = new ArrayList<>();
    private final Set<String> reflection = new TreeSet<>();
    private final Set<String> jni = new TreeSet<>();
    private final Set<String> proxies = new TreeSet<>();
    private final Set<String> runTimeInitialized = new TreeSet<>();
    private final List<String> resourceIncludes = new ArrayList<>();
    private final Set<String> bundles = new TreeSet<>();
    private final Set<String> jacksonBound = new TreeSet<>();

    private NativeImageMetadata(Path classesDir, ClassLoader loader) {
        this.classesDir = classesDir;
        this.loader = loader;
    }

    /** Reads the metadata under {@code classesDir} (e.g. {@code target/classes}), checked against {@code loader}. */
    public static NativeImageMetadata read(Path classesDir, ClassLoader loader) {
        NativeImageMetadata metadata = new NativeImageMetadata(classesDir, loader);
        try {
            metadata.load();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return metadata;
    }

    /** Everything wrong, one line each; empty when the metadata holds. */
    public List<String> problems() {
        return List.copyOf(problems);
    }

    /** Classes registered for reflection by this module ({@code reflect-config.json} and annotations). */
    public Set<String> reflection() {
        return Set.copyOf(reflection);
    }

    /** Classes registered for JNI. */
    public Set<String> jni() {
        return Set.copyOf(jni);
    }

    /** Interfaces of registered dynamic proxies. */
    public Set<String> proxies() {
        return Set.copyOf(proxies);
    }

    /** Classes and packages initialized at run time ({@code native-image.properties}). */
    public Set<String> runTimeInitialized() {
        return Set.copyOf(runTimeInitialized);
    }

    /** {@code quarkus.native.resources.includes} globs. */
    public List<String> resourceIncludes() {
        return List.copyOf(resourceIncludes);
    }

    /** Resource bundles ({@code resource-config.json}). */
    public Set<String> bundles() {
        return Set.copyOf(bundles);
    }

    /** The classes this module binds with Jackson, as found in its bytecode. */
    public Set<String> jacksonBound() {
        return Set.copyOf(jacksonBound);
    }

    /** Every class on the class path in {@code packageName} and its subpackages, e.g. to assert all are registered. */
    public Set<String> classNamesIn(String packageName) {
        Set<String> names = new TreeSet<>();
        for (String resource : list(packageName.replace('.', '/') + "/")) {
            if (resource.endsWith(".class") && !resource.endsWith("module-info.class")) {
                names.add(resource.substring(0, resource.length() - ".class".length()).replace('/', '.'));
            }
        }
        return names;
    }

    /**
     * What a module that runs helm-java (Helm's Go library through JNA) has not registered, one line each: every
     * {@code com.sun.jna.Structure} and {@code Library} interface of helm-java on the class path, the native library
     * class, JNA's JNI entry points, run-time initialization and both shared libraries. Empty when all is there.
     */
    public List<String> missingHelmJavaRegistrations() {
        List<String> missing = new ArrayList<>();
        Class<?> structure = type("com.sun.jna.Structure").orElse(null);
        Class<?> library = type("com.sun.jna.Library").orElse(null);
        if (structure == null || library == null) {
            return List.of("JNA is not on the class path");
        }
        Set<String> structures = new TreeSet<>();
        Set<String> libraries = new TreeSet<>();
        for (String name : classNamesIn("com.marcnuri.helm.jni")) {
            type(name).ifPresent(t -> {
                if (structure.isAssignableFrom(t)) {
                    structures.add(name);
                } else if (t.isInterface() && library.isAssignableFrom(t)) {
                    libraries.add(name);
                }
            });
        }
        if (structures.size() < 15 || !structures.contains("com.marcnuri.helm.jni.Result")) {
            missing.add("helm-java's structures were not found on the class path (found " + structures + ")");
        }
        structures.add("com.marcnuri.helm.jni.linux.amd64.LinuxAmd64NativeLibrary");
        structures.stream().filter(n -> !reflection.contains(n)).forEach(n -> missing.add("reflection: " + n));
        libraries.add("com.marcnuri.helm.jni.HelmLib");
        libraries.stream().filter(n -> !proxies.contains(n)).forEach(n -> missing.add("proxy: " + n));
        List.of("com.sun.jna.Native", "com.sun.jna.Structure", "com.sun.jna.Pointer", "com.sun.jna.CallbackReference")
                .stream().filter(n -> !jni.contains(n)).forEach(n -> missing.add("jni: " + n));
        List.of("com.sun.jna", "com.marcnuri.helm").stream().filter(n -> !runTimeInitialized.contains(n)).forEach(
                n -> missing.add("run-time initialization: " + n));
        List.of("helm-linux-amd64.so", "com/sun/jna/linux-x86-64/libjnidispatch.so").stream().filter(
                n -> !resourceIncludes.contains(n)).forEach(n -> missing.add("resource: " + n));
        return missing;
    }

    /** The class of that name, not initialized, or empty when it cannot be loaded. */
    public java.util.Optional<Class<?>> type(String name) {
        try {
            return java.util.Optional.of(Class.forName(name, false, loader));
        } catch (ClassNotFoundException | LinkageError e) {
            return java.util.Optional.empty();
        }
    }

    private void load() throws IOException {
        Path nativeImage = classesDir.resolve("META-INF/native-image");
        if (Files.isDirectory(nativeImage)) {
            try (Stream<Path> files = Files.walk(nativeImage)) {
                for (Path file : files.filter(Files::isRegularFile).sorted().toList()) {
                    String where = classesDir.relativize(file).toString();
                    switch (file.getFileName().toString()) {
                        case "reflect-config.json" -> members(where, JSON.readTree(file.toFile()), reflection);
                        case "jni-config.json" -> members(where, JSON.readTree(file.toFile()), jni);
                        case "proxy-config.json" -> proxies(where, JSON.readTree(file.toFile()));
                        case "resource-config.json" -> resources(where, JSON.readTree(file.toFile()));
                        case "native-image.properties" -> nativeImageProperties(where, file);
                        default -> problems.add(where + ": not a native-image metadata file this check knows");
                    }
                }
            }
        }
        Path properties = classesDir.resolve("application.properties");
        if (Files.exists(properties)) {
            Properties p = new Properties();
            try (InputStream in = Files.newInputStream(properties)) {
                p.load(in);
            }
            String includes = p.getProperty("quarkus.native.resources.includes", "");
            for (String glob : includes.split(",")) {
                if (!glob.isBlank()) {
                    resourceIncludes.add(glob.strip());
                    glob("application.properties", glob.strip());
                }
            }
        }
        List<String> classes = moduleClasses();
        for (String name : classes) {
            Class<?> type = load("@RegisterForReflection scan", name);
            if (type != null) {
                annotations(type);
            }
        }
        for (String name : classes) {
            jackson(name);
        }
        for (String bound : jacksonBound) {
            if (!reflection.contains(bound) && !registeredElsewhere(bound)) {
                problems.add(bound + " is bound by Jackson but not registered for reflection");
            }
        }
    }

    private void members(String where, JsonNode entries, Set<String> into) {
        for (JsonNode entry : entries) {
            String name = entry.path("name").asText();
            into.add(name);
            Class<?> type = load(where, name);
            if (type == null) {
                continue;
            }
            for (JsonNode field : entry.path("fields")) {
                String f = field.path("name").asText();
                if (Arrays.stream(type.getDeclaredFields()).noneMatch(d -> d.getName().equals(f))) {
                    problems.add(where + ": " + name + " has no field " + f);
                }
            }
            for (JsonNode method : entry.path("methods")) {
                String m = method.path("name").asText();
                List<String> params = new ArrayList<>();
                method.path("parameterTypes").forEach(t -> params.add(t.asText()));
                boolean found = "<init>".equals(m)
                        ? Arrays.stream(type.getDeclaredConstructors()).anyMatch(c -> names(c
                                .getParameterTypes()).equals(params))
                        : Arrays.stream(type.getDeclaredMethods()).anyMatch(d -> d.getName().equals(m) && names(d
                                .getParameterTypes()).equals(params));
                if (!found) {
                    problems.add(where + ": " + name + " has no method " + m + params);
                }
            }
        }
    }

    private static List<String> names(Class<?>[] types) {
        return Arrays.stream(types).map(Class::getTypeName).toList();
    }

    private void proxies(String where, JsonNode entries) {
        for (JsonNode entry : entries) {
            JsonNode interfaces = entry.has("interfaces") ? entry.path("interfaces") : entry;
            for (JsonNode i : interfaces) {
                proxies.add(i.asText());
                Class<?> type = load(where, i.asText());
                if (type != null && !type.isInterface()) {
                    problems.add(where + ": proxy type " + i.asText() + " is not an interface");
                }
            }
        }
    }

    private void resources(String where, JsonNode config) {
        for (JsonNode bundle : config.path("bundles")) {
            String name = bundle.path("name").asText();
            bundles.add(name);
            String path = name.replace('.', '/');
            if (loader.getResource(path + ".properties") == null && load(where, name) == null) {
                problems.add(where + ": resource bundle " + name + " does not exist");
            }
        }
        for (JsonNode include : config.path("resources").path("includes")) {
            problems.add(where + ": resource pattern " + include.path("pattern").asText()
                    + " cannot be checked; use quarkus.native.resources.includes globs");
        }
    }

    private void nativeImageProperties(String where, Path file) throws IOException {
        Properties p = new Properties();
        try (InputStream in = Files.newInputStream(file)) {
            p.load(in);
        }
        for (String arg : p.getProperty("Args", "").trim().split("\\s+")) {
            if (arg.startsWith("--initialize-at-run-time=")) {
                for (String name : arg.substring("--initialize-at-run-time=".length()).split(",")) {
                    runTimeInitialized.add(name);
                    // A class, or a package prefix: either way something of that name must exist.
                    if (!classOrPackageExists(name)) {
                        problems.add(where + ": --initialize-at-run-time names " + name
                                + ", neither a class nor a package on the class path");
                    }
                }
            } else if (!arg.isEmpty()) {
                problems.add(where + ": argument " + arg + " is not checked; only --initialize-at-run-time is known");
            }
        }
    }

    private boolean classOrPackageExists(String name) {
        try {
            Class.forName(name, false, loader);
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return !list(name.replace('.', '/') + "/").isEmpty();
        }
    }

    private void glob(String where, String glob) {
        int wildcard = indexOfAny(glob, "*?[{");
        if (wildcard < 0) {
            if (loader.getResource(glob) == null) {
                problems.add(where + ": resource " + glob + " is not on the class path");
            }
            return;
        }
        int slash = glob.lastIndexOf('/', wildcard);
        if (slash < 0) {
            problems.add(where + ": glob " + glob + " starts with a wildcard; give its directory");
            return;
        }
        Pattern regex = Pattern.compile(globToRegex(glob));
        if (list(glob.substring(0, slash + 1)).stream().noneMatch(r -> regex.matcher(r).matches())) {
            problems.add(where + ": glob " + glob + " matches no resource on the class path");
        }
    }

    private static int indexOfAny(String text, String chars) {
        for (int i = 0; i < text.length(); i++) {
            if (chars.indexOf(text.charAt(i)) >= 0) {
                return i;
            }
        }
        return -1;
    }

    /** Glob to regular expression: {@code **} any path, {@code *} and {@code ?} within one segment. */
    static String globToRegex(String glob) {
        StringBuilder regex = new StringBuilder();
        for (int i = 0; i < glob.length(); i++) {
            char c = glob.charAt(i);
            if (c == '*' && i + 1 < glob.length() && glob.charAt(i + 1) == '*') {
                regex.append(".*");
                i++;
                if (i + 1 < glob.length() && glob.charAt(i + 1) == '/') {
                    i++;
                    regex.append("/?");
                }
            } else if (c == '*') {
                regex.append("[^/]*");
            } else if (c == '?') {
                regex.append("[^/]");
            } else {
                regex.append(Pattern.quote(String.valueOf(c)));
            }
        }
        return regex.toString();
    }

    /** Every resource name under {@code prefix} (ending in a slash) in every class path entry. */
    private Set<String> list(String prefix) {
        Set<String> names = new TreeSet<>();
        try {
            Enumeration<URL> roots = loader.getResources(prefix.substring(0, prefix.length() - 1));
            while (roots.hasMoreElements()) {
                URL url = roots.nextElement();
                if ("jar".equals(url.getProtocol())) {
                    JarURLConnection connection = (JarURLConnection) url.openConnection();
                    connection.setUseCaches(false);
                    try (JarFile jar = connection.getJarFile()) {
                        for (Enumeration<JarEntry> e = jar.entries(); e.hasMoreElements();) {
                            String name = e.nextElement().getName();
                            if (name.startsWith(prefix)) {
                                names.add(name);
                            }
                        }
                    }
                } else if ("file".equals(url.getProtocol())) {
                    Path dir = Path.of(url.toURI());
                    Path root = dir;
                    for (int depth = prefix.split("/").length; depth > 0; depth--) {
                        root = root.getParent();
                    }
                    try (Stream<Path> files = Files.walk(dir)) {
                        Path base = root;
                        files.filter(Files::isRegularFile).forEach(f -> names.add(base.relativize(f).toString()
                                .replace('\\', '/')));
                    }
                }
            }
        } catch (IOException | URISyntaxException e) {
            problems.add("cannot list resources under " + prefix + ": " + e.getMessage());
        }
        return names;
    }

    private List<String> moduleClasses() throws IOException {
        if (!Files.isDirectory(classesDir)) {
            problems.add(classesDir + " is not a directory of compiled classes");
            return List.of();
        }
        try (Stream<Path> files = Files.walk(classesDir)) {
            return files.filter(f -> f.toString().endsWith(".class") && !f.getFileName().toString().equals(
                    "module-info.class")).map(f -> classesDir.relativize(f).toString().replace('\\', '/'))
                    .map(f -> f.substring(0, f.length() - ".class".length()).replace('/', '.')).sorted().toList();
        }
    }

    private void annotations(Class<?> type) {
        for (Annotation annotation : type.getDeclaredAnnotations()) {
            if (!annotation.annotationType().getName().equals(REGISTER)) {
                continue;
            }
            Class<?>[] targets = (Class<?>[]) attribute(annotation, "targets");
            String[] classNames = (String[]) attribute(annotation, "classNames");
            if (targets.length == 0 && classNames.length == 0) {
                reflection.add(type.getName());
            }
            for (Class<?> target : targets) {
                reflection.add(target.getName());
            }
            for (String name : classNames) {
                reflection.add(name);
                load("@RegisterForReflection on " + type.getName(), name);
            }
        }
    }

    private static Object attribute(Annotation annotation, String name) {
        try {
            Method method = annotation.annotationType().getMethod(name);
            return method.invoke(annotation);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    private Class<?> load(String where, String name) {
        try {
            return Class.forName(name, false, loader);
        } catch (ClassNotFoundException | LinkageError e) {
            problems.add(where + ": class " + name + " is not on the class path");
            return null;
        }
    }

    /** Registered by another jar's metadata (e.g. the events jar registers its records). */
    private boolean registeredElsewhere(String name) {
        if (elsewhere == null) {
            elsewhere = new HashSet<>();
            for (String resource : list("META-INF/native-image/")) {
                if (resource.endsWith("/reflect-config.json") && !Files.exists(classesDir.resolve(resource))) {
                    try (InputStream in = loader.getResourceAsStream(resource)) {
                        if (in != null) {
                            JSON.readTree(in).forEach(e -> elsewhere.add(e.path("name").asText()));
                        }
                    } catch (IOException e) {
                        problems.add(resource + ": " + e.getMessage());
                    }
                }
            }
        }
        return elsewhere.contains(name);
    }

    private Set<String> elsewhere;

    /** Reads one class file's constant pool: does it call Jackson's binding methods, and which classes does it name? */
    private void jackson(String className) {
        Path file = classesDir.resolve(className.replace('.', '/') + ".class");
        Map<Integer, String> utf8 = new TreeMap<>();
        Map<Integer, Integer> classRefs = new TreeMap<>();
        Map<Integer, int[]> memberRefs = new TreeMap<>();
        Map<Integer, int[]> nameAndTypes = new TreeMap<>();
        try (DataInputStream in = new DataInputStream(Files.newInputStream(file))) {
            in.readInt();
            in.readUnsignedShort();
            in.readUnsignedShort();
            int count = in.readUnsignedShort();
            for (int i = 1; i < count; i++) {
                int tag = in.readUnsignedByte();
                switch (tag) {
                    case 1 -> utf8.put(i, in.readUTF());
                    case 7 -> classRefs.put(i, in.readUnsignedShort());
                    case 8, 16, 19, 20 -> in.readUnsignedShort();
                    case 3, 4 -> in.readInt();
                    case 5, 6 -> {
                        in.readLong();
                        i++;
                    }
                    case 9, 10, 11 -> memberRefs.put(i, new int[]{in.readUnsignedShort(), in.readUnsignedShort()});
                    case 12 -> nameAndTypes.put(i, new int[]{in.readUnsignedShort(), in.readUnsignedShort()});
                    case 15 -> {
                        in.readUnsignedByte();
                        in.readUnsignedShort();
                    }
                    case 17, 18 -> in.readInt();
                    default -> throw new IOException("unknown constant pool tag " + tag);
                }
            }
        } catch (IOException e) {
            problems.add(file + ": " + e.getMessage());
            return;
        }
        boolean binds = memberRefs.values().stream().anyMatch(ref -> {
            String owner = utf8.get(classRefs.get(ref[0]));
            int[] nameAndType = nameAndTypes.get(ref[1]);
            return JACKSON_OWNERS.contains(owner) && nameAndType != null && JACKSON_BINDING.contains(utf8.get(
                    nameAndType[0]));
        });
        if (!binds) {
            return;
        }
        String base = basePackage(className);
        // A class named only as the owner of methods or fields called on it (record.body()) is not handed to Jackson;
        // one named by a class literal (Payload.class), a constructor call (new Entry(..)) or a cast may be.
        Map<Integer, Set<String>> owned = new TreeMap<>();
        for (int[] ref : memberRefs.values()) {
            int[] nameAndType = nameAndTypes.get(ref[1]);
            owned.computeIfAbsent(ref[0], k -> new HashSet<>()).add(nameAndType == null
                    ? ""
                    : utf8.get(
                            nameAndType[0]));
        }
        for (Map.Entry<Integer, Integer> classRef : classRefs.entrySet()) {
            Set<String> members = owned.getOrDefault(classRef.getKey(), Set.of());
            if (!members.isEmpty() && !members.contains("<init>")) {
                continue;
            }
            String name = utf8.get(classRef.getValue());
            if (name != null && !name.startsWith("[") && name.replace('/', '.').startsWith(base)) {
                bound(name.replace('/', '.'), base);
            }
        }
    }

    private void bound(String name, String base) {
        Class<?> type;
        try {
            type = Class.forName(name, false, loader);
        } catch (ClassNotFoundException | LinkageError e) {
            return;
        }
        boolean jacksonAnnotated = Arrays.stream(type.getDeclaredAnnotations()).anyMatch(a -> a.annotationType()
                .getName().startsWith("com.fasterxml.jackson.annotation."));
        if (!(type.isRecord() || jacksonAnnotated) || !jacksonBound.add(name)) {
            return;
        }
        if (type.isRecord()) {
            for (RecordComponent component : type.getRecordComponents()) {
                for (Class<?> c : mentioned(component.getGenericType())) {
                    if (c.getName().startsWith(base)) {
                        bound(c.getName(), base);
                    }
                }
            }
        }
    }

    /** The classes a (generic) type mentions: {@code Map<String, List<Foo>>} gives Map, String, List and Foo. */
    private static List<Class<?>> mentioned(Type type) {
        List<Class<?>> classes = new ArrayList<>();
        if (type instanceof Class<?> c) {
            classes.add(c.isArray() ? c.getComponentType() : c);
        } else if (type instanceof ParameterizedType p) {
            classes.addAll(mentioned(p.getRawType()));
            for (Type argument : p.getActualTypeArguments()) {
                classes.addAll(mentioned(argument));
            }
        } else if (type instanceof GenericArrayType a) {
            classes.addAll(mentioned(a.getGenericComponentType()));
        } else if (type instanceof WildcardType w) {
            for (Type bound : w.getUpperBounds()) {
                classes.addAll(mentioned(bound));
            }
        }
        return classes;
    }

    /** {@code dev.conveyor.notifier.} for {@code dev.conveyor.notifier.service.StateStore}. */
    private static String basePackage(String className) {
        String[] parts = className.split("\\.");
        return parts.length > 3 ? String.join(".", Arrays.copyOf(parts, 3)) + "." : className;
    }
}
