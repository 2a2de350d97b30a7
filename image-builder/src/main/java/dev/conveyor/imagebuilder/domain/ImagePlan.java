package dev.conveyor.imagebuilder.domain;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

import dev.conveyor.events.v1.Flow;
import dev.conveyor.events.v1.PipelineRun;
import dev.conveyor.stage.config.InvalidConfigException;
import dev.conveyor.stage.git.GitUrls;

/**
 * What to build and where to push it, decided from the run, its version and the settings: the target repository, the
 * tags, which of them is an immutable release tag, the base image, and the OCI annotations (as image labels).
 *
 * @param registry the target registry host
 * @param repository the repository path inside the registry, e.g. {@code team/shop}
 * @param tags the tags to push, the version tag first
 * @param immutable whether the version tag is a release tag that may never point at another digest
 * @param baseImage the base image reference
 * @param kind the artifact kind
 * @param labels the image labels, OCI annotation keys included
 * @param creationTime the image's creation time: the commit time, so the same commit builds the same image
 */
public record ImagePlan(
        String registry,
        String repository,
        List<String> tags,
        boolean immutable,
        String baseImage,
        ArtifactKind kind,
        Map<String, String> labels,
        Instant creationTime) {

    /** OCI image tag grammar. */
    private static final Pattern TAG = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9._-]{0,127}");

    public ImagePlan {
        tags = List.copyOf(tags);
        labels = Map.copyOf(labels);
    }

    /** Label with the digest the base image's tag resolved to when the build started. */
    public static final String BASE_DIGEST_LABEL = "org.opencontainers.image.base.digest";

    /**
     * The same plan with the base image pinned to {@code digest}: the tag is resolved once, so the existence check, the
     * digest comparison and the push all build on the same base, and the image records which one.
     */
    public ImagePlan withBaseDigest(String digest) {
        Map<String, String> pinned = new LinkedHashMap<>(labels);
        pinned.put(BASE_DIGEST_LABEL, digest);
        return new ImagePlan(registry, repository, tags, immutable, baseImage, kind, pinned, creationTime);
    }

    /** The full repository, {@code registry/repository}. */
    public String fullRepository() {
        return registry + "/" + repository;
    }

    /** The version tag: the one that decides whether the image was pushed already. */
    public String versionTag() {
        return tags.get(0);
    }

    /** {@code registry/repository:tag}. */
    public String reference(String tag) {
        return fullRepository() + ":" + tag;
    }

    /**
     * The plan for a run. CD pushes {@code <version>}, {@code <sha7>} and, when configured, {@code latest}; CI only
     * pushes its pre-release version.
     *
     * @param artifactKind the kind the event names, if any
     */
    public static ImagePlan of(PipelineRun run, String version, String artifactKind, Instant commitTime,
            ImageSettings settings, ImageDefaults defaults) {
        ArtifactKind kind = settings.kind().orElseGet(() -> artifactKind == null
                ? defaults.defaultKind()
                : ArtifactKind.parse(artifactKind).orElseThrow(() -> new InvalidConfigException("artifact.kind",
                        "artifact.kind must be 'jar' or 'directory' but was '" + artifactKind + "'")));
        String repository = settings.name().orElseGet(() -> defaults.namespace().map(ns -> ns + "/").orElse("")
                + defaultName(run.app()));
        String versionTag = versionTag(version);
        List<String> tags = new ArrayList<>();
        tags.add(versionTag);
        boolean release = run.flow() == Flow.CD && !version.contains("-");
        if (run.flow() == Flow.CD) {
            String sha7 = run.commit().substring(0, Math.min(7, run.commit().length())).toLowerCase(Locale.ROOT);
            if (!tags.contains(sha7)) {
                tags.add(sha7);
            }
            if (defaults.pushLatest() && !tags.contains("latest")) {
                tags.add("latest");
            }
        }
        String base = settings.base().orElse(kind == ArtifactKind.JAR ? defaults.jarBase() : defaults.directoryBase());
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put("org.opencontainers.image.source", GitUrls.redact(run.repoUrl()));
        labels.put("org.opencontainers.image.revision", run.commit());
        labels.put("org.opencontainers.image.version", version);
        labels.put("org.opencontainers.image.created", commitTime.toString());
        labels.put("org.opencontainers.image.title", run.app());
        labels.put("org.opencontainers.image.base.name", base);
        return new ImagePlan(defaults.registry(), repository, tags, release, base, kind, labels, commitTime);
    }

    /** The version as an image tag: SemVer build metadata's {@code +} is not allowed in tags and becomes {@code _}. */
    public static String versionTag(String version) {
        String tag = version.replace('+', '_');
        if (!TAG.matcher(tag).matches()) {
            throw new InvalidConfigException("version", "version '" + version + "' cannot be an image tag");
        }
        return tag;
    }

    /** An app id as a repository name: lower case, characters outside the grammar replaced by '-'. */
    static String defaultName(String app) {
        String name = app.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9._/-]", "-").replaceAll("^[^a-z0-9]+", "")
                .replaceAll("[^a-z0-9]+$", "");
        if (name.isEmpty()) {
            throw new InvalidConfigException("image.name", "app id '" + app + "' makes no repository name: set "
                    + "image.name in .conveyor.yaml");
        }
        return name;
    }
}
