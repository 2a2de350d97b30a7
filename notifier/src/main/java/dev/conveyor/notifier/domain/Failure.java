package dev.conveyor.notifier.domain;

import io.quarkus.runtime.annotations.RegisterForReflection;

/**
 * A failure seen in a run.
 *
 * @param stage stage id ({@code build}, {@code versioner}, ... {@code flux-sync})
 * @param reason machine reason code
 * @param message human message, as the failing stage wrote it
 */
@RegisterForReflection
public record Failure(String stage, String reason, String message) {
}
