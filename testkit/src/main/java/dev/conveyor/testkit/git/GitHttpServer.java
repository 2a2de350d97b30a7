package dev.conveyor.testkit.git;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import dev.conveyor.testkit.Binaries;

/**
 * Git's smart HTTP protocol with token authentication, as GitHub and GitLab serve it: every request must carry HTTP
 * basic credentials whose password is the token (any user name), or it gets {@code 401} with a
 * {@code WWW-Authenticate} challenge. Behind the check runs Git's own {@code git http-backend} CGI program over the
 * bare repositories under a root directory, with pushes enabled for authenticated users.
 */
public final class GitHttpServer implements AutoCloseable {

    private final HttpServer server;
    private final ExecutorService executor;
    private final Path root;
    private final String token;
    private final Path backend;

    private GitHttpServer(HttpServer server, ExecutorService executor, Path root, String token, Path backend) {
        this.server = server;
        this.executor = executor;
        this.root = root;
        this.token = token;
        this.backend = backend;
    }

    /** Serves the repositories under {@code root} at {@code http://127.0.0.1:<port>/<name>.git}, accepting {@code token}. */
    public static GitHttpServer start(Path root, String token) {
        Path backend = Path.of("/usr/lib/git-core/git-http-backend");
        if (!backend.toFile().canExecute()) {
            Binaries.require("git", "git");
            throw new IllegalStateException("git-http-backend was not found at " + backend
                    + "; install it with 'sudo apt-get install -y git'");
        }
        try {
            HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
            ExecutorService executor = Executors.newFixedThreadPool(4, r -> {
                Thread t = new Thread(r, "git-http");
                t.setDaemon(true);
                return t;
            });
            GitHttpServer git = new GitHttpServer(server, executor, root, token, backend);
            server.createContext("/", git::handle);
            server.setExecutor(executor);
            server.start();
            return git;
        } catch (IOException e) {
            throw new IllegalStateException("cannot start the git HTTP server", e);
        }
    }

    /** The port it listens on. */
    public int port() {
        return server.getAddress().getPort();
    }

    /** The URL of a repository, without credentials. */
    public String url(BareRepo repo) {
        return "http://127.0.0.1:" + port() + "/" + root.relativize(repo.path()).toString().replace('\\', '/');
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            if (!authorized(exchange.getRequestHeaders().getFirst("Authorization"))) {
                exchange.getResponseHeaders().add("WWW-Authenticate", "Basic realm=\"conveyor-testkit\"");
                exchange.sendResponseHeaders(401, -1);
                return;
            }
            ProcessBuilder cgi = new ProcessBuilder(backend.toString());
            Map<String, String> env = cgi.environment();
            env.put("GIT_PROJECT_ROOT", root.toAbsolutePath().toString());
            env.put("GIT_HTTP_EXPORT_ALL", "1");
            env.put("REMOTE_USER", "conveyor");
            env.put("REMOTE_ADDR", "127.0.0.1");
            env.put("REQUEST_METHOD", exchange.getRequestMethod());
            env.put("PATH_INFO", exchange.getRequestURI().getRawPath());
            env.put("QUERY_STRING", exchange.getRequestURI().getRawQuery() == null
                    ? ""
                    : exchange.getRequestURI().getRawQuery());
            String contentType = exchange.getRequestHeaders().getFirst("Content-Type");
            env.put("CONTENT_TYPE", contentType == null ? "" : contentType);
            String encoding = exchange.getRequestHeaders().getFirst("Content-Encoding");
            if (encoding != null) {
                env.put("HTTP_CONTENT_ENCODING", encoding);
            }
            String protocol = exchange.getRequestHeaders().getFirst("Git-Protocol");
            if (protocol != null) {
                env.put("GIT_PROTOCOL", protocol);
            }
            cgi.redirectError(ProcessBuilder.Redirect.DISCARD);
            Process process = cgi.start();
            try (OutputStream toCgi = process.getOutputStream(); InputStream body = exchange.getRequestBody()) {
                body.transferTo(toCgi);
            }
            byte[] output = process.getInputStream().readAllBytes();
            process.waitFor(60, TimeUnit.SECONDS);
            respond(exchange, output);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Splits the CGI output into headers (with an optional {@code Status}) and body. */
    private static void respond(HttpExchange exchange, byte[] output) throws IOException {
        int split = -1;
        for (int i = 0; i + 3 < output.length; i++) {
            if (output[i] == '\r' && output[i + 1] == '\n' && output[i + 2] == '\r' && output[i + 3] == '\n') {
                split = i;
                break;
            }
        }
        if (split < 0) {
            exchange.sendResponseHeaders(500, -1);
            return;
        }
        int status = 200;
        for (String line : new String(output, 0, split, StandardCharsets.ISO_8859_1).split("\r\n")) {
            int colon = line.indexOf(':');
            if (colon <= 0) {
                continue;
            }
            String name = line.substring(0, colon).trim();
            String value = line.substring(colon + 1).trim();
            if (name.equalsIgnoreCase("Status")) {
                status = Integer.parseInt(value.split(" ")[0]);
            } else {
                exchange.getResponseHeaders().add(name, value);
            }
        }
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.write(output, split + 4, output.length - split - 4);
        exchange.sendResponseHeaders(status, body.size() == 0 ? -1 : body.size());
        if (body.size() > 0) {
            exchange.getResponseBody().write(body.toByteArray());
        }
    }

    private boolean authorized(String header) {
        if (header == null || !header.startsWith("Basic ")) {
            return false;
        }
        String decoded = new String(Base64.getDecoder().decode(header.substring(6).trim()), StandardCharsets.UTF_8);
        int colon = decoded.indexOf(':');
        byte[] given = (colon < 0 ? "" : decoded.substring(colon + 1)).getBytes(StandardCharsets.UTF_8);
        return MessageDigest.isEqual(given, token.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
