package dev.conveyor.promoter.client;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * What one commit changes: files written and whole directories replaced (every file below them not written again is
 * removed), computed from the branch's current tree so it can be re-applied on a newer tip after a lost race.
 */
public final class TreeChange {

    private final Map<String, byte[]> files = new LinkedHashMap<>();
    private final Set<String> replacedDirectories = new TreeSet<>();

    /** Writes a file. */
    public TreeChange write(String path, byte[] content) {
        files.put(path, content);
        return this;
    }

    /** Makes the directory hold exactly the files written below it by this change. */
    public TreeChange replaceDirectory(String directory) {
        replacedDirectories.add(directory.endsWith("/") ? directory : directory + "/");
        return this;
    }

    Map<String, byte[]> files() {
        return files;
    }

    Set<String> replacedDirectories() {
        return replacedDirectories;
    }
}
