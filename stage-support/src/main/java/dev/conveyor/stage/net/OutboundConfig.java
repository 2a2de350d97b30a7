package dev.conveyor.stage.net;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/**
 * The installation's outbound policy ({@code conveyor.outbound.*}): which URLs a stage may dial because an event or a
 * repository file named them. Read by every service; see {@link OutboundPolicy} for the rules.
 */
@ConfigMapping(prefix = "conveyor.outbound")
public interface OutboundConfig {

    /**
     * Allowed URL schemes. An scp-like git address ({@code git@host:path}) counts as {@code ssh}. {@code file} also needs
     * {@link #fileRoots()}.
     */
    @WithDefault("https,ssh")
    List<String> schemes();

    /**
     * Allowed host patterns: {@code *} (any host), {@code github.com} (that host), {@code *.example.com} (its
     * subdomains), or an IP literal; with {@code :port} ({@code 127.0.0.1:9418}, {@code [::1]:22}) only that port
     * (a URL without a port has its scheme's default). The address rules apply to every allowed host.
     */
    @WithDefault("*")
    List<String> hosts();

    /**
     * Networks (CIDR, e.g. {@code 10.20.0.0/16}, {@code 127.0.0.1/32}, {@code ::1/128}) whose addresses are allowed
     * although they are loopback, private, unique-local, link-local or otherwise not public. Cloud metadata addresses
     * are refused whatever this says.
     */
    Optional<List<String>> allowedNetworks();

    /** Directories {@code file:} URLs may point into (checked on the canonical path, symbolic links resolved). */
    Optional<List<Path>> fileRoots();

    /** These settings as a policy. */
    default OutboundPolicy toPolicy() {
        return OutboundPolicy.builder().schemes(schemes()).hosts(hosts())
                .allowedNetworks(allowedNetworks().orElse(List.of())).fileRoots(fileRoots().orElse(List.of()))
                .build();
    }
}
