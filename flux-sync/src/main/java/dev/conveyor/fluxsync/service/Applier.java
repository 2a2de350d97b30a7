package dev.conveyor.fluxsync.service;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;

import org.jboss.logging.Logger;

import dev.conveyor.fluxsync.client.KubeCluster;
import dev.conveyor.fluxsync.domain.KindOrder;
import dev.conveyor.fluxsync.domain.LiveComparison;
import dev.conveyor.fluxsync.domain.Manifest;
import dev.conveyor.fluxsync.domain.ObjectRef;
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

    /**
     * The live objects of the repository, listed once per kind and sync; empty for a kind not served. Thread-safe:
     * the first caller of a kind lists it, the others wait for that list.
     */
    static final class LiveObjects {
        private final Map<String, CompletableFuture<Optional<Map<String, Map<String, Object>>>>> byKind = new ConcurrentHashMap<>();
        private final SyncTimings timings;
        private final Map<String, Prepared> prepared;

        LiveObjects() {
            this(new SyncTimings());
        }

        LiveObjects(SyncTimings timings) {
            this(timings, new ConcurrentHashMap<>());
        }

        /**
         * @param prepared the objects as applied (labelled, with their hash) by earlier syncs, kept by the caller
         *     between syncs: an object of the same {@link Manifest} (the same instance: a kept plan, a rendering read
         *     once) is not copied and hashed again
         */
        LiveObjects(SyncTimings timings, Map<String, Prepared> prepared) {
            this.timings = timings;
            this.prepared = prepared;
        }

        SyncTimings timings() {
            return timings;
        }

        void forget() {
            byKind.clear();
        }
    }

    private final KubeCluster cluster;

    Applier(KubeCluster cluster) {
        this.cluster = cluster;
    }

    private Optional<Map<String, Map<String, Object>>> live(RepoSpec repo, LiveObjects live, Manifest m) {
        String key = m.ref().apiVersion() + " " + m.ref().kind();
        CompletableFuture<Optional<Map<String, Map<String, Object>>>> mine = new CompletableFuture<>();
        CompletableFuture<Optional<Map<String, Map<String, Object>>>> listed = live.byKind.putIfAbsent(key, mine);
        if (listed == null) {
            long start = System.nanoTime();
            try {
                mine.complete(cluster.listServed(m.ref().apiVersion(), m.ref().kind(), repo.name()));
            } catch (RuntimeException e) {
                if (!(e instanceof KubeCluster.ListException)) {
                    live.byKind.remove(key, mine); // a failed list is kept for this sync: no object asks again
                }
                mine.completeExceptionally(e);
                throw e;
            } finally {
                live.timings.since(SyncTimings.LIST, start);
            }
            listed = mine;
        }
        try {
            return listed.join();
        } catch (CompletionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : e;
        }
    }

    /**
     * The object as this sync listed it, when the kind was listed (by an apply of this sync) and the list holds it;
     * empty otherwise. Only for objects this sync has not written since: the list is not updated by applies.
     */
    Optional<Map<String, Object>> listed(LiveObjects live, ObjectRef ref) {
        CompletableFuture<Optional<Map<String, Map<String, Object>>>> listed = live.byKind.get(ref.apiVersion() + " "
                + ref.kind());
        if (listed == null || !listed.isDone() || listed.isCompletedExceptionally()) {
            return Optional.empty();
        }
        return listed.join().map(objects -> objects.get(ref.id()));
    }

    /**
     * The problem of a rendering that holds kinds the server does not serve (every such kind named, with what replaces
     * a removed built-in API), or empty when all are served.
     */
    Optional<SyncProblem> unserved(RepoSpec repo, LiveObjects live, String owner, List<Manifest> manifests) {
        Set<String> missing = new LinkedHashSet<>();
        boolean removed = false;
        for (Manifest m : manifests) {
            Optional<Map<String, Map<String, Object>>> ofKind;
            try {
                ofKind = live(repo, live, m);
            } catch (KubeCluster.ListException e) {
                continue; // served or not is unknown: the apply reports the failed list
            }
            if (ofKind.isEmpty()) {
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
     * Applies the objects of one owner or several, one after the other in the order given; {@code sensitive} owners get
     * the API server's messages withheld (their objects hold values decrypted from SOPS).
     */
    Applied apply(RepoSpec repo, LiveObjects live, List<Manifest> manifests, Set<String> sensitive) {
        return apply(repo, live, manifests, sensitive, null);
    }

    /**
     * Applies the objects like {@link #apply(RepoSpec, LiveObjects, List, Set)}, but with {@code executor} the
     * objects of one tier of the apply order ({@link KindOrder#tier}: namespaces, then CRDs, ..., workloads, custom
     * resources) are applied at once on it, each tier after the previous one has been applied entirely. The
     * {@code manifests} must be in apply order ({@link KindOrder#APPLY}). The counts, kept objects and problems are
     * those of the serial apply, in the same order.
     */
    Applied apply(RepoSpec repo, LiveObjects live, List<Manifest> manifests, Set<String> sensitive,
            Executor executor) {
        Outcome[] outcomes = new Outcome[manifests.size()];
        if (executor != null) {
            prefetch(repo, live, manifests, executor);
        }
        if (executor == null || manifests.size() < 2) {
            for (int i = 0; i < manifests.size(); i++) {
                outcomes[i] = applyOne(repo, live, manifests.get(i), sensitive);
            }
        } else {
            int from = 0;
            while (from < manifests.size()) {
                int tier = KindOrder.tier(manifests.get(from).ref().kind());
                int to = from;
                while (to < manifests.size() && KindOrder.tier(manifests.get(to).ref().kind()) == tier) {
                    to++;
                }
                List<CompletableFuture<Void>> running = new ArrayList<>();
                for (int i = from; i < to; i++) {
                    int index = i;
                    running.add(CompletableFuture.runAsync(() -> outcomes[index] = applyOne(repo, live, manifests.get(
                            index), sensitive), executor));
                }
                try {
                    CompletableFuture.allOf(running.toArray(CompletableFuture[]::new)).join();
                } catch (CompletionException e) {
                    throw e.getCause() instanceof RuntimeException r ? r : e;
                }
                from = to;
            }
        }
        int created = 0;
        int updated = 0;
        int unchanged = 0;
        int drifted = 0;
        List<SyncProblem> problems = new ArrayList<>();
        for (int i = 0; i < outcomes.length; i++) {
            Outcome o = outcomes[i];
            if (o.problem != null) {
                problems.add(o.problem);
                continue;
            }
            switch (o.state) {
                case ABSENT -> created++;
                case DRIFTED -> {
                    updated++;
                    drifted++;
                    LOG.infof("[flux-sync] repo %s: %s was changed in the cluster; restored from git", repo.name(),
                            manifests.get(i).ref());
                }
                case CHANGED_IN_GIT -> updated++;
                case UNCHANGED -> unchanged++;
            }
        }
        return new Applied(created, updated, unchanged, drifted, List.copyOf(manifests), List.copyOf(problems));
    }

    /**
     * Starts listing the live objects of every built-in kind of {@code manifests} on {@code executor}, so the lists run
     * at once and while earlier tiers apply. Kinds of other groups are listed at their turn as before: their CRD may
     * be applied by an earlier tier of this sync.
     */
    void prefetch(RepoSpec repo, LiveObjects live, List<Manifest> manifests, Executor executor) {
        Map<String, Manifest> byKind = new LinkedHashMap<>();
        for (Manifest m : manifests) {
            if (RemovedApis.builtIn(m.ref().apiVersion())) {
                byKind.putIfAbsent(m.ref().apiVersion() + " " + m.ref().kind(), m);
            }
        }
        for (Manifest m : byKind.values()) {
            if (!live.byKind.containsKey(m.ref().apiVersion() + " " + m.ref().kind())) {
                CompletableFuture.runAsync(() -> {
                    try {
                        live(repo, live, m);
                    } catch (RuntimeException e) {
                        // listed again, and the failure reported, by the apply that needs it
                    }
                }, executor);
            }
        }
    }

    /**
     * An object as applied: {@code body} labelled and stamped with its {@code hash}, made from {@code source} (never
     * changed after).
     */
    record Prepared(Manifest source, Map<String, Object> body, String hash) {
    }

    /**
     * {@code m} labelled with the repository and stamped with its hash; taken from {@code live}'s prepared objects
     * when made from this very manifest. Objects that hold values decrypted from SOPS are never kept.
     */
    @SuppressWarnings("unchecked")
    private static Prepared prepare(RepoSpec repo, LiveObjects live, Manifest m, boolean sensitive) {
        String key = m.owner() + "\n" + m.ref().id();
        Prepared p = sensitive ? null : live.prepared.get(key);
        if (p != null && p.source() == m) {
            return p;
        }
        Map<String, Object> body = labelled(repo, m.body());
        String hash = LiveComparison.hash(body);
        ((Map<String, Object>) ((Map<String, Object>) body.get("metadata")).computeIfAbsent("annotations",
                k -> new LinkedHashMap<>())).put(LiveComparison.HASH_ANNOTATION, hash);
        p = new Prepared(m, body, hash);
        if (!sensitive) {
            live.prepared.put(key, p);
        }
        return p;
    }

    /** What applying one object did: its state before (null when it was not applied) or its problem. */
    private record Outcome(LiveComparison.State state, SyncProblem problem) {
    }

    @SuppressWarnings("unchecked")
    private Outcome applyOne(RepoSpec repo, LiveObjects live, Manifest m, Set<String> sensitive) {
        Optional<Map<String, Map<String, Object>>> ofKind;
        try {
            ofKind = live(repo, live, m);
        } catch (KubeCluster.ListException e) {
            // Not applied: without the live objects an unchanged object would look absent and be written again (and
            // the whole kind with it). Retried at the next sync; the object stays as it is, and is not pruned.
            return new Outcome(null, new SyncProblem(m.owner(), ProblemReason.APPLY_FAILED, ownerText(m) + ": " + m
                    .ref() + ": not applied: " + e.getMessage()));
        }
        if (ofKind.isEmpty()) {
            return new Outcome(null, new SyncProblem(m.owner(), RemovedApis.builtIn(m.ref().apiVersion())
                    ? ProblemReason.REMOVED_API
                    : ProblemReason.UNKNOWN_KIND,
                    ownerText(m) + ": " + m.ref() + ": " + RemovedApis.notServed(m
                            .ref().apiVersion(), m.ref().kind())));
        }
        long start = System.nanoTime();
        Prepared prepared = prepare(repo, live, m, sensitive.contains(m.owner()));
        Map<String, Object> body = prepared.body();
        String hash = prepared.hash();
        Map<String, Object> current = ofKind.get().get(m.ref().id());
        LiveComparison.State s = LiveComparison.compare(body, hash, current);
        live.timings.since(SyncTimings.COMPARE, start);
        if (s == LiveComparison.State.UNCHANGED) {
            return new Outcome(s, null);
        }
        start = System.nanoTime();
        try {
            cluster.apply(body, current);
        } catch (KubeCluster.ApplyException e) {
            String why = sensitive.contains(m.owner())
                    ? "the API server refused it (its message is withheld: the object holds values decrypted "
                            + "from SOPS)"
                    : e.unknownKind()
                            ? RemovedApis.notServed(m.ref().apiVersion(), m.ref().kind())
                            : e.getMessage();
            return new Outcome(null, new SyncProblem(m.owner(), e.unknownKind()
                    ? RemovedApis.builtIn(m.ref().apiVersion())
                            ? ProblemReason.REMOVED_API
                            : ProblemReason.UNKNOWN_KIND
                    : ProblemReason.APPLY_FAILED, ownerText(m) + ": " + m.ref() + ": " + why));
        } finally {
            live.timings.since(SyncTimings.WRITE, start);
        }
        return new Outcome(s, null);
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
