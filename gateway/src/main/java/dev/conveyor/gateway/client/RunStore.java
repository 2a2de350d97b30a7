package dev.conveyor.gateway.client;

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
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.UUID;

import org.apache.kafka.common.TopicPartition;

import com.fasterxml.jackson.databind.ObjectMapper;

import dev.conveyor.events.v1.EventJson;
import dev.conveyor.events.v1.Flow;
import dev.conveyor.gateway.domain.Views.RunView;
import dev.conveyor.gateway.domain.Views.Status;

/**
 * The gateway replica's run history on its own disk (embedded H2): every event of every run (as
 * {@link dev.conveyor.gateway.domain.RunSnapshot} documents), a summary row per run for lists, the position in every
 * partition it reads, and the runs whose snapshot is still to be published. Everything is written in one transaction
 * per poll, so after a crash the positions and the runs always agree: what was not committed is read again.
 *
 * <p>
 * Not thread-safe: the read model serialises access (one connection).
 */
public final class RunStore implements AutoCloseable {

    private static final ObjectMapper MAPPER = EventJson.mapper();

    private final Connection db;
    private final PreparedStatement putEvent;
    private final PreparedStatement eventsOf;
    private final PreparedStatement hasRun;
    private final PreparedStatement putRun;
    private final PreparedStatement getRun;
    private final PreparedStatement putOffset;
    private final PreparedStatement putPending;
    private final PreparedStatement deletePending;
    private final PreparedStatement putStale;
    private final PreparedStatement deleteStale;
    private final PreparedStatement putSnapshotSha;
    private final PreparedStatement getSnapshotSha;
    /** Statements added to a JDBC batch and not executed yet: run before anything is read, and before a commit. */
    private int eventsBatched;
    private final java.util.Set<String> pendingBatched = new java.util.LinkedHashSet<>();
    private final java.util.Set<String> staleBatched = new java.util.LinkedHashSet<>();

    private RunStore(String url) {
        try {
            // The driver itself, not DriverManager: a test or application class loader may not see its registration.
            Properties credentials = new Properties();
            credentials.setProperty("user", "sa");
            credentials.setProperty("password", "");
            db = new org.h2.Driver().connect(url, credentials);
            try (Statement s = db.createStatement()) {
                s.execute("CREATE TABLE IF NOT EXISTS run_event (run_id VARCHAR(128) NOT NULL, "
                        + "event_id VARCHAR(512) NOT NULL, doc VARBINARY(8388608) NOT NULL, "
                        + "PRIMARY KEY (run_id, event_id))");
                s.execute("CREATE TABLE IF NOT EXISTS run (run_id VARCHAR(128) PRIMARY KEY, app VARCHAR(256), "
                        + "status VARCHAR(16), flow VARCHAR(8), started_at BIGINT, summary VARBINARY(8388608))");
                s.execute("CREATE INDEX IF NOT EXISTS run_newest ON run (started_at DESC, run_id)");
                s.execute("CREATE INDEX IF NOT EXISTS run_app ON run (app, started_at DESC)");
                s.execute("CREATE TABLE IF NOT EXISTS log_position (topic VARCHAR(255) NOT NULL, part INT NOT NULL, "
                        + "next_offset BIGINT NOT NULL, PRIMARY KEY (topic, part))");
                s.execute("CREATE TABLE IF NOT EXISTS pending_snapshot (run_id VARCHAR(128) PRIMARY KEY)");
                s.execute("CREATE TABLE IF NOT EXISTS stale_run (run_id VARCHAR(128) PRIMARY KEY)");
                s.execute("CREATE TABLE IF NOT EXISTS store_meta (name VARCHAR(64) PRIMARY KEY, val VARCHAR(256))");
                s.execute("MERGE INTO store_meta (name, val) KEY (name) SELECT 'writer', '" + UUID.randomUUID()
                        + "' WHERE NOT EXISTS (SELECT 1 FROM store_meta WHERE name = 'writer')");
                s.execute("CREATE TABLE IF NOT EXISTS run_snapshot (run_id VARCHAR(128) PRIMARY KEY, "
                        + "sha256 VARBINARY(32) NOT NULL)");
            }
            db.setAutoCommit(false);
            putEvent = db.prepareStatement("MERGE INTO run_event (run_id, event_id, doc) KEY (run_id, event_id) "
                    + "VALUES (?, ?, ?)");
            eventsOf = db.prepareStatement("SELECT doc FROM run_event WHERE run_id = ? ORDER BY event_id");
            hasRun = db.prepareStatement("SELECT 1 FROM run_event WHERE run_id = ? LIMIT 1");
            putRun = db.prepareStatement("MERGE INTO run (run_id, app, status, flow, started_at, summary) "
                    + "KEY (run_id) VALUES (?, ?, ?, ?, ?, ?)");
            getRun = db.prepareStatement("SELECT summary FROM run WHERE run_id = ?");
            putOffset = db.prepareStatement("MERGE INTO log_position (topic, part, next_offset) KEY (topic, part) "
                    + "VALUES (?, ?, ?)");
            putPending = db.prepareStatement("MERGE INTO pending_snapshot (run_id) KEY (run_id) VALUES (?)");
            deletePending = db.prepareStatement("DELETE FROM pending_snapshot WHERE run_id = ?");
            putStale = db.prepareStatement("MERGE INTO stale_run (run_id) KEY (run_id) VALUES (?)");
            deleteStale = db.prepareStatement("DELETE FROM stale_run WHERE run_id = ?");
            putSnapshotSha = db.prepareStatement("MERGE INTO run_snapshot (run_id, sha256) KEY (run_id) VALUES (?, ?)");
            getSnapshotSha = db.prepareStatement("SELECT sha256 FROM run_snapshot WHERE run_id = ?");
            db.commit();
        } catch (SQLException e) {
            throw new IllegalStateException("cannot open the run history store: " + e.getMessage(), e);
        }
    }

