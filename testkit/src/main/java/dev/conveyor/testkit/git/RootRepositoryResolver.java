package dev.conveyor.testkit.git;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.eclipse.jgit.errors.RepositoryNotFoundException;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.lib.RepositoryCache;
import org.eclipse.jgit.storage.file.FileRepositoryBuilder;
import org.eclipse.jgit.transport.resolver.RepositoryResolver;
import org.eclipse.jgit.util.FS;

/**
 * Resolves {@code name} or {@code name.git} to a bare repository strictly inside a root directory. Anything that would
 * escape the root ({@code ..}, absolute paths, symlinks pointing outside) is reported as "not found", which is also
 * what a real git daemon tells a client probing for paths.
 *
 * @param <C> the request type (the daemon uses {@code DaemonClient})
 */
public final class RootRepositoryResolver<C> implements RepositoryResolver<C> {

    private final Path root;

    /** A resolver for repositories under {@code root}. */
    public RootRepositoryResolver(Path root) {
        try {
            // The real path, so a symlinked temp dir (macOS /tmp) does not make every repository look "outside".
            this.root = root.toRealPath();
        } catch (IOException e) {
            throw new IllegalArgumentException("git root does not exist: " + root, e);
        }
    }

    @Override
    public Repository open(C request, String name) throws RepositoryNotFoundException {
        Path dir = locate(name);
        try {
            // A new instance per request: the daemon closes it when the request ends.
            return new FileRepositoryBuilder().setGitDir(dir.toFile()).setMustExist(true).build();
        } catch (IOException e) {
            throw new RepositoryNotFoundException(name, e);
        }
    }

    /** The repository directory for a requested name, or a not-found failure if it is missing or outside the root. */
    Path locate(String name) throws RepositoryNotFoundException {
        if (name == null || name.isEmpty() || name.indexOf('\0') >= 0) {
            throw new RepositoryNotFoundException(String.valueOf(name));
        }
        String relative = name;
        while (relative.startsWith("/")) {
            relative = relative.substring(1);
        }
        for (String segment : relative.split("/")) {
            if (segment.equals("..")) {
                throw new RepositoryNotFoundException(name);
            }
        }
        for (String candidate : relative.endsWith(".git")
                ? new String[]{relative}
                : new String[]{relative + ".git", relative}) {
            Path dir = root.resolve(candidate).normalize();
            if (!dir.startsWith(root) || !Files.isDirectory(dir)) {
                continue;
            }
            try {
                Path real = dir.toRealPath();
                if (real.startsWith(root) && RepositoryCache.FileKey.isGitRepository(real.toFile(), FS.DETECTED)) {
                    return real;
                }
            } catch (IOException e) {
                // Unreadable: treat like missing.
            }
        }
        throw new RepositoryNotFoundException(name);
    }
}
