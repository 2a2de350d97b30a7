package dev.conveyor.fluxsync.client;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.jboss.logging.Logger;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;

/**
 * Shards GitOps repositories across flux-sync replicas with Kubernetes Leases ({@code coordination.k8s.io/v1}), the
 * way client-go's leader election uses them, one Lease per repository ({@code flux-sync-repo-<repo>}) plus one per
 * replica ({@code flux-sync-member-<identity>}, to count the live replicas).
 *
 * <p>
 * Every {@code renewPeriod} a replica renews its member Lease and its repository Leases (an update carrying the
 * resourceVersion it read: a concurrent writer makes it fail with 409 and the repository is lost), counts the live
 * members, and takes free or expired repository Leases up to its fair share ({@code ceil(repositories / live
 * replicas)}), preferring the repositories that rank it highest (rendezvous hashing, so replicas pick different
 * ones); above its share it hands the surplus back when the repository is idle. A Lease is expired when its
 * resourceVersion has not changed for its {@code leaseDurationSeconds}, measured on this replica's monotonic clock from
 * when this replica saw it change (as client-go does: no clock is compared across machines). A dead replica's
 * repositories are therefore taken over within {@code leaseDuration + renewPeriod} plus one sync.
 *
 * <p>
 * <strong>The fence.</strong> {@link #owns} is true while the last successful renewal was <em>sent</em> less than
 * {@code leaseDuration} ago on the monotonic clock. Another replica can only take the Lease after it observed no
 * change for {@code leaseDuration}, counted from a moment after that request was sent, so whenever {@code owns} is
 * true no other replica owns the repository (assuming clocks that run at the same rate). What is left: a replica that
 * passed the check and then pauses (GC, SIGSTOP) before its write reaches the API server.
 */
