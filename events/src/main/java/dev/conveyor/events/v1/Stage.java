package dev.conveyor.events.v1;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

/** The services of the pipeline, as they name themselves in events, metrics and replay requests. */
public enum Stage {
    GATEWAY("gateway"), VERSIONER("versioner"), IMAGE_BUILDER("image-builder"), MANIFEST_RENDERER(
            "manifest-renderer"), PROMOTER("promoter"), FLUX_SYNC("flux-sync"), NOTIFIER("notifier");

    private final String id;

    Stage(String id) {
        this.id = id;
    }

    /** The stage's id: lower-case, dash-separated, as in {@code ?from=image-builder} and CloudEvents sources. */
    @JsonValue
    public String id() {
        return id;
    }

    /** The CloudEvents {@code source} of events this stage emits, e.g. {@code /conveyor/versioner}. */
    public String source() {
        return "/conveyor/" + id;
    }

    /** The stage with this id; the error lists the known ids. */
    @JsonCreator
    public static Stage fromId(String id) {
        for (Stage stage : values()) {
            if (stage.id.equals(id)) {
                return stage;
            }
        }
        throw new IllegalArgumentException("unknown stage '" + id + "', expected one of "
                + java.util.Arrays.stream(values()).map(Stage::id).toList());
    }
}
