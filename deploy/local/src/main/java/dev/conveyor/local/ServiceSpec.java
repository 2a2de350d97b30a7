package dev.conveyor.local;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A Conveyor service as the local stack runs it: its module (whose {@code target/quarkus-app} is started with
 * {@code java -jar}) and the configuration it gets on top of its own {@code application.properties}, written to
 * {@code services/<name>/config/application.properties} (Quarkus reads {@code config/application.properties} in the
 * working directory before the one in the jar).
 */
public record ServiceSpec(String name, String module) {

    /** Every service, in the order they are started and listed. */
    public static final List<ServiceSpec> ALL = List.of(new ServiceSpec("gateway", "gateway"),
            new ServiceSpec("versioner", "versioner"), new ServiceSpec("image-builder", "image-builder"),
            new ServiceSpec("manifest-renderer", "manifest-renderer"), new ServiceSpec("promoter", "promoter"),
            new ServiceSpec("notifier", "notifier"), new ServiceSpec("flux-sync", "flux-sync"));

    /**
     * Services that run as ONE process whatever {@code --replicas} says, because a second one would double or lose an
     * effect. None today: every service is replica-safe (below). When a service becomes
     * replica-safe, remove it here: {@code up --replicas N} and the chaos suite with replicas then run and kill N of it.
     */
    public static final Set<String> SINGLE_INSTANCE = Set.of();

    /** How many processes of this service {@code --replicas n} runs: n, or 1 for a {@link #SINGLE_INSTANCE} one. */
    public int replicas(int requested) {
        return SINGLE_INSTANCE.contains(name) ? 1 : Math.max(1, requested);
    }

    /**
     * The name of the service's replica {@code index} (from 1): the service's own name for the first, so that one
     * replica is exactly the stack without replicas (names, ports, data, logs), then {@code <name>-<index>}. The name
     * is also the process's key in {@code ports.properties} and {@code processes.properties}, its log
     * ({@code logs/<name>.log}) and its working directory ({@code services/<name>/}).
     */
    public String replicaName(int index) {
        if (index < 1) {
            throw new IllegalArgumentException("replica index must be at least 1, was " + index);
        }
        return index == 1 ? name : name + "-" + index;
    }

    /** The names of replicas 1..n. */
    public List<String> replicaNames(int n) {
        List<String> names = new ArrayList<>();
        for (int i = 1; i <= n; i++) {
            names.add(replicaName(i));
        }
        return names;
    }

    /** The service and replica index a process name stands for ({@code versioner-2}: versioner, 2), if any. */
    public static Optional<Map.Entry<ServiceSpec, Integer>> ofReplica(String processName) {
        for (ServiceSpec s : ALL) {
            if (s.name.equals(processName)) {
                return Optional.of(Map.entry(s, 1));
            }
            var m = Pattern.compile(Pattern.quote(s.name) + "-([0-9]+)").matcher(processName);
            if (m.matches() && Integer.parseInt(m.group(1)) >= 2) {
                return Optional.of(Map.entry(s, Integer.parseInt(m.group(1))));
            }
        }
        return Optional.empty();
    }

    /** The jar that starts the service: {@code <project>/<module>/target/quarkus-app/quarkus-run.jar}. */
    public Path runJar(Path projectDir) {
        return projectDir.resolve(module).resolve("target/quarkus-app/quarkus-run.jar");
    }

    /** The build the service runs: {@code <project>/<module>/target/quarkus-app}. */
    public Path appDir(Path projectDir) {
        return projectDir.resolve(module).resolve("target/quarkus-app");
    }

    public static ServiceSpec named(String name) {
        return ALL.stream().filter(s -> s.name.equals(name)).findFirst().orElseThrow(
                () -> new IllegalArgumentException("unknown service '" + name + "'; services: " + String.join(", ",
                        ALL.stream().map(ServiceSpec::name).toList())));
    }

    /**
     * What a replica of the service needs on top of {@link #config} so that N of them together do each effect once —
     * THE place for per-service replica settings. Every replica gets the same consumer groups (from the service's own
     * {@code application.properties}: a record goes to one replica), its own port and working directory
     * ({@code services/<replica>/}: mirrors and work directories are per process). Beyond that:
     * <ul>
     * <li>every replica but the first: a Kafka client id prefix naming it ({@code versioner-2-}), so that a consumer
     * group's members tell which process holds which partition (the chaos suite kills the one at work);</li>
     * <li>manifest-renderer: one redaction key for all of them ({@code redaction-key} in {@code secrets.properties}),
     * or the placeholders of Secrets differ by replica and each makes a spurious manifests commit. Set for replica 1
     * too, so that scaling does not change its configuration (and restart it).</li>
     * </ul>
     * Replica-safety settings of services still in {@link #SINGLE_INSTANCE} (flux-sync's repository ownership, the
     * notifier's state topics) go here too once those services support them.
     *
     * @param replica the replica's index, from 1
     */
    Map<String, String> replicaConfig(int replica, Map<String, String> secrets) {
        Map<String, String> c = new LinkedHashMap<>();
        if (replica > 1) {
            c.put("mp.messaging.connector.smallrye-kafka.client-id-prefix", replicaName(replica) + "-");
        }
        switch (name) {
            case "manifest-renderer" -> c.put("conveyor.manifest-renderer.redaction-key", secrets.get(REDACTION_KEY));
            case "flux-sync" -> {
                // Repositories sharded by Leases in the stand-in (flux-sync/README.md, "Replicas"); the identity is the
                // process's name, so the chaos suite can tell which replica owns the GitOps repository.
                c.put("conveyor.flux-sync.replicas.enabled", "true");
                c.put("conveyor.flux-sync.replicas.identity", replicaName(replica));
            }
            default -> {
                // nothing else yet: see the list above
            }
        }
        return c;
    }

