package dev.conveyor.imagebuilder.support;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP proxy in front of a registry that counts write requests ({@code PUT}, {@code POST}, {@code PATCH} on
 * {@code /v2/}) passing through it. Bytes are forwarded untouched, so the registry sees the proxy's address as its host
 * and its upload locations point back at the proxy.
 */
public final class CountingProxy implements AutoCloseable {

    private static final List<byte[]> WRITES = List.of("PUT /v2/".getBytes(StandardCharsets.US_ASCII),
            "POST /v2/".getBytes(StandardCharsets.US_ASCII), "PATCH /v2/".getBytes(StandardCharsets.US_ASCII));

    private final ServerSocket server;
    private final InetSocketAddress upstream;
    private final ExecutorService threads = Executors.newCachedThreadPool();
    private final AtomicInteger writes = new AtomicInteger();

    public CountingProxy(String upstreamHost, int upstreamPort) throws IOException {
        this.upstream = new InetSocketAddress(upstreamHost, upstreamPort);
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        threads.submit(this::accept);
    }

    /** {@code 127.0.0.1:<port>}. */
    public String host() {
        return "127.0.0.1:" + server.getLocalPort();
    }

    /** Write requests seen so far. */
    public int writes() {
        return writes.get();
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket client = server.accept();
                Socket target = new Socket(upstream.getHostString(), upstream.getPort());
                threads.submit(() -> pump(client, target, true));
                threads.submit(() -> pump(target, client, false));
            } catch (IOException e) {
                return;
            }
        }
    }

    private void pump(Socket from, Socket to, boolean count) {
        byte[] buffer = new byte[64 * 1024];
        byte[] carry = new byte[0];
        try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
            for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
                if (count) {
                    // Keep the tail of the previous chunk so a request line split across reads is still seen.
                    byte[] window = new byte[carry.length + n];
                    System.arraycopy(carry, 0, window, 0, carry.length);
                    System.arraycopy(buffer, 0, window, carry.length, n);
                    for (byte[] pattern : WRITES) {
                        writes.addAndGet(occurrences(window, pattern, carry.length));
                    }
                    int keep = Math.min(window.length, 16);
                    carry = java.util.Arrays.copyOfRange(window, window.length - keep, window.length);
                }
                out.write(buffer, 0, n);
                out.flush();
            }
        } catch (IOException e) {
            // The other side closed: the connection is over.
        } finally {
            try {
                from.close();
                to.close();
            } catch (IOException e) {
                // closing anyway
            }
        }
    }

    /** Occurrences of pattern in window that end after {@code fresh} (so carried bytes are not counted twice). */
    private static int occurrences(byte[] window, byte[] pattern, int fresh) {
        int count = 0;
        outer : for (int i = 0; i + pattern.length <= window.length; i++) {
            if (i + pattern.length <= fresh) {
                continue;
            }
            for (int j = 0; j < pattern.length; j++) {
                if (window[i + j] != pattern[j]) {
                    continue outer;
                }
            }
            count++;
        }
        return count;
    }

    @Override
    public void close() throws IOException {
        server.close();
        threads.shutdownNow();
    }
}