public final class RepoLeases implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(RepoLeases.class);
    /** Label on the member Leases. */
    public static final String MEMBER_LABEL = "conveyor.dev/flux-sync-member";

    /** What the owner of this component does when repositories come and go. Calls must return quickly. */
    public interface Listener {
        /** This replica now owns the repository (a takeover: sync it from git, resume its waits). */
        void acquired(String repo);

        /** This replica no longer owns the repository. */
        void lost(String repo);

        /**
         * Runs {@code handBack} while the repository is idle (no sync of this replica running) and returns true, or
         * returns false at once when it is busy (it is tried again on the next renewal).
         */
        boolean whileIdle(String repo, Runnable handBack);
    }

    /**
     * @param namespace where the Leases are
     * @param identity this replica's holder identity (the pod name)
     * @param leaseDuration how long a Lease is valid without renewal
     * @param renewPeriod how often Leases are renewed and free ones taken
     */
    public record Settings(String namespace, String identity, Duration leaseDuration, Duration renewPeriod) {
    }

    /** A Lease this replica holds: as last written, and until when (monotonic nanos) it may act on it. */
    private record Held(Lease lease, long validUntil) {
    }

    /** Another holder's Lease as this replica last saw it change. */
    private record Seen(String resourceVersion, long since) {
    }

    private final KubernetesClient client;
    private final Settings settings;
    private final List<String> repos;
    private final Listener listener;
    private final Map<String, Long> rank = new ConcurrentHashMap<>();
    private final Map<String, Held> held = new ConcurrentHashMap<>();
    private final Map<String, Seen> seen = new ConcurrentHashMap<>();
    private final ScheduledExecutorService loop = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "flux-sync-leases");
        t.setDaemon(true);
        return t;
    });
    private volatile boolean stopped;
    /** This replica's member Lease as last written. */
    private Lease member;

    public RepoLeases(KubernetesClient client, Settings settings, Set<String> repos, Listener listener) {
        this.client = client;
        this.settings = settings;
        this.repos = repos.stream().sorted().toList();
        this.listener = listener;
        this.repos.forEach(r -> rank.put(r, score(settings.identity(), r)));
    }

    /** Starts renewing and taking Leases, the first round at once. */
    public RepoLeases start() {
        loop.scheduleWithFixedDelay(this::round, 0, settings.renewPeriod().toMillis(), TimeUnit.MILLISECONDS);
        return this;
    }

    public String identity() {
        return settings.identity();
    }

    /** Whether this replica holds the repository's Lease now: the fence (see the class comment). */
    public boolean owns(String repo) {
        Held h = held.get(repo);
        return h != null && !stopped && System.nanoTime() - h.validUntil() < 0;
    }

    /** The repositories this replica holds now. */
    public Set<String> owned() {
        return held.keySet().stream().filter(this::owns).collect(java.util.stream.Collectors.toSet());
    }

    public static String leaseName(String repo) {
        return "flux-sync-repo-" + repo;
    }

    static String memberLeaseName(String identity) {
        String n = identity.toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z0-9-]", "-");
        return ("flux-sync-member-" + n).substring(0, Math.min(63, 17 + n.length()));
    }

    /**
     * One round: renew, look at every Lease (so that an expiry is timed from the first round that saw the Lease, not
     * from when this replica first wanted it), count members, hand back the surplus, take free Leases. Never throws.
     */
    void round() {
        if (stopped) {
            return;
        }
        try {
            renewMember();
            for (String repo : List.copyOf(held.keySet())) {
                renew(repo);
            }
            Map<String, Lease> all = new java.util.HashMap<>();
            for (Lease l : client.leases().inNamespace(settings.namespace()).withLabel(KubeCluster.MANAGED_BY_LABEL,
                    KubeCluster.MANAGED_BY).list().getItems()) {
                all.put(l.getMetadata().getName(), l);
            }
            int live = liveMembers(all);
            int share = (repos.size() + live - 1) / Math.max(1, live);
            Map<String, Boolean> free = new java.util.HashMap<>();
            for (String repo : repos) {
                Lease l = all.get(leaseName(repo));
                if (!held.containsKey(repo)) {
                    // A Lease naming this identity that this process does not hold was held by this replica's
                    // previous process (a restart with the same pod name): taken back at once, as client-go does.
                    free.put(repo, l == null || heldByMyIdentity(l) || expired("repo " + repo, l));
                }
            }
            if (held.size() > share) {
                handBack(held.size() - share);
            }
            for (String repo : repos.stream().sorted(Comparator.comparing((String r) -> rank.get(r)).reversed())
                    .toList()) {
                if (held.size() >= share || stopped) {
                    break;
                }
                if (Boolean.TRUE.equals(free.get(repo))) {
                    tryAcquire(repo, all.get(leaseName(repo)));
                }
            }
        } catch (RuntimeException e) {
            LOG.warnf("[flux-sync] leases: round failed (%s): %s", e.getClass().getSimpleName(), e.getMessage());
        }
    }

    /** Renews this replica's member Lease: one update with the Lease as last written, or a create. */
    private void renewMember() {
        var leases = client.leases().inNamespace(settings.namespace());
        if (member != null) {
            try {
                member = leases.resource(new LeaseBuilder(member).editSpec().withRenewTime(now()).endSpec().build())
                        .update();
                return;
            } catch (KubernetesClientException e) {
                member = null;
                if (e.getCode() != 409 && e.getCode() != 404) {
                    throw e;
                }
            }
        }
        Lease lease = new LeaseBuilder().withNewMetadata().withName(memberLeaseName(settings.identity()))
                .withNamespace(settings.namespace()).addToLabels(MEMBER_LABEL, "true").addToLabels(
                        KubeCluster.MANAGED_BY_LABEL, KubeCluster.MANAGED_BY)
                .endMetadata().withNewSpec().withHolderIdentity(settings.identity()).withLeaseDurationSeconds(
                        durationSeconds())
                .withRenewTime(now()).endSpec().build();
        member = leases.resource(lease).createOr(op -> op.update());
    }

    /** The members whose Lease changed within its duration (this replica included), deleting dead ones. */
    private int liveMembers(Map<String, Lease> all) {
        int live = 1;
        String mine = memberLeaseName(settings.identity());
        for (Lease l : all.values()) {
            String name = l.getMetadata().getName();
            if (l.getMetadata().getLabels() == null || !l.getMetadata().getLabels().containsKey(MEMBER_LABEL) || name
                    .equals(mine)) {
                continue;
            }
            if (!expired("member " + name, l)) {
                live++;
            } else {
                try {
                    client.leases().inNamespace(settings.namespace()).resource(l).delete();
                } catch (KubernetesClientException e) {
                    LOG.debugf("cannot delete the expired member lease %s: %s", name, e.getMessage());
                }
                seen.remove("member " + name);
            }
        }
        return live;
    }

    private boolean heldByMyIdentity(Lease lease) {
        return lease.getSpec() != null && settings.identity().equals(lease.getSpec().getHolderIdentity());
    }

    /** Whether another holder's Lease is free or has not changed for its duration, as this replica saw it. */
    private boolean expired(String key, Lease lease) {
        if (lease.getSpec() == null || lease.getSpec().getHolderIdentity() == null || lease.getSpec()
                .getHolderIdentity().isEmpty()) {
            return true;
        }
        String rv = lease.getMetadata().getResourceVersion();
        long now = System.nanoTime();
        Seen s = seen.get(key);
        if (s == null || !s.resourceVersion().equals(rv)) {
            seen.put(key, new Seen(rv, now));
            return false;
        }
        Integer secs = lease.getSpec().getLeaseDurationSeconds();
        long duration = secs == null ? settings.leaseDuration().toNanos() : TimeUnit.SECONDS.toNanos(secs);
        return now - s.since() >= duration;
    }

    /** Takes the free or expired Lease {@code current} (null: none yet), unless another replica is quicker. */
    private void tryAcquire(String repo, Lease current) {
        long sent = System.nanoTime();
        Lease written;
        try {
            if (current == null) {
                written = client.leases().inNamespace(settings.namespace()).resource(new LeaseBuilder()
                        .withNewMetadata().withName(leaseName(repo)).withNamespace(settings.namespace())
                        .addToLabels(KubeCluster.MANAGED_BY_LABEL, KubeCluster.MANAGED_BY).endMetadata()
                        .withNewSpec().withHolderIdentity(settings.identity()).withLeaseDurationSeconds(
                                durationSeconds())
                        .withAcquireTime(now()).withRenewTime(now()).withLeaseTransitions(0).endSpec().build())
                        .create();
            } else {
                boolean mine = settings.identity().equals(current.getSpec() == null
                        ? null
                        : current.getSpec().getHolderIdentity());
                Lease next = new LeaseBuilder(current).editSpec().withHolderIdentity(settings.identity())
                        .withLeaseDurationSeconds(durationSeconds()).withAcquireTime(now()).withRenewTime(now())
                        .withLeaseTransitions((current.getSpec().getLeaseTransitions() == null
                                ? 0
                                : current.getSpec().getLeaseTransitions()) + (mine ? 0 : 1))
                        .endSpec().build();
                written = client.leases().inNamespace(settings.namespace()).resource(next).update();
            }
        } catch (KubernetesClientException e) {
            if (e.getCode() != 409) {
                LOG.debugf("cannot take the lease of %s: %s", repo, e.getMessage());
            }
            return;
        }
        held.put(repo, new Held(written, sent + settings.leaseDuration().toNanos()));
        seen.remove("repo " + repo);
        LOG.infof("[flux-sync] replica %s owns repository %s (lease %s/%s)", settings.identity(), repo, settings
                .namespace(), leaseName(repo));
        listener.acquired(repo);
    }

    private void renew(String repo) {
        Held h = held.get(repo);
        if (h == null) {
            return;
        }
        long sent = System.nanoTime();
        try {
            Lease next = new LeaseBuilder(h.lease()).editSpec().withRenewTime(now()).endSpec().build();
            Lease written = client.leases().inNamespace(settings.namespace()).resource(next).update();
            held.put(repo, new Held(written, sent + settings.leaseDuration().toNanos()));
        } catch (KubernetesClientException e) {
            if (e.getCode() == 409 || e.getCode() == 404) {
                // Someone else wrote the Lease: it is theirs now.
                lose(repo, "its lease was changed by another writer");
            } else if (System.nanoTime() - h.validUntil() >= 0) {
                lose(repo, "its lease could not be renewed in time (" + e.getMessage() + ")");
            }
        }
    }

    private void lose(String repo, String why) {
        if (held.remove(repo) != null) {
            LOG.warnf("[flux-sync] replica %s lost repository %s: %s", settings.identity(), repo, why);
            listener.lost(repo);
        }
    }

    /** Hands back up to {@code count} repositories, those that rank this replica lowest, when idle. */
    private void handBack(int count) {
        int left = count;
        for (String repo : held.keySet().stream().sorted(Comparator.comparing(rank::get)).toList()) {
            if (left == 0) {
                break;
            }
            if (listener.whileIdle(repo, () -> release(repo))) {
                left--;
            }
        }
    }

    /** Stops acting on the repository, then frees its Lease so that another replica takes it at once. */
    private void release(String repo) {
        Held h = held.remove(repo);
        if (h == null) {
            return;
        }
        listener.lost(repo);
        try {
            Lease next = new LeaseBuilder(h.lease()).editSpec().withHolderIdentity("").endSpec().build();
            client.leases().inNamespace(settings.namespace()).resource(next).update();
            LOG.infof("[flux-sync] replica %s handed back repository %s", settings.identity(), repo);
        } catch (KubernetesClientException e) {
            LOG.debugf("cannot free the lease of %s (it expires): %s", repo, e.getMessage());
        }
    }

    /**
     * Stops renewing without freeing anything: the Leases expire and other replicas take the repositories after
     * {@code leaseDuration} (what a crash looks like to them). {@link #owns} is false from now on.
     */
    public void stop() {
        stopped = true;
        loop.shutdownNow();
    }

    /** Stops, and frees the Leases of idle repositories so that other replicas take them at once. */
    @Override
    public void close() {
        stop();
        for (String repo : List.copyOf(held.keySet())) {
            if (!listener.whileIdle(repo, () -> release(repo)) && held.remove(repo) != null) {
                listener.lost(repo);
            }
        }
        try {
            client.leases().inNamespace(settings.namespace()).withName(memberLeaseName(settings.identity()))
                    .delete();
        } catch (KubernetesClientException e) {
            LOG.debugf("cannot delete the member lease: %s", e.getMessage());
        }
    }

    private int durationSeconds() {
        return (int) Math.max(1, (settings.leaseDuration().toMillis() + 999) / 1000);
    }

    private static ZonedDateTime now() {
        return ZonedDateTime.now(ZoneOffset.UTC);
    }

    /** Rendezvous score of a replica for a repository: each repository prefers the live replica scoring highest. */
    static long score(String identity, String repo) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest((identity + "\n" + repo).getBytes(
                    StandardCharsets.UTF_8));
            long v = 0;
            for (int i = 0; i < 8; i++) {
                v = (v << 8) | (d[i] & 0xff);
            }
            return v;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
