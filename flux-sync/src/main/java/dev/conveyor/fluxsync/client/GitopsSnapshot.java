package dev.conveyor.fluxsync.client;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.FileMode;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectReader;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.revwalk.RevWalk;
import org.eclipse.jgit.treewalk.TreeWalk;

import dev.conveyor.fluxsync.domain.RepoLayout;

/**
 * The files of one revision of a GitOps repository below its configured path, read from the mirror's object store
 * (no working tree): the YAML the layout reads, every path (to check that charts exist), and the tree id of each
 * directory so a chart is written to disk, and rendered, once per content.
 */
public final class GitopsSnapshot {

    /** Largest file read into memory. */
    static final long MAX_FILE_BYTES = 3L * 1024 * 1024;

    /** Largest file of a chart written out (Helm's own limit on a chart's file). */
    public static final long MAX_CHART_FILE_BYTES = 5L * 1024 * 1024;

    /** Largest chart written out, all files together (Helm's own limit on a decompressed chart). */
    public static final long MAX_CHART_BYTES = 100L * 1024 * 1024;

    /**
     * A symbolic link of the repository (git mode 120000): never followed, never written out, never read as YAML.
     *
     * @param path the link, relative to the snapshot
     * @param target what it points to, as stored (at most 4096 characters)
     * @param leaves whether the target is absolute or climbs out of the repository ({@code ../..})
     */
    public record Symlink(String path, String target, boolean leaves) {
        /** For people: the link, where it points, and that it is not followed. */
        public String describe() {
            return path + " is a symbolic link to " + (target.startsWith("/")
                    ? "the absolute path " + target
                    : leaves ? target + ", outside the repository" : target) + ": symbolic links are not followed";
        }
    }

    private final Repository repo;
    private final String revision;
    private final Map<String, String> yamlFiles;
    private final Set<String> allPaths;
    private final Map<String, ObjectId> blobs;
    private final Map<String, Symlink> symlinks;
    /** {@link #contentKey} by directory, computed once: the snapshot does not change. */
    private final Map<String, String> contentKeys = new java.util.concurrent.ConcurrentHashMap<>();

    private GitopsSnapshot(Repository repo, String revision, Map<String, String> yamlFiles, Set<String> allPaths,
            Map<String, ObjectId> blobs, Map<String, Symlink> symlinks) {
        this.symlinks = symlinks;
        this.repo = repo;
        this.revision = revision;
        this.yamlFiles = yamlFiles;
        this.allPaths = allPaths;
        this.blobs = blobs;
    }

    /** The head of {@code branch}, if the branch exists. */
    public static Optional<String> head(Repository repo, String branch) throws IOException {
        ObjectId id = repo.resolve(Constants.R_HEADS + branch);
        return Optional.ofNullable(id).map(ObjectId::name);
    }

    /**
     * The message for a branch that does not exist: names the branch tried and those that exist, and when the branch
     * was the default ({@code main}) and the repository has {@code master} (Flux v1's default), how to configure it.
     *
     * @param field the configuration key of the branch ({@code conveyor.flux-sync.repos.<name>.branch})
     */
    public static String branchNotFound(Repository repo, String branch, String remote, String field)
            throws IOException {
        List<String> branches = branches(repo);
        StringBuilder m = new StringBuilder("branch ").append(branch).append(" does not exist in ").append(remote)
                .append(branches.isEmpty()
                        ? " (the repository has no branch)"
                        : "; its branches: " + String.join(
                                ", ", branches.size() > 20 ? branches.subList(0, 20) : branches)
                                + (branches.size() > 20
                                        ? ", ... (" + branches.size() + " in all)"
                                        : ""));
        if (!branches.isEmpty()) {
            String hint = branches.contains("master") ? "master" : branches.size() == 1 ? branches.get(0) : null;
            if (hint != null) {
                m.append(" — set ").append(field).append('=').append(hint).append(
                        "master".equals(hint) && "main".equals(branch)
                                ? " (Flux v1 synced master by default; flux-sync's default is main)"
                                : "");
            }
        }
        return m.toString();
    }

    /** The branches of a mirror, sorted. */
    public static List<String> branches(Repository repo) throws IOException {
        return repo.getRefDatabase().getRefsByPrefix(Constants.R_HEADS).stream().map(r -> r.getName().substring(
                Constants.R_HEADS.length())).sorted().toList();
    }

