package dev.conveyor.fluxsync.service;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Where one sync's time went, per phase. Wall-clock phases ({@link #FETCH}, {@link #REVISION}, {@link #PLAN},
 * {@link #APPLY}, {@link #RELEASES}, {@link #INVENTORY}, {@link #CONDITIONS}, {@link #REPORT}) add up to about the
 * sync's duration; the others are sums over the work that ran inside them, possibly on several threads at once
 * ({@link #RENDER}: every release's render; {@link #LIST}: listing the live objects per kind; {@link #WRITE}: the
 * API server's answers to applies; {@link #COMPARE}: hashing and comparing objects with the live ones), so they can
 * exceed the phase they ran in. Thread-safe.
 */
public final class SyncTimings {

    /** Fetching the mirror (and reading the inventory once per process). */
    public static final String FETCH = "fetch";
    /** Reading the revision's files and the runs it delivers. */
    public static final String REVISION = "revision";
    /** Decrypting and reading the layout. */
    public static final String PLAN = "plan";
    /** Applying namespaces, CRDs, plain manifests and the release objects. */
    public static final String APPLY = "apply";
    /** The releases: renders, their applies, Helm records, health. */
    public static final String RELEASES = "releases";
    /** The inventory and prune. */
    public static final String INVENTORY = "inventory";
    /** The release conditions. */
    public static final String CONDITIONS = "conditions";
    /** Problems as events and log lines, metrics. */
    public static final String REPORT = "report";
    /** Sum over the releases rendered (Helm and reading the rendering), also the ones served from the cache. */
    public static final String RENDER = "render (sum)";
    /** Sum over the lists of live objects. */
    public static final String LIST = "list (sum)";
    /** Sum over the applies the API server answered. */
    public static final String WRITE = "write (sum)";
    /** Sum over hashing and comparing objects with the live ones. */
    public static final String COMPARE = "compare (sum)";
    /** Sum over Helm's release records. */
    public static final String HELM_RECORD = "helm record (sum)";
    /** Sum over the rollout reads of the releases. */
    public static final String HEALTH = "health (sum)";

    private final Map<String, AtomicLong> nanos = new ConcurrentHashMap<>();
    private final java.util.concurrent.atomic.AtomicInteger rendering = new java.util.concurrent.atomic.AtomicInteger();
    private final java.util.concurrent.atomic.AtomicInteger mostRendering = new java.util.concurrent.atomic.AtomicInteger();

    /** A render starts (Helm or the cache): counts the renders running at once. */
    void renderStarted() {
        mostRendering.accumulateAndGet(rendering.incrementAndGet(), Math::max);
    }

    void renderEnded() {
        rendering.decrementAndGet();
    }

    /** The most renders of this sync that ran at once. */
    public int rendersAtOnce() {
        return mostRendering.get();
    }

    /** Adds the time since {@code startNanos} ({@link System#nanoTime()}) to {@code phase}. */
    void since(String phase, long startNanos) {
        add(phase, System.nanoTime() - startNanos);
    }

    void add(String phase, long n) {
        nanos.computeIfAbsent(phase, k -> new AtomicLong()).addAndGet(n);
    }

    /** The phases measured, in the order of the constants above. */
    public Map<String, Duration> phases() {
        Map<String, Duration> out = new LinkedHashMap<>();
        for (String p : new String[]{FETCH, REVISION, PLAN, APPLY, RELEASES, INVENTORY, CONDITIONS, REPORT, RENDER,
                LIST, WRITE, COMPARE, HELM_RECORD, HEALTH}) {
            AtomicLong n = nanos.get(p);
            if (n != null) {
                out.put(p, Duration.ofNanos(n.get()));
            }
        }
        return out;
    }

    /** {@code phase ms, ...} for a log line. */
    static String describe(Map<String, Duration> phases) {
        StringBuilder sb = new StringBuilder();
        phases.forEach((k, v) -> sb.append(sb.isEmpty() ? "" : ", ").append(k).append(' ').append(v.toMillis())
                .append(" ms"));
        return sb.toString();
    }
}
