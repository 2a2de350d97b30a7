package dev.conveyor.imagebuilder.support;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.UnaryOperator;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/**
 * An HTTP front on loopback that passes every request on to a real registry and its answer back, except where a test
 * makes it misbehave: the {@code Location} of an upload it opens rewritten, or a {@code HEAD} of a blob the registry
 * holds answered with a redirect to storage. Locations the registry gives on its own origin are moved to the front's,
 * so a client only ever sees the front. Records every request it got.
 */
public final class RegistryFront implements AutoCloseable {

    private static final Set<String> HOP_BY_HOP = Set.of("host", "connection", "content-length", "expect", "upgrade",
            "transfer-encoding", "keep-alive", "date");

    private final HttpServer server;
    private final ExecutorService threads = Executors.newCachedThreadPool();
    private final HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private final String upstream;
    private final List<String> requests = new CopyOnWriteArrayList<>();
    private volatile UnaryOperator<String> uploadLocation = UnaryOperator.identity();
    private volatile int blobHeadRedirect;
    private volatile String storage;

    private RegistryFront(String upstreamHost) throws IOException {
        this.upstream = "http://" + upstreamHost;
        this.server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 50);
        server.setExecutor(threads);
        server.createContext("/", this::handle);
        server.start();
    }

    /** A front for the registry at {@code upstreamHost} ({@code host:port}, plain HTTP). */
    public static RegistryFront start(String upstreamHost) {
        try {
            return new RegistryFront(upstreamHost);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** {@code 127.0.0.1:<port>}: the registry as clients name it. */
    public String host() {
        return "127.0.0.1:" + server.getAddress().getPort();
    }

    /** Rewrites the {@code Location} of every upload the registry opens (the answer to the upload POST). */
    public RegistryFront uploadLocation(UnaryOperator<String> rewrite) {
        this.uploadLocation = rewrite;
        return this;
    }

    /**
     * Answers a {@code HEAD} of a blob the registry holds with {@code status} and a {@code Location} at
     * {@code storageOrigin} (a blob the registry lacks stays a 404), as registries backed by object storage do.
     */
    public RegistryFront redirectBlobHeads(int status, String storageOrigin) {
        this.blobHeadRedirect = status;
        this.storage = storageOrigin;
        return this;
    }

    /** Every request so far, as {@code METHOD path[?query]}. */
    public List<String> requests() {
        return List.copyOf(requests);
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String method = exchange.getRequestMethod();
            URI uri = exchange.getRequestURI();
            String target = uri.getRawPath() + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery());
            requests.add(method + " " + target);
            byte[] body;
            try (InputStream in = exchange.getRequestBody()) {
                body = in.readAllBytes();
            }
            HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(upstream + target)).timeout(Duration
                    .ofSeconds(30)).method(method, body.length == 0
                            ? HttpRequest.BodyPublishers.noBody()
                            : HttpRequest.BodyPublishers.ofByteArray(body));
            exchange.getRequestHeaders().forEach((name, values) -> {
                if (!HOP_BY_HOP.contains(name.toLowerCase(Locale.ROOT))) {
                    values.forEach(value -> request.header(name, value));
                }
            });
            HttpResponse<byte[]> response;
            try {
                response = http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                exchange.sendResponseHeaders(502, -1);
                return;
            }
            int status = response.statusCode();
            boolean blobHead = method.equals("HEAD") && uri.getRawPath().contains("/blobs/sha256:");
            if (blobHead && status == 200 && blobHeadRedirect != 0) {
                exchange.getResponseHeaders().set("Location", storage + "/storage" + uri.getRawPath()
                        + "?X-Amz-Signature=abc");
                exchange.sendResponseHeaders(blobHeadRedirect, -1);
                return;
            }
            response.headers().map().forEach((name, values) -> {
                if (!HOP_BY_HOP.contains(name.toLowerCase(Locale.ROOT)) && !name.startsWith(":")) {
                    exchange.getResponseHeaders().put(name, values.stream().map(this::toFront).toList());
                }
            });
            if (method.equals("POST") && uri.getRawPath().endsWith("/blobs/uploads/")) {
                response.headers().firstValue("Location").ifPresent(location -> exchange.getResponseHeaders().set(
                        "Location", uploadLocation.apply(toFront(location))));
            }
            byte[] answer = response.body();
            boolean empty = method.equals("HEAD") || answer.length == 0;
            exchange.sendResponseHeaders(status, empty ? -1 : answer.length);
            if (!empty) {
                exchange.getResponseBody().write(answer);
            }
        }
    }

    /** A URL on the registry's origin moved to the front's. */
    private String toFront(String value) {
        return value.startsWith(upstream) ? "http://" + host() + value.substring(upstream.length()) : value;
    }

    @Override
    public void close() {
        server.stop(0);
        threads.shutdownNow();
    }

    /**
     * Another host, as a registry answer might name it (an upload target, object storage): a loopback listener that
     * records every request and answers 201, so a client that went there would seem to succeed.
     */
    public static final class Elsewhere implements AutoCloseable {

        private final HttpServer server;
        private final ExecutorService threads = Executors.newCachedThreadPool();
        private final List<String> requests = new CopyOnWriteArrayList<>();

        private Elsewhere() throws IOException {
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 50);
            server.setExecutor(threads);
            server.createContext("/", exchange -> {
                try (exchange) {
                    requests.add(exchange.getRequestMethod() + " " + exchange.getRequestURI().getRawPath()
                            + (exchange.getRequestHeaders().containsKey("Authorization") ? " with Authorization" : ""));
                    exchange.getRequestBody().readAllBytes();
                    exchange.sendResponseHeaders(201, -1);
                }
            });
            server.start();
        }

        public static Elsewhere start() {
            try {
                return new Elsewhere();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }

        /** {@code http://localhost:<port>}: another host name and port than the front's. */
        public String origin() {
            return "http://localhost:" + server.getAddress().getPort();
        }

        /** Every request it got: method and path, and whether it carried an Authorization header. */
        public List<String> requests() {
            return List.copyOf(requests);
        }

        @Override
        public void close() {
            server.stop(0);
            threads.shutdownNow();
        }
    }
}