    /** flux-sync's name for the sample GitOps repository (its Lease is {@code flux-sync-repo-<name>}). */
    static final String FLUX_SYNC_REPO = "gitops";

    /** The manifest-renderer replicas' shared redaction key in {@code secrets.properties}. */
    static final String REDACTION_KEY = "redaction-key";

    /**
     * The value for a new {@link #REDACTION_KEY}: the key a single manifest-renderer generated for itself before the
     * stack configured one ({@code services/manifest-renderer/mirrors/redaction.key}), so that its placeholders, and
     * the manifests already committed, stay the same; empty when there is none.
     */
    static Optional<String> existingRedactionKey(StackLayout layout) {
        Path file = layout.serviceDir("manifest-renderer").resolve("mirrors").resolve("redaction.key");
        try {
            if (Files.isRegularFile(file)) {
                String key = Files.readString(file).strip();
                return key.length() >= 16 ? Optional.of(key) : Optional.empty();
            }
        } catch (java.io.IOException e) {
            return Optional.empty();
        }
        return Optional.empty();
    }

    /**
     * The stack's outbound policy (stage-support {@code OutboundPolicy}), the same for every service: exactly what the
     * stack runs — the git daemon's loopback address and port, and {@code file:} artifacts from the data directory's
     * artifacts. Nothing else on loopback (the services' own ports, the registry, the stubs) can be named by an event
     * or a repository file.
     */
    static Map<String, String> outbound(StackLayout layout, String git) {
        Map<String, String> c = new LinkedHashMap<>();
        c.put("conveyor.outbound.schemes", "git,file");
        c.put("conveyor.outbound.file-roots", layout.artifactsDir().toString());
        if (git != null) {
            java.net.URI daemon = java.net.URI.create(git);
            c.put("conveyor.outbound.hosts", daemon.getHost() + ":" + daemon.getPort());
            c.put("conveyor.outbound.allowed-networks", daemon.getHost() + "/32");
        }
        return c;
    }

