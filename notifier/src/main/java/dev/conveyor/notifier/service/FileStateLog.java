package dev.conveyor.notifier.service;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

import org.jboss.logging.Logger;

/**
 * The state of a single notifier process in one append-only file of JSON lines, forced to disk on every write: one
 * line per changed key, rewritten as a snapshot of the current values when the store opens. A crash can tear the last
 * line, which is ignored; a damaged line anywhere else stops the open. Also reads the journal of the versions before
 * the state moved to Kafka (one line per operation), which is how it is migrated.
 */
final class FileStateLog implements StateStore.Log {

    private static final Logger LOG = Logger.getLogger(FileStateLog.class);

    private final Path file;
    private final List<StateStore.Entry> entries;
    private BufferedWriter out;
    private FileChannel channel;

    private FileStateLog(Path file, List<StateStore.Entry> entries) {
        this.file = file;
        this.entries = entries;
    }

    /** Reads the file (if any); {@link #entries()} are its lines. */
    static FileStateLog open(Path file) throws IOException {
        Files.createDirectories(file.getParent());
        return new FileStateLog(file, read(file));
    }

    /** The lines read when the file was opened, oldest first. */
    List<StateStore.Entry> entries() {
        return entries;
    }

    static List<StateStore.Entry> read(Path file) throws IOException {
        List<StateStore.Entry> out = new ArrayList<>();
        if (!Files.exists(file)) {
            return out;
        }
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.isBlank()) {
                continue;
            }
            try {
                out.add(StateStore.JSON.readValue(line, StateStore.Entry.class));
            } catch (IOException | RuntimeException e) {
                // a crash can leave a torn last line; anything else torn means the file was damaged
                if (i == lines.size() - 1) {
                    LOG.warnf("ignoring a torn last line in %s", file);
                } else {
                    throw new IOException("journal " + file + " is damaged at line " + (i + 1), e);
                }
            }
        }
        return out;
    }

    /** Rewrites the file as {@code snapshot} (atomically) and appends to it from then on. */
    void compact(List<StateStore.Change> snapshot) {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try {
            try (BufferedWriter w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
                for (StateStore.Change c : snapshot) {
                    w.write(line(c));
                    w.newLine();
                }
            }
            try (FileChannel c = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                c.force(true);
            }
            closeWriter();
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            channel = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
            out = new BufferedWriter(Channels.newWriter(channel, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot compact the notifier journal " + file, e);
        }
    }

    @Override
    public void write(List<StateStore.Change> changes) {
        try {
            for (StateStore.Change c : changes) {
                out.write(line(c));
                out.newLine();
            }
            out.flush();
            channel.force(false);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot append to the notifier journal " + file, e);
        }
    }

    private static String line(StateStore.Change c) throws IOException {
        StateStore.Entry e = c.value() != null
                ? c.value()
                : new StateStore.Entry("delete", null, null, null, null, null, null, null, null, null, null, null);
        return StateStore.JSON.writeValueAsString(e.keyed(c.key()));
    }

    private void closeWriter() throws IOException {
        if (out != null) {
            out.close();
            out = null;
            channel = null;
        }
    }

    @Override
    public void close() {
        try {
            closeWriter();
        } catch (IOException e) {
            LOG.warnf("closing the notifier journal: %s", e.getMessage());
        }
    }
}
