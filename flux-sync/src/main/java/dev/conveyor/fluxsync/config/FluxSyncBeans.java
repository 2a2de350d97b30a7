package dev.conveyor.fluxsync.config;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.Supplier;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Named;

import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Emitter;

import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.Stage;
import dev.conveyor.fluxsync.client.ChartCredentials;
import dev.conveyor.fluxsync.client.ChartRenderer;
import dev.conveyor.fluxsync.client.GitCharts;
import dev.conveyor.fluxsync.client.Handoffs;
import dev.conveyor.fluxsync.client.KubeCluster;
import dev.conveyor.fluxsync.client.RepoLeases;
import dev.conveyor.fluxsync.client.SopsDecryptor;
import dev.conveyor.fluxsync.client.SshIdentity;
import dev.conveyor.fluxsync.service.FluxSyncService;
import dev.conveyor.fluxsync.service.FluxSyncWarmUp;
import dev.conveyor.fluxsync.service.Replicas;
import dev.conveyor.fluxsync.service.RepoReconciler;
import dev.conveyor.fluxsync.service.RepoSpec;
import dev.conveyor.stage.StageMetrics;
import dev.conveyor.stage.StageRunner;
import dev.conveyor.stage.git.GitAccess;
import dev.conveyor.stage.git.GitConfig;
import dev.conveyor.stage.git.GitCredentials;
import dev.conveyor.stage.git.RepoMirrors;
import dev.conveyor.stage.messaging.StageEdge;
import dev.conveyor.stage.net.OutboundPolicy;
import dev.conveyor.stage.warmup.WarmUp;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.StartupEvent;

/** Wires the plain stage classes from configuration. */
@ApplicationScoped
public class FluxSyncBeans {

    private static final org.jboss.logging.Logger LOG = org.jboss.logging.Logger.getLogger(FluxSyncBeans.class);

    /** The per-repository git clients, closed at shutdown. */
    private final List<GitAccess> ownAccess = new ArrayList<>();

    /** Run once after start by stage-support's {@code WarmUpStarter} ({@code conveyor.warm-up.enabled}). */
    @Produces
    @ApplicationScoped
    WarmUp warmUp(KubernetesClient client) {
        return new FluxSyncWarmUp(client.getKubernetesSerialization());
    }

