package dev.conveyor.fluxsync.domain;

import java.util.Map;

/**
 * One desired object: what git (or a rendered chart) says it must look like.
 *
 * @param ref the object's name
 * @param body the whole object as parsed from YAML (apiVersion, kind, metadata, spec, ...)
 * @param owner who brought it: {@code file:<path>} for files of the repository, {@code release:<ns>/<name>} for
 *     objects rendered from a release; the inventory is kept per owner
 */
public record Manifest(ObjectRef ref, Map<String, Object> body, String owner) {

    /** Owner of the objects of a repository file. */
    public static String fileOwner(String path) {
        return "file:" + path;
    }

    /** Owner of the objects rendered from a release. */
    public static String releaseOwner(String namespace, String name) {
        return "release:" + namespace + "/" + name;
    }
}
