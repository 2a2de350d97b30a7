package dev.conveyor.events.v1;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;

/**
 * Deterministic run ids: the same repository, commit, flow and pull request always give the same id, so a hook
 * delivered twice starts one run, and a replay keeps the run's id.
 */
public final class RunIds {

    private RunIds() {
    }

    /**
     * The run id for a build: {@code r-} followed by the first 24 hex digits of a sha256 over the normalised repository
     * URL, the commit, the flow and the pull request number.
     */
    public static String of(String repoUrl, String commit, Flow flow, Integer pullRequest) {
        Checks.required(repoUrl, "repoUrl");
        Checks.required(commit, "commit");
        Checks.required(flow, "flow");
        String material = normalizeRepoUrl(repoUrl) + "\n" + commit.toLowerCase(Locale.ROOT) + "\n" + flow + "\n"
                + (pullRequest == null ? "" : pullRequest.toString());
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256").digest(material.getBytes(StandardCharsets.UTF_8));
            return "r-" + HexFormat.of().formatHex(hash, 0, 12);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by the Java platform", e);
        }
    }

    /**
     * The form of a repository URL used for identity: no trailing slash or {@code .git}, user info dropped, scheme and
     * host lower-cased. {@code https://Git.Example.com/org/app.git/} and {@code https://git.example.com/org/app} are
     * the same repository.
     */
    public static String normalizeRepoUrl(String repoUrl) {
        String url = repoUrl.trim();
        while (url.endsWith("/")) {
            url = url.substring(0, url.length() - 1);
        }
        if (url.endsWith(".git")) {
            url = url.substring(0, url.length() - 4);
        }
        int schemeEnd = url.indexOf("://");
        if (schemeEnd < 0) {
            return url;
        }
        int hostStart = schemeEnd + 3;
        int pathStart = url.indexOf('/', hostStart);
        String authority = pathStart < 0 ? url.substring(hostStart) : url.substring(hostStart, pathStart);
        String path = pathStart < 0 ? "" : url.substring(pathStart);
        int at = authority.lastIndexOf('@');
        String host = at < 0 ? authority : authority.substring(at + 1);
        return url.substring(0, schemeEnd).toLowerCase(Locale.ROOT) + "://" + host.toLowerCase(Locale.ROOT) + path;
    }
}
