package dev.conveyor.testkit.registry;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiPredicate;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import dev.conveyor.testkit.Binaries;
import dev.conveyor.testkit.Ports;
import dev.conveyor.testkit.ServerProcesses;
import dev.conveyor.testkit.TempDirs;

/**
 * A real OCI distribution registry (Debian's {@code docker-registry}, distribution 2.8) that authenticates the way
 * Docker Hub does: {@code auth: token}. Every API call without a valid token is answered 401 with
 * {@code WWW-Authenticate: Bearer realm="<token service>",service="...",scope="repository:<name>:<actions>"}.
 *
 * <p>
 * The token service runs in this JVM (JDK {@code HttpServer} on a loopback port, {@code GET /token}). It checks HTTP
 * basic credentials against the one configured user and password (401 otherwise) and issues a JWT (RS256) for the
 * requested {@code scope}s: claims {@code iss}, {@code sub}, {@code aud}, {@code exp}, {@code nbf}, {@code iat},
 * {@code jti} and {@code access[]}; the header carries the signing certificate as {@code x5c}. That certificate is
 * self-signed, generated at start, and is the registry's {@code rootcertbundle}, so the registry verifies every token
 * with distribution's own code. {@link #grantedScopes()} and {@link #deniedTokenRequests()} let tests check what was
 * asked for; neither holds a secret.
 *
 * <p>
 * Plain HTTP on loopback for both, like {@link OciRegistry}: Jib needs {@code setAllowInsecureRegistries(true)} and the
 * {@code sendCredentialsOverHttp} switch. {@link #close()} stops both and removes all stored images.
 */
public final class TokenAuthRegistry implements AutoCloseable {

    /** The {@code service} the registry names in its challenge and expects as the token's audience. */
    public static final String SERVICE = "conveyor-testkit-registry";
    /** The token's issuer, as configured in the registry. */
    public static final String ISSUER = "conveyor-testkit-token-service";
    /** How long an issued token is valid. */
    public static final Duration TOKEN_LIFETIME = Duration.ofMinutes(5);

