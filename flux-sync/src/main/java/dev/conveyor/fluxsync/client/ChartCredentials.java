package dev.conveyor.fluxsync.client;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiFunction;

import dev.conveyor.fluxsync.domain.ChartSource;

/**
 * The credentials of chart sources: the Secret a Flux v2 {@code HelmRepository} names in {@code spec.secretRef}
 * (read from the cluster when a chart is fetched), otherwise the configuration per host
 * ({@code conveyor.flux-sync.chart-repositories."<host>"}, for Helm Operator {@code spec.chart.repository} and any
 * source without a {@code secretRef}). A credential never appears in {@link Object#toString()} or a message: messages
 * name where it came from.
 */
public final class ChartCredentials {

    /**
     * A user name and password (basic auth; OCI registry login), or a bearer token (Helm HTTP repositories).
     *
     * @param origin where it comes from, for messages ({@code Secret ns/name}, {@code configuration of host})
     */
    public record Credential(String username, String password, String token, String origin) {

        /** The {@code Authorization} header value. */
        public String authorization() {
            if (token != null) {
                return "Bearer " + token;
            }
            return "Basic " + Base64.getEncoder().encodeToString((username + ":" + password).getBytes(
                    StandardCharsets.UTF_8));
        }

        /** {@code text} with every secret part of this credential replaced by {@code ***}. */
        public String scrub(String text) {
            if (text == null) {
                return null;
            }
            String out = text;
            for (String s : new String[]{password, token, authorization().substring(authorization().indexOf(' ')
                    + 1)}) {
                if (s != null && !s.isEmpty()) {
                    out = out.replace(s, "***");
                }
            }
            return out;
        }

        @Override
        public String toString() {
            return "Credential[" + origin + "]";
        }
    }

    /** A credential that could not be read (missing Secret or keys); the message names the Secret and keys. */
    public static final class Unavailable extends Exception {
        public Unavailable(String message) {
            super(message);
        }
    }

    private final Map<String, Credential> byHost;
    private final BiFunction<String, String, Optional<Map<String, String>>> secrets;

    /**
     * @param byHost configured credentials by {@code host} or {@code host:port}
     * @param secrets reads a Secret's decoded data by namespace and name (empty if it does not exist)
     */
    public ChartCredentials(Map<String, Credential> byHost,
            BiFunction<String, String, Optional<Map<String, String>>> secrets) {
        this.byHost = Map.copyOf(byHost);
        this.secrets = secrets;
    }

    public static ChartCredentials none() {
        return new ChartCredentials(Map.of(), (ns, name) -> Optional.empty());
    }

    /** The credential of a chart source, if it has one. */
    public Optional<Credential> of(ChartSource source) throws Unavailable {
        ChartSource.SecretRef ref = null;
        String host = null;
        if (source instanceof ChartSource.HelmRepository h) {
            ref = h.secretRef();
            host = hostOf(h.url());
        } else if (source instanceof ChartSource.Oci o) {
            ref = o.secretRef();
            host = o.host();
        }
        if (ref != null) {
            return Optional.of(fromSecret(ref));
        }
        if (host == null) {
            return Optional.empty();
        }
        Credential c = byHost.get(host);
        if (c == null && host.indexOf(':') > 0) {
            c = byHost.get(host.substring(0, host.indexOf(':')));
        }
        return Optional.ofNullable(c);
    }

    private Credential fromSecret(ChartSource.SecretRef ref) throws Unavailable {
        String origin = "Secret " + ref.namespace() + "/" + ref.name();
        Map<String, String> data = secrets.apply(ref.namespace(), ref.name()).orElseThrow(() -> new Unavailable(origin
                + " (spec.secretRef of the HelmRepository) does not exist"));
        String token = data.get("bearerToken");
        if (token != null && !token.isBlank()) {
            return new Credential(null, null, token.trim(), origin);
        }
        String user = data.get("username");
        String password = data.get("password");
        if (user == null || password == null) {
            throw new Unavailable(origin + " (spec.secretRef of the HelmRepository) has no username and password keys");
        }
        return new Credential(user, password, null, origin);
    }

    /** {@code host[:port]} of an HTTP(S) URL. */
    static String hostOf(String url) {
        try {
            URI u = URI.create(url);
            return u.getHost() == null ? null : u.getPort() < 0 ? u.getHost() : u.getHost() + ":" + u.getPort();
        } catch (IllegalArgumentException e) {
            return null;
        }
    }
}
