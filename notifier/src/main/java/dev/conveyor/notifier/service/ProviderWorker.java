package dev.conveyor.notifier.service;

import java.time.Duration;
import java.time.Instant;
import java.util.EnumSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.jboss.logging.Logger;

import dev.conveyor.notifier.client.DeliveryException;
import dev.conveyor.notifier.client.ProviderClient;
import dev.conveyor.notifier.domain.Delivery;
import dev.conveyor.notifier.domain.ProviderKind;
import dev.conveyor.stage.Backoff;

/**
 * One provider's queue and thread. Calls are made in the order they were recorded (an update after its create), each
 * retried on transient failures with backoff or the provider's {@code Retry-After}; a permanent refusal is logged and
 * counted once. Waiting here never delays another provider. A call cut short by shutdown stays pending in the journal
 * and is made after the restart. A call that may create something is journalled as started before it is made; once it
 * may have reached the provider (started before a restart, or no answer, or a 5xx), it is in doubt and the client asks
 * the provider for it before making it again. A lookup that fails is retried like the call; the call is never made
 * blindly. A call whose partition moved to another replica before it was started is left to that replica (it is
 * pending in the partition's state); one already in flight finishes, but its result is not recorded from here.
 */
public final class ProviderWorker implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(ProviderWorker.class);

    /**
     * Calls that may create something: journalled as started before they are made, and looked up before they are
     * made again. An incoming webhook creates too, but cannot be read back: it stays at-least-once.
     */
    static final Set<Delivery.Kind> CREATES = EnumSet.of(Delivery.Kind.PR_COMMENT, Delivery.Kind.SLACK_MESSAGE,
            Delivery.Kind.SLACK_REPLY, Delivery.Kind.JIRA_COMMENT);

    private final ProviderKind provider;
    private final ProviderClient client;
    private final Backoff backoff;
    private final Duration maxRetryAfter;
    private final NotifierMetrics metrics;
    private final LinkedBlockingQueue<Job> queue = new LinkedBlockingQueue<>();
    private final AtomicInteger outstanding = new AtomicInteger();
    private final CountDownLatch stop = new CountDownLatch(1);
    private final Thread thread;

    /** A call and the state it is recorded in (its partition's). */
    private record Job(Delivery delivery, StateStore store) {
    }

    public ProviderWorker(ProviderKind provider, ProviderClient client, Backoff backoff, Duration maxRetryAfter,
            NotifierMetrics metrics) {
        this.provider = provider;
        this.client = client;
        this.backoff = backoff;
        this.maxRetryAfter = maxRetryAfter;
        this.metrics = metrics;
        this.thread = new Thread(this::loop, "notifier-" + provider.id());
        this.thread.setDaemon(true);
        this.thread.start();
    }

    /** Queues a call recorded in {@code store}; it is skipped if the store is closed before its turn. */
    public void submit(Delivery delivery, StateStore store) {
        outstanding.incrementAndGet();
        queue.add(new Job(delivery, store));
    }

    /** Calls waiting or in progress. */
    public int backlog() {
        return outstanding.get();
    }

    private void loop() {
        while (stop.getCount() > 0) {
            try {
                Job job = queue.poll(1, TimeUnit.SECONDS);
                if (job != null) {
                    try {
                        if (job.store().isOpen()) {
                            deliver(job.delivery(), job.store());
                        } else {
                            // the partition moved: the call is still pending in its state, the next owner makes it
                            LOG.debugf("%s left to the partition's new owner", job.delivery().describe());
                        }
                    } finally {
                        outstanding.decrementAndGet();
                    }
                }
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                LOG.errorf("%s worker: unexpected %s", provider.id(), e.getClass().getName());
            }
        }
    }

    private void deliver(Delivery d, StateStore store) throws InterruptedException {
        // started before a restart and not done: the provider may have it already
        Optional<Instant> inDoubt = store.startedAt(d.id());
        if (inDoubt.isPresent()) {
            LOG.infof("%s was started before the restart: in doubt, the provider is asked first", d.describe());
        }
        for (int attempt = 1;; attempt++) {
            if (!store.isOpen()) {
                LOG.debugf("%s left to the partition's new owner", d.describe());
                return;
            }
            if (CREATES.contains(d.kind()) && inDoubt.isEmpty() && !store.recordStarted(d)) {
                return;
            }
            Map<String, String> refs;
            try {
                refs = client.deliver(d, store::ref, inDoubt);
            } catch (RuntimeException e) {
                // a call that cannot even be built (bad URL from config) will not get better by retrying
                LOG.warnf("%s cannot be made: %s", d.describe(), e.getClass().getSimpleName());
                metrics.rejected(d);
                store.recordDone(d, Map.of());
                return;
            } catch (DeliveryException e) {
                if (e.permanent()) {
                    LOG.warnf("%s refused, not retried: %s", d.describe(), e.getMessage());
                    metrics.rejected(d);
                    store.recordDone(d, Map.of());
                    return;
                }
                if (attempt >= backoff.maxAttempts()) {
                    LOG.warnf("%s given up after %d attempts: %s", d.describe(), attempt, e.getMessage());
                    metrics.gaveUp(d);
                    store.recordDone(d, Map.of());
                    return;
                }
                if (CREATES.contains(d.kind()) && inDoubt.isEmpty() && (e.status() == 0 || e.status() >= 500)) {
                    // no answer, or a server error: the provider may have made it all the same
                    inDoubt = store.startedAt(d.id());
                }
                int failed = attempt;
                Duration delay = e.retryAfter().map(r -> r.compareTo(maxRetryAfter) > 0 ? maxRetryAfter : r)
                        .orElseGet(() -> backoff.delayAfter(failed));
                LOG.infof("%s failed (%s), retrying in %d ms", d.describe(), e.getMessage(), delay.toMillis());
                metrics.retried(d, e.cause());
                if (stop.await(delay.toMillis(), TimeUnit.MILLISECONDS)) {
                    return;
                }
                continue;
            }
            store.recordDone(d, refs);
            metrics.delivered(d);
            return;
        }
    }

    @Override
    public void close() {
        stop.countDown();
        thread.interrupt();
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
