package dev.conveyor.stage.warmup;

import java.nio.file.Path;

/**
 * A stage's warm-up: its real code paths driven once on throw-away local input, so that the first real piece of work
 * after start finds its libraries initialised (JGit, Jib, Helm, schema loading) instead of paying for it. A service
 * provides one as a CDI bean; {@link WarmUpStarter} runs it once after start-up, on its own daemon thread, off the
 * readiness path.
 *
 * <p>
 * A warm-up has no effect: it emits no event, counts no business metric, logs nothing a run would log, pushes or tags
 * nothing on a configured remote and dials no host (a bare repository over {@code file://}, an image to a tarball, a
 * chart from the classpath). Everything it writes goes under {@code scratch}, which the starter deletes afterwards. A
 * failure is logged by the starter and ignored.
 */
public interface WarmUp {

    /** Runs the stage's code paths once; may throw, the starter logs and ignores it. */
    void run(Path scratch) throws Exception;
}
