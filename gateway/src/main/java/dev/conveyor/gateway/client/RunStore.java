package dev.conveyor.gateway.client;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.UUID;
import java.util.zip.DataFormatException;
import java.util.zip.Deflater;
import java.util.zip.Inflater;

import org.apache.kafka.common.TopicPartition;
import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.ObjectMapper;

import dev.conveyor.events.v1.EventJson;
import dev.conveyor.events.v1.Flow;
import dev.conveyor.gateway.domain.Views.RunView;
import dev.conveyor.gateway.domain.Views.Status;

/**
 * The gateway replica's run history on its own disk (embedded H2): one row per run holding its summary (indexed for
 * lists) and its snapshot ({@link dev.conveyor.gateway.domain.RunSnapshot}: every event of the run, the same bytes the
 * history topic holds, deflated) with the snapshot's SHA-256; the position in every partition it reads; and the runs
 * whose snapshot is still to be published. A run's events are stored once, together, so folding a run back reads one
 * row. Everything is written in one transaction per commit, so after a crash the positions and the runs always agree:
 * what was not committed is read again.
 *
 * <p>
 * Not thread-safe: the read model serialises access (one connection).
 */
public final class RunStore implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(RunStore.class);

    private static final ObjectMapper MAPPER = EventJson.mapper();

    /** The layout this code writes; a store of another layout (an older gateway's) is emptied and rebuilt. */
    static final String LAYOUT = "runs-v2";

    private final Connection db;
    private final PreparedStatement putRun;
    private final PreparedStatement getSnapshot;
    private final PreparedStatement getSha;
    private final PreparedStatement hasRun;
    private final PreparedStatement getRun;
    private final PreparedStatement putOffset;
    private final PreparedStatement putPending;
    private final PreparedStatement deletePending;
    private final Deflater deflater = new Deflater(Deflater.BEST_SPEED);
    private final Inflater inflater = new Inflater();
    /** Rows added to a JDBC batch and not executed yet: run before anything is read, and before a commit. */
    private int runsBatched;
    /** Pending marks set (true) or cleared (false) and not executed yet; the last change of a run wins. */
    private final Map<String, Boolean> pendingBatched = new LinkedHashMap<>();

    private RunStore(String url) {
        try {
            // The driver itself, not DriverManager: a test or application class loader may not see its registration.
            Properties credentials = new Properties();
            credentials.setProperty("user", "sa");
            credentials.setProperty("password", "");
            db = new org.h2.Driver().connect(url, credentials);
            try (Statement s = db.createStatement()) {
                String layout = null;
                try (ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM INFORMATION_SCHEMA.TABLES "
                        + "WHERE TABLE_SCHEMA = 'PUBLIC'")) {
                    rs.next();
                    if (rs.getLong(1) > 0) {
                        layout = layout(s);
                        if (!LAYOUT.equals(layout)) {
                            LOG.infof("run history store of an older layout (%s): emptied; the runs are read again "
                                    + "from the run history topic and the retained log", layout);
                            s.execute("DROP ALL OBJECTS");
                        }
                    }
                }
                s.execute("CREATE TABLE IF NOT EXISTS run (run_id VARCHAR(128) PRIMARY KEY, app VARCHAR(256), "
                        + "status VARCHAR(16), flow VARCHAR(8), started_at BIGINT, summary VARBINARY, "
                        + "snapshot VARBINARY NOT NULL, sha256 VARBINARY(32) NOT NULL)");
                s.execute("CREATE INDEX IF NOT EXISTS run_newest ON run (started_at DESC, run_id)");
                s.execute("CREATE INDEX IF NOT EXISTS run_app ON run (app, started_at DESC)");
                s.execute("CREATE TABLE IF NOT EXISTS log_position (topic VARCHAR(255) NOT NULL, part INT NOT NULL, "
                        + "next_offset BIGINT NOT NULL, PRIMARY KEY (topic, part))");
                s.execute("CREATE TABLE IF NOT EXISTS pending_snapshot (run_id VARCHAR(128) PRIMARY KEY)");
                s.execute("CREATE TABLE IF NOT EXISTS store_meta (name VARCHAR(64) PRIMARY KEY, val VARCHAR(256))");
                s.execute("MERGE INTO store_meta (name, val) KEY (name) VALUES ('layout', '" + LAYOUT + "')");
                s.execute("MERGE INTO store_meta (name, val) KEY (name) SELECT 'writer', '" + UUID.randomUUID()
                        + "' WHERE NOT EXISTS (SELECT 1 FROM store_meta WHERE name = 'writer')");
            }
            db.setAutoCommit(false);
            putRun = db.prepareStatement("MERGE INTO run (run_id, app, status, flow, started_at, summary, snapshot, "
                    + "sha256) KEY (run_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
            getSnapshot = db.prepareStatement("SELECT snapshot FROM run WHERE run_id = ?");
            getSha = db.prepareStatement("SELECT sha256 FROM run WHERE run_id = ?");
            hasRun = db.prepareStatement("SELECT 1 FROM run WHERE run_id = ?");
            getRun = db.prepareStatement("SELECT summary FROM run WHERE run_id = ?");
            putOffset = db.prepareStatement("MERGE INTO log_position (topic, part, next_offset) KEY (topic, part) "
                    + "VALUES (?, ?, ?)");
            putPending = db.prepareStatement("MERGE INTO pending_snapshot (run_id) KEY (run_id) VALUES (?)");
            deletePending = db.prepareStatement("DELETE FROM pending_snapshot WHERE run_id = ?");
            db.commit();
        } catch (SQLException e) {
            throw new IllegalStateException("cannot open the run history store: " + e.getMessage(), e);
        }
    }

    /** The layout recorded in an existing store, or what it lacks. */
    private static String layout(Statement s) {
        try (ResultSet rs = s.executeQuery("SELECT val FROM store_meta WHERE name = 'layout'")) {
            return rs.next() ? rs.getString(1) : "runs-v1";
        } catch (SQLException e) {
            return "unknown";
        }
    }

    /**
     * The store in {@code dir} (created if missing), kept across restarts. Snapshots are deflated by the store itself
     * (JSON of ten events shrinks about sixfold), so H2's page compression is left off.
     */
    public static RunStore open(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new IllegalStateException("cannot create the run history directory " + dir, e);
        }
        return new RunStore("jdbc:h2:file:" + dir.toAbsolutePath().resolve("runs")
                + ";DB_CLOSE_ON_EXIT=FALSE;CACHE_SIZE=" + CACHE_KIB);
    }

    /** H2's page cache, KiB: a run is one row, so lists and single runs need few pages. */
    private static final int CACHE_KIB = 16 * 1024;

    /** A store in memory, gone when closed: a second reader, tests. */
    public static RunStore inMemory() {
        return new RunStore("jdbc:h2:mem:runs-" + UUID.randomUUID());
    }

    /**
     * This store's writer id, made when it was created and kept: it marks the snapshots this replica writes, so that
     * reading them back (also after a restart) costs nothing.
     */
    public String writerId() {
        return query(() -> {
            try (Statement s = db.createStatement();
                    ResultSet rs = s.executeQuery("SELECT val FROM store_meta WHERE name = 'writer'")) {
                rs.next();
                return rs.getString(1);
            }
        });
    }

    /**
     * Records a run: its summary (a view without events, for lists), its snapshot and the snapshot's SHA-256.
     * Batched: executed before the next read or commit.
     */
    public void putRun(RunView summary, byte[] snapshot, byte[] sha256) {
        run(() -> {
            putRun.setString(1, summary.runId());
            putRun.setString(2, summary.app());
            putRun.setString(3, summary.status() == null ? null : summary.status().name());
            putRun.setString(4, summary.flow() == null ? null : summary.flow().name());
            if (summary.startedAt() == null) {
                putRun.setNull(5, java.sql.Types.BIGINT);
            } else {
                putRun.setLong(5, summary.startedAt().toEpochMilli());
            }
            putRun.setBytes(6, MAPPER.writeValueAsBytes(summary));
            putRun.setBytes(7, deflate(snapshot));
            putRun.setBytes(8, sha256);
            putRun.addBatch();
            if (++runsBatched >= BATCH) {
                flush();
            }
        });
    }

    private static final int BATCH = 200;

    /** Executes what was batched (same transaction): every read sees every write before it. */
    private void flush() throws SQLException {
        if (runsBatched > 0) {
            putRun.executeBatch();
            runsBatched = 0;
        }
        if (!pendingBatched.isEmpty()) {
            boolean puts = false;
            boolean deletes = false;
            for (Map.Entry<String, Boolean> e : pendingBatched.entrySet()) {
                if (e.getValue()) {
                    putPending.setString(1, e.getKey());
                    putPending.addBatch();
                    puts = true;
                } else {
                    deletePending.setString(1, e.getKey());
                    deletePending.addBatch();
                    deletes = true;
                }
            }
            if (puts) {
                putPending.executeBatch();
            }
            if (deletes) {
                deletePending.executeBatch();
            }
            pendingBatched.clear();
        }
    }

    /** The run's snapshot as stored (every event of the run, sorted by event id), if the run is stored. */
    public Optional<byte[]> snapshot(String runId) {
        return query(() -> {
            getSnapshot.setString(1, runId);
            try (ResultSet rs = getSnapshot.executeQuery()) {
                return rs.next() ? Optional.of(inflate(rs.getBytes(1))) : Optional.empty();
            }
        });
    }

    /** The SHA-256 of the run's stored snapshot, if the run is stored. */
    public Optional<byte[]> sha256(String runId) {
        return query(() -> {
            getSha.setString(1, runId);
            try (ResultSet rs = getSha.executeQuery()) {
                return rs.next() ? Optional.of(rs.getBytes(1)) : Optional.empty();
            }
        });
    }

    /** Whether the run is stored. */
    public boolean hasRun(String runId) {
        return query(() -> {
            hasRun.setString(1, runId);
            try (ResultSet rs = hasRun.executeQuery()) {
                return rs.next();
            }
        });
    }

    /** A run's summary, if one is recorded. */
    public Optional<RunView> summary(String runId) {
        return query(() -> {
            getRun.setString(1, runId);
            try (ResultSet rs = getRun.executeQuery()) {
                return rs.next() ? Optional.of(MAPPER.readValue(rs.getBytes(1), RunView.class)) : Optional.empty();
            }
        });
    }

    /** Summaries matching the filters (each optional), newest first. */
    public List<RunView> list(Optional<String> app, Optional<Status> status, Optional<Flow> flow, int limit) {
        StringBuilder sql = new StringBuilder("SELECT summary FROM run WHERE app IS NOT NULL");
        List<String> args = new ArrayList<>();
        app.ifPresent(a -> {
            sql.append(" AND app = ?");
            args.add(a);
        });
        status.ifPresent(s -> {
            sql.append(" AND status = ?");
            args.add(s.name());
        });
        flow.ifPresent(f -> {
            sql.append(" AND flow = ?");
            args.add(f.name());
        });
        sql.append(" ORDER BY started_at DESC, run_id LIMIT ?");
        return query(() -> {
            try (PreparedStatement ps = db.prepareStatement(sql.toString())) {
                int i = 1;
                for (String arg : args) {
                    ps.setString(i++, arg);
                }
                ps.setInt(i, limit);
                List<RunView> views = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        views.add(MAPPER.readValue(rs.getBytes(1), RunView.class));
                    }
                }
                return views;
            }
        });
    }

    /** Ids of an app's runs whose first event happened in [since, until), oldest first. */
    public List<String> runIdsOf(String app, Instant since, Instant until) {
        return query(() -> {
            try (PreparedStatement ps = db.prepareStatement("SELECT run_id FROM run WHERE app = ? "
                    + "AND started_at >= ? AND started_at < ? ORDER BY started_at, run_id")) {
                ps.setString(1, app);
                ps.setLong(2, since.toEpochMilli());
                ps.setLong(3, until.toEpochMilli());
                List<String> ids = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        ids.add(rs.getString(1));
                    }
                }
                return ids;
            }
        });
    }

    /** Every stored run id, sorted. */
    public List<String> runIds() {
        return query(() -> {
            try (Statement s = db.createStatement();
                    ResultSet rs = s.executeQuery("SELECT run_id FROM run ORDER BY run_id")) {
                List<String> ids = new ArrayList<>();
                while (rs.next()) {
                    ids.add(rs.getString(1));
                }
                return ids;
            }
        });
    }

    /** How many runs have a summary. */
    public long runCount() {
        return query(() -> {
            try (Statement s = db.createStatement(); ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM run")) {
                rs.next();
                return rs.getLong(1);
            }
        });
    }

    /** Where to resume reading each partition: the offset after the last record folded. */
    public Map<TopicPartition, Long> positions() {
        return query(() -> {
            Map<TopicPartition, Long> positions = new HashMap<>();
            try (Statement s = db.createStatement();
                    ResultSet rs = s.executeQuery("SELECT topic, part, next_offset FROM log_position")) {
                while (rs.next()) {
                    positions.put(new TopicPartition(rs.getString(1), rs.getInt(2)), rs.getLong(3));
                }
            }
            return positions;
        });
    }

    /** Notes that the run's snapshot must be published. */
    public void markPending(String runId) {
        pendingBatched.put(runId, true);
    }

    /** Notes that the run's snapshot need not be published (the history topic holds it already). */
    public void unmarkPending(String runId) {
        pendingBatched.put(runId, false);
    }

    /** Up to {@code max} runs whose snapshot is still to be published. */
    public List<String> pending(int max) {
        return query(() -> {
            try (PreparedStatement ps = db.prepareStatement("SELECT run_id FROM pending_snapshot LIMIT ?")) {
                ps.setInt(1, max);
                List<String> ids = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        ids.add(rs.getString(1));
                    }
                }
                return ids;
            }
        });
    }

    /** How many runs wait for their snapshot to be written. */
    public long pendingCount() {
        return query(() -> {
            try (Statement s = db.createStatement();
                    ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM pending_snapshot")) {
                rs.next();
                return rs.getLong(1);
            }
        });
    }

    /** Notes that the runs' snapshots were published, and commits. */
    public void published(List<String> runIds) {
        run(() -> {
            for (String id : runIds) {
                pendingBatched.putIfAbsent(id, false);
            }
            flush();
            db.commit();
        });
    }

    /** Records where each partition is to be resumed from, and commits everything recorded since the last commit. */
    public void commit(Map<TopicPartition, Long> positions) {
        run(() -> {
            flush();
            for (Map.Entry<TopicPartition, Long> e : positions.entrySet()) {
                putOffset.setString(1, e.getKey().topic());
                putOffset.setInt(2, e.getKey().partition());
                putOffset.setLong(3, e.getValue());
                putOffset.addBatch();
            }
            putOffset.executeBatch();
            db.commit();
        });
    }

    private byte[] deflate(byte[] bytes) {
        deflater.reset();
        deflater.setInput(bytes);
        deflater.finish();
        ByteArrayOutputStream out = new ByteArrayOutputStream(bytes.length / 4 + 64);
        byte[] buffer = new byte[8192];
        while (!deflater.finished()) {
            out.write(buffer, 0, deflater.deflate(buffer));
        }
        return out.toByteArray();
    }

    private byte[] inflate(byte[] bytes) throws IOException {
        inflater.reset();
        inflater.setInput(bytes);
        ByteArrayOutputStream out = new ByteArrayOutputStream(bytes.length * 6);
        byte[] buffer = new byte[16384];
        try {
            while (!inflater.finished()) {
                int n = inflater.inflate(buffer);
                if (n == 0 && (inflater.needsInput() || inflater.needsDictionary())) {
                    throw new IOException("a stored run snapshot is truncated");
                }
                out.write(buffer, 0, n);
            }
        } catch (DataFormatException e) {
            throw new IOException("a stored run snapshot is unreadable: " + e.getMessage(), e);
        }
        return out.toByteArray();
    }

    @Override
    public void close() {
        deflater.end();
        inflater.end();
        try {
            db.close();
        } catch (SQLException e) {
            // closing: nothing left to save
        }
    }

    @FunctionalInterface
    private interface Work {
        void run() throws SQLException, IOException;
    }

    @FunctionalInterface
    private interface Query<T> {
        T get() throws SQLException, IOException;
    }

    private static void run(Work work) {
        try {
            work.run();
        } catch (SQLException | IOException e) {
            throw new IllegalStateException("run history store: " + e.getMessage(), e);
        }
    }

    private <T> T query(Query<T> query) {
        try {
            flush();
            return query.get();
        } catch (SQLException | IOException e) {
            throw new IllegalStateException("run history store: " + e.getMessage(), e);
        }
    }
}