    /**
     * Reads {@code revision} below {@code path}: one directory (empty or {@code /} for the root; files are named
     * relative to it, as always), or several separated by commas like Flux v1's {@code --git-path}
     * ({@code clusters/prod,infrastructure}; then files are named relative to the repository root). Every file's path
     * is listed; the content of the files {@link RepoLayout#isReadFile} wants is read (below the path(s) only).
     */
    public static GitopsSnapshot read(Repository repo, String revision, String path) throws IOException {
        List<String> paths = paths(path);
        String base = paths.size() == 1 ? paths.get(0) : "";
        String prefix = base.isEmpty() ? "" : base + "/";
        Map<String, String> yaml = new HashMap<>();
        Set<String> all = new HashSet<>();
        Map<String, ObjectId> blobs = new HashMap<>();
        Map<String, Symlink> symlinks = new java.util.TreeMap<>();
        try (RevWalk walk = new RevWalk(repo); TreeWalk tree = new TreeWalk(repo)) {
            RevCommit commit = walk.parseCommit(ObjectId.fromString(revision));
            tree.addTree(commit.getTree());
            tree.setRecursive(true);
            ObjectReader reader = tree.getObjectReader();
            while (tree.next()) {
                String full = tree.getPathString();
                if (!full.startsWith(prefix) || tree.getFileMode(0) == FileMode.GITLINK) {
                    continue;
                }
                if (tree.getFileMode(0) == FileMode.SYMLINK) {
                    // Recorded (reported, and refused in a chart), never followed: its target is read as text only.
                    String rel = full.substring(prefix.length());
                    ObjectId blob = tree.getObjectId(0);
                    String target = reader.getObjectSize(blob, Constants.OBJ_BLOB) > 4096
                            ? "(a target longer than 4096 bytes)"
                            : new String(reader.open(blob).getBytes(), StandardCharsets.UTF_8);
                    boolean leaves = target.startsWith("/") || dev.conveyor.fluxsync.domain.RepoPaths.resolveWithin(
                            "", (full.contains("/") ? full.substring(0, full.lastIndexOf('/') + 1) : "") + target)
                            .isEmpty();
                    symlinks.put(rel, new Symlink(rel, target, leaves));
                    continue;
                }
                String rel = full.substring(prefix.length());
                ObjectId blob = tree.getObjectId(0);
                blobs.put(rel, blob);
                boolean inScope = paths.size() == 1 || paths.stream().anyMatch(p -> rel.startsWith(p + "/"));
                if (!inScope) {
                    // Outside the configured paths: not listed (nothing there is reported), but a chart may be
                    // read from there.
                    continue;
                }
                all.add(rel);
                if (RepoLayout.isReadFile(rel)) {
                    long size = reader.getObjectSize(blob, Constants.OBJ_BLOB);
                    if (size > MAX_FILE_BYTES) {
                        // Too big to be a manifest: the layout reports it as an invalid file.
                        yaml.put(rel, "x".repeat(dev.conveyor.fluxsync.domain.YamlDocuments.MAX_CHARS + 1));
                        continue;
                    }
                    yaml.put(rel, new String(reader.open(blob).getBytes(), StandardCharsets.UTF_8));
                }
            }
        }
        if (paths.size() > 1) {
            // Charts named by releases may lie outside the paths (Flux v1 read charts from the whole repository).
            for (String rel : blobs.keySet()) {
                if (rel.endsWith("/Chart.yaml")) {
                    all.add(rel);
                }
            }
        }
        return new GitopsSnapshot(repo, revision, Collections.unmodifiableMap(yaml), Collections.unmodifiableSet(all),
                blobs, Collections.unmodifiableMap(symlinks));
    }

    /** The configured path(s), without leading and trailing slashes; one empty entry for the root. */
    static List<String> paths(String path) {
        List<String> out = new ArrayList<>();
        for (String p : (path == null ? "" : path).split(",")) {
            String trimmed = p.strip().replaceAll("^/+|/+$", "");
            if (trimmed.isEmpty() || ".".equals(trimmed)) {
                return List.of("");
            }
            if (!out.contains(trimmed)) {
                out.add(trimmed);
            }
        }
        return out.isEmpty() ? List.of("") : out;
    }

    public String revision() {
        return revision;
    }

    public Map<String, String> yamlFiles() {
        return yamlFiles;
    }

    public Set<String> allPaths() {
        return allPaths;
    }

    /** The symbolic links of the revision (below the configured path), by path: never followed. */
    public Map<String, Symlink> symlinks() {
        return symlinks;
    }

    /** The symbolic links below the directory {@code dir} (a chart), in path order. */
    public List<Symlink> symlinksUnder(String dir) {
        return symlinks.values().stream().filter(l -> l.path().startsWith(dir + "/")).toList();
    }

