package dev.conveyor.versioner.domain;

import java.util.List;

/**
 * A commit as the version rules see it.
 *
 * @param id full commit id
 * @param subject first line of the message
 * @param body the rest of the message (footers included)
 * @param merge whether it has more than one parent
 * @param paths files it changed against its first parent (empty for merges, whose changes come with their commits)
 */
public record CommitInfo(String id, String subject, String body, boolean merge, List<String> paths) {

    public CommitInfo {
        paths = List.copyOf(paths);
    }
}
