package dev.conveyor.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;

/** Free loopback ports for servers started by the testkit. */
public final class Ports {

    private Ports() {
    }

    /**
     * Returns a TCP port on 127.0.0.1 that was free a moment ago. Several test JVMs may run at once, so callers bind
     * soon after and retry on a bind failure where the server allows it.
     */
    public static int free() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free loopback port", e);
        }
    }
}
