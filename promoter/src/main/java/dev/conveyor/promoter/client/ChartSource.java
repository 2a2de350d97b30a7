package dev.conveyor.promoter.client;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.FileMode;
import org.eclipse.jgit.lib.ObjectLoader;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.treewalk.TreeWalk;

import dev.conveyor.stage.StageException;

/**
 * Copies a chart directory out of an app repository's commit into a local directory. The chart is untrusted input:
 * symbolic links, submodules and paths that would leave the target are refused, and the size is bounded.
 */
public final class ChartSource {

    /** Reason codes of unusable chart sources. */
    public enum Failure {
        /** The chart directory is missing, escapes the repository, or holds something unsafe. Terminal. */
        CHART_INVALID
    }

    /** Largest chart, all files together. */
    public static final long MAX_TOTAL_BYTES = 20L * 1024 * 1024;
    /** Most files in one chart. */
    public static final int MAX_FILES = 2_000;

    private ChartSource() {
    }

    /**
     * Writes the files below {@code chartPath} at {@code commit} into {@code target} (which must exist and be empty).
     *
     * @return how many files were written
     */
    public static int extract(Repository repo, RevCommit commit, String chartPath, Path target) throws IOException {
        String prefix = normalise(chartPath);
        Path root = target.toAbsolutePath().normalize();
        int files = 0;
        long total = 0;
        try (TreeWalk walk = new TreeWalk(repo)) {
            walk.addTree(commit.getTree());
            walk.setRecursive(true);
            walk.setFilter(org.eclipse.jgit.treewalk.filter.PathFilter.create(prefix));
            while (walk.next()) {
                String path = walk.getPathString();
                String relative = path.substring(prefix.length() + 1);
                FileMode mode = walk.getFileMode(0);
                if (mode == FileMode.SYMLINK || mode == FileMode.GITLINK) {
                    throw invalid(chartPath, "the chart holds a symbolic link or submodule: " + path);
                }
                Path out = root.resolve(relative).normalize();
                if (!out.startsWith(root) || relative.contains("\\")) {
                    throw invalid(chartPath, "the chart holds a path that leaves its directory: " + path);
                }
                if (++files > MAX_FILES) {
                    throw invalid(chartPath, "the chart holds more than " + MAX_FILES + " files");
                }
                ObjectLoader loader = repo.open(walk.getObjectId(0), Constants.OBJ_BLOB);
                total += loader.getSize();
                if (total > MAX_TOTAL_BYTES) {
                    throw invalid(chartPath, "the chart is larger than " + MAX_TOTAL_BYTES + " bytes");
                }
                Files.createDirectories(out.getParent());
                Files.write(out, loader.getBytes());
            }
        }
        if (!Files.isRegularFile(root.resolve("Chart.yaml"))) {
            throw invalid(chartPath, "no Chart.yaml in " + chartPath + " at commit " + commit.name());
        }
        return files;
    }

    /** The chart path as a clean relative path, refusing anything that leaves the repository. */
    static String normalise(String chartPath) {
        String p = chartPath.strip();
        while (p.startsWith("./")) {
            p = p.substring(2);
        }
        while (p.endsWith("/")) {
            p = p.substring(0, p.length() - 1);
        }
        if (p.isEmpty() || p.startsWith("/") || p.contains("\\") || p.contains("//")) {
            throw invalid(chartPath, "chartPath " + chartPath + " must be a relative directory in the repository");
        }
        for (String segment : p.split("/")) {
            if (segment.equals("..") || segment.equals(".") || segment.equals(".git")) {
                throw invalid(chartPath, "chartPath " + chartPath + " must not contain '" + segment + "'");
            }
        }
        return p;
    }

    private static StageException invalid(String chartPath, String message) {
        return StageException.terminal(Failure.CHART_INVALID, message, Map.of("field", "chartPath"));
    }
}
