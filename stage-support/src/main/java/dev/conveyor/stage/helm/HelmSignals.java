package dev.conveyor.stage.helm;

import java.util.List;

import org.jboss.logging.Logger;

import sun.misc.Signal;

/**
 * Takes {@code SIGTERM}, {@code SIGINT} and {@code SIGHUP} back from Helm. helm-java runs Helm's Go code in the JVM's
 * process, and Helm's install action (which {@code helm template} is) registers Go's handler for those signals and
 * keeps it: from the first render on, a {@code kill} (a pod's termination, {@code ./conveyor down}) reached Go, not the
 * JVM, so the service never shut down — no shutdown hooks, no consumer leaving its group, a Lease kept until it
 * expired — and was killed at the end of the grace period. Call {@link #takeBack()} after every template call: the JVM
 * then exits on those signals as it does by itself (shutdown hooks, exit status 128 + the signal's number). Helm's
 * package, push, login, lint and dependency calls leave the handlers alone.
 */
public final class HelmSignals {

    private static final Logger LOG = Logger.getLogger(HelmSignals.class);
    private static final List<String> SIGNALS = List.of("TERM", "INT", "HUP");

    private HelmSignals() {
    }

    /** Makes the JVM, not Go, handle the termination signals again (a few system calls; idempotent). */
    public static void takeBack() {
        for (String name : SIGNALS) {
            try {
                Signal.handle(new Signal(name), s -> System.exit(128 + s.getNumber()));
            } catch (IllegalArgumentException e) {
                // -Xrs, or a signal this platform does not have: the JVM does not handle it, so there is nothing to
                // take back.
                LOG.debugf("SIG%s not taken back from Helm: %s", name, e.getMessage());
            }
        }
    }
}
