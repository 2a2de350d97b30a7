package dev.conveyor.fluxsync.service;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import org.jboss.logging.Logger;

import dev.conveyor.fluxsync.client.KubeCluster;
import dev.conveyor.fluxsync.domain.LiveComparison;
import dev.conveyor.fluxsync.domain.Manifest;
import dev.conveyor.fluxsync.domain.ProblemReason;
import dev.conveyor.fluxsync.domain.SyncProblem;

/**
 * Phase "apply": puts objects into the cluster in the order given, each only when it differs from the live object
 * (absent, changed in git, or drifted), labelled with the repository. An object the API server refuses is a problem of
 * its owner; the others still apply. {@link #applyAll} is Helm's all-or-nothing for one release: when a kind of the
 * rendering is not served, nothing is applied.
 */
final class Applier {

    private static final Logger LOG = Logger.getLogger(Applier.class);

    /**
     * What applying did.
     *
     * @param created objects created
     * @param updated objects updated (drifted ones included)
     * @param unchanged objects equal to git
     * @param drifted objects changed behind git's back and restored
     * @param kept the objects that are git's (for the inventory), applied or not
     * @param problems the objects refused
     */
    record Applied(int created, int updated, int unchanged, int drifted, List<Manifest> kept,
            List<SyncProblem> problems) {

        static final Applied NOTHING = new Applied(0, 0, 0, 0, List.of(), List.of());

        /** Whether an object was created or updated. */
        boolean touched() {
            return created + updated > 0;
        }

        Applied plus(Applied o) {
            List<Manifest> k = new ArrayList<>(kept);
            k.addAll(o.kept);
            List<SyncProblem> p = new ArrayList<>(problems);
            p.addAll(o.problems);
            return new Applied(created + o.created, updated + o.updated, unchanged + o.unchanged, drifted + o.drifted,
                    List.copyOf(k), List.copyOf(p));
        }
    }

    /** The live objects of the repository, listed once per kind and sync; empty for a kind not served. */
    static final class LiveObjects {
        private final Map<String, Optional<Map<String, Map<String, Object>>>> byKind = new HashMap<>();

        void forget() {
            byKind.clear();
        }
    }

    private final KubeCluster cluster;

    Applier(KubeCluster cluster) {
        this.cluster = cluster;
    }

    private Optional<Map<String, Map<String, Object>>> live(RepoSpec repo, LiveObjects live, Manifest m) {
        return live.byKind.computeIfAbsent(m.ref().apiVersion() + " " + m.ref().kind(), k -> cluster.listServed(m
                .ref().apiVersion(), m.ref().kind(), repo.name()));
    }

    /**
     * The problem of a rendering that holds kinds the server does not serve (every such kind named, with what replaces
     * a removed built-in API), or empty when all are served.
     */
    Optional<SyncProblem> unserved(RepoSpec repo, LiveObjects live, String owner, List<Manifest> manifests) {
        Set<String> missing = new LinkedHashSet<>();
        boolean removed = false;
        for (Manifest m : manifests) {
            if (live(repo, live, m).isEmpty()) {
                missing.add(RemovedApis.notServed(m.ref().apiVersion(), m.ref().kind()));
                removed |= RemovedApis.builtIn(m.ref().apiVersion());
            }
        }
        if (missing.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(new SyncProblem(owner, removed ? ProblemReason.REMOVED_API : ProblemReason.UNKNOWN_KIND,
                "nothing of the release was applied: " + String.join("; ", missing)));
    }

    /**
     * Applies the objects of one owner or several; {@code sensitive} owners get the API server's messages withheld
     * (their objects hold values decrypted from SOPS).
     */
    @SuppressWarnings("unchecked")
    Applied apply(RepoSpec repo, LiveObjects live, List<Manifest> manifests, Set<String> sensitive) {
        int created = 0;
        int updated = 0;
        int unchanged = 0;
        int drifted = 0;
        List<Manifest> kept = new ArrayList<>();
        List<SyncProblem> problems = new ArrayList<>();
        for (Manifest m : manifests) {
            kept.add(m);
            Optional<Map<String, Map<String, Object>>> ofKind = live(repo, live, m);
            if (ofKind.isEmpty()) {
                problems.add(new SyncProblem(m.owner(), RemovedApis.builtIn(m.ref().apiVersion())
                        ? ProblemReason.REMOVED_API
                        : ProblemReason.UNKNOWN_KIND,
                        ownerText(m) + ": " + m.ref() + ": " + RemovedApis.notServed(m
                                .ref().apiVersion(), m.ref().kind())));
                continue;
            }
            Map<String, Object> body = labelled(repo, m.body());
            String hash = LiveComparison.hash(body);
            ((Map<String, Object>) ((Map<String, Object>) body.get("metadata")).computeIfAbsent("annotations",
                    k -> new LinkedHashMap<>())).put(LiveComparison.HASH_ANNOTATION, hash);
            Map<String, Object> current = ofKind.get().get(m.ref().id());
            LiveComparison.State s = LiveComparison.compare(body, hash, current);
            if (s == LiveComparison.State.UNCHANGED) {
                unchanged++;
                continue;
            }
            try {
                cluster.apply(body, current);
            } catch (KubeCluster.ApplyException e) {
                String why = sensitive.contains(m.owner())
                        ? "the API server refused it (its message is withheld: the object holds values decrypted "
                                + "from SOPS)"
                        : e.unknownKind()
                                ? RemovedApis.notServed(m.ref().apiVersion(), m.ref().kind())
                                : e.getMessage();
                problems.add(new SyncProblem(m.owner(), e.unknownKind()
                        ? RemovedApis.builtIn(m.ref().apiVersion())
                                ? ProblemReason.REMOVED_API
                                : ProblemReason.UNKNOWN_KIND
                        : ProblemReason.APPLY_FAILED, ownerText(m) + ": " + m.ref() + ": " + why));
                continue;
            }
            switch (s) {
                case ABSENT -> created++;
                case DRIFTED -> {
                    updated++;
                    drifted++;
                    LOG.infof("[flux-sync] repo %s: %s was changed in the cluster; restored from git", repo.name(), m
                            .ref());
                }
                default -> updated++;
            }
        }
        return new Applied(created, updated, unchanged, drifted, List.copyOf(kept), List.copyOf(problems));
    }

    private static String ownerText(Manifest m) {
        return m.owner().startsWith("file:") ? m.owner().substring(5) : m.owner();
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> labelled(RepoSpec repo, Map<String, Object> body) {
        Map<String, Object> out = deepCopy(body);
        Map<String, Object> md = (Map<String, Object>) out.computeIfAbsent("metadata", k -> new LinkedHashMap<>());
        Map<String, Object> labels = (Map<String, Object>) md.computeIfAbsent("labels", k -> new LinkedHashMap<>());
        labels.put(KubeCluster.REPO_LABEL, repo.name());
        labels.put(KubeCluster.MANAGED_BY_LABEL, KubeCluster.MANAGED_BY);
        return out;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> deepCopy(Map<String, Object> map) {
        Map<String, Object> out = new LinkedHashMap<>();
        map.forEach((k, v) -> out.put(k, copyValue(v)));
        return out;
    }

    @SuppressWarnings("unchecked")
    private static Object copyValue(Object v) {
        if (v instanceof Map<?, ?> m) {
            return deepCopy((Map<String, Object>) m);
        }
        if (v instanceof List<?> l) {
            return new ArrayList<>(l.stream().map(Applier::copyValue).toList());
        }
        return v;
    }
}
