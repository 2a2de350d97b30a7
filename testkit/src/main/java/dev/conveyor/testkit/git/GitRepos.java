package dev.conveyor.testkit.git;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Pattern;

import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.api.errors.GitAPIException;

import dev.conveyor.testkit.TempDirs;

/**
 * A root directory of bare repositories, the layout both {@link GitDaemonServer} and {@link SshGitServer} serve:
 * {@code <root>/<name>.git}. Each instance owns a unique temp directory, so test JVMs running at once never share
 * repositories; {@link #close()} deletes it.
 */
public final class GitRepos implements AutoCloseable {

    /** The branch every repository starts on; Conveyor never uses {@code master}. */
    public static final String DEFAULT_BRANCH = "main";

    // Letters, digits, '.', '_', '-' and '/' for nested names; '..' segments are rejected separately.
    private static final Pattern VALID_NAME = Pattern.compile("[A-Za-z0-9._/-]+");

    private final Path root;
    private final boolean ownsRoot;

    /** Repositories under a new unique temp directory that {@link #close()} deletes. */
    public GitRepos() {
        this(TempDirs.create("git-repos"), true);
    }

    /**
     * Repositories under an existing directory (for example the local stack's data directory). {@link #close()} leaves
     * such a directory in place.
     */
    public static GitRepos at(Path root) {
        try {
            Files.createDirectories(root);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create git root " + root, e);
        }
        return new GitRepos(root, false);
    }

    private GitRepos(Path root, boolean ownsRoot) {
        this.root = root.toAbsolutePath().normalize();
        this.ownsRoot = ownsRoot;
    }

    /** The directory holding the {@code <name>.git} repositories. */
    public Path root() {
        return root;
    }

    /**
     * Creates an empty bare repository {@code <root>/<name>.git} whose HEAD is {@code refs/heads/main}.
     *
     * @param name a simple or nested name such as {@code app} or {@code team/app}; a trailing {@code .git} is optional
     * @throws IllegalArgumentException if the name is not a plain relative path or the repository already exists
     */
    public BareRepo createBare(String name) {
        String plain = plainName(name);
        Path dir = root.resolve(plain + ".git").normalize();
        if (Files.exists(dir)) {
            throw new IllegalArgumentException("repository already exists: " + dir);
        }
        try (Git ignored = Git.init().setBare(true).setInitialBranch(DEFAULT_BRANCH).setDirectory(dir.toFile())
                .call()) {
            // Nothing else to configure: the daemon enables receive-pack itself, sshd runs git-receive-pack.
        } catch (GitAPIException e) {
            throw new IllegalStateException("cannot create bare repository " + dir, e);
        }
        return new BareRepo(plain, dir);
    }

    /** An existing repository by name, e.g. one created by a push-to-create test or by {@link #createBare}. */
    public BareRepo open(String name) {
        String plain = plainName(name);
        Path dir = root.resolve(plain + ".git").normalize();
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException("no repository " + plain + " under " + root);
        }
        return new BareRepo(plain, dir);
    }

    /** Deletes the root directory if this instance created it. */
    @Override
    public void close() {
        if (ownsRoot) {
            TempDirs.deleteQuietly(root);
        }
    }

    static String plainName(String name) {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("repository name is empty");
        }
        String plain = name.endsWith(".git") ? name.substring(0, name.length() - 4) : name;
        if (!VALID_NAME.matcher(plain).matches() || plain.startsWith("/") || plain.endsWith("/")) {
            throw new IllegalArgumentException("invalid repository name: " + name);
        }
        for (String segment : plain.split("/")) {
            if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
                throw new IllegalArgumentException("invalid repository name: " + name);
            }
        }
        return plain;
    }
}
