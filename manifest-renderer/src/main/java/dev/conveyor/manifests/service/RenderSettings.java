package dev.conveyor.manifests.service;

import java.nio.file.Path;

import dev.conveyor.manifests.domain.ManifestParser;
import dev.conveyor.manifests.domain.ValidationSettings;

/**
 * The renderer's settings, from configuration.
 *
 * @param workDir where charts are copied out for Helm (a fresh directory per run, deleted afterwards)
 * @param kubernetesVersion the Kubernetes version to render for and validate against
 * @param defaultNamespace release namespace of apps that do not set one
 * @param defaultBaseBranch CI base branch of apps that do not set one
 * @param manifestsDir the directory of the app repository that receives the manifests
 * @param validation strictness and missing-schema handling
 * @param limits parser limits (byte cap, aliases, nodes)
 * @param lint run {@code helm lint --strict}
 * @param maxDiffChars cap of the CI diff
 * @param maxProblemsInMessage problems listed in a StageFailed message
 * @param maxFileBytes largest file copied out of the repository
 * @param maxFiles most files copied out of one directory
 * @param committerName author and committer of manifests commits
 * @param committerEmail their e-mail
 */
public record RenderSettings(Path workDir, String kubernetesVersion, String defaultNamespace, String defaultBaseBranch,
        String manifestsDir, ValidationSettings validation, ManifestParser.Limits limits, boolean lint,
        int maxDiffChars, int maxProblemsInMessage, long maxFileBytes, int maxFiles,
        String committerName, String committerEmail) {
}
