package dev.conveyor.versioner.client;

import java.io.IOException;
import java.util.Optional;

import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.api.errors.GitAPIException;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectInserter;
import org.eclipse.jgit.lib.PersonIdent;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.lib.TagBuilder;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.transport.PushResult;
import org.eclipse.jgit.transport.RefSpec;
import org.eclipse.jgit.transport.RemoteRefUpdate;

import dev.conveyor.stage.git.GitAccess;
import dev.conveyor.stage.git.GitFailure;

/**
 * Creates an annotated tag and pushes it, never forcing: a tag that appeared on the remote meanwhile makes the push
 * fail as {@link Outcome#REJECTED}, and the caller recomputes. The tag object is written to the mirror's object store
 * but no local ref is made, so a rejected push leaves nothing behind that a later fetch would have to undo.
 */
public final class TagPublisher {

    /** What happened to the push. */
    public enum Outcome {
        PUSHED, REJECTED
    }

    /** The outcome and, when rejected, what the remote said. */
    public record Result(Outcome outcome, Optional<String> remoteMessage) {
    }

    private final GitAccess access;

    public TagPublisher(GitAccess access) {
        this.access = access;
    }

    /** Tags {@code commit} as {@code name} with {@code message} and pushes the tag to {@code url}. */
    public Result publish(Repository repo, String url, String name, RevCommit commit, PersonIdent tagger,
            String message) {
        try (Git git = Git.wrap(repo); ObjectInserter inserter = repo.newObjectInserter()) {
            TagBuilder tag = new TagBuilder();
            tag.setTag(name);
            tag.setObjectId(commit);
            tag.setTagger(tagger);
            tag.setMessage(message);
            ObjectId tagId = inserter.insert(tag);
            inserter.flush();

            Iterable<PushResult> results = access.apply(git.push())
                    .setRemote(url)
                    .setRefSpecs(new RefSpec(tagId.name() + ":" + Constants.R_TAGS + name))
                    .setForce(false)
                    .call();
            for (PushResult result : results) {
                RemoteRefUpdate update = result.getRemoteUpdate(Constants.R_TAGS + name);
                if (update != null && update.getStatus() != RemoteRefUpdate.Status.OK) {
                    return new Result(Outcome.REJECTED, Optional.ofNullable(update.getMessage())
                            .or(() -> Optional.of(update.getStatus().name())));
                }
            }
            return new Result(Outcome.PUSHED, Optional.empty());
        } catch (GitAPIException | IOException e) {
            throw GitFailure.classify(e, url);
        }
    }
}
