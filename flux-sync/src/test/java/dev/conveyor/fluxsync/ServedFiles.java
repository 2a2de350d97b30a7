package dev.conveyor.fluxsync;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import com.marcnuri.helm.Helm;
import com.sun.net.httpserver.HttpExchange;

/** Helm repositories the tests serve themselves over HTTP ({@code com.sun.net.httpserver}). */
public final class ServedFiles {

    private ServedFiles() {
    }

    /** Answers with the file below {@code root} the request names, or 404 (also for a path leaving it). */
    public static void send(HttpExchange exchange, Path root) throws IOException {
        Path file = root.resolve(exchange.getRequestURI().getPath().substring(1)).normalize();
        if (!file.startsWith(root) || !Files.isRegularFile(file)) {
            exchange.sendResponseHeaders(404, -1);
            exchange.close();
            return;
        }
        byte[] body = Files.readAllBytes(file);
        exchange.sendResponseHeaders(200, body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        } catch (IOException ignored) {
            // client went away
        }
    }

    /**
     * Packages {@code chart} in each version into {@code served} and writes its {@code index.yaml}.
     *
     * @param files the chart's files of a version, by path in the chart ({@code Chart.yaml}, {@code templates/...})
     */
    public static void helmRepository(Path work, Path served, String chart, List<String> versions,
            Function<String, Map<String, String>> files) throws IOException {
        Files.createDirectories(served);
        StringBuilder index = new StringBuilder("apiVersion: v1\nentries:\n  " + chart + ":\n");
        for (String v : versions) {
            Path dir = work.resolve("src-" + v + "/" + chart);
            for (Map.Entry<String, String> f : files.apply(v).entrySet()) {
                Files.createDirectories(dir.resolve(f.getKey()).getParent());
                Files.writeString(dir.resolve(f.getKey()), f.getValue());
            }
            new Helm(dir).packageIt().withDestination(served).call();
            index.append("    - name: ").append(chart).append("\n      version: ").append(v).append("\n      urls: [")
                    .append(chart).append('-').append(v).append(".tgz]\n");
        }
        Files.writeString(served.resolve("index.yaml"), index.toString());
    }
}
