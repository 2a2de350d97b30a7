package dev.conveyor.fluxsync.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

import dev.conveyor.stage.config.RetryConfig;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/**
 * flux-sync's settings ({@code conveyor.flux-sync.*}); shared git credentials are under {@code conveyor.git.*}.
 */
@ConfigMapping(prefix = "conveyor.flux-sync")
public interface FluxSyncConfig {

    /** The GitOps repositories, by name (lower-case letters, digits and dashes). */
    Map<String, Repo> repos();

    /** Where the bare mirrors of the GitOps repositories are kept. Use a persistent volume. */
    @WithDefault("/var/lib/conveyor/flux-sync/mirrors")
    Path mirrorDir();

    /** Scratch space: charts written out for Helm, downloaded chart archives. */
    @WithDefault("/var/lib/conveyor/flux-sync/work")
    Path workDir();

    /** Directory of the charts FluxHelmRelease's {@code chartGitPath} is relative to. */
    @WithDefault("charts")
    String chartsDir();

    /** Namespace of the inventories, the problem events and the identity Secret. Must exist. */
    @WithDefault("conveyor")
    String namespace();

    /** Field manager of server-side apply. */
    @WithDefault("conveyor-flux-sync")
    String fieldManager();

    /** Rollout waits. */
    Health health();

    /** The periodic syncs. */
    Scheduler scheduler();

    /** How much of a sync runs at once. */
    Sync sync();

    /** The SSH identity generated at first start. */
    Identity identity();

    /** Several replicas sharing the repositories (off: one instance syncs every repository). */
    Replicas replicas();

    /** Retries of transient failures (git, the API server) of syncs triggered by a promotion. */
    RetryConfig retry();

    /** Decryption of SOPS-encrypted files. */
    Sops sops();

    /** OCI chart registries. */
    Oci oci();

    /**
     * Credentials of Helm repositories and OCI registries by host ({@code host} or {@code host:port}, quoted in the
     * key: {@code conveyor.flux-sync.chart-repositories."charts.example.com".username}): used for Helm Operator
     * {@code spec.chart.repository} and any chart source without a {@code secretRef}. Mount the values from Secrets.
     */
    Map<String, ChartRepository> chartRepositories();

    interface ChartRepository {
        /** User name (basic auth; OCI registry login). */
        Optional<String> username();

        /** Password (basic auth; OCI registry login). */
        Optional<String> password();

        /** Bearer token (Helm HTTP repositories), instead of user name and password. */
        Optional<String> token();
    }

    interface Oci {
        /**
         * Registries ({@code host:port}) reached over plain HTTP instead of HTTPS, for every release kind (Flux v2
         * can also say so on its {@code HelmRepository} with {@code spec.insecure: true}).
         */
        Optional<java.util.List<String>> plainHttpHosts();
    }

    interface Sops {
        /**
         * An age key file ({@code AGE-SECRET-KEY-1...} lines, as {@code age-keygen} writes it), mounted from a Secret.
         */
        Optional<Path> ageKeyFile();

        /**
         * Name of a Secret in {@code conveyor.flux-sync.namespace} whose keys ending in {@code .agekey} hold age
         * identities (Flux's convention); read when an encrypted file is met.
         */
        Optional<String> ageKeySecret();
    }

    interface Repo {
        /** The remote: {@code ssh://}, {@code git@host:path}, {@code https://}, {@code git://} or {@code file://}. */
        String url();

        /** The branch synced. */
        @WithDefault("main")
        String branch();

        /** Directory of the repository holding the layout; empty for the root. */
        @WithDefault("/")
        String path();

        /** How often the repository is fetched and drift corrected. */
        @WithDefault("5m")
        Duration interval();

        /** Whether objects removed from git are deleted from the cluster. */
        @WithDefault("true")
        boolean prune();

        /** Start suspended (neither fetched nor applied until resumed). */
        @WithDefault("false")
        boolean suspend();

        /** Shared secret of the git webhook ({@code X-Hub-Signature-256} HMAC); without it the webhook is refused. */
        Optional<String> webhookSecret();

        /** SSH private key of this repository; overrides {@code conveyor.git.ssh.private-key}. */
        Optional<Path> sshPrivateKey();

        /** known_hosts for this repository; overrides {@code conveyor.git.ssh.known-hosts}. */
        Optional<Path> knownHosts();

        /** HTTPS token of this repository; overrides {@code conveyor.git.https.token}. */
        Optional<String> httpsToken();

        /** User name sent with this repository's token; overrides {@code conveyor.git.https.username}. */
        Optional<String> httpsUsername();

        /** Whether the repository has credentials of its own. */
        default boolean ownCredentials() {
            return sshPrivateKey().isPresent() || knownHosts().isPresent() || httpsToken().isPresent()
                    || httpsUsername().isPresent();
        }
    }

    interface Sync {
        /**
         * Releases rendered at once (Helm's template, in-process), over all repositories; default: the available
         * processors. 1 renders each release at its turn, one after the other.
         */
        java.util.OptionalInt renderConcurrency();

        /**
         * Objects of one apply tier, and releases, applied at once over all repositories (each mostly waits for the
         * API server); default: 4 per available processor, 4 to 32. 1 applies one after the other.
         */
        java.util.OptionalInt applyConcurrency();
    }

    interface Health {
        /** How long a rollout may take before the release is degraded. */
        @WithDefault("5m")
        Duration timeout();

        /** The longest pause between two reads of a rollout's status (the first is 100 ms, then twice the last). */
        @WithDefault("2s")
        Duration pollInterval();

        /** Rollout waits that run at once, off the consumer thread; more wait in a queue. */
        @WithDefault("4")
        int concurrency();

        /** Rollout waits queued; beyond that a sync waits for its rollouts itself (back-pressure). */
        @WithDefault("256")
        int queue();
    }

    interface Scheduler {
        /** Whether repositories are synced on their interval (off in tests that drive syncs themselves). */
        @WithDefault("true")
        boolean enabled();

        /** Delay of the first sync after start. */
        @WithDefault("5s")
        Duration initialDelay();
    }

    interface Replicas {
        /**
         * Whether this instance is one of several replicas that shard the repositories through Kubernetes Leases in
         * {@code conveyor.flux-sync.namespace} (needs RBAC on {@code coordination.k8s.io} {@code leases}: get, list,
         * create, update, delete). Off: this instance syncs every configured repository, as a single instance does.
         */
        @WithDefault("false")
        boolean enabled();

        /**
         * This replica's name in the Leases, distinct per replica; default {@code <HOSTNAME>-<pid>} (the pod name in
         * Kubernetes), else random.
         */
        Optional<String> identity();

        /**
         * How long a repository's Lease stays valid without renewal: a dead replica's repositories are taken over
         * within {@code lease-duration + renew-period} (plus the takeover's sync). Whole seconds, at least 1s.
         */
        @WithDefault("8s")
        Duration leaseDuration();

        /** How often Leases are renewed and free ones taken; shorter than {@code lease-duration}. */
        @WithDefault("2s")
        Duration renewPeriod();

        /** How often the owner looks for promotions and webhook syncs other replicas handed over. */
        @WithDefault("1s")
        Duration handoffPoll();
    }

    interface Identity {
        /** Whether an SSH key is generated at first start and kept in a Secret. */
        @WithDefault("true")
        boolean enabled();

        /** Name of the Secret holding the key. */
        @WithDefault("flux-sync-identity")
        String secretName();
    }
}
