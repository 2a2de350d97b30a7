package dev.conveyor.fluxsync.client;

import java.io.IOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;

import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.FileMode;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectReader;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.revwalk.RevWalk;
import org.eclipse.jgit.treewalk.TreeWalk;
import org.eclipse.jgit.treewalk.filter.PathFilter;

import dev.conveyor.fluxsync.domain.ChartSource;
import dev.conveyor.fluxsync.domain.LiveComparison;
import dev.conveyor.stage.FailureKind;
import dev.conveyor.stage.StageException;
import dev.conveyor.stage.git.GitFailure;
import dev.conveyor.stage.git.GitUrls;
import dev.conveyor.stage.git.RepoMirrors;
import dev.conveyor.stage.net.OutboundPolicy;
import dev.conveyor.stage.net.OutboundRefused;

/**
 * Charts from other git repositories (Helm Operator {@code spec.chart.git}, Flux v2 {@code GitRepository}): each
 * remote is mirrored with stage-support's {@link RepoMirrors} (fetched, never re-cloned), its ref resolved to a commit,
 * and the chart directory of that commit written out once per commit.
 */
public final class GitCharts {

    /** The field named when the outbound policy refuses a chart's git remote at connection time. */
    public static final String FIELD = "spec.chart.git";

    private final Function<String, RepoMirrors> mirrors;
    private final Path workDir;
    private final OutboundPolicy outbound;

    /**
     * @param mirrors the mirrors (and so the credentials) of a remote, by its URL: the shared git credentials with
     *     the generated SSH identity, or a GitOps repository's own when the chart is on its host
     * @param workDir where chart directories are written
     */
    public GitCharts(Function<String, RepoMirrors> mirrors, Path workDir) {
        this(mirrors, workDir, null);
    }

    /**
     * @param mirrors the mirrors of a remote, by its URL; in production restricted to the outbound policy
     *     ({@code GitAccess.restrictedTo(outbound, FIELD)}), so every fetch is checked again at the transport
     * @param outbound the installation's outbound policy: a remote is checked, naming the release field it came from,
     *     before its mirror is fetched; null checks nothing here (the mirrors' access may still)
     */
    public GitCharts(Function<String, RepoMirrors> mirrors, Path workDir, OutboundPolicy outbound) {
        this.mirrors = mirrors;
        this.workDir = workDir;
        this.outbound = outbound;
    }

    /** Fetches the remote and resolves the source's ref (branch, tag, or commit id) to a commit. */
    public String resolve(ChartSource.Git git) throws ChartRenderer.RenderException {
        if (outbound != null) {
            try {
                outbound.checkConnect(git.field(), git.url());
            } catch (OutboundRefused e) {
                throw ChartRenderer.RenderException.outboundRefused(where(git), e);
            } catch (StageException e) {
                throw new ChartRenderer.RenderException("cannot fetch " + where(git) + ": " + e.getMessage(), false,
                        e.kind() == FailureKind.TRANSIENT);
            }
        }
        RepoMirrors m = mirrors.apply(git.url());
        ReentrantLock lock = m.lock(git.url());
        lock.lock();
        try (Repository repo = m.fetch(git.url())) {
            ObjectId id = repo.resolve(Constants.R_HEADS + git.ref());
            if (id == null) {
                id = repo.resolve(Constants.R_TAGS + git.ref() + "^{commit}");
            }
            if (id == null && git.ref().matches("[0-9a-f]{7,40}")) {
                try {
                    id = repo.resolve(git.ref() + "^{commit}");
                } catch (IOException | RuntimeException e) {
                    id = null;
                }
            }
            if (id == null) {
                List<String> branches = GitopsSnapshot.branches(repo);
                throw new ChartRenderer.RenderException(where(git) + ": ref " + git.ref() + " does not exist "
                        + "(its branches: " + (branches.isEmpty()
                                ? "none"
                                : String.join(", ", branches.size() > 20
                                        ? branches.subList(0, 20)
                                        : branches))
                        + ")", false, false);
            }
            return id.name();
        } catch (StageException e) {
            throw fetchFailure(git, e);
        } catch (IOException e) {
            throw new ChartRenderer.RenderException(where(git) + ": " + GitUrls.scrub(String.valueOf(e
                    .getMessage())), false, true);
        } finally {
            lock.unlock();
        }
    }

