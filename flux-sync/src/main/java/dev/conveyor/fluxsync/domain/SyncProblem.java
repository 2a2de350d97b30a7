package dev.conveyor.fluxsync.domain;

/**
 * Something in the repository that could not be synced: a file that does not parse, an object without a kind, a
 * release whose chart path leaves the repository, an object the API server refused. It fails that file, object or
 * release only; the rest of the repository still syncs.
 *
 * @param owner the file ({@code file:<path>}) or release ({@code release:<ns>/<name>}) it concerns
 * @param reason a machine code, one of {@link ProblemReason}
 * @param message for people; names the file and the field
 */
public record SyncProblem(String owner, ProblemReason reason, String message) {
}
