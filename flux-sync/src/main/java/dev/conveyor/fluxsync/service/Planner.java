package dev.conveyor.fluxsync.service;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import dev.conveyor.fluxsync.client.GitopsSnapshot;
import dev.conveyor.fluxsync.client.SopsDecryptor;
import dev.conveyor.fluxsync.domain.DesiredState;
import dev.conveyor.fluxsync.domain.Manifest;
import dev.conveyor.fluxsync.domain.ObjectRef;
import dev.conveyor.fluxsync.domain.ProblemReason;
import dev.conveyor.fluxsync.domain.ReleaseKind;
import dev.conveyor.fluxsync.domain.ReleaseSpec;
import dev.conveyor.fluxsync.domain.RepoLayout;
import dev.conveyor.fluxsync.domain.SyncProblem;

/**
 * Phase "plan": decrypts the SOPS files of a snapshot and reads the repository's layout into what it asks for. Files
 * that cannot be decrypted keep their objects (their owners are held) and their releases, read from the cleartext
 * keys, fail with {@link ProblemReason#DECRYPTION_FAILED}.
 */
final class Planner {

    /**
     * What a revision asks for.
     *
     * @param desired the objects and releases
     * @param problems what cannot be synced, found before applying
     * @param held owners whose previous objects are kept this round
     * @param undecrypted the release objects of files that cannot be decrypted, by release id, with their results
     * @param sensitive owners whose objects hold values decrypted from SOPS
     */
    record Plan(DesiredState desired, List<SyncProblem> problems, Set<String> held,
            Map<String, Undecrypted> undecrypted, Set<String> sensitive) {
    }

    /** A release object whose file cannot be decrypted. */
    record Undecrypted(ObjectRef ref, ReleaseResult result) {
    }

    private final String chartsDir;
    private final SopsDecryptor sops;

    Planner(String chartsDir, SopsDecryptor sops) {
        this.chartsDir = chartsDir;
        this.sops = sops;
    }

    /**
     * Plans {@code snapshot} of {@code repo}: its URL and branch tell which chart sources name this repository
     * ({@link RepoLayout.Self}).
     */
    Plan plan(RepoSpec repo, GitopsSnapshot snapshot) throws IOException {
        SopsDecryptor.Decrypted files = sops.decryptAll(snapshot.yamlFiles());
        DesiredState desired = new RepoLayout(chartsDir, new RepoLayout.Self(repo.url(), repo.branch())).parse(files
                .files(), snapshot.allPaths());
        List<SyncProblem> problems = new ArrayList<>(desired.problems());
        if (!snapshot.symlinks().isEmpty()) {
            // Symbolic links are never followed: each is reported where it is, one that leaves the repository
            // (absolute, or ../ past its root) as a problem too.
            List<DesiredState.Skipped> skipped = new ArrayList<>(desired.skipped());
            for (GitopsSnapshot.Symlink link : snapshot.symlinks().values()) {
                skipped.add(new DesiredState.Skipped(link.path(), link.describe()));
                if (link.leaves()) {
                    problems.add(new SyncProblem(Manifest.fileOwner(link.path()), ProblemReason.INVALID_FILE, link
                            .describe()));
                }
            }
            desired = new DesiredState(desired.objects(), desired.releases(), desired.problems(), desired
                    .heldOwners(), List.copyOf(skipped));
        }
        Set<String> held = new LinkedHashSet<>(desired.heldOwners());
        Map<String, Undecrypted> undecrypted = new LinkedHashMap<>();
        files.failures().forEach((path, message) -> {
            String owner = Manifest.fileOwner(path);
            problems.add(new SyncProblem(owner, ProblemReason.DECRYPTION_FAILED, message));
            held.add(owner);
            for (ObjectRef ref : releaseRefs(path, snapshot.yamlFiles().get(path))) {
                held.add(Manifest.releaseOwner(ref.namespace(), ref.name()));
                undecrypted.put(ref.namespace() + "/" + ref.name(), new Undecrypted(ref, new ReleaseResult(ref
                        .namespace(), ref.name(), ref.name(), ReleaseResult.State.FAILED, List.of(),
                        ProblemReason.DECRYPTION_FAILED, message, false)));
            }
        });
        return new Plan(desired, problems, held, undecrypted, sensitiveOwners(files, desired));
    }

    /**
     * The owners holding decrypted values: the decrypted files, the releases they declare, and the releases whose
     * {@code valuesFrom} names an object of a decrypted file.
     */
    private static Set<String> sensitiveOwners(SopsDecryptor.Decrypted files, DesiredState desired) {
        Set<String> owners = new HashSet<>();
        files.decrypted().forEach(path -> owners.add(Manifest.fileOwner(path)));
        if (owners.isEmpty()) {
            return owners;
        }
        Set<String> decryptedObjects = new HashSet<>();
        for (Manifest m : desired.objects()) {
            if (owners.contains(m.owner())) {
                decryptedObjects.add(m.ref().kind() + " " + m.ref().namespace() + "/" + m.ref().name());
            }
        }
        for (ReleaseSpec r : desired.releases()) {
            if (owners.contains(r.object().owner()) || r.valuesFrom().stream().anyMatch(v -> decryptedObjects
                    .contains(v.kind() + " " + v.namespace() + "/" + v.name()))) {
                owners.add(r.owner());
            }
        }
        return owners;
    }

    /** The release objects of a file that could not be decrypted, read from its cleartext keys. */
    private static List<ObjectRef> releaseRefs(String path, String text) {
        List<ObjectRef> out = new ArrayList<>();
        try {
            DesiredState plain = new RepoLayout("charts").parse(Map.of(path, text), Set.of());
            for (Manifest m : plain.objects()) {
                if (ReleaseKind.of(m.ref()).isPresent()) {
                    out.add(m.ref());
                }
            }
        } catch (RuntimeException e) {
            // Not even readable: only the file is held.
        }
        return out;
    }
}
