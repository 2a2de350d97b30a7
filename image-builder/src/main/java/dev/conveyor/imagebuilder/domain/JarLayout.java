package dev.conveyor.imagebuilder.domain;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.TreeSet;

/**
 * How a runnable jar is laid out in the image. The jar is exploded under the app directory: nested jars (a fat jar's
 * dependencies, e.g. {@code lib/*.jar} or Spring Boot's {@code BOOT-INF/lib/*.jar}) form the dependency layer, which
 * stays the same between releases and is not pushed again, and everything else (classes, resources, the manifest)
 * forms the application layer. The default entrypoint runs the manifest's {@code Main-Class} with a class path of the
 * app directory and every directory that holds nested jars.
 */
public final class JarLayout {

    /** Where the jar is exploded when the app does not set a working directory. */
    public static final String APP_DIR = "/app";

    private static final String SPRING_BOOT_LAUNCHER = "org.springframework.boot.loader.";

    private JarLayout() {
    }

    /** Whether a jar entry is a nested dependency jar. */
    public static boolean isDependency(String entryName) {
        return entryName.toLowerCase(Locale.ROOT).endsWith(".jar") && !entryName.endsWith("/");
    }

    /**
     * The entrypoint for an exploded jar: {@code java -cp <app>:<dir>/*... <Main-Class>}. Spring Boot's launchers find
     * their nested jars themselves, so they get the app directory alone.
     *
     * @param appDir the absolute directory the jar is exploded into
     * @param entryNames the jar's entry names
     * @param mainClass the manifest's {@code Main-Class}
     */
    public static List<String> entrypoint(String appDir, List<String> entryNames, Optional<String> mainClass) {
        String main = mainClass.orElseThrow(() -> new IllegalArgumentException(
                "the jar has no Main-Class in META-INF/MANIFEST.MF: set image.entrypoint in .conveyor.yaml"));
        List<String> classpath = new ArrayList<>();
        classpath.add(appDir);
        if (!main.startsWith(SPRING_BOOT_LAUNCHER)) {
            TreeSet<String> dirs = new TreeSet<>();
            for (String name : entryNames) {
                if (isDependency(name)) {
                    int slash = name.lastIndexOf('/');
                    dirs.add(slash < 0 ? "" : name.substring(0, slash));
                }
            }
            for (String dir : dirs) {
                classpath.add((dir.isEmpty() ? appDir : appDir + "/" + dir) + "/*");
            }
        }
        return List.of("java", "-cp", String.join(":", classpath), main);
    }

    /** Whether an archive entry name stays inside the directory it is unpacked into. */
    public static boolean isSafeEntryName(String name) {
        if (name.isEmpty() || name.startsWith("/") || name.startsWith("\\") || name.contains("\\")
                || name.contains("\0")) {
            return false;
        }
        for (String part : name.split("/")) {
            if (part.equals("..")) {
                return false;
            }
        }
        return true;
    }
}