    private static final Duration START_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);
    private static final int START_ATTEMPTS = 3;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Base64.Encoder URL_BASE64 = Base64.getUrlEncoder().withoutPadding();

    private final Path root;
    private final OciRegistry.Credentials credentials;
    private final TokenService tokens;
    private final Process process;
    private final int port;
    private final Path log;
    private final HttpClient http;
    private final Thread shutdownHook;

    private TokenAuthRegistry(Path root, OciRegistry.Credentials credentials, TokenService tokens, Process process,
            int port, Path log, HttpClient http) {
        this.root = root;
        this.credentials = credentials;
        this.tokens = tokens;
        this.process = process;
        this.port = port;
        this.log = log;
        this.http = http;
        this.shutdownHook = new Thread(process::destroy, "token-registry-shutdown-" + port);
        Runtime.getRuntime().addShutdownHook(shutdownHook);
    }

    /**
     * Starts the token service and the registry, and waits until {@code GET /v2/} answers 401 with a Bearer
     * challenge. Only {@code user}/{@code password} get tokens.
     */
    public static TokenAuthRegistry start(String user, String password) {
        return start(user, password, (repository, action) -> true);
    }

    /**
     * Like {@link #start(String, String)}, but the token service grants an action on a repository only when
     * {@code allowed} says so, and leaves the others out of the token as Docker Hub does (the registry then answers
     * 401 {@code insufficient_scope}); e.g. {@code (repo, action) -> action.equals("pull")} for a read-only user.
     */
    public static TokenAuthRegistry start(String user, String password, BiPredicate<String, String> allowed) {
        OciRegistry.Credentials credentials = new OciRegistry.Credentials(user, password);
        Path binary = Binaries.require("docker-registry", "docker-registry");
        Path root = TempDirs.create("token-registry");
        TokenService tokens;
        try {
            tokens = TokenService.start(root, credentials, allowed);
        } catch (RuntimeException e) {
            TempDirs.deleteQuietly(root);
            throw e;
        }
        HttpClient http = HttpClient.newBuilder().connectTimeout(REQUEST_TIMEOUT).build();
        try {
            return ServerProcesses.startOnFreePort(root, START_ATTEMPTS, attempt -> {
                int port = Ports.free();
                Path log = root.resolve("registry-" + attempt + ".log");
                return new TokenAuthRegistry(root, credentials, tokens, launch(binary, root, port, log, tokens),
                        port, log, http);
            }, TokenAuthRegistry::awaitReady, TokenAuthRegistry::stopProcess, TokenAuthRegistry::logTail);
        } catch (RuntimeException e) {
            tokens.stop();
            throw e;
        }
    }

    private static Process launch(Path binary, Path root, int port, Path log, TokenService tokens) {
        try {
            Path storage = Files.createDirectories(root.resolve("storage"));
            String config = "version: 0.1\n" + "log:\n  level: info\n  accesslog:\n    disabled: true\n"
                    + "storage:\n  filesystem:\n    rootdirectory: " + quoted(storage) + "\n"
                    + "  delete:\n    enabled: true\n" + "http:\n  addr: 127.0.0.1:" + port + "\n" + "auth:\n"
                    + "  token:\n" + "    realm: " + tokens.realm() + "\n" + "    service: " + SERVICE + "\n"
                    + "    issuer: " + ISSUER + "\n" + "    rootcertbundle: " + quoted(tokens.rootCertBundle()) + "\n";
            Path configFile = root.resolve("config-" + port + ".yml");
            Files.writeString(configFile, config);
            ProcessBuilder builder = new ProcessBuilder(binary.toString(), "serve", configFile.toString())
                    .directory(root.toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
            builder.environment().keySet().removeIf(name -> name.startsWith("REGISTRY_"));
            return builder.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start docker-registry", e);
        }
    }

    private static String quoted(Path path) {
        return "'" + path.toAbsolutePath().toString().replace("'", "''") + "'";
    }

    private void awaitReady() {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (true) {
            if (!process.isAlive()) {
                throw new IllegalStateException("docker-registry exited with code " + process.exitValue()
                        + " before answering on " + url() + ". Log tail:\n" + logTail());
            }
            try {
                HttpResponse<Void> response = http.send(
                        HttpRequest.newBuilder(URI.create(url() + "/v2/")).timeout(Duration.ofSeconds(2)).GET().build(),
                        HttpResponse.BodyHandlers.discarding());
                if (response.statusCode() == 401 && response.headers().firstValue("WWW-Authenticate").orElse("")
                        .startsWith("Bearer ")) {
                    return;
                }
            } catch (IOException e) {
                // Not listening yet.
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for docker-registry", e);
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(
                        "docker-registry did not answer GET /v2/ with a Bearer challenge within "
                                + START_TIMEOUT + " on " + url() + ". Log tail:\n" + logTail());
            }
            try {
                process.waitFor(50, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for docker-registry", e);
            }
        }
    }

    /** {@code 127.0.0.1:<port>}, the registry part of image references. */
    public String host() {
        return "127.0.0.1:" + port;
    }

    /** {@code http://127.0.0.1:<port>}. */
    public String url() {
        return "http://" + host();
    }

    /** The token service's endpoint, the {@code realm} of the registry's challenge. */
    public String realm() {
        return tokens.realm();
    }

    /** The only user and password the token service accepts. */
    public OciRegistry.Credentials credentials() {
        return credentials;
    }

    /**
     * Every scope a token was issued for, in order, with the actions actually granted, e.g.
     * {@code repository:shop:pull,push}; includes the scopes this class's own helpers ask for.
     */
    public List<String> grantedScopes() {
        return List.copyOf(tokens.granted);
    }

    /** How many token requests were refused for missing or wrong credentials. */
    public int deniedTokenRequests() {
        return tokens.denied.get();
    }

    /** The registry's log file. */
    public Path logFile() {
        return log;
    }

    /** The last lines of the registry's log, for failure messages. */
    public String logTail() {
        return ServerProcesses.logTail(log, 40);
    }

    /** The tags of a repository, empty if it does not exist (asks the token service for a pull token). */
    public List<String> tags(String repository) {
        HttpResponse<String> response = send(repository, "/v2/" + repository + "/tags/list", false);
        if (response.statusCode() == 404) {
            return List.of();
        }
        expectOk(response, "list tags of " + repository);
        try {
            List<String> result = new ArrayList<>();
            JSON.readTree(response.body()).path("tags").forEach(tag -> result.add(tag.asText()));
            return List.copyOf(result);
        } catch (IOException e) {
            throw new IllegalStateException("registry answered tags of " + repository + " with invalid JSON", e);
        }
    }

    /** The {@code Docker-Content-Digest} of a manifest, or empty if the registry does not have it. */
    public Optional<String> manifestDigest(String repository, String reference) {
        HttpResponse<String> response = send(repository, "/v2/" + repository + "/manifests/" + URLEncoder.encode(
                reference, StandardCharsets.UTF_8), true);
        if (response.statusCode() == 404) {
            return Optional.empty();
        }
        expectOk(response, "HEAD manifest " + repository + ":" + reference);
        return response.headers().firstValue("Docker-Content-Digest");
    }

    private HttpResponse<String> send(String repository, String path, boolean head) {
        String token = tokens.issue(credentials.user(), List.of("repository:" + repository + ":pull"));
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url() + path)).timeout(REQUEST_TIMEOUT)
                .header("Authorization", "Bearer " + token).header("Accept", OciRegistry.MANIFEST_ACCEPT);
        request = head ? request.method("HEAD", HttpRequest.BodyPublishers.noBody()) : request.GET();
        try {
            return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException("registry " + url() + " did not answer. Log tail:\n" + logTail(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while talking to the registry", e);
        }
    }

    private void expectOk(HttpResponse<String> response, String what) {
        if (response.statusCode() != 200) {
            throw new IllegalStateException("registry could not " + what + ": HTTP " + response.statusCode() + " "
                    + response.body() + "\nLog tail:\n" + logTail());
        }
    }

    private void stopProcess() {
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException e) {
            // The JVM is already shutting down; the hook runs anyway.
        }
        ServerProcesses.stop(process, STOP_TIMEOUT);
    }

    /** Stops the registry and the token service and deletes the storage. */
    @Override
    public void close() {
        try {
            stopProcess();
            tokens.stop();
        } finally {
            TempDirs.deleteQuietly(root);
        }
    }

    /** The in-process token service: basic auth in, signed JWT out. */
    private static final class TokenService {

        private final HttpServer server;
        private final ExecutorService executor;
        private final OciRegistry.Credentials credentials;
        private final BiPredicate<String, String> allowed;
        private final PrivateKey key;
        private final String x5c;
        private final Path bundle;
        private final List<String> granted = new CopyOnWriteArrayList<>();
        private final AtomicInteger denied = new AtomicInteger();

        private TokenService(HttpServer server, ExecutorService executor, OciRegistry.Credentials credentials,
                BiPredicate<String, String> allowed, PrivateKey key, String x5c, Path bundle) {
            this.server = server;
            this.executor = executor;
            this.credentials = credentials;
            this.allowed = allowed;
            this.key = key;
            this.x5c = x5c;
            this.bundle = bundle;
        }

        static TokenService start(Path root, OciRegistry.Credentials credentials,
                BiPredicate<String, String> allowed) {
            try {
                KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
                generator.initialize(2048);
                KeyPair pair = generator.generateKeyPair();
                X509Certificate cert = selfSigned(pair);
                Path bundle = root.resolve("token-root.pem");
                Files.writeString(bundle, "-----BEGIN CERTIFICATE-----\n" + Base64.getMimeEncoder(64, new byte[]{
                        '\n'}).encodeToString(cert.getEncoded()) + "\n-----END CERTIFICATE-----\n");
                HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
                ExecutorService executor = Executors.newFixedThreadPool(4, r -> {
                    Thread thread = new Thread(r, "token-service");
                    thread.setDaemon(true);
                    return thread;
                });
                TokenService service = new TokenService(server, executor, credentials, allowed, pair.getPrivate(),
                        Base64
                                .getEncoder().encodeToString(cert.getEncoded()),
                        bundle);
                server.createContext("/token", service::handle);
                server.setExecutor(executor);
                server.start();
                return service;
            } catch (IOException e) {
                throw new UncheckedIOException("cannot start the token service", e);
            } catch (GeneralSecurityException | OperatorCreationException e) {
                throw new IllegalStateException("cannot create the token signing key", e);
            }
        }

        private static X509Certificate selfSigned(KeyPair pair) throws GeneralSecurityException,
                OperatorCreationException {
            X500Name name = new X500Name("CN=" + ISSUER);
            Instant now = Instant.now();
            X509CertificateHolder holder = new JcaX509v3CertificateBuilder(name, new BigInteger(64, new SecureRandom())
                    .add(BigInteger.ONE), Date.from(now.minus(Duration.ofHours(1))),
                    Date.from(now.plus(Duration
                            .ofDays(2))),
                    name, pair.getPublic()).build(
                            new JcaContentSignerBuilder("SHA256withRSA")
                                    .build(pair.getPrivate()));
            return new JcaX509CertificateConverter().getCertificate(holder);
        }

        String realm() {
            return "http://127.0.0.1:" + server.getAddress().getPort() + "/token";
        }

        Path rootCertBundle() {
            return bundle;
        }

        void stop() {
            server.stop(0);
            executor.shutdownNow();
        }

        private void handle(HttpExchange exchange) throws IOException {
            try (exchange) {
                try (InputStream body = exchange.getRequestBody()) {
                    body.readAllBytes();
                }
                if (!"GET".equals(exchange.getRequestMethod())) {
                    respond(exchange, 405, error("UNSUPPORTED", "only GET is supported"));
                    return;
                }
                Map<String, List<String>> query = query(exchange.getRequestURI().getRawQuery());
                Optional<String> user = authenticated(exchange.getRequestHeaders().getFirst("Authorization"));
                if (user.isEmpty()) {
                    denied.incrementAndGet();
                    exchange.getResponseHeaders().add("WWW-Authenticate", "Basic realm=\"" + ISSUER + "\"");
                    respond(exchange, 401, error("UNAUTHORIZED", "authentication required"));
                    return;
                }
                String service = query.getOrDefault("service", List.of(SERVICE)).get(0);
                if (!SERVICE.equals(service)) {
                    respond(exchange, 400, error("INVALID_SERVICE", "unknown service"));
                    return;
                }
                String token = issue(user.get(), query.getOrDefault("scope", List.of()));
                ObjectNode answer = JSON.createObjectNode().put("token", token).put("access_token", token)
                        .put("expires_in", TOKEN_LIFETIME.toSeconds()).put("issued_at", Instant.now().toString());
                respond(exchange, 200, JSON.writeValueAsBytes(answer));
            }
        }

        private Optional<String> authenticated(String authorization) {
            if (authorization == null || !authorization.regionMatches(true, 0, "Basic ", 0, 6)) {
                return Optional.empty();
            }
            String decoded;
            try {
                decoded = new String(Base64.getDecoder().decode(authorization.substring(6).trim()),
                        StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                return Optional.empty();
            }
            int colon = decoded.indexOf(':');
            if (colon < 0) {
                return Optional.empty();
            }
            String user = decoded.substring(0, colon);
            boolean ok = MessageDigest.isEqual(user.getBytes(StandardCharsets.UTF_8), credentials.user().getBytes(
                    StandardCharsets.UTF_8))
                    & MessageDigest.isEqual(decoded.substring(colon + 1).getBytes(StandardCharsets.UTF_8), credentials
                            .password().getBytes(StandardCharsets.UTF_8));
            return ok ? Optional.of(user) : Optional.empty();
        }

        /** A signed token granting {@code scopes} ({@code type:name:action[,action]}) to {@code subject}. */
        String issue(String subject, List<String> scopes) {
            ArrayNode access = JSON.createArrayNode();
            for (String scope : scopes) {
                int first = scope.indexOf(':');
                int last = scope.lastIndexOf(':');
                if (first < 0 || last <= first) {
                    continue;
                }
                String name = scope.substring(first + 1, last);
                List<String> actions = new ArrayList<>();
                for (String action : scope.substring(last + 1).split(",")) {
                    if (!action.isBlank() && allowed.test(name, action.trim())) {
                        actions.add(action.trim());
                    }
                }
                if (actions.isEmpty()) {
                    continue;
                }
                ObjectNode entry = access.addObject().put("type", scope.substring(0, first)).put("name", name);
                actions.forEach(entry.putArray("actions")::add);
                granted.add(scope.substring(0, last + 1) + String.join(",", actions));
            }
            long now = Instant.now().getEpochSecond();
            ObjectNode header = JSON.createObjectNode().put("typ", "JWT").put("alg", "RS256");
            header.putArray("x5c").add(x5c);
            ObjectNode claims = JSON.createObjectNode().put("iss", ISSUER).put("sub", subject).put("aud", SERVICE)
                    .put("exp", now + TOKEN_LIFETIME.toSeconds()).put("nbf", now - 1).put("iat", now).put("jti", UUID
                            .randomUUID().toString());
            claims.set("access", access);
            try {
                String signingInput = URL_BASE64.encodeToString(JSON.writeValueAsBytes(header)) + "."
                        + URL_BASE64.encodeToString(JSON.writeValueAsBytes(claims));
                Signature signature = Signature.getInstance("SHA256withRSA");
                signature.initSign(key);
                signature.update(signingInput.getBytes(StandardCharsets.US_ASCII));
                return signingInput + "." + URL_BASE64.encodeToString(signature.sign());
            } catch (IOException | GeneralSecurityException e) {
                throw new IllegalStateException("cannot sign a registry token", e);
            }
        }

        private static Map<String, List<String>> query(String raw) {
            Map<String, List<String>> result = new LinkedHashMap<>();
            if (raw == null || raw.isEmpty()) {
                return result;
            }
            for (String pair : raw.split("&")) {
                int eq = pair.indexOf('=');
                String name = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
                String value = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
                // Some clients send several scopes space-separated in one parameter.
                for (String part : value.split(" ")) {
                    if (!part.isEmpty() || !name.equals("scope")) {
                        result.computeIfAbsent(name, k -> new ArrayList<>()).add(part);
                    }
                }
            }
            return result;
        }

        private static byte[] error(String code, String message) throws IOException {
            ObjectNode root = JSON.createObjectNode();
            root.putArray("errors").addObject().put("code", code).put("message", message);
            return JSON.writeValueAsBytes(root);
        }

        private static void respond(HttpExchange exchange, int status, byte[] body) throws IOException {
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.sendResponseHeaders(status, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }
    }

    /** Decodes the claims of a token this service issued, for tests that check what was granted. */
    public static JsonNode claims(String token) {
        String[] parts = token.split("\\.");
        if (parts.length != 3) {
            throw new IllegalArgumentException("not a JWT");
        }
        try {
            return JSON.readTree(Base64.getUrlDecoder().decode(parts[1]));
        } catch (IOException e) {
            throw new IllegalArgumentException("JWT claims are not JSON", e);
        }
    }
}
