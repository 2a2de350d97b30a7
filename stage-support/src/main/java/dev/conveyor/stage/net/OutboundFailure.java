package dev.conveyor.stage.net;

/** Reason codes of the outbound policy. */
public enum OutboundFailure {
    /** A URL, host or address the installation's outbound policy does not allow. */
    OUTBOUND_REFUSED,
    /** The host of an allowed URL has no address right now (DNS); may pass on a retry. */
    HOST_UNRESOLVED
}
