package dev.conveyor.testkit.git;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.eclipse.jgit.dircache.DirCache;
import org.eclipse.jgit.dircache.DirCacheBuilder;
import org.eclipse.jgit.dircache.DirCacheEditor;
import org.eclipse.jgit.dircache.DirCacheEntry;
import org.eclipse.jgit.lib.CommitBuilder;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.FileMode;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectInserter;
import org.eclipse.jgit.lib.PersonIdent;
import org.eclipse.jgit.lib.RefUpdate;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.lib.TagBuilder;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.revwalk.RevWalk;

/**
 * Builds one commit in a {@link BareRepo} without a work tree: the parent's tree is loaded into an in-memory index,
 * edited, written as new objects, and the branch is moved with a compare-and-set ref update. Writing objects directly
 * avoids a temp clone and a push per seed, and the compare-and-set makes a concurrent writer fail loudly instead of
 * being silently overwritten.
 *
 * <pre>{@code
 * String id = repo.writer().file("app.yaml", "replicas: 1\n").message("seed").tag("v1.0.0").commit();
 * }</pre>
 */
public final class RepoWriter {

    /** The identity every seeded commit uses unless {@link #author} overrides it. */
    public static final PersonIdent DEFAULT_IDENT = new PersonIdent("Conveyor Testkit", "testkit@conveyor.dev");

    private final BareRepo repo;
    private final Map<String, String> files = new LinkedHashMap<>();
    private final Set<String> deletions = new LinkedHashSet<>();
    private final Map<String, String> annotatedTags = new LinkedHashMap<>();
    private final List<String> lightweightTags = new ArrayList<>();
    private String branch = GitRepos.DEFAULT_BRANCH;
    private String message = "testkit commit";
    private String authorName = DEFAULT_IDENT.getName();
    private String authorEmail = DEFAULT_IDENT.getEmailAddress();
    private Instant time;

    RepoWriter(BareRepo repo) {
        this.repo = repo;
    }

    /** Adds or replaces a file (UTF-8 content) at a slash-separated path. */
    public RepoWriter file(String path, String content) {
        files.put(path, content);
        deletions.remove(path);
        return this;
    }

    /** Removes a file present in the parent commit. */
    public RepoWriter delete(String path) {
        deletions.add(path);
        files.remove(path);
        return this;
    }

    /** The commit message. */
    public RepoWriter message(String message) {
        this.message = message;
        return this;
    }

    /** The branch to commit to (default {@code main}); a missing branch is created from nothing (no parent). */
    public RepoWriter branch(String branch) {
        this.branch = branch;
        return this;
    }

    /** Author and committer identity (default {@link #DEFAULT_IDENT}). */
    public RepoWriter author(String name, String email) {
        this.authorName = name;
        this.authorEmail = email;
        return this;
    }

    /** A fixed author/committer time (UTC), so commit ids are reproducible; default is now. */
    public RepoWriter at(Instant time) {
        this.time = time;
        return this;
    }

    /** Also creates a lightweight tag on the new commit. */
    public RepoWriter tag(String name) {
        lightweightTags.add(name);
        return this;
    }

    /** Also creates an annotated tag on the new commit, tagged by the same identity. */
    public RepoWriter annotatedTag(String name, String tagMessage) {
        annotatedTags.put(name, tagMessage);
        return this;
    }

    /**
     * Writes the commit and tags and moves the branch.
     *
     * @return the new commit id
     * @throws IllegalStateException if the branch moved concurrently or a tag already exists
     */
    public String commit() {
        try (Repository db = repo.open();
                ObjectInserter inserter = db.newObjectInserter();
                RevWalk walk = new RevWalk(db)) {
            ObjectId parent = BareRepo.resolveCommit(db, branch);
            DirCache index = DirCache.newInCore();
            if (parent != null) {
                RevCommit parentCommit = walk.parseCommit(parent);
                DirCacheBuilder builder = index.builder();
                builder.addTree(new byte[0], 0, walk.getObjectReader(), parentCommit.getTree());
                builder.finish();
            }
            DirCacheEditor editor = index.editor();
            for (String path : deletions) {
                editor.add(new DirCacheEditor.DeletePath(path));
            }
            for (Map.Entry<String, String> file : files.entrySet()) {
                ObjectId blob = inserter.insert(Constants.OBJ_BLOB, file.getValue().getBytes(StandardCharsets.UTF_8));
                editor.add(new DirCacheEditor.PathEdit(file.getKey()) {
                    @Override
                    public void apply(DirCacheEntry entry) {
                        entry.setFileMode(FileMode.REGULAR_FILE);
                        entry.setObjectId(blob);
                    }
                });
            }
            editor.finish();
            ObjectId tree = index.writeTree(inserter);

            PersonIdent ident = time == null
                    ? new PersonIdent(authorName, authorEmail)
                    : new PersonIdent(authorName, authorEmail, time, ZoneOffset.UTC);
            CommitBuilder commit = new CommitBuilder();
            commit.setTreeId(tree);
            if (parent != null) {
                commit.setParentId(parent);
            }
            commit.setAuthor(ident);
            commit.setCommitter(ident);
            commit.setMessage(message.endsWith("\n") ? message : message + "\n");
            ObjectId commitId = inserter.insert(commit);

            Map<String, ObjectId> tagTargets = new LinkedHashMap<>();
            for (String tag : lightweightTags) {
                tagTargets.put(tag, commitId);
            }
            for (Map.Entry<String, String> tag : annotatedTags.entrySet()) {
                TagBuilder builder = new TagBuilder();
                builder.setTag(tag.getKey());
                builder.setObjectId(commitId, Constants.OBJ_COMMIT);
                builder.setTagger(ident);
                builder.setMessage(tag.getValue().endsWith("\n") ? tag.getValue() : tag.getValue() + "\n");
                tagTargets.put(tag.getKey(), inserter.insert(builder));
            }
            inserter.flush();

            update(db, Constants.R_HEADS + branch, parent, commitId, "commit: " + message);
            for (Map.Entry<String, ObjectId> tag : tagTargets.entrySet()) {
                update(db, Constants.R_TAGS + tag.getKey(), ObjectId.zeroId(), tag.getValue(), "tag");
            }
            return commitId.name();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write to " + repo.path(), e);
        }
    }

    private static void update(Repository db, String refName, ObjectId expected, ObjectId newId, String reason)
            throws IOException {
        RefUpdate update = db.updateRef(refName);
        // A null/zero expected id means "must not exist yet": tags are never moved, new branches never clobbered.
        update.setExpectedOldObjectId(expected == null ? ObjectId.zeroId() : expected);
        update.setNewObjectId(newId);
        update.setRefLogMessage(reason, false);
        RefUpdate.Result result = update.update();
        switch (result) {
            case NEW, FAST_FORWARD, FORCED, NO_CHANGE -> {
            }
            default -> throw new IllegalStateException("cannot update " + refName + ": " + result);
        }
    }
}
