package dev.conveyor.notifier.service;

/** Reason codes of the notifier, as counted in {@code conveyor_stage_failures_total{stage="notifier"}}. */
public enum NotifierFailure {
    /** A provider refused a call with a permanent 4xx (bad token, unknown repo or issue, invalid body). */
    PROVIDER_REJECTED,
    /** A provider kept failing transiently (network, 429, 5xx) until the call's attempts ran out. */
    PROVIDER_UNAVAILABLE,
    /** An override template does not parse or cannot render. */
    TEMPLATE_ERROR,
    /** A record that is not a Conveyor event: dead-lettered. */
    UNREADABLE_EVENT
}
