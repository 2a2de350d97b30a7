package dev.conveyor.imagebuilder.service;

/** Reason codes of the image builder's {@code StageFailed} events (besides the git ones in {@code GitFailure}). */
public enum ImageBuilderFailure {
    /** {@code .conveyor.yaml}'s {@code image} section or the event's artifact kind is invalid. Terminal. */
    INVALID_CONFIG,
    /** The run's commit is not in the app repository. Terminal. */
    UNKNOWN_COMMIT,
    /** The artifact URI is not {@code http(s)://} or {@code file://}, or a file outside the allowed roots. Terminal. */
    ARTIFACT_URI_REFUSED,
    /** Nothing at the artifact URI (404, or no such file). Terminal. */
    ARTIFACT_MISSING,
    /** The artifact server refused the configured credentials (401, 403). Terminal. */
    ARTIFACT_ACCESS_DENIED,
    /** The artifact is larger than the configured limit. Terminal. */
    ARTIFACT_TOO_LARGE,
    /** The downloaded artifact's sha256 (or size) is not the one the event names. Terminal. */
    CHECKSUM_MISMATCH,
    /** The artifact server could not be reached or answered 5xx. Retried, then retryable. */
    ARTIFACT_UNREACHABLE,
    /** The artifact is not a readable jar or tar.gz, escapes its directory, or has no entrypoint. Terminal. */
    ARTIFACT_INVALID,
    /** The base image does not exist in its registry. Terminal. */
    BASE_IMAGE_NOT_FOUND,
    /** A registry refused the configured credentials (or demanded some and none are configured). Terminal. */
    REGISTRY_AUTH_DENIED,
    /** A registry does not speak HTTPS and is not listed as insecure, or its certificate is not trusted. Terminal. */
    REGISTRY_TLS_ERROR,
    /** A registry could not be reached, timed out or answered 5xx/429. Retried, then retryable. */
    REGISTRY_UNAVAILABLE,
    /** The release tag already names another digest: releases are immutable, nothing was pushed. Terminal. */
    IMMUTABLE_TAG,
    /** Jib failed for another reason (cache directory, unexpected registry answer). Retried, then retryable. */
    IMAGE_BUILD_FAILED
}
