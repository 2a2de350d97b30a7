package dev.conveyor.promoter.domain;

import java.util.regex.Pattern;

import dev.conveyor.events.v1.PromotionMode;

/**
 * One place a chart is promoted to: a GitOps repository's branch, an environment, and the release in it.
 *
 * @param gitopsRepo the GitOps repository's URL
 * @param branch the branch releases land on (pull-request mode: the pull request's base)
 * @param environment the environment's name, e.g. {@code staging}
 * @param namespace the release's namespace: its file goes to {@code releases/helm/<namespace>/}
 * @param release the release (and object) name
 * @param mode pushed to the branch, or opened as a pull request
 * @param kind the release object written when the release has no file yet
 */
public record PromotionTarget(String gitopsRepo, String branch, String environment, String namespace, String release,
        PromotionMode mode, ReleaseKind kind) {

    private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");
    private static final Pattern BRANCH = Pattern.compile("[A-Za-z0-9._/-]{1,200}");

    /**
     * Checks the names that become paths and refs, so a target can never write outside its directory.
     *
     * @param where the configuration path of this target, named in errors
     */
    public PromotionTarget validate(String where) {
        require(gitopsRepo != null && !gitopsRepo.isBlank(), where + ".gitops-repo", "must be set");
        require(environment != null && DNS_LABEL.matcher(environment).matches(), where + ".environment",
                "must be a DNS label (lowercase letters, digits, '-')");
        require(namespace != null && DNS_LABEL.matcher(namespace).matches(), where + ".namespace",
                "must be a DNS label (lowercase letters, digits, '-')");
        require(release != null && DNS_LABEL.matcher(release).matches(), where + ".release",
                "must be a DNS label (lowercase letters, digits, '-')");
        require(branch != null && BRANCH.matcher(branch).matches() && !branch.contains("..")
                && !branch.startsWith("/") && !branch.endsWith("/"), where + ".branch", "is not a valid branch name");
        return this;
    }

    /** The release file's path in the GitOps repository when it has none yet. */
    public String defaultReleasePath() {
        return releaseDirectory() + "/" + release + ".yaml";
    }

    /** Where this namespace's release objects live. */
    public String releaseDirectory() {
        return "releases/helm/" + namespace;
    }

    /** A key naming this target in logs and commit messages. */
    public String label() {
        return environment + "/" + namespace + "/" + release;
    }

    private static void require(boolean ok, String field, String problem) {
        if (!ok) {
            throw new InvalidDocumentException(field, field + " " + problem);
        }
    }

    /** Whether a string is a valid chart name (a lowercase DNS label, the GitOps directory name). */
    public static boolean validChartName(String name) {
        return name != null && DNS_LABEL.matcher(name).matches();
    }
}
