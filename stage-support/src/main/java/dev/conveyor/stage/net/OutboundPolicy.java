package dev.conveyor.stage.net;

import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.eclipse.jgit.transport.URIish;

import dev.conveyor.stage.FailureKind;
import dev.conveyor.stage.StageException;

/**
 * The installation's rules for every URL a stage dials because an event or a repository file named it (DESIGN
 * "Outbound reach is policy"). Two checks:
 *
 * <ul>
 * <li>{@link #check(String, String)}: the URL alone, no I/O — allowed scheme, allowed host pattern, no IP literal or
 * metadata name that is refused, nothing that a git or ssh command line could take for an option, no git
 * transport-helper syntax ({@code ext::}, {@code fd::}), {@code file:} paths under the roots (lexically). The gateway
 * answers 400 with it; the stages run it first.</li>
 * <li>{@link #checkConnect(String, String)} (and {@link #checkTransport(String, URIish)} for JGit): the same, then
 * every DNS answer of the host checked (a name that resolves to a refused address is refused), and {@code file:}
 * paths checked on their canonical path with symbolic links resolved. Run right before the connection, for every
 * redirect hop.</li>
 * </ul>
 *
 * Refused by default: loopback, link-local, private (RFC 1918), unique-local ({@code fc00::/7}), carrier-grade NAT,
 * unspecified, multicast and reserved addresses, unless an allowed network contains them; cloud metadata addresses
 * and names always. A refusal is an {@link OutboundRefused} naming the field; its message never contains a credential.
 */
public final class OutboundPolicy {

    /** Resolves a host name to all its addresses; {@link InetAddress#getAllByName} in production. */
    @FunctionalInterface
    public interface Resolver {
        InetAddress[] resolve(String host) throws UnknownHostException;
    }

    /**
     * A URL that passed the policy.
     *
     * @param scheme lower case; {@code ssh} for an scp-like git address, {@code file} for a local path
     * @param user the user name, or null
     * @param host the host, lower case, without IPv6 brackets; null for {@code file}
     * @param port the port, or -1 for the scheme's default
     * @param path the (decoded) path
     * @param file for {@code file}: the path to open (canonical after {@link #checkConnect}); otherwise null
     * @param addresses after {@link #checkConnect}: the checked addresses of the host; otherwise empty
     */
    public record Target(String scheme, String user, String host, int port, String path, Path file,
            List<InetAddress> addresses) {

        public boolean isFile() {
            return "file".equals(scheme);
        }
    }

    /** Addresses refused whatever the allowed networks say: the instance metadata services of the big clouds. */
    private static final Set<String> METADATA_ADDRESSES = Set.of("169.254.169.254", "169.254.170.2",
            "169.254.169.123", "100.100.100.200", "168.63.129.16", "192.0.0.192", "fd00:ec2:0:0:0:0:0:254");
    private static final Set<String> METADATA_NAMES = Set.of("metadata", "metadata.google.internal",
            "metadata.goog", "instance-data", "instance-data.ec2.internal", "metadata.azure.com");
    private static final Pattern HELPER = Pattern.compile("^[A-Za-z][A-Za-z0-9+.-]*::");
    private static final Pattern SCHEME = Pattern.compile("^([A-Za-z][A-Za-z0-9+.-]*)://");
    /** git's scp-like syntax: {@code [user@]host:path}, no slash before the colon. */
    private static final Pattern SCP = Pattern.compile("^(?:([^@/]*)@)?(\\[[^\\]/]*\\]|[^:/\\[\\]@]+):(.*)$",
            Pattern.DOTALL);
    private static final Pattern HOST_NAME = Pattern.compile("[a-z0-9_]([a-z0-9_.-]*[a-z0-9_])?");
    private static final Pattern IPV4_LITERAL = Pattern.compile("[0-9]{1,3}(\\.[0-9]{1,3}){3}");
    private static final int MAX_URL = 2048;
    /** A host pattern with a port: {@code name:22}, {@code [::1]:9418}; a bare IPv6 literal has no port. */
    private static final Pattern HOST_PORT = Pattern.compile("(\\[[^\\]]*\\]|[^:\\[\\]]+):([0-9]{1,5})");
    private static final Map<String, Integer> DEFAULT_PORTS = Map.of("https", 443, "http", 80, "ssh", 22, "git",
            9418);