    @Produces
    @ApplicationScoped
    @Named("flux-sync-health")
    ExecutorService healthExecutor(FluxSyncConfig config) {
        AtomicInteger n = new AtomicInteger();
        ThreadPoolExecutor executor = new ThreadPoolExecutor(config.health().concurrency(), config.health()
                .concurrency(), 60, TimeUnit.SECONDS, new ArrayBlockingQueue<>(config.health().queue()), r -> {
                    Thread t = new Thread(r, "flux-sync-health-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        executor.allowCoreThreadTimeOut(true);
        return executor;
    }

    void closeHealth(@Disposes @Named("flux-sync-health") ExecutorService executor) {
        executor.shutdownNow();
    }

    /** With several replicas: the repositories' Leases and what a replica does as they come and go. */
    private RepoLeases leases;
    private Replicas replicas;

    @Produces
    @ApplicationScoped
    FluxSyncService fluxSyncService(FluxSyncConfig config, GitConfig git, GitAccess access, KubernetesClient client,
            MeterRegistry registry, @Named("flux-sync-health") ExecutorService healthExecutor,
            OutboundPolicy outbound, StageRunner runner, StageEdge edge) throws IOException {
        Files.createDirectories(config.mirrorDir());
        Files.createDirectories(config.workDir());
        List<RepoSpec> repos = config.repos().entrySet().stream().map(e -> new RepoSpec(e.getKey(), e.getValue()
                .url(), e.getValue().branch(), e.getValue().path(), e.getValue().interval(), e.getValue().prune(),
                e.getValue().suspend())).toList();
        GitCredentials sharedCredentials = withIdentity(git.toCredentials(), config, client);
        GitAccess sharedAccess = access;
        if (!sharedCredentials.equals(git.toCredentials())) {
            sharedAccess = GitAccess.create(sharedCredentials);
            ownAccess.add(sharedAccess);
        }
        RepoMirrors shared = new RepoMirrors(config.mirrorDir(), sharedAccess);
        KubeCluster cluster = new KubeCluster(client, config.fieldManager());
        Function<RepoSpec, RepoMirrors> byRepo = mirrorsByRepo(config.mirrorDir(), shared, sharedCredentials, config
                .repos(), ownAccess);
        RepoReconciler reconciler = new RepoReconciler(shared, byRepo, cluster,
                new ChartRenderer(config.workDir(), java.util.Set.copyOf(config.oci().plainHttpHosts().orElse(List
                        .of())), chartCredentials(config, cluster),
                        new GitCharts(chartMirrors(config.mirrorDir(), sharedAccess,
                                sharedCredentials, config.repos(), ownAccess, outbound), config.workDir(), outbound),
                        outbound),
                new RepoReconciler.Settings(config.chartsDir(), config
                        .namespace(), config.health().timeout(), config.health().pollInterval(), config.workDir(),
                        config.sync().renderConcurrency().orElse(RepoReconciler.Settings.defaultRenderConcurrency()),
                        config.sync().applyConcurrency().orElse(RepoReconciler.Settings.defaultApplyConcurrency())),
                registry, Clock.systemUTC(), new SopsDecryptor(ageIdentities(config, client)));
        FluxSyncService service = new FluxSyncService(reconciler, repos, Clock.systemUTC(), healthExecutor);
        if (config.replicas().enabled()) {
            shard(config, client, runner, edge, service);
        }
        return service;
    }

    /**
     * Makes this instance one replica of several: the service syncs only the repositories whose Lease it holds and
     * hands the rest to their owner. The Leases are taken once the application has started.
     */
    private void shard(FluxSyncConfig config, KubernetesClient client, StageRunner runner, StageEdge edge,
            FluxSyncService service) {
        ReplicaSettings settings = ReplicaSettings.of(config.replicas(), Optional.ofNullable(System.getenv(
                "HOSTNAME")));
        Handoffs handoffs = new Handoffs(client, config.namespace());
        replicas = new Replicas(service, handoffs, runner, edge::publish, settings.handoffPoll());
        leases = new RepoLeases(client, new RepoLeases.Settings(config.namespace(), settings.identity(), settings
                .leaseDuration(), settings.renewPeriod()), config.repos().keySet(), replicas);
        service.shard(leases::owns, handoffs);
        LOG.infof("[flux-sync] replica %s: repositories are sharded through Leases in namespace %s (lease %s, renewed "
                + "every %s; a dead replica's repositories move within %s)", settings.identity(), config.namespace(),
                settings.leaseDuration(), settings.renewPeriod(), settings.takeoverBound());
    }

    /** Takes the Leases once the application runs (with several replicas). */
    void startReplicas(@Observes StartupEvent start, FluxSyncService service) {
        if (leases != null) {
            replicas.start();
            leases.start();
        }
    }

    /**
     * The shared git credentials, with the generated SSH identity as the SSH key when none is configured (the seed's
     * flow: copy {@code /identity.pub}, add it as a deploy key, and git over SSH works).
     */
    static GitCredentials withIdentity(GitCredentials shared, FluxSyncConfig config, KubernetesClient client) {
        return withIdentity(shared, config.identity().enabled(), client, config.namespace(), config.identity()
                .secretName(), config.workDir());
    }

    /**
     * {@link #withIdentity(GitCredentials, FluxSyncConfig, KubernetesClient)} from its parts: the identity's key is
     * written to {@code workDir/identity/identity}.
     */
    public static GitCredentials withIdentity(GitCredentials shared, boolean enabled, KubernetesClient client,
            String namespace, String secretName, Path workDir) {
        if (shared.sshPrivateKey().isPresent() || !enabled) {
            return shared;
        }
        try {
            Path key = SshIdentity.writePrivateKey(client, namespace, secretName, workDir.resolve("identity"));
            return new GitCredentials(Optional.of(key), shared.knownHosts(), shared.strictHostKeyChecking(), shared
                    .httpsUsername(), shared.httpsToken());
        } catch (RuntimeException e) {
            LOG.errorf("[flux-sync] the SSH identity %s/%s cannot be used for git (%s): git over SSH has no key",
                    namespace, secretName, e.getMessage());
            return shared;
        }
    }

    /**
     * The mirrors of a chart's git repository, apart from the GitOps repositories' mirrors (their own directories and
     * locks: a sync holds its repository's lock while it renders, so sharing them could deadlock two syncs that render
     * charts from each other's repository): with the credentials of a GitOps repository on the same host that has its
     * own ({@code conveyor.flux-sync.repos.<name>.ssh-private-key}, ...), else the shared ones (conveyor.git.* and the
     * generated identity). The git clients created are added to {@code created}, for closing. Chart remotes are named
     * in the repositories' files, so every access is restricted to the outbound policy ({@code spec.chart.git}); the
     * GitOps repositories themselves are configuration and are not.
     */
    static Function<String, RepoMirrors> chartMirrors(Path mirrorDir, GitAccess sharedAccess,
            GitCredentials sharedCredentials, Map<String, FluxSyncConfig.Repo> repos, List<GitAccess> created,
            OutboundPolicy outbound) {
        RepoMirrors shared = new RepoMirrors(mirrorDir.resolve("charts"), sharedAccess.restrictedTo(outbound,
                GitCharts.FIELD));
        Map<String, RepoMirrors> byHost = new java.util.HashMap<>();
        new java.util.TreeMap<>(repos).forEach((name, repo) -> {
            String host = gitHost(repo.url());
            if (repo.ownCredentials() && host != null && !byHost.containsKey(host)) {
                GitAccess a = GitAccess.create(credentials(sharedCredentials, repo));
                created.add(a);
                byHost.put(host, new RepoMirrors(mirrorDir.resolve("charts-" + name), a.restrictedTo(outbound,
                        GitCharts.FIELD)));
            }
        });
        return url -> {
            String host = gitHost(url);
            return host == null ? shared : byHost.getOrDefault(host, shared);
        };
    }

    /** The host of a git URL ({@code ssh://}, {@code https://}, {@code git@host:path}); null for local paths. */
    static String gitHost(String url) {
        if (!url.contains("://") && url.contains("@") && url.contains(":")) {
            return url.substring(url.indexOf('@') + 1, url.indexOf(':', url.indexOf('@')));
        }
        try {
            return java.net.URI.create(url).getHost();
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /** Chart source credentials: per host from the configuration, per HelmRepository from its Secret. */
    static ChartCredentials chartCredentials(FluxSyncConfig config, KubeCluster cluster) {
        Map<String, ChartCredentials.Credential> byHost = new java.util.HashMap<>();
        config.chartRepositories().forEach((host, c) -> {
            String origin = "configuration of " + host;
            if (c.token().isPresent()) {
                byHost.put(host, new ChartCredentials.Credential(null, null, c.token().get(), origin));
            } else if (c.username().isPresent() && c.password().isPresent()) {
                byHost.put(host, new ChartCredentials.Credential(c.username().get(), c.password().get(), null,
                        origin));
            } else {
                throw new IllegalArgumentException("conveyor.flux-sync.chart-repositories.\"" + host
                        + "\" needs username and password, or token");
            }
        });
        return new ChartCredentials(byHost, cluster::secretData);
    }

    /**
     * The mirrors of each repository: the shared ones ({@code conveyor.git.*}), or for a repository with credentials
     * of its own, mirrors in a directory of their own fetched with those credentials (a mirror is never shared between
     * credentials). The git clients created are added to {@code created}, for closing.
     */
    public static Function<RepoSpec, RepoMirrors> mirrorsByRepo(Path mirrorDir, RepoMirrors shared,
            GitCredentials sharedCredentials, Map<String, FluxSyncConfig.Repo> repos, List<GitAccess> created) {
        Map<String, RepoMirrors> own = new ConcurrentHashMap<>();
        repos.forEach((name, repo) -> {
            if (repo.ownCredentials()) {
                GitAccess a = GitAccess.create(credentials(sharedCredentials, repo));
                created.add(a);
                own.put(name, new RepoMirrors(mirrorDir.resolve("repo-" + name), a));
            }
        });
        return r -> own.getOrDefault(r.name(), shared);
    }

    /** The shared credentials with a repository's own settings on top. */
    public static GitCredentials credentials(GitCredentials shared, FluxSyncConfig.Repo repo) {
        return new GitCredentials(repo.sshPrivateKey().or(shared::sshPrivateKey), repo.knownHosts().or(
                shared::knownHosts), shared.strictHostKeyChecking(),
                repo.httpsUsername().orElse(shared
                        .httpsUsername()),
                repo.httpsToken().or(shared::httpsToken));
    }

    /** Age identities from the key file and the Secret, read when an encrypted file needs them. */
    static Supplier<List<String>> ageIdentities(FluxSyncConfig config, KubernetesClient client) {
        return () -> {
            List<String> ids = new ArrayList<>();
            config.sops().ageKeyFile().ifPresent(file -> {
                try {
                    ids.addAll(SopsDecryptor.parseIdentities(Files.readString(file)));
                } catch (IOException e) {
                    throw new UncheckedIOException("conveyor.flux-sync.sops.age-key-file " + file
                            + " cannot be read", e);
                }
            });
            config.sops().ageKeySecret().ifPresent(name -> {
                Secret secret = client.secrets().inNamespace(config.namespace()).withName(name).get();
                if (secret == null) {
                    throw new IllegalStateException("the Secret " + config.namespace() + "/" + name
                            + " (conveyor.flux-sync.sops.age-key-secret) does not exist");
                }
                if (secret.getData() != null) {
                    secret.getData().forEach((k, v) -> {
                        if (k.endsWith(".agekey")) {
                            ids.addAll(SopsDecryptor.parseIdentities(new String(Base64.getDecoder().decode(v),
                                    StandardCharsets.UTF_8)));
                        }
                    });
                }
                if (secret.getStringData() != null) {
                    secret.getStringData().forEach((k, v) -> {
                        if (k.endsWith(".agekey")) {
                            ids.addAll(SopsDecryptor.parseIdentities(v));
                        }
                    });
                }
            });
            return ids;
        };
    }

    @jakarta.annotation.PreDestroy
    void close() {
        if (leases != null) {
            // frees the Leases of idle repositories: the other replicas take them at once
            try {
                leases.close();
            } catch (RuntimeException e) {
                LOG.warnf("[flux-sync] the Leases were not freed (they expire): %s", e.getMessage());
            }
            replicas.close();
        }
        ownAccess.forEach(GitAccess::close);
    }

    @Produces
    @ApplicationScoped
    StageRunner stageRunner(FluxSyncConfig config, MeterRegistry registry) {
        return new StageRunner(Stage.FLUX_SYNC, config.retry().backoff(), new StageMetrics(registry, Stage.FLUX_SYNC));
    }

    /** The Kafka edge: the runner, and one emitter for every topic flux-sync emits to. */
    @Produces
    @ApplicationScoped
    StageEdge stageEdge(StageRunner runner, @Channel(StageEdge.CHANNEL) Emitter<ConveyorEvent> events) {
        return new StageEdge(runner, events);
    }
}
