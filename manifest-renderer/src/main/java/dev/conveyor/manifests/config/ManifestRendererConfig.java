package dev.conveyor.manifests.config;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import dev.conveyor.manifests.domain.ValidationSettings;
import dev.conveyor.stage.config.RetryConfig;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/**
 * The manifest renderer's settings ({@code conveyor.manifest-renderer.*}); git credentials are under
 * {@code conveyor.git.*}.
 */
@ConfigMapping(prefix = "conveyor.manifest-renderer")
public interface ManifestRendererConfig {

    /** Where the bare mirrors of app repositories are kept; fetched, never re-cloned. Use a persistent volume. */
    @WithDefault("/var/lib/conveyor/manifest-renderer/mirrors")
    Path mirrorDir();

    /** Where charts are copied out for Helm; one fresh directory per render, deleted afterwards. */
    @WithDefault("/var/lib/conveyor/manifest-renderer/work")
    Path workDir();

    /**
     * Kubernetes version to render for ({@code .Capabilities.KubeVersion}) and validate against: a bundled minor version
     * (1.30 to 1.35) or {@code latest}, the newest; an app's {@code manifests.kubernetesVersion} overrides it.
     */
    @WithDefault("latest")
    String kubernetesVersion();

    /** Unknown fields are errors (duplicate keys always are). */
    @WithDefault("true")
    boolean strict();

    /** A kind no schema source knows: {@code error} or {@code skip} (counted as a warning). */
    @WithDefault("error")
    ValidationSettings.MissingSchema missingSchema();

    /** The API server's checks beyond schemas: image, selectors, names, duplicate containers and ports. */
    @WithDefault("true")
    boolean apiChecks();

    /** Run {@code helm lint --strict} before rendering. */
    @WithDefault("true")
    boolean lint();

    /**
     * Extra schema locations for custom resources, kubeconform-style templated local paths, e.g.
     * {@code /schemas/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json}.
     */
    Optional<List<String>> schemaLocations();

    /** Release namespace of apps that do not set {@code manifests.namespace}. */
    @WithDefault("default")
    String defaultNamespace();

    /** Base branch of the CI diff for apps that do not set {@code manifests.baseBranch}. */
    @WithDefault("main")
    String defaultBaseBranch();

    /** The app-repository directory that receives the rendered manifests in CD. */
    @WithDefault("manifests")
    String manifestsDir();

    /** Largest rendered output accepted, in bytes. */
    @WithDefault("16777216")
    int maxOutputBytes();

    /** Most YAML aliases to collections in one document (alias bombs fail). */
    @WithDefault("100")
    int maxAliases();

    /** Most nodes one document may expand to. */
    @WithDefault("200000")
    int maxNodesPerDocument();

    /** Largest file copied out of the repository (chart files, overlays, CRDs). */
    @WithDefault("4194304")
    long maxFileBytes();

    /** Most files copied out of one directory. */
    @WithDefault("5000")
    int maxFiles();

    /**
     * Each Helm call (template, lint, one dependency build) is given up on after this long, failing the run with
     * {@code RENDER_TIMEOUT}. Helm's Go code cannot be interrupted: the call keeps its thread until it returns.
     */
    @WithDefault("60s")
    java.time.Duration renderTimeout();

    /** Cap of the CI rendered diff, in characters. */
    @WithDefault("60000")
    int maxDiffChars();

    /** Problems listed in a StageFailed message (all are counted). */
    @WithDefault("50")
    int maxProblemsInMessage();

    /** How often a manifests push that lost a race is re-applied on the new tip and pushed again. */
    @WithDefault("5")
    int pushAttempts();

    /**
     * Kinds whose {@code data} and {@code stringData} values are replaced by a keyed digest in the committed manifests
     * and the pull request diff (any API group). {@code SealedSecret}s and SOPS-encrypted values are ciphertext and
     * stay as they are.
     */
    @WithDefault("Secret")
    List<String> redactKinds();

    /**
     * Key of the HMAC in redacted placeholders, at least 16 characters; set it from a Kubernetes Secret when more than
     * one replica renders. Without it, a key is generated once and kept in {@code <mirror-dir>/redaction.key}.
     */
    Optional<String> redactionKey();

    /** Author and committer of manifests commits. */
    Committer committer();

    /** Retries of transient failures (network, a push race that keeps losing). */
    RetryConfig retry();

    interface Committer {
        @WithDefault("Conveyor")
        String name();

        @WithDefault("conveyor@conveyor.dev")
        String email();
    }
}
