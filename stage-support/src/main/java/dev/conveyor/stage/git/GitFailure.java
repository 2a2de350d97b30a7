package dev.conveyor.stage.git;

import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.util.Locale;
import java.util.Map;

import org.eclipse.jgit.errors.NoRemoteRepositoryException;
import org.eclipse.jgit.errors.TransportException;

import dev.conveyor.stage.FailureKind;
import dev.conveyor.stage.StageException;

/** Reason codes for git remote failures, and the classification of JGit's exceptions into them. */
public enum GitFailure {
    /** The remote refused our credentials, or we have none it accepts. */
    AUTH_DENIED,
    /** The SSH server's key is not in known_hosts or does not match it. */
    HOST_KEY_REJECTED,
    /** No repository at that URL. */
    REPO_NOT_FOUND,
    /** The remote could not be reached or timed out. */
    NETWORK,
    /** Any other git failure. */
    GIT_ERROR;

    /** An HTTP 401 or 403 status, not the digits inside a port number or an id. */
    private static final java.util.regex.Pattern HTTP_AUTH_STATUS = java.util.regex.Pattern
            .compile("(?<![:\\d.])40[13](?![\\d.])");

    /**
     * Classifies a failure talking to {@code url}: auth, host key and missing repository are terminal, network trouble
     * transient. The message names the redacted URL and never a credential.
     */
    public static StageException classify(Exception e, String url) {
        String remote = GitUrls.redact(url);
        String text = GitUrls.scrub(allMessages(e)).toLowerCase(Locale.ROOT);
        Map<String, String> details = Map.of("remote", remote);
        if (e instanceof NoRemoteRepositoryException || text.contains("repository not found")
                || text.contains("not found") && text.contains("repository")
                || text.contains("does not appear to be a git")) {
            return new StageException(FailureKind.TERMINAL, REPO_NOT_FOUND, "no git repository at " + remote, details,
                    e);
        }
        if (text.contains("server key did not validate") || text.contains("host key")
                || text.contains("known_hosts")) {
            return new StageException(FailureKind.TERMINAL, HOST_KEY_REJECTED,
                    "the SSH host key of " + remote + " is not trusted (check known_hosts)", details, e);
        }
        if (text.contains("not authorized") || text.contains("auth fail") || text.contains("authentication")
                || text.contains("cannot log in") || text.contains("permission denied")
                || HTTP_AUTH_STATUS.matcher(text).find() || text.contains("no credentialsprovider")) {
            return new StageException(FailureKind.TERMINAL, AUTH_DENIED,
                    "access to " + remote + " was denied: check the configured git credentials", details, e);
        }
        if (hasCause(e, ConnectException.class) || hasCause(e, UnknownHostException.class)
                || hasCause(e, SocketTimeoutException.class) || hasCause(e, NoRouteToHostException.class)
                || text.contains("connection refused") || text.contains("timed out")
                || text.contains("connection reset")
                || text.contains("unknown host") || e instanceof TransportException) {
            return new StageException(FailureKind.TRANSIENT, NETWORK, "cannot reach " + remote + ": "
                    + firstLine(GitUrls.scrub(e.getMessage())), details, e);
        }
        return new StageException(FailureKind.TRANSIENT, GIT_ERROR, "git failed on " + remote + ": "
                + firstLine(GitUrls.scrub(e.getMessage())), details, e);
    }

    private static String allMessages(Throwable e) {
        StringBuilder all = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            all.append(t.getClass().getSimpleName()).append(": ").append(t.getMessage()).append('\n');
        }
        return all.toString();
    }

    private static boolean hasCause(Throwable e, Class<? extends Throwable> type) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return true;
            }
        }
        return false;
    }

    private static String firstLine(String message) {
        if (message == null) {
            return "";
        }
        int newline = message.indexOf('\n');
        return newline < 0 ? message : message.substring(0, newline);
    }
}