    /**
     * The store in {@code dir} (created if missing), kept across restarts. Its pages are compressed (H2's LZF,
     * {@code COMPRESS=TRUE}): event documents are JSON, and the file halves.
     */
    public static RunStore open(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new IllegalStateException("cannot create the run history directory " + dir, e);
        }
        return new RunStore(
                "jdbc:h2:file:" + dir.toAbsolutePath().resolve("runs") + ";DB_CLOSE_ON_EXIT=FALSE;COMPRESS=TRUE");
    }

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

    /** Records one event of a run (again: no change). */
    public void putEvent(String runId, String eventId, byte[] doc) {
        run(() -> {
            putEvent.setString(1, runId);
            putEvent.setString(2, eventId);
            putEvent.setBytes(3, doc);
            putEvent.addBatch();
            if (++eventsBatched >= BATCH) {
                flush();
            }
        });
    }

    private static final int BATCH = 500;

    /** Executes what was batched (same transaction): every read sees every write before it. */
    private void flush() throws SQLException {
        if (eventsBatched > 0) {
            putEvent.executeBatch();
            eventsBatched = 0;
        }
        if (!pendingBatched.isEmpty()) {
            for (String id : pendingBatched) {
                putPending.setString(1, id);
                putPending.addBatch();
            }
            putPending.executeBatch();
            pendingBatched.clear();
        }
        if (!staleBatched.isEmpty()) {
            for (String id : staleBatched) {
                putStale.setString(1, id);
                putStale.addBatch();
            }
            putStale.executeBatch();
            staleBatched.clear();
        }
    }

    /** The documents of a run's events, sorted by event id. */
    public List<byte[]> eventsOf(String runId) {
        return query(() -> {
            eventsOf.setString(1, runId);
            List<byte[]> docs = new ArrayList<>();
            try (ResultSet rs = eventsOf.executeQuery()) {
                while (rs.next()) {
                    docs.add(rs.getBytes(1));
                }
            }
            return docs;
        });
    }

    /** Whether any event of the run is recorded. */
    public boolean hasRun(String runId) {
        return query(() -> {
            hasRun.setString(1, runId);
            try (ResultSet rs = hasRun.executeQuery()) {
                return rs.next();
            }
        });
    }

    /** Records a run's summary (a view without events), for lists. */
    public void putSummary(RunView summary) {
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
            putRun.executeUpdate();
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

    /** Every run id with a recorded event, sorted. */
    public List<String> runIds() {
        return query(() -> {
            try (Statement s = db.createStatement();
                    ResultSet rs = s.executeQuery("SELECT DISTINCT run_id FROM run_event ORDER BY run_id")) {
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
        pendingBatched.add(runId);
    }

    /** Notes that the run's events changed without its summary being written: it is to be folded again. */
    public void markStale(String runId) {
        staleBatched.add(runId);
    }

    /** Up to {@code max} runs to be folded again. */
    public List<String> stale(int max) {
        return query(() -> {
            try (PreparedStatement ps = db.prepareStatement("SELECT run_id FROM stale_run LIMIT ?")) {
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

    /** Notes that the runs were folded again (their summaries written since); committed with the next commit. */
    public void folded(List<String> runIds) {
        run(() -> {
            flush();
            for (String id : runIds) {
                deleteStale.setString(1, id);
                deleteStale.addBatch();
            }
            deleteStale.executeBatch();
        });
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

    /** Notes the SHA-256 of the run's snapshot last written or read that this replica agrees with. */
    public void putSnapshotSha(String runId, byte[] sha256) {
        run(() -> {
            putSnapshotSha.setString(1, runId);
            putSnapshotSha.setBytes(2, sha256);
            putSnapshotSha.executeUpdate();
        });
    }

    /** The SHA-256 noted by {@link #putSnapshotSha}, if any. */
    public Optional<byte[]> snapshotSha(String runId) {
        return query(() -> {
            getSnapshotSha.setString(1, runId);
            try (ResultSet rs = getSnapshotSha.executeQuery()) {
                return rs.next() ? Optional.of(rs.getBytes(1)) : Optional.empty();
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
            flush();
            for (String id : runIds) {
                deletePending.setString(1, id);
                deletePending.addBatch();
            }
            deletePending.executeBatch();
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

    @Override
    public void close() {
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
