package dev.conveyor.versioner.client;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import org.eclipse.jgit.diff.DiffEntry;
import org.eclipse.jgit.diff.DiffFormatter;
import org.eclipse.jgit.errors.MissingObjectException;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectLoader;
import org.eclipse.jgit.lib.Ref;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.revwalk.RevWalk;
import org.eclipse.jgit.treewalk.TreeWalk;
import org.eclipse.jgit.util.io.DisabledOutputStream;

import dev.conveyor.versioner.domain.CommitInfo;
import dev.conveyor.versioner.domain.SemVer;
import dev.conveyor.versioner.domain.VersionTag;

/** Reads what the version rules need out of a repository (a mirror): tags, reachability, commits, files. */
public final class GitHistory {

    /** Largest file read from a commit ({@code .conveyor.yaml}, version files). */
    public static final int MAX_FILE_BYTES = 256 * 1024;

    private final Repository repo;

    public GitHistory(Repository repo) {
        this.repo = repo;
    }

    /** The commit with this id, or empty when the repository does not have it. */
    public Optional<RevCommit> commit(String id) throws IOException {
        ObjectId objectId;
        try {
            objectId = ObjectId.fromString(id);
        } catch (IllegalArgumentException e) {
            objectId = repo.resolve(id);
        }
        if (objectId == null) {
            return Optional.empty();
        }
        try (RevWalk walk = new RevWalk(repo)) {
            return Optional.of(walk.parseCommit(objectId));
        } catch (MissingObjectException | org.eclipse.jgit.errors.IncorrectObjectTypeException e) {
            return Optional.empty();
        }
    }

    /**
     * Every tag name and the object it points at, annotated tags peeled. Tags of trees or blobs are kept too; they
     * never match a commit in a walk, so they name no version.
     */
    public Map<String, ObjectId> tagCommits() throws IOException {
        Map<String, ObjectId> tags = new HashMap<>();
        for (Ref ref : repo.getRefDatabase().getRefsByPrefix(Constants.R_TAGS)) {
            Ref peeled = ref.isPeeled() ? ref : repo.getRefDatabase().peel(ref);
            ObjectId target = peeled.getPeeledObjectId() != null ? peeled.getPeeledObjectId() : ref.getObjectId();
            tags.put(ref.getName().substring(Constants.R_TAGS.length()), target);
        }
        return tags;
    }

    /**
     * The version tags (with {@code prefix}) on commits reachable from {@code start} that matter to the version rules:
     * every one on {@code start} itself, and enough of the others that the highest reachable release is among them.
     * The walk from {@code start} stops as soon as no unvisited tag could name a higher release than one already
     * found, which on an ordinary history is the first tagged commit; tags that are not semantic versions are skipped
     * and reported through {@code ignored}.
     */
    public List<VersionTag> reachableVersionTags(RevCommit start, String prefix, Map<String, ObjectId> tags,
            List<String> ignored) throws IOException {
        Map<ObjectId, List<VersionTag>> byCommit = new HashMap<>();
        List<VersionTag> releases = new ArrayList<>();
        tags.forEach((name, id) -> {
            if (name.startsWith(prefix)) {
                VersionTag.parse(name, prefix, id.name()).ifPresentOrElse(tag -> {
                    byCommit.computeIfAbsent(id, k -> new ArrayList<>()).add(tag);
                    if (!tag.version().isPreRelease()) {
                        releases.add(tag);
                    }
                }, () -> ignored.add(name));
            }
        });
        List<VersionTag> found = new ArrayList<>();
        if (byCommit.isEmpty()) {
            return found;
        }
        // Unvisited releases, highest first: the walk may stop once the best found is not below the head of this list.
        releases.sort(java.util.Comparator.comparing(VersionTag::version).reversed());
        Set<String> visitedTagged = new HashSet<>();
        SemVer bestFound = null;
        int next = 0;
        try (RevWalk walk = new RevWalk(repo)) {
            walk.setRetainBody(false);
            RevCommit first = walk.parseCommit(start);
            walk.markStart(first);
            for (RevCommit c = walk.next(); c != null; c = walk.next()) {
                List<VersionTag> onCommit = byCommit.get(c);
                if (onCommit != null) {
                    found.addAll(onCommit);
                    visitedTagged.add(c.name());
                    for (VersionTag tag : onCommit) {
                        // The start commit's own tags are reported but are not a base, so they do not end the walk.
                        if (!c.equals(first) && !tag.version().isPreRelease() && (bestFound == null
                                || tag.version().compareTo(bestFound) > 0)) {
                            bestFound = tag.version();
                        }
                    }
                }
                while (next < releases.size() && visitedTagged.contains(releases.get(next).commitId())) {
                    next++;
                }
                if (bestFound != null
                        && (next == releases.size() || releases.get(next).version().compareTo(bestFound) <= 0)) {
                    break;
                }
            }
        }
        return found;
    }

    /**
     * Commits reachable from {@code start} but not from {@code base} (all of them without a base), newest first, with
     * the paths each changed against its first parent when {@code withPaths}.
     */
    public List<CommitInfo> commitsSince(RevCommit start, Optional<ObjectId> base, boolean withPaths, int limit)
            throws IOException {
        List<CommitInfo> commits = new ArrayList<>();
        try (RevWalk walk = new RevWalk(repo);
                DiffFormatter diff = new DiffFormatter(DisabledOutputStream.INSTANCE)) {
            diff.setRepository(repo);
            diff.setDetectRenames(false);
            walk.markStart(walk.parseCommit(start));
            if (base.isPresent()) {
                walk.markUninteresting(walk.parseCommit(base.get()));
            }
            for (RevCommit c = walk.next(); c != null && commits.size() < limit; c = walk.next()) {
                boolean merge = c.getParentCount() > 1;
                List<String> paths = List.of();
                if (withPaths && !merge) {
                    Set<String> changed = new HashSet<>();
                    for (DiffEntry entry : diff.scan(c.getParentCount() == 0 ? null : c.getParent(0).getTree(),
                            c.getTree())) {
                        changed.add(entry.getChangeType() == DiffEntry.ChangeType.DELETE
                                ? entry.getOldPath()
                                : entry.getNewPath());
                        if (entry.getChangeType() == DiffEntry.ChangeType.RENAME) {
                            changed.add(entry.getOldPath());
                        }
                    }
                    paths = List.copyOf(changed);
                }
                String message = c.getFullMessage();
                int newline = message.indexOf('\n');
                String body = newline < 0 ? "" : message.substring(newline + 1);
                commits.add(new CommitInfo(c.name(), c.getShortMessage(), body, merge, paths));
            }
        }
        return commits;
    }

    /** A file's text at a commit; empty when the commit has no such file. Files over the limit are an error. */
    public Optional<String> readFile(RevCommit commit, String path) throws IOException {
        try (TreeWalk tree = TreeWalk.forPath(repo, path, commit.getTree())) {
            if (tree == null || tree.getFileMode(0).getObjectType() != Constants.OBJ_BLOB) {
                return Optional.empty();
            }
            ObjectLoader loader = repo.open(tree.getObjectId(0));
            if (loader.getSize() > MAX_FILE_BYTES) {
                throw new IOException(path + " is larger than " + MAX_FILE_BYTES + " bytes");
            }
            return Optional.of(new String(loader.getBytes(), StandardCharsets.UTF_8));
        }
    }
}
