package dev.conveyor.imagebuilder.client;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Registry credentials by registry host, from configuration. Docker Hub's names ({@code docker.io},
 * {@code index.docker.io}, {@code registry-1.docker.io}) are one registry. {@link #toString()} shows hosts only.
 */
public final class RegistryCredentials {

    /** A user name and password (or token) for one registry. */
    public record Credential(String username, String password) {

        @Override
        public String toString() {
            return "Credential[username=" + username + ", password=***]";
        }
    }

    private static final Set<String> DOCKER_HUB = Set.of("docker.io", "index.docker.io", "registry-1.docker.io",
            "registry.hub.docker.com");

    private final Map<String, Credential> byHost;

    public RegistryCredentials(Map<String, Credential> byHost) {
        Map<String, Credential> normalized = new HashMap<>();
        byHost.forEach((host, credential) -> normalized.put(normalize(host), credential));
        this.byHost = Map.copyOf(normalized);
    }

    /** The credential for {@code registry}, if one is configured. */
    public Optional<Credential> find(String registry) {
        return Optional.ofNullable(byHost.get(normalize(registry)));
    }

    /**
     * The lookup key of a registry host: lower case, without a scheme or path (Docker's {@code config.json} names Docker
     * Hub {@code https://index.docker.io/v1/}), Docker Hub's aliases folded into {@code docker.io}.
     */
    public static String normalize(String registry) {
        String host = registry.trim().toLowerCase(Locale.ROOT);
        int scheme = host.indexOf("://");
        if (scheme >= 0) {
            host = host.substring(scheme + 3);
        }
        int slash = host.indexOf('/');
        if (slash >= 0) {
            host = host.substring(0, slash);
        }
        return DOCKER_HUB.contains(host) ? "docker.io" : host;
    }

    /** Whether {@code registry} is one of Docker Hub's names. */
    public static boolean isDockerHub(String registry) {
        return normalize(registry).equals("docker.io");
    }

    /** The host that serves a registry's API ({@code docker.io} is served by {@code registry-1.docker.io}). */
    public static String apiHost(String registry) {
        return isDockerHub(registry) ? "registry-1.docker.io" : registry;
    }

    @Override
    public String toString() {
        return "RegistryCredentials" + byHost.keySet();
    }
}
