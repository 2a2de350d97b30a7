package dev.conveyor.manifests.client;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

import org.eclipse.jgit.lib.FileMode;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectLoader;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.revwalk.RevWalk;
import org.eclipse.jgit.treewalk.TreeWalk;

/**
 * Files of one commit in a (bare) repository, read straight from the object store: single files, and whole
 * directories copied out to a working directory with limits on count and size. Symbolic links are refused (a chart's
 * link could point anywhere on the host), submodules are skipped.
 */
public final class RepoFiles {

    /** A directory could not be copied out safely. */
    public static final class UnsafeContent extends RuntimeException {
        public UnsafeContent(String message) {
            super(message);
        }
    }

    private final Repository repo;
    private final RevCommit commit;
    private final long maxFileBytes;
    private final int maxFiles;

    public RepoFiles(Repository repo, ObjectId commitId, long maxFileBytes, int maxFiles) throws IOException {
        this.repo = repo;
        try (RevWalk walk = new RevWalk(repo)) {
            this.commit = walk.parseCommit(commitId);
        }
        this.maxFileBytes = maxFileBytes;
        this.maxFiles = maxFiles;
    }

    public RevCommit commit() {
        return commit;
    }

    /** The text of a file at the commit, if it exists and is a regular file. */
    public Optional<String> read(String path) throws IOException {
        if (path.isEmpty()) {
            return Optional.empty();
        }
        refuseLinks(path);
        try (TreeWalk walk = TreeWalk.forPath(repo, path, commit.getTree())) {
            if (walk == null || !isFile(walk.getFileMode(0))) {
                return Optional.empty();
            }
            return Optional.of(new String(load(walk.getObjectId(0), path), StandardCharsets.UTF_8));
        }
    }

    /** Whether {@code path} is a directory at the commit (the root is). */
    public boolean isDirectory(String path) throws IOException {
        if (path.isEmpty()) {
            return true;
        }
        refuseLinks(path);
        try (TreeWalk walk = TreeWalk.forPath(repo, path, commit.getTree())) {
            return walk != null && walk.getFileMode(0) == FileMode.TREE;
        }
    }

    /**
     * Refuses a path of which the file itself or any directory on the way is a symbolic link: read from the object
     * store a link is harmless, but it means the repository expects a checkout to follow it out of the tree.
     */
    private void refuseLinks(String path) throws IOException {
        StringBuilder prefix = new StringBuilder();
        for (String part : path.split("/")) {
            if (prefix.length() > 0) {
                prefix.append('/');
            }
            prefix.append(part);
            try (TreeWalk walk = TreeWalk.forPath(repo, prefix.toString(), commit.getTree())) {
                if (walk == null) {
                    return;
                }
                if (walk.getFileMode(0) == FileMode.SYMLINK) {
                    throw new UnsafeContent(prefix + " is a symbolic link; Conveyor does not follow links in "
                            + "repositories (reading " + path + ")");
                }
            }
        }
    }

    /** Every regular file under {@code dir} (repository-relative path to text). */
    public Map<String, String> readTree(String dir) throws IOException {
        Map<String, String> files = new LinkedHashMap<>();
        walk(dir, (path, bytes) -> files.put(path, new String(bytes, StandardCharsets.UTF_8)));
        return files;
    }

    /** Copies {@code dir} at the commit into {@code target} (created), keeping relative paths. */
    public void copyTo(String dir, Path target) throws IOException {
        Files.createDirectories(target);
        Path root = target.toAbsolutePath().normalize();
        walk(dir, (path, bytes) -> {
            String relative = dir.isEmpty() ? path : path.substring(dir.length() + 1);
            Path out = root.resolve(relative).normalize();
            if (!out.startsWith(root)) {
                throw new UnsafeContent("file " + path + " would be written outside the chart directory");
            }
            Files.createDirectories(out.getParent());
            Files.write(out, bytes);
        });
    }

    @FunctionalInterface
    private interface FileSink {
        void accept(String path, byte[] bytes) throws IOException;
    }

    private void walk(String dir, FileSink sink) throws IOException {
        try (TreeWalk walk = new TreeWalk(repo)) {
            if (dir.isEmpty()) {
                walk.addTree(commit.getTree());
            } else {
                refuseLinks(dir);
                try (TreeWalk at = TreeWalk.forPath(repo, dir, commit.getTree())) {
                    if (at == null || at.getFileMode(0) != FileMode.TREE) {
                        return;
                    }
                    walk.addTree(at.getObjectId(0));
                }
            }
            walk.setRecursive(true);
            int count = 0;
            while (walk.next()) {
                String path = dir.isEmpty() ? walk.getPathString() : dir + "/" + walk.getPathString();
                FileMode mode = walk.getFileMode(0);
                if (mode == FileMode.SYMLINK) {
                    throw new UnsafeContent(path + " is a symbolic link; charts must not contain links");
                }
                if (!isFile(mode)) {
                    continue; // submodules
                }
                if (++count > maxFiles) {
                    throw new UnsafeContent(dir + " holds more than " + maxFiles + " files");
                }
                sink.accept(path, load(walk.getObjectId(0), path));
            }
        }
    }

    private byte[] load(ObjectId id, String path) throws IOException {
        ObjectLoader loader = repo.open(id);
        if (loader.getSize() > maxFileBytes) {
            throw new UnsafeContent(path + " is larger than " + maxFileBytes + " bytes");
        }
        return loader.getCachedBytes((int) maxFileBytes);
    }

    private static boolean isFile(FileMode mode) {
        return mode == FileMode.REGULAR_FILE || mode == FileMode.EXECUTABLE_FILE;
    }
}