    private final Set<String> schemes;
    private final List<String> hosts;
    private final List<Network> allowedNetworks;
    private final List<Path> fileRoots;
    private final Resolver resolver;

    private OutboundPolicy(Builder b) {
        this.schemes = Set.copyOf(b.schemes);
        this.hosts = List.copyOf(b.hosts);
        this.allowedNetworks = List.copyOf(b.networks);
        this.fileRoots = b.fileRoots.stream().map(p -> p.toAbsolutePath().normalize()).toList();
        this.resolver = b.resolver;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A copy of this policy that resolves host names with {@code resolver} (tests use a fixed table). */
    public OutboundPolicy withResolver(Resolver resolver) {
        Builder b = builder().schemes(schemes).hosts(hosts).fileRoots(fileRoots).resolver(resolver);
        b.networks.addAll(allowedNetworks);
        return b.build();
    }

    /** The directories {@code file:} URLs may point into. */
    public List<Path> fileRoots() {
        return fileRoots;
    }

    /**
     * Checks a URL without any I/O: scheme, host pattern, IP literals, option-like parts, transport helpers, and
     * {@code file:} paths lexically under a root.
     *
     * @param field the input field the URL came from, named in the refusal
     * @throws OutboundRefused when the policy does not allow it
     */
    public Target check(String field, String url) {
        Target t = parse(field, url);
        checkParts(field, t);
        if (t.isFile()) {
            Path lexical = Path.of(t.path()).normalize();
            if (fileRoots.stream().noneMatch(lexical::startsWith)) {
                throw refuse(field, "points outside the allowed file directories (conveyor.outbound.file-roots)");
            }
            return new Target(t.scheme(), null, null, -1, t.path(), lexical, List.of());
        }
        return t;
    }

    /**
     * {@link #check} and then what only the connection can tell: every address the host resolves to is allowed, and a
     * {@code file:} path is under a root once symbolic links are resolved. Run it right before connecting, and again for
     * each redirect hop.
     *
     * @throws OutboundRefused when the policy does not allow it
     * @throws StageException (transient, {@code HOST_UNRESOLVED}) when the host has no address right now
     */
    public Target checkConnect(String field, String url) {
        return connect(field, check(field, url));
    }

    /**
     * {@link #checkConnect} for the URI of a JGit transport (the form JGit parsed, so what is checked is what JGit
     * dials).
     */
    public Target checkTransport(String field, URIish uri) {
        String scheme = uri.getScheme() == null
                ? (uri.getHost() == null ? "file" : "ssh")
                : uri.getScheme().toLowerCase(Locale.ROOT);
        String host = uri.getHost() == null ? null : unbracket(uri.getHost().toLowerCase(Locale.ROOT));
        Target t = new Target(scheme, uri.getUser(), host, uri.getPort(), uri.getPath() == null ? "" : uri.getPath(),
                null, List.of());
        checkParts(field, t);
        if (t.isFile()) {
            return connect(field, new Target("file", null, null, -1, t.path(), Path.of(t.path()), List.of()));
        }
        return connect(field, t);
    }

    /**
     * Resolves a host and checks every address it has; a name with one refused answer is refused.
     *
     * @throws OutboundRefused when an answer is refused
     */
    public List<InetAddress> resolve(String field, String host) {
        InetAddress[] all;
        try {
            all = resolver.resolve(host);
        } catch (UnknownHostException e) {
            throw new StageException(FailureKind.TRANSIENT, OutboundFailure.HOST_UNRESOLVED, field + " host " + host
                    + " cannot be resolved", Map.of("field", field), null);
        }
        for (InetAddress address : all) {
            addressRefusal(address).ifPresent(why -> {
                throw refuse(field, "host " + host + " resolves to " + why);
            });
        }
        return List.of(all);
    }

    private Target connect(String field, Target t) {
        if (t.isFile()) {
            Path real = canonical(field, Path.of(t.path()));
            if (fileRoots.stream().map(OutboundPolicy::realOrSelf).noneMatch(real::startsWith)) {
                throw refuse(field, "points outside the allowed file directories (conveyor.outbound.file-roots)");
            }
            return new Target(t.scheme(), null, null, -1, t.path(), real, List.of());
        }
        return new Target(t.scheme(), t.user(), t.host(), t.port(), t.path(), null, resolve(field, t.host()));
    }

    private Target parse(String field, String url) {
        if (url == null || url.isBlank()) {
            throw refuse(field, "is empty");
        }
        if (url.length() > MAX_URL) {
            throw refuse(field, "is longer than " + MAX_URL + " characters");
        }
        if (HELPER.matcher(url).find()) {
            throw refuse(field, "uses git's transport-helper syntax (name::), which runs a program");
        }
        if (url.codePoints().anyMatch(c -> Character.isWhitespace(c) || Character.isISOControl(c))) {
            throw refuse(field, "contains whitespace or a control character");
        }
        if (SCHEME.matcher(url).find()) {
            URI uri;
            try {
                uri = new URI(url);
            } catch (URISyntaxException e) {
                throw refuse(field, "is not a valid URL");
            }
            String scheme = uri.getScheme().toLowerCase(Locale.ROOT);
            String path = uri.getPath() == null ? "" : uri.getPath();
            if (scheme.equals("file")) {
                if (uri.getRawAuthority() != null && !uri.getRawAuthority().isEmpty()
                        && !uri.getRawAuthority().equalsIgnoreCase("localhost")) {
                    throw refuse(field, "is a file URL with a host; only local paths (file:///...) are allowed");
                }
                return new Target("file", null, null, -1, path, null, List.of());
            }
            if (uri.getRawUserInfo() != null && uri.getRawUserInfo().startsWith("-")) {
                throw refuse(field, "has a user name that looks like a command-line option");
            }
            if (uri.getHost() == null) {
                String authority = uri.getRawAuthority();
                if (authority != null && (authority.startsWith("-") || authority.contains("@-"))) {
                    throw refuse(field, "has a host that looks like a command-line option");
                }
                throw refuse(field, "has no valid host name");
            }
            return new Target(scheme, uri.getUserInfo(), unbracket(uri.getHost().toLowerCase(Locale.ROOT)),
                    uri.getPort(), path, null, List.of());
        }
        if (url.startsWith("/")) {
            return new Target("file", null, null, -1, url, null, List.of());
        }
        Matcher scp = SCP.matcher(url);
        if (scp.matches()) {
            return new Target("ssh", scp.group(1), unbracket(scp.group(2).toLowerCase(Locale.ROOT)), -1, scp.group(3),
                    null, List.of());
        }
        throw refuse(field, "is neither a URL, an scp-like git address (user@host:path) nor an absolute path");
    }

    private void checkParts(String field, Target t) {
        if (!schemes.contains(t.scheme())) {
            throw refuse(field, "uses the scheme " + t.scheme() + ", which is not allowed (allowed: "
                    + String.join(", ", schemes.stream().sorted().toList()) + ")");
        }
        if (t.user() != null && (t.user().startsWith("-") || t.user().chars().anyMatch(Character::isISOControl))) {
            throw refuse(field, "has a user name that looks like a command-line option");
        }
        for (String segment : t.path().split("/")) {
            if (segment.length() > 1 && segment.startsWith("-")) {
                throw refuse(field, "has a path that looks like a command-line option");
            }
        }
        if (t.path().chars().anyMatch(Character::isISOControl)) {
            throw refuse(field, "has a control character in its path");
        }
        if (t.isFile()) {
            if (!t.path().startsWith("/")) {
                throw refuse(field, "is a relative file path; only absolute paths are allowed");
            }
            if (fileRoots.isEmpty()) {
                throw refuse(field, "is a file path, and no file directories are allowed "
                        + "(conveyor.outbound.file-roots)");
            }
            return;
        }
        String host = t.host();
        if (host == null || host.isEmpty()) {
            throw refuse(field, "has no host");
        }
        if (host.startsWith("-")) {
            throw refuse(field, "has a host that looks like a command-line option");
        }
        Optional<InetAddress> literal = literal(host);
        if (literal.isEmpty() && !HOST_NAME.matcher(host).matches()) {
            throw refuse(field, "has no valid host name");
        }
        String name = host.endsWith(".") ? host.substring(0, host.length() - 1) : host;
        if (METADATA_NAMES.contains(name)) {
            throw refuse(field, "names a cloud metadata service (" + name + ")");
        }
        int port = t.port() > 0 ? t.port() : DEFAULT_PORTS.getOrDefault(t.scheme(), -1);
        if (hosts.stream().noneMatch(p -> hostMatches(p, name, port))) {
            throw refuse(field, "has the host " + name + (t.port() > 0 ? ":" + t.port() : "")
                    + ", which is not allowed (conveyor.outbound.hosts)");
        }
        literal.flatMap(this::addressRefusal).ifPresent(why -> {
            throw refuse(field, "has the host " + name + ", " + why);
        });
        if (t.port() == 0 || t.port() > 65535) {
            throw refuse(field, "has an invalid port");
        }
    }

    /** Why an address is refused, or empty when it is allowed. */
    Optional<String> addressRefusal(InetAddress address) {
        if (METADATA_ADDRESSES.contains(address.getHostAddress().toLowerCase(Locale.ROOT).replaceAll("%.*", ""))) {
            return Optional.of("a cloud metadata address");
        }
        Optional<String> kind = specialKind(address);
        if (kind.isEmpty() || allowedNetworks.stream().anyMatch(n -> n.contains(address))) {
            return Optional.empty();
        }
        return kind.map(k -> k + " (allow it with conveyor.outbound.allowed-networks)");
    }

    /** The kind of a non-public address ("a loopback address", ...), empty for a public one. */
    static Optional<String> specialKind(InetAddress address) {
        if (address instanceof Inet6Address v6) {
            byte[] b = v6.getAddress();
            Optional<InetAddress> embedded = embeddedIpv4(b);
            if (embedded.isPresent()) {
                if (METADATA_ADDRESSES.contains(embedded.get().getHostAddress())) {
                    return Optional.of("a cloud metadata address");
                }
                return specialKind(embedded.get());
            }
            if (v6.isLoopbackAddress()) {
                return Optional.of("a loopback address");
            }
            if (v6.isAnyLocalAddress()) {
                return Optional.of("an unspecified address");
            }
            if (v6.isLinkLocalAddress()) {
                return Optional.of("a link-local address");
            }
            if (v6.isSiteLocalAddress() || (b[0] & 0xfe) == 0xfc) {
                return Optional.of("a unique-local (private) address");
            }
            if (v6.isMulticastAddress()) {
                return Optional.of("a multicast address");
            }
            if ((b[0] & 0xe0) != 0x20) {
                // Outside 2000::/3, the only global unicast space in use.
                return Optional.of("a reserved address");
            }
            return Optional.empty();
        }
        byte[] b = address.getAddress();
        int first = b[0] & 0xff;
        int second = b[1] & 0xff;
        if (address.isLoopbackAddress()) {
            return Optional.of("a loopback address");
        }
        if (first == 0) {
            return Optional.of("an unspecified address");
        }
        if (address.isLinkLocalAddress()) {
            return Optional.of("a link-local address");
        }
        if (first == 10 || first == 172 && (second & 0xf0) == 16 || first == 192 && second == 168) {
            return Optional.of("a private address");
        }
        if (first == 100 && (second & 0xc0) == 64) {
            return Optional.of("a shared (carrier-grade NAT) address");
        }
        if (first == 192 && second == 0 && (b[2] & 0xff) == 0 || first == 198 && (second & 0xfe) == 18) {
            return Optional.of("a reserved address");
        }
        if (first >= 224) {
            return Optional.of(first < 240 ? "a multicast address" : "a reserved address");
        }
        return Optional.empty();
    }

    /** The IPv4 address inside an IPv4-compatible, IPv4-mapped, NAT64 (64:ff9b::/96) or 6to4 (2002::/16) address. */
    private static Optional<InetAddress> embeddedIpv4(byte[] b) {
        boolean zeros80 = true;
        for (int i = 0; i < 10; i++) {
            zeros80 &= b[i] == 0;
        }
        boolean mapped = zeros80 && (b[10] & 0xff) == 0xff && (b[11] & 0xff) == 0xff;
        boolean compatible = zeros80 && b[10] == 0 && b[11] == 0 && !(b[12] == 0 && b[13] == 0 && b[14] == 0);
        boolean nat64 = (b[0] & 0xff) == 0x00 && (b[1] & 0xff) == 0x64 && (b[2] & 0xff) == 0xff
                && (b[3] & 0xff) == 0x9b;
        try {
            if (mapped || compatible || nat64) {
                return Optional.of(InetAddress.getByAddress(Arrays.copyOfRange(b, 12, 16)));
            }
            if ((b[0] & 0xff) == 0x20 && (b[1] & 0xff) == 0x02) {
                return Optional.of(InetAddress.getByAddress(Arrays.copyOfRange(b, 2, 6)));
            }
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
        return Optional.empty();
    }

    /** An IP literal host as an address, without any DNS lookup; empty for a name. */
    private static Optional<InetAddress> literal(String host) {
        try {
            if (IPV4_LITERAL.matcher(host).matches()) {
                String[] parts = host.split("\\.");
                byte[] b = new byte[4];
                for (int i = 0; i < 4; i++) {
                    int v = Integer.parseInt(parts[i]);
                    if (v > 255) {
                        return Optional.empty();
                    }
                    b[i] = (byte) v;
                }
                return Optional.of(InetAddress.getByAddress(b));
            }
            if (host.contains(":") && host.matches("[0-9a-f:.]+")) {
                // A literal with a colon is never looked up in DNS.
                return Optional.of(InetAddress.getByName(host));
            }
        } catch (UnknownHostException e) {
            return Optional.empty();
        }
        return Optional.empty();
    }

    /**
     * Whether {@code host} on {@code port} matches a pattern: {@code *}, {@code name}, {@code *.domain}, an IP literal
     * ({@code [v6]} bracketed when a port follows), each optionally with {@code :port} (then only that port).
     */
    private static boolean hostMatches(String pattern, String host, int port) {
        String p = pattern.trim().toLowerCase(Locale.ROOT);
        Matcher withPort = HOST_PORT.matcher(p);
        if (withPort.matches()) {
            if (Integer.parseInt(withPort.group(2)) != port) {
                return false;
            }
            p = withPort.group(1);
        }
        if (p.equals("*")) {
            return true;
        }
        if (p.startsWith("*.")) {
            return host.endsWith(p.substring(1)) && host.length() > p.length() - 1;
        }
        return unbracket(p).equals(host);
    }

    private static String unbracket(String host) {
        return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    }

    /**
     * The canonical form of an absolute path: the deepest existing ancestor with its symbolic links resolved, then the
     * missing rest, which may not climb with {@code ..}.
     */
    private static Path canonical(String field, Path path) {
        Path existing = path;
        List<String> rest = new ArrayList<>();
        while (existing != null && !Files.exists(existing, LinkOption.NOFOLLOW_LINKS)) {
            rest.add(0, existing.getFileName().toString());
            existing = existing.getParent();
        }
        if (existing == null) {
            throw refuse(field, "is not an absolute path");
        }
        Path real;
        try {
            real = existing.toRealPath();
        } catch (IOException e) {
            // A dangling symbolic link: where it points cannot be checked, so it is not followed.
            throw refuse(field, "points at a symbolic link whose target does not exist");
        }
        for (String name : rest) {
            if (name.equals("..")) {
                throw refuse(field, "climbs out of a missing directory with ..");
            }
            real = real.resolve(name);
        }
        return real.normalize();
    }

    private static Path realOrSelf(Path root) {
        try {
            return root.toRealPath();
        } catch (IOException e) {
            return root;
        }
    }

    static OutboundRefused refuse(String field, String why) {
        return new OutboundRefused(field, why);
    }

    /** A CIDR network. */
    record Network(byte[] prefix, int bits) {

        static Network parse(String cidr) {
            String text = cidr.trim();
            int slash = text.indexOf('/');
            String address = slash < 0 ? text : text.substring(0, slash);
            Optional<InetAddress> literal = literal(unbracket(address.toLowerCase(Locale.ROOT)));
            if (literal.isEmpty()) {
                throw new IllegalArgumentException("conveyor.outbound.allowed-networks: " + text
                        + " is not an IP address or CIDR network");
            }
            byte[] bytes = literal.get().getAddress();
            int bits = slash < 0 ? bytes.length * 8 : Integer.parseInt(text.substring(slash + 1));
            if (bits < 0 || bits > bytes.length * 8) {
                throw new IllegalArgumentException("conveyor.outbound.allowed-networks: " + text
                        + " has an invalid prefix length");
            }
            return new Network(bytes, bits);
        }

        boolean contains(InetAddress address) {
            byte[] a = address.getAddress();
            if (a.length != prefix.length) {
                return false;
            }
            for (int i = 0; i < bits; i++) {
                int mask = 0x80 >> (i % 8);
                if ((a[i / 8] & mask) != (prefix[i / 8] & mask)) {
                    return false;
                }
            }
            return true;
        }
    }

    /** Builds a policy; the defaults are the production defaults of {@link OutboundConfig}. */
    public static final class Builder {
        private final Set<String> schemes = new LinkedHashSet<>(List.of("https", "ssh"));
        private final List<String> hosts = new ArrayList<>(List.of("*"));
        private final List<Network> networks = new ArrayList<>();
        private final List<Path> fileRoots = new ArrayList<>();
        private Resolver resolver = InetAddress::getAllByName;

        public Builder schemes(Collection<String> values) {
            schemes.clear();
            values.stream().map(s -> s.trim().toLowerCase(Locale.ROOT)).filter(s -> !s.isEmpty())
                    .forEach(schemes::add);
            return this;
        }

        public Builder hosts(Collection<String> patterns) {
            hosts.clear();
            patterns.stream().map(String::trim).filter(s -> !s.isEmpty()).forEach(hosts::add);
            return this;
        }

        /** CIDR networks whose non-public addresses are allowed. */
        public Builder allowedNetworks(Collection<String> cidrs) {
            networks.clear();
            cidrs.stream().filter(s -> !s.isBlank()).map(Network::parse).forEach(networks::add);
            return this;
        }

        public Builder fileRoots(Collection<Path> roots) {
            fileRoots.clear();
            fileRoots.addAll(roots);
            return this;
        }

        public Builder resolver(Resolver value) {
            this.resolver = value;
            return this;
        }

        public OutboundPolicy build() {
            return new OutboundPolicy(this);
        }
    }
}
