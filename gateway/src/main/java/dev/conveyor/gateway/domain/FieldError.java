package dev.conveyor.gateway.domain;

import io.quarkus.runtime.annotations.RegisterForReflection;

/**
 * One invalid field of a request, as listed in a problem document's {@code errors} array.
 *
 * @param field the field's JSON path, e.g. {@code artifact.sha256}
 * @param message what is wrong with it, never echoing a secret
 */
@RegisterForReflection
public record FieldError(String field, String message) {
}
