package dev.conveyor.gateway.domain;

import java.util.Arrays;
import java.util.Optional;

import dev.conveyor.events.v1.BuildFailed;
import dev.conveyor.events.v1.BuildSucceeded;
import dev.conveyor.events.v1.ChartPublished;
import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.EventType;
import dev.conveyor.events.v1.Flow;
import dev.conveyor.events.v1.ImagePushed;
import dev.conveyor.events.v1.ManifestsValidated;
import dev.conveyor.events.v1.ReleaseDegraded;
import dev.conveyor.events.v1.ReleaseHealthy;
import dev.conveyor.events.v1.ReleasePromoted;
import dev.conveyor.events.v1.RepoSynced;
import dev.conveyor.events.v1.Stage;
import dev.conveyor.events.v1.StageFailed;
import dev.conveyor.events.v1.VersionResolved;

/**
 * The steps a run's timeline shows, in pipeline order. {@code build} is Jenkins (reported through the gateway's hook);
 * the others are the stages, each started by its input event and finished by its output event.
 */
public enum Step {
    BUILD("build", Stage.GATEWAY, null, false), VERSIONER("versioner", Stage.VERSIONER, EventType.BUILD_SUCCEEDED,
            false), IMAGE_BUILDER("image-builder", Stage.IMAGE_BUILDER, EventType.VERSION_RESOLVED,
                    false), MANIFEST_RENDERER("manifest-renderer", Stage.MANIFEST_RENDERER, EventType.IMAGE_PUSHED,
                            false), PROMOTER("promoter", Stage.PROMOTER, EventType.MANIFESTS_VALIDATED,
                                    true), FLUX_SYNC("flux-sync", Stage.FLUX_SYNC, EventType.RELEASE_PROMOTED, true);

    private final String id;
    private final Stage stage;
    private final EventType input;
    private final boolean cdOnly;

    Step(String id, Stage stage, EventType input, boolean cdOnly) {
        this.id = id;
        this.stage = stage;
        this.input = input;
        this.cdOnly = cdOnly;
    }

    /** The id shown in the timeline and accepted by {@code ?from=}. */
    public String id() {
        return id;
    }

    /** The service that carries out this step. */
    public Stage stage() {
        return stage;
    }

    /** The event that starts this step, and what a replay from it re-publishes; absent for the build. */
    public Optional<EventType> input() {
        return Optional.ofNullable(input);
    }

    /** Whether the step runs in this flow: a pull request stops after the manifests are rendered. */
    public boolean appliesTo(Flow flow) {
        return flow == Flow.CD || !cdOnly;
    }

    /** The step after this one, if any. */
    public Optional<Step> next() {
        return ordinal() + 1 < values().length ? Optional.of(values()[ordinal() + 1]) : Optional.empty();
    }

    /** The step a stage carries out; the notifier has none. */
    public static Optional<Step> of(Stage stage) {
        return Arrays.stream(values()).filter(s -> s.stage == stage).findFirst();
    }

    /** The step with this id, or the stage id of a step ({@code gateway} is the build). */
    public static Optional<Step> fromId(String id) {
        return Arrays.stream(values()).filter(s -> s.id.equals(id) || s.stage.id().equals(id)).findFirst();
    }

    /** The step whose work produced this event; a {@code StageFailed} belongs to the stage it names. */
    public static Optional<Step> producerOf(ConveyorEvent event) {
        if (event instanceof BuildSucceeded || event instanceof BuildFailed) {
            return Optional.of(BUILD);
        } else if (event instanceof VersionResolved) {
            return Optional.of(VERSIONER);
        } else if (event instanceof ImagePushed) {
            return Optional.of(IMAGE_BUILDER);
        } else if (event instanceof ManifestsValidated) {
            return Optional.of(MANIFEST_RENDERER);
        } else if (event instanceof ChartPublished || event instanceof ReleasePromoted) {
            return Optional.of(PROMOTER);
        } else if (event instanceof RepoSynced || event instanceof ReleaseHealthy
                || event instanceof ReleaseDegraded) {
            return Optional.of(FLUX_SYNC);
        } else if (event instanceof StageFailed failed) {
            return of(failed.stage());
        }
        return Optional.empty();
    }
}
