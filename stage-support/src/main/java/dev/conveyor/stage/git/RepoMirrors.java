package dev.conveyor.stage.git;

import java.io.File;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.api.errors.GitAPIException;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.lib.StoredConfig;
import org.eclipse.jgit.storage.file.FileRepositoryBuilder;
import org.eclipse.jgit.transport.RefSpec;
import org.eclipse.jgit.transport.TagOpt;
import org.jboss.logging.Logger;

import dev.conveyor.stage.StageException;

/**
 * One bare mirror per remote under a cache directory, fetched (never re-cloned) each time a stage needs it. Branches
 * and tags are mirrored as {@code refs/heads/*} and {@code refs/tags/*}, pruned when deleted remotely. Callers hold
 * {@link #lock(String)} around a fetch-compute-push sequence so two threads never interleave on one mirror.
 *
 * <p>
 * A mirror belongs to one process (the cache directory is the instance's own volume). A process killed while git
 * updated a ref leaves that ref's {@code .lock} file behind, and every later update of the ref would fail as if it lost
 * a race; so the first time this instance opens a mirror, the lock files a dead process left in it are removed.
 */
public final class RepoMirrors {

    private static final Logger LOG = Logger.getLogger(RepoMirrors.class);
    /** When this JVM started: a lock file older than that was left by another, dead, process. */
    private static final long PROCESS_START_MILLIS = ManagementFactory.getRuntimeMXBean().getStartTime();

    private final Path cacheDir;
    private final Set<String> swept;
    private final GitAccess access;
    private final ConcurrentHashMap<String, ReentrantLock> locks;

    public RepoMirrors(Path cacheDir, GitAccess access) {
        this(cacheDir, access, ConcurrentHashMap.newKeySet(), new ConcurrentHashMap<>());
    }

    private RepoMirrors(Path cacheDir, GitAccess access, Set<String> swept,
            ConcurrentHashMap<String, ReentrantLock> locks) {
        this.cacheDir = cacheDir;
        this.access = access;
        this.swept = swept;
        this.locks = locks;
    }

    /**
     * The same mirrors and locks, dialled through another access: e.g. one restricted with another field name, for
     * remotes that come from another input (a stage's app repositories and its GitOps repositories).
     */
    public RepoMirrors through(GitAccess other) {
        return new RepoMirrors(cacheDir, other, swept, locks);
    }

    /** The lock of a remote's mirror. */
    public ReentrantLock lock(String url) {
        return locks.computeIfAbsent(key(url), k -> new ReentrantLock());
    }

    /**
     * Fetches the remote into its mirror, creating the mirror on first use, and returns the mirror's repository; the
     * caller closes it. Failures are classified by {@link GitFailure}; under an outbound policy
     * ({@link GitAccess#restrictedTo}) a refused remote is an {@link dev.conveyor.stage.net.OutboundRefused} and is
     * never dialled.
     */
    public Repository fetch(String url) {
        // Before JGit opens anything: its local transport looks at a file: path while it is opened.
        access.policy().ifPresent(p -> p.checkConnect(access.remoteField(), url));
        Path dir = cacheDir.resolve(key(url));
        Repository repo = null;
        try {
            boolean fresh = !Files.exists(dir.resolve("HEAD"));
            if (fresh) {
                Files.createDirectories(dir);
                repo = FileRepositoryBuilder.create(dir.toFile());
                repo.create(true);
            } else {
                sweepStaleLocks(dir, url);
                repo = new FileRepositoryBuilder().setGitDir(dir.toFile()).setMustExist(true).build();
            }
            if (access.policy().isPresent()) {
                refuseHttpRedirects(repo);
            }
            try (Git git = Git.wrap(repo)) {
                access.apply(git.fetch())
                        .setRemote(url)
                        .setRefSpecs(new RefSpec("+refs/heads/*:refs/heads/*"), new RefSpec("+refs/tags/*:refs/tags/*"),
                                // Pull and merge request heads (GitHub, GitLab), so CI runs from forks resolve too.
                                new RefSpec("+refs/pull/*/head:refs/pull/*/head"),
                                new RefSpec("+refs/merge-requests/*/head:refs/merge-requests/*/head"))
                        .setTagOpt(TagOpt.NO_TAGS)
                        .setRemoveDeletedRefs(true)
                        .call();
            }
            return repo;
        } catch (GitAPIException | IOException | org.eclipse.jgit.api.errors.JGitInternalException e) {
            if (repo != null) {
                repo.close();
            }
            throw GitFailure.classify(e, url);
        } catch (StageException e) {
            if (repo != null) {
                repo.close();
            }
            throw e;
        }
    }

    /**
     * JGit follows an HTTP redirect of the first request to any host, past the outbound check of the transport; under
     * an outbound policy a smart-HTTP remote that redirects fails instead (name its final URL).
     */
    private static void refuseHttpRedirects(Repository repo) throws IOException {
        StoredConfig config = repo.getConfig();
        if (!"false".equals(config.getString("http", null, "followRedirects"))) {
            config.setString("http", null, "followRedirects", "false");
            config.save();
        }
    }

    /**
     * Removes the {@code *.lock} files under a mirror the first time this instance opens it, when they are older than
     * this process: those are what a killed process left (a ref, {@code packed-refs}, {@code config} or {@code HEAD}
     * being updated at the instant of the kill). A newer lock belongs to a live writer of this process (another
     * instance over the same directory, JGit's auto-gc) and is left alone; files that vanish during the walk are
     * skipped.
     */
    private void sweepStaleLocks(Path dir, String url) throws IOException {
        if (!swept.add(dir.getFileName().toString())) {
            return;
        }
        List<Path> locks = new ArrayList<>();
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                if (file.getFileName().toString().endsWith(".lock") && attrs.isRegularFile()
                        && attrs.lastModifiedTime().toMillis() < PROCESS_START_MILLIS) {
                    locks.add(file);
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                if (e instanceof NoSuchFileException) {
                    return FileVisitResult.CONTINUE;
                }
                throw e;
            }
        });
        for (Path lock : locks) {
            if (Files.deleteIfExists(lock)) {
                LOG.warnf("removed %s left in the mirror of %s by a process that died while updating it",
                        dir.relativize(lock), GitUrls.redact(url));
            }
        }
    }

    /** The mirror directory of a remote: a hash of its redacted URL, so credentials never reach the file system. */
    public Path mirrorDir(String url) {
        return cacheDir.resolve(key(url));
    }

    /** Where the mirrors live. */
    public File cacheDir() {
        return cacheDir.toFile();
    }

    private static String key(String url) {
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256")
                    .digest(GitUrls.redact(url).getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(hash, 0, 16) + ".git";
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
