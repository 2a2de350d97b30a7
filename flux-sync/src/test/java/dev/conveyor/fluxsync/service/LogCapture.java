package dev.conveyor.fluxsync.service;

import java.util.ArrayList;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import org.jboss.logmanager.ExtLogRecord;

/**
 * Everything logged through JBoss/java.util.logging while it is installed, formatted, for tests that assert what never
 * reaches a log (decrypted values, credentials).
 */
final class LogCapture extends Handler implements AutoCloseable {

    private final List<String> lines = new ArrayList<>();

    /** Installs a capture on the root logger. */
    static LogCapture install() {
        LogCapture capture = new LogCapture();
        Logger.getLogger("").addHandler(capture);
        return capture;
    }

    @Override
    public void publish(LogRecord record) {
        String text = record instanceof ExtLogRecord ext ? ext.getFormattedMessage() : record.getMessage();
        synchronized (lines) {
            lines.add(text + (record.getThrown() == null ? "" : " " + record.getThrown()));
        }
    }

    /** Every line captured so far, joined. */
    String text() {
        synchronized (lines) {
            return String.join("\n", lines);
        }
    }

    @Override
    public void flush() {
    }

    @Override
    public void close() {
        Logger.getLogger("").removeHandler(this);
    }
}
