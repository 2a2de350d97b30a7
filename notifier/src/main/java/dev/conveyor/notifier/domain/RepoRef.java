package dev.conveyor.notifier.domain;

import java.net.URI;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * Where an app repository lives on a code host the notifier reports to: the provider and the project path
 * ({@code owner/repo} on GitHub, {@code group/subgroup/project} on GitLab).
 *
 * @param provider {@link ProviderKind#GITHUB} or {@link ProviderKind#GITLAB}
 * @param host the code host, lower case
 * @param path the project path without {@code .git}
 */
public record RepoRef(ProviderKind provider, String host, String path) {

    /** One owner, group or project name as GitHub and GitLab allow them. */
    private static final java.util.regex.Pattern SEGMENT = java.util.regex.Pattern.compile(
            "[A-Za-z0-9_.][A-Za-z0-9_.-]{0,99}");

    /**
     * Reads a clone URL ({@code https://host/owner/repo.git}, {@code ssh://git@host/owner/repo},
     * {@code git@host:owner/repo.git}) and maps its host to a provider; empty when the host is not configured or the URL
     * has no owner and name.
     */
    public static Optional<RepoRef> parse(String url, Set<String> githubHosts, Set<String> gitlabHosts) {
        if (url == null || url.isBlank()) {
            return Optional.empty();
        }
        String host;
        String path;
        int scheme = url.indexOf("://");
        if (scheme < 0) {
            // scp-like syntax: [user@]host:path
            int colon = url.indexOf(':');
            if (colon < 0) {
                return Optional.empty();
            }
            String authority = url.substring(0, colon);
            host = authority.substring(authority.indexOf('@') + 1);
            path = url.substring(colon + 1);
        } else {
            try {
                URI uri = URI.create(url);
                host = uri.getHost();
                path = uri.getPath();
            } catch (IllegalArgumentException e) {
                return Optional.empty();
            }
        }
        if (host == null || path == null) {
            return Optional.empty();
        }
        host = host.toLowerCase(Locale.ROOT);
        path = strip(path);
        if (path.isEmpty() || !path.contains("/") || path.contains("..")) {
            return Optional.empty();
        }
        // The path goes into the configured API's URL: nothing from the event may add a query, a fragment, an
        // encoded character or a segment the provider does not allow, so it cannot steer the call elsewhere.
        for (String segment : path.split("/", -1)) {
            if (!SEGMENT.matcher(segment).matches()) {
                return Optional.empty();
            }
        }
        if (githubHosts.contains(host)) {
            String[] parts = path.split("/");
            return parts.length == 2 ? Optional.of(new RepoRef(ProviderKind.GITHUB, host, path)) : Optional.empty();
        }
        if (gitlabHosts.contains(host)) {
            return Optional.of(new RepoRef(ProviderKind.GITLAB, host, path));
        }
        return Optional.empty();
    }

    private static String strip(String path) {
        String p = path;
        while (p.startsWith("/")) {
            p = p.substring(1);
        }
        while (p.endsWith("/")) {
            p = p.substring(0, p.length() - 1);
        }
        if (p.endsWith(".git")) {
            p = p.substring(0, p.length() - 4);
        }
        return p;
    }
}
