package dev.conveyor.manifests.bench;

/** Does nothing: the bare start-to-exit time of a JVM with the CLI's flags and class path, for comparison. */
public final class Noop {

    private Noop() {
    }

    public static void main(String[] args) {
        // nothing
    }
}
