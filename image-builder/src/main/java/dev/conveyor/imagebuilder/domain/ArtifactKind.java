package dev.conveyor.imagebuilder.domain;

import java.util.Locale;
import java.util.Optional;

/** How an image is made from the build artifact. */
public enum ArtifactKind {
    /** A runnable Java jar: nested dependency jars go into their own layer, the rest into the application layer. */
    JAR,
    /** A tar.gz of a directory with its own entrypoint, unpacked into the working directory. */
    DIRECTORY;

    /** The kind named {@code value} ({@code jar} or {@code directory}, any case), or empty for anything else. */
    public static Optional<ArtifactKind> parse(String value) {
        try {
            return Optional.of(valueOf(value.trim().toUpperCase(Locale.ROOT)));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /** The lower-case name used in events and {@code .conveyor.yaml}. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }
}
