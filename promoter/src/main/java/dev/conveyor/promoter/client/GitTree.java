package dev.conveyor.promoter.client;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.FileMode;
import org.eclipse.jgit.lib.ObjectLoader;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.revwalk.RevTree;
import org.eclipse.jgit.treewalk.TreeWalk;
import org.eclipse.jgit.treewalk.filter.PathFilter;

/** Read access to one commit's tree: files by path and the files below a directory. */
public final class GitTree {

    /** Largest single file read from a tree. */
    public static final int MAX_FILE_BYTES = 8 * 1024 * 1024;

    private final Repository repo;
    private final RevTree tree;

    GitTree(Repository repo, RevTree tree) {
        this.repo = repo;
        this.tree = tree;
    }

    /** An empty tree (a branch that does not exist yet). */
    static GitTree empty(Repository repo) {
        return new GitTree(repo, null);
    }

    /** A regular file's bytes, or empty when there is no such file. */
    public Optional<byte[]> read(String path) throws IOException {
        if (tree == null) {
            return Optional.empty();
        }
        try (TreeWalk walk = TreeWalk.forPath(repo, path, tree)) {
            if (walk == null || walk.getFileMode(0).getObjectType() != Constants.OBJ_BLOB) {
                return Optional.empty();
            }
            ObjectLoader loader = repo.open(walk.getObjectId(0));
            if (loader.getSize() > MAX_FILE_BYTES) {
                throw new IOException(path + " is larger than " + MAX_FILE_BYTES + " bytes");
            }
            return Optional.of(loader.getBytes());
        }
    }

    /** The paths of regular files below {@code directory} (recursively), sorted. */
    public List<String> list(String directory) throws IOException {
        List<String> paths = new ArrayList<>();
        if (tree == null) {
            return paths;
        }
        try (TreeWalk walk = new TreeWalk(repo)) {
            walk.addTree(tree);
            walk.setRecursive(true);
            walk.setFilter(PathFilter.create(directory));
            while (walk.next()) {
                if (walk.getFileMode(0) == FileMode.REGULAR_FILE || walk.getFileMode(0) == FileMode.EXECUTABLE_FILE) {
                    paths.add(walk.getPathString());
                }
            }
        }
        paths.sort(String::compareTo);
        return paths;
    }
}