    /** The chart directory of {@code commit}, written out on first use. */
    public Path chart(ChartSource.Git git, String commit) throws ChartRenderer.RenderException {
        Path dir = workDir.resolve("git-charts").resolve(LiveComparison.hash(Map.of("u", GitUrls.redact(git.url()),
                "c", commit, "p", git.path())));
        if (Files.isDirectory(dir)) {
            return dir;
        }
        RepoMirrors m = mirrors.apply(git.url());
        ReentrantLock lock = m.lock(git.url());
        lock.lock();
        try (Repository repo = new org.eclipse.jgit.storage.file.FileRepositoryBuilder().setGitDir(m.mirrorDir(git
                .url()).toFile()).setMustExist(true).build(); RevWalk walk = new RevWalk(repo)) {
            RevCommit c = walk.parseCommit(ObjectId.fromString(commit));
            String prefix = git.path().isEmpty() ? "" : git.path() + "/";
            Files.createDirectories(dir.getParent());
            Path tmp = Files.createTempDirectory(dir.getParent(), "chart-");
            boolean hasChart = false;
            try (TreeWalk tree = new TreeWalk(repo)) {
                tree.addTree(c.getTree());
                tree.setRecursive(true);
                if (!git.path().isEmpty()) {
                    tree.setFilter(PathFilter.create(git.path()));
                }
                ObjectReader reader = tree.getObjectReader();
                while (tree.next()) {
                    String p = tree.getPathString();
                    if (!p.startsWith(prefix) || tree.getFileMode(0) != FileMode.REGULAR_FILE && tree.getFileMode(
                            0) != FileMode.EXECUTABLE_FILE) {
                        continue;
                    }
                    String rel = p.substring(prefix.length());
                    hasChart |= rel.equals("Chart.yaml");
                    Path file = tmp.resolve(rel).normalize();
                    if (!file.startsWith(tmp)) {
                        continue;
                    }
                    Files.createDirectories(file.getParent());
                    Files.write(file, reader.open(tree.getObjectId(0)).getBytes());
                }
            }
            if (!hasChart) {
                GitopsSnapshot.deleteTree(tmp);
                throw new ChartRenderer.RenderException(where(git) + ": no chart at " + (git.path().isEmpty()
                        ? "the "
                                + "root"
                        : git.path()) + " (no Chart.yaml) in commit " + commit.substring(0, 12), false, false);
            }
            try {
                Files.move(tmp, dir);
            } catch (java.nio.file.FileAlreadyExistsException e) {
                GitopsSnapshot.deleteTree(tmp);
            }
            return dir;
        } catch (IOException e) {
            throw new ChartRenderer.RenderException(where(git) + ": cannot write the chart: " + e.getMessage(), false,
                    true);
        } finally {
            lock.unlock();
        }
    }

    private static String where(ChartSource.Git git) {
        return "chart repository " + GitUrls.redact(git.url()) + " (" + git.field() + ", ref " + git.ref() + ")";
    }

    /** A fetch failure with its root cause named, and whether a retry can fix it. */
    static ChartRenderer.RenderException fetchFailure(ChartSource.Git git, StageException e) {
        if (e instanceof OutboundRefused refused) {
            return ChartRenderer.RenderException.outboundRefused(where(git), refused);
        }
        String cause;
        String reason = e.reason();
        boolean retriable = e.kind() == FailureKind.TRANSIENT;
        boolean denied = false;
        if (GitFailure.AUTH_DENIED.name().equals(reason)) {
            cause = "authentication denied: the server refused flux-sync's key or token (add the identity served "
                    + "at /identity.pub as a deploy key, or configure conveyor.git.*)";
            denied = true;
        } else if (GitFailure.HOST_KEY_REJECTED.name().equals(reason)) {
            cause = "the SSH host key is not trusted (add it to the known_hosts of conveyor.git.ssh.known-hosts)";
        } else if (GitFailure.REPO_NOT_FOUND.name().equals(reason)) {
            cause = "no git repository there";
        } else {
            cause = networkCause(e).orElse(firstLine(GitUrls.scrub(String.valueOf(e.getMessage()))));
        }
        return new ChartRenderer.RenderException("cannot fetch " + where(git) + ": " + cause, denied, retriable);
    }

    /** host not found / connection refused / timed out, read from the exception chain. */
    static java.util.Optional<String> networkCause(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof UnknownHostException) {
                return java.util.Optional.of("host not found (" + t.getMessage() + ")");
            }
            if (t instanceof ConnectException) {
                return java.util.Optional.of("connection refused");
            }
            if (t instanceof SocketTimeoutException) {
                return java.util.Optional.of("connection timed out");
            }
            if (t instanceof NoRouteToHostException) {
                return java.util.Optional.of("no route to host");
            }
            if (t instanceof java.nio.channels.UnresolvedAddressException) {
                return java.util.Optional.of("host not found");
            }
            String m = String.valueOf(t.getMessage()).toLowerCase(Locale.ROOT);
            if (m.contains("connection refused")) {
                return java.util.Optional.of("connection refused");
            }
            if (m.contains("unknown host") || m.contains("unresolvedaddress") || m.contains("name or service not "
                    + "known") || m.contains("no such host") || m.contains("temporary failure in name resolution")) {
                return java.util.Optional.of("host not found");
            }
        }
        return java.util.Optional.empty();
    }

    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