    /** The content of a file of the revision (below the configured path), if it exists. */
    public Optional<String> readFile(String path) throws IOException {
        ObjectId blob = blobs.get(path);
        if (blob == null) {
            return Optional.empty();
        }
        try (ObjectReader reader = repo.newObjectReader()) {
            if (reader.getObjectSize(blob, Constants.OBJ_BLOB) > MAX_FILE_BYTES) {
                throw new IOException(path + " is larger than " + MAX_FILE_BYTES + " bytes");
            }
            return Optional.of(new String(reader.open(blob).getBytes(), StandardCharsets.UTF_8));
        }
    }

    /** A content key of the directory {@code dir}: changes when any file below it changes. */
    public String contentKey(String dir) {
        // asked once per release at every sync, with the same chart directory by many releases
        return contentKeys.computeIfAbsent(dir, this::computeContentKey);
    }

    private String computeContentKey(String dir) {
        StringBuilder sb = new StringBuilder();
        blobs.entrySet().stream().filter(e -> e.getKey().startsWith(dir + "/")).sorted(Map.Entry.comparingByKey())
                .forEach(e -> sb.append(e.getKey()).append('=').append(e.getValue().name()).append('\n'));
        return dev.conveyor.fluxsync.domain.LiveComparison.hash(Map.of("files", sb.toString()));
    }

    /**
     * Writes the files below {@code dir} into {@code target} (which is created), keeping their relative paths; regular
     * files only (symbolic links are never written). Sizes are checked before anything is read.
     *
     * @throws IOException naming the file, when one is larger than {@link #MAX_CHART_FILE_BYTES} or all are larger
     *     than {@link #MAX_CHART_BYTES}
     */
    public void materialize(String dir, Path target) throws IOException {
        long total = 0;
        try (ObjectReader reader = repo.newObjectReader()) {
            for (Map.Entry<String, ObjectId> e : new java.util.TreeMap<>(blobs).entrySet()) {
                if (e.getKey().startsWith(dir + "/")) {
                    long size = reader.getObjectSize(e.getValue(), Constants.OBJ_BLOB);
                    if (size > MAX_CHART_FILE_BYTES) {
                        throw new IOException(e.getKey() + " is larger than " + MAX_CHART_FILE_BYTES + " bytes ("
                                + size + ")");
                    }
                    total += size;
                    if (total > MAX_CHART_BYTES) {
                        throw new IOException("the chart " + dir + " is larger than " + MAX_CHART_BYTES + " bytes");
                    }
                }
            }
        }
        Path tmp = Files.createTempDirectory(target.getParent(), "chart-");
        try (ObjectReader reader = repo.newObjectReader()) {
            for (Map.Entry<String, ObjectId> e : blobs.entrySet()) {
                if (e.getKey().startsWith(dir + "/")) {
                    Path file = tmp.resolve(e.getKey().substring(dir.length() + 1)).normalize();
                    if (!file.startsWith(tmp)) {
                        continue;
                    }
                    Files.createDirectories(file.getParent());
                    Files.write(file, reader.open(e.getValue()).getBytes());
                }
            }
        }
        try {
            Files.move(tmp, target);
        } catch (java.nio.file.FileAlreadyExistsException e) {
            deleteTree(tmp);
        }
    }

    /** Messages of the commits in {@code newRevision} but not in {@code previous} (oldest first), at most {@code max}. */
    public static List<String> messagesBetween(Repository repo, String previous, String newRevision, int max)
            throws IOException {
        List<String> out = new ArrayList<>();
        try (RevWalk walk = new RevWalk(repo)) {
            walk.markStart(walk.parseCommit(ObjectId.fromString(newRevision)));
            if (previous != null) {
                ObjectId prev = ObjectId.fromString(previous);
                if (repo.getObjectDatabase().has(prev)) {
                    walk.markUninteresting(walk.parseCommit(prev));
                }
            }
            for (RevCommit c : walk) {
                out.add(c.getFullMessage());
                if (out.size() >= max) {
                    break;
                }
            }
        }
        Collections.reverse(out);
        return out;
    }

    /**
     * Whether {@code ancestor} is {@code revision} or one of its ancestors; false when the repository does not have
     * it (e.g. it was force-pushed away before this mirror was made).
     */
    public static boolean isAncestor(Repository repo, String ancestor, String revision) throws IOException {
        ObjectId a = ObjectId.fromString(ancestor);
        if (!repo.getObjectDatabase().has(a)) {
            return false;
        }
        try (RevWalk walk = new RevWalk(repo)) {
            return walk.isMergedInto(walk.parseCommit(a), walk.parseCommit(ObjectId.fromString(revision)));
        }
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (var paths = Files.walk(dir)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