    /**
     * The service's local configuration.
     *
     * @param stack the infrastructure endpoints ({@link StackLayout#readStack()})
     * @param ports the HTTP port of every service
     * @param secrets the stack's tokens
     * @param replica the replica's index, from 1 ({@link #replicaName}: its port and working directory)
     */
    Map<String, String> config(StackLayout layout, Map<String, String> stack, Map<String, Integer> ports,
            Map<String, String> secrets, int replica) {
        String self = replicaName(replica);
        Path dir = layout.serviceDir(self);
        String git = stack.get(StackLayout.GIT);
        String registry = stack.get(StackLayout.REGISTRY);
        String stubs = stack.get(StackLayout.STUBS);
        Map<String, String> c = new LinkedHashMap<>();
        c.put("quarkus.http.port", Integer.toString(ports.get(self)));
        c.put("quarkus.http.host", "127.0.0.1");
        c.put("kafka.bootstrap.servers", stack.get(StackLayout.KAFKA));
        // Static group membership under the process name: a killed process restarted by `up` takes its partitions back
        // when it rejoins, not when the dead member's session times out (stage-support StaticMembership).
        c.put("conveyor.kafka.instance-id", self);
        c.put("quarkus.log.console.color", "false");
        c.put("quarkus.banner.enabled", "false");
        c.putAll(outbound(layout, git));
        switch (name) {
            case "gateway" -> {
                c.put("conveyor.gateway.hook.token", secrets.get("hook-token"));
                // Only hashes of the run API's tokens: a viewer (the page, ./conveyor status) and an operator (replay).
                c.put("conveyor.gateway.auth.tokens", "viewer:viewer:" + sha256(secrets.get("viewer-token"))
                        + ",operator:operator:" + sha256(secrets.get("api-token")));
                // every Conveyor event also as CDEvents on the "cdevents" topic (events/README.md)
                c.put("conveyor.cdevents.enabled", "true");
                // the run history's store: one per replica (gateway/README.md, "Run history")
                c.put("conveyor.gateway.history.dir", dir.resolve("history").toString());
            }
            case "versioner" -> c.put("conveyor.versioner.mirror-dir", dir.resolve("mirrors").toString());
            case "image-builder" -> {
                if (registry != null) {
                    c.put("conveyor.image-builder.registry", registry);
                    c.put("conveyor.image-builder.insecure-registries", registry);
                } else {
                    c.put("conveyor.image-builder.registry", "oci-layout:" + stack.get(StackLayout.IMAGE_LAYOUT));
                }
                c.put("conveyor.image-builder.namespace", "conveyor-demo");
                c.put("conveyor.image-builder.jar-base-image", stack.get(StackLayout.BASE_IMAGE));
                c.put("conveyor.image-builder.directory-base-image", stack.get(StackLayout.BASE_IMAGE));
                c.put("conveyor.image-builder.mirror-dir", dir.resolve("mirrors").toString());
                c.put("conveyor.image-builder.work-dir", dir.resolve("work").toString());
                c.put("conveyor.image-builder.artifact.file-roots", layout.artifactsDir().toString());
            }
            case "manifest-renderer" -> {
                c.put("conveyor.manifest-renderer.mirror-dir", dir.resolve("mirrors").toString());
                c.put("conveyor.manifest-renderer.work-dir", dir.resolve("work").toString());
            }
            case "promoter" -> {
                c.put("conveyor.promoter.mirror-dir", dir.resolve("mirrors").toString());
                c.put("conveyor.promoter.work-dir", dir.resolve("work").toString());
                if (registry != null) {
                    c.put("conveyor.promoter.chart-repositories.local.type", "oci");
                    c.put("conveyor.promoter.chart-repositories.local.url", "oci://" + registry + "/charts");
                    c.put("conveyor.promoter.chart-repositories.local.plain-http", "true");
                } else {
                    // A classic chart repository (index.yaml and packages) kept in git, served by the git daemon.
                    c.put("conveyor.promoter.chart-repositories.local.type", "git");
                    c.put("conveyor.promoter.chart-repositories.local.url", layout.gitDir().resolve(
                            SampleApp.CHARTS_REPO).toUri().toString());
                    c.put("conveyor.promoter.chart-repositories.local.git-repo", git + SampleApp.CHARTS_REPO);
                }
                c.put("conveyor.promoter.targets.local.gitops-repo", git + SampleApp.GITOPS_REPO);
                c.put("conveyor.promoter.targets.local.environment", "local");
                c.put("conveyor.promoter.targets.local.namespace", SampleApp.NAMESPACE);
            }
            case "notifier" -> {
                c.put("conveyor.notifier.data-dir", dir.resolve("data").toString());
                c.put("conveyor.notifier.app-config.mirror-dir", dir.resolve("mirrors").toString());
                c.put("conveyor.notifier.run-url", "http://127.0.0.1:" + ports.get("gateway") + "/#/runs/{runId}");
                c.put("conveyor.notifier.github.api-url", stubs + "/github");
                c.put("conveyor.notifier.github.hosts", "127.0.0.1");
                c.put("conveyor.notifier.github.token", secrets.get("github-token"));
                c.put("conveyor.notifier.slack.api-url", stubs + "/slack/api");
                c.put("conveyor.notifier.slack.token", secrets.get("slack-token"));
                c.put("conveyor.notifier.slack.default-channel", "#deploys");
                c.put("conveyor.notifier.jira.base-url", stubs + "/jira");
                c.put("conveyor.notifier.jira.email", "conveyor@example.com");
                c.put("conveyor.notifier.jira.api-token", secrets.get("jira-token"));
                c.put("conveyor.notifier.jira.projects", "SHOP");
                c.put("conveyor.notifier.retry.initial-delay", "200ms");
            }
            case "flux-sync" -> {
                c.put("conveyor.flux-sync.repos." + FLUX_SYNC_REPO + ".url", git + SampleApp.GITOPS_REPO);
                c.put("conveyor.flux-sync.repos." + FLUX_SYNC_REPO + ".interval", "30s");
                c.put("conveyor.flux-sync.repos." + FLUX_SYNC_REPO + ".webhook-secret", secrets.get("webhook-secret"));
                c.put("conveyor.flux-sync.mirror-dir", dir.resolve("mirrors").toString());
                c.put("conveyor.flux-sync.work-dir", dir.resolve("work").toString());
                c.put("conveyor.flux-sync.scheduler.initial-delay", "2s");
                c.put("conveyor.flux-sync.health.timeout", "2m");
                c.put("conveyor.flux-sync.health.poll-interval", "500ms");
            }
            default -> throw new IllegalStateException(name);
        }
        // the benchmark's many apps, when the stack has them (AppFleet; absent: nothing changes)
        AppFleet.of(layout).ifPresent(f -> c.putAll(f.serviceConfig(name, git, secrets)));
        c.putAll(replicaConfig(replica, secrets));
        return c;
    }

    /** The hex SHA-256 of a token: how the gateway's configuration names it. */
    static String sha256(String token) {
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                    .digest(token.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by the Java platform", e);
        }
    }
}
