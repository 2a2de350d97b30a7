package dev.conveyor.local;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;

import dev.conveyor.events.v1.EventType;
import dev.conveyor.testkit.git.BareRepo;
import dev.conveyor.testkit.git.GitRepos;
import dev.conveyor.testkit.git.RepoWriter;

/**
 * Many apps on the local stack, for the pipeline benchmark ({@code PipelineBench}): {@code apps} app repositories
 * ({@code fleet/app-000.git} …), each its own chart and GitOps release, spread over {@code gitopsRepos} GitOps
 * repositories ({@code fleet/gitops-00.git} …; app {@code i} belongs to team {@code i mod gitopsRepos}, namespace
 * {@code team-NN}), as a platform whose teams each own a GitOps repository would have them.
 *
 * <p>
 * Opt-in: a stack has a fleet only when {@link #seed} wrote {@code fleet.properties} into its data directory before
 * {@code up}. Then {@code up} creates the event topics with {@code partitions} partitions before the services start
 * ({@link #ensureTopics}), and the promoter and flux-sync get one target and one repository per GitOps repository
 * ({@link #serviceConfig}); the sample app {@code shop} keeps its own target. Every service's consumers poll with a
 * 100 ms timeout instead of SmallRye's 1 s (see {@link #serviceConfig}). Without the file nothing changes, so
 * {@code ./conveyor demo} and the end-to-end tests run exactly as before.
 *
 * <p>
 * Seeding is in-process JGit (one commit object per repository, no clone), about 20 ms per repository. Builds are
 * what Jenkins would archive: the service is compiled once ({@link #build}); each commit's jar is that class and a
 * resource naming the app and change, so every commit has its own jar and sha256.
 */
public final class AppFleet {

    /** The file that makes a stack a fleet stack, in the data directory. */
    static final String FILE = "fleet.properties";
    static final String AUTHOR = "Fleet Developer";
    static final String AUTHOR_EMAIL = "dev@example.com";

    private final StackLayout layout;
    private final int apps;
    private final int gitopsRepos;
    private final int partitions;
    private final GitRepos repos;
    private byte[] compiledClass;

    private AppFleet(StackLayout layout, int apps, int gitopsRepos, int partitions) {
        if (apps < 1 || gitopsRepos < 1 || partitions < 1) {
            throw new IllegalArgumentException("apps, gitops-repos and partitions must be at least 1: " + apps + ", "
                    + gitopsRepos + ", " + partitions);
        }
        this.layout = layout;
        this.apps = apps;
        this.gitopsRepos = Math.min(gitopsRepos, apps);
        this.partitions = partitions;
        this.repos = GitRepos.at(layout.gitDir());
    }

    /** The stack's fleet, when {@link #seed} made one. */
    static Optional<AppFleet> of(StackLayout layout) {
        return StackLayout.read(layout.root().resolve(FILE)).map(p -> new AppFleet(layout, Integer.parseInt(p.get(
                "apps")), Integer.parseInt(p.get("gitops-repos")), Integer.parseInt(p.get("partitions"))));
    }

    /**
     * Creates the repositories of a fleet (those missing) and records it in {@code fleet.properties}; call before
     * {@code up}. Returns the fleet.
     */
    public static AppFleet seed(StackLayout layout, int apps, int gitopsRepos, int partitions) {
        AppFleet fleet = new AppFleet(layout, apps, gitopsRepos, partitions);
        for (int t = 0; t < fleet.gitopsRepos; t++) {
            if (!Files.isDirectory(layout.gitDir().resolve(fleet.gitopsRepo(t)))) {
                RepoWriter w = fleet.repos.createBare(fleet.gitopsRepo(t)).writer();
                fleet.gitopsFiles(t).forEach(w::file);
                w.author("Platform Team", "platform@example.com").message("chore: GitOps repository of "
                        + fleet.namespace(t)).commit();
            }
        }
        for (int i = 0; i < apps; i++) {
            if (!Files.isDirectory(layout.gitDir().resolve(fleet.appRepo(i)))) {
                RepoWriter w = fleet.repos.createBare(fleet.appRepo(i)).writer();
                fleet.appFiles(i, 1).forEach(w::file);
                w.author(AUTHOR, AUTHOR_EMAIL).message("feat: " + fleet.app(i) + " with its chart").commit();
            }
        }
        Map<String, String> p = new LinkedHashMap<>();
        p.put("apps", Integer.toString(apps));
        p.put("gitops-repos", Integer.toString(fleet.gitopsRepos));
        p.put("partitions", Integer.toString(partitions));
        StackLayout.write(layout.root().resolve(FILE), p, false);
        return fleet;
    }

    public int apps() {
        return apps;
    }

    public int gitopsRepos() {
        return gitopsRepos;
    }

    public int partitions() {
        return partitions;
    }

    public String app(int i) {
        return String.format("app-%03d", i);
    }

    /** The app's repository under the git daemon's root, e.g. {@code fleet/app-007.git}. */
    public String appRepo(int i) {
        return "fleet/" + app(i) + ".git";
    }

    public int team(int app) {
        return app % gitopsRepos;
    }

    /** The GitOps repository of team {@code t}, e.g. {@code fleet/gitops-03.git}. */
    public String gitopsRepo(int t) {
        return String.format("fleet/gitops-%02d.git", t);
    }

    /** Team {@code t}'s namespace, also its flux-sync repository name and promoter target id. */
    public String namespace(int t) {
        return String.format("team-%02d", t);
    }

    /**
     * The services' configuration for the fleet, on top of the sample app's: one promoter target per GitOps repository
     * listing its apps (and the sample's target limited to {@code shop}, else every fleet app would be promoted there
     * too); one flux-sync repository per GitOps repository, at flux-sync's default interval (the
     * promotions trigger the syncs).
     */
    Map<String, String> serviceConfig(String service, String git, Map<String, String> secrets) {
        Map<String, String> c = new LinkedHashMap<>();
        switch (service) {
            case "promoter" -> {
                c.put("conveyor.promoter.targets.local.apps", SampleApp.APP);
                for (int t = 0; t < gitopsRepos; t++) {
                    String id = "conveyor.promoter.targets." + namespace(t);
                    c.put(id + ".gitops-repo", git + gitopsRepo(t));
                    c.put(id + ".environment", "local");
                    c.put(id + ".namespace", namespace(t));
                    List<String> members = new ArrayList<>();
                    for (int i = t; i < apps; i += gitopsRepos) {
                        members.add(app(i));
                    }
                    c.put(id + ".apps", String.join(",", members));
                }
            }
            case "flux-sync" -> {
                for (int t = 0; t < gitopsRepos; t++) {
                    String id = "conveyor.flux-sync.repos." + namespace(t);
                    c.put(id + ".url", git + gitopsRepo(t));
                    c.put(id + ".interval", "5m");
                    c.put(id + ".webhook-secret", secrets.get("webhook-secret"));
                }
            }
            default -> {
                // the other stages take everything from the events and the app repositories
            }
        }
        return c;
    }

    /**
     * Creates every event topic with {@link #partitions} partitions before the services start (they would create them
     * with the broker's default, one), or adds partitions to one that has fewer. Keys are app ids, so each app's events
     * stay in one partition, in order.
     */
    void ensureTopics(String bootstrap) {
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        try (Admin admin = Admin.create(props)) {
            List<String> topics = java.util.Arrays.stream(EventType.values()).map(EventType::topic).toList();
            var existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
            List<NewTopic> missing = topics.stream().filter(t -> !existing.contains(t)).map(t -> new NewTopic(t,
                    partitions, (short) 1)).toList();
            if (!missing.isEmpty()) {
                admin.createTopics(missing).all().get(30, TimeUnit.SECONDS);
            }
            Map<String, TopicDescription> described = admin.describeTopics(topics).allTopicNames().get(30,
                    TimeUnit.SECONDS);
            Map<String, NewPartitions> grow = new HashMap<>();
            described.forEach((name, d) -> {
                if (d.partitions().size() < partitions) {
                    grow.put(name, NewPartitions.increaseTo(partitions));
                }
            });
            if (!grow.isEmpty()) {
                admin.createPartitions(grow).all().get(30, TimeUnit.SECONDS);
            }
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("cannot create the fleet's event topics: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while creating topics", e);
        }
    }

    /** A developer's commit on main of app {@code i}: change {@code n} of its greeting; returns the commit id. */
    public String change(int i, int n, String message) {
        RepoWriter w = repos.open(appRepo(i)).writer();
        appFiles(i, n).forEach(w::file);
        return w.author(AUTHOR, AUTHOR_EMAIL).message(message).commit();
    }

    public BareRepo appRepo(String app) {
        return repos.open("fleet/" + app + ".git");
    }

    /**
     * What Jenkins archives for {@code commit} of app {@code i}: a runnable jar under
     * {@code artifacts/<app>/<commit>/<app>.jar}, the service compiled once for the whole fleet plus a resource naming
     * the app and change (so each commit's jar differs).
     */
    public synchronized SampleApp.Artifact build(int i, int n, String commit) {
        try {
            byte[] cls = compiled();
            Path work = Files.createDirectories(layout.artifactsDir().resolve(app(i)).resolve(commit));
            Path jar = work.resolve(app(i) + ".jar");
            Manifest manifest = new Manifest();
            manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
            manifest.getMainAttributes().put(Attributes.Name.MAIN_CLASS, "demo.Shop");
            try (OutputStream out = Files.newOutputStream(jar);
                    JarOutputStream j = new JarOutputStream(out, manifest)) {
                put(j, "demo/Shop.class", cls);
                put(j, "change.txt", (app(i) + " change " + n + " " + commit + "\n").getBytes(StandardCharsets.UTF_8));
            }
            byte[] bytes = Files.readAllBytes(jar);
            return new SampleApp.Artifact(jar.toUri(), SampleApp.sha256(bytes), bytes.length);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void put(JarOutputStream jar, String name, byte[] bytes) throws IOException {
        JarEntry entry = new JarEntry(name);
        entry.setTime(315532800000L);
        jar.putNextEntry(entry);
        jar.write(bytes);
        jar.closeEntry();
    }

    private byte[] compiled() throws IOException {
        if (compiledClass == null) {
            Path dir = Files.createTempDirectory("fleet-build");
            try {
                Path source = dir.resolve("Shop.java");
                Files.writeString(source, SampleApp.appFiles(1).get("src/main/java/demo/Shop.java"));
                JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
                if (javac == null) {
                    throw new IllegalStateException("the fleet's build needs a JDK (javac), not a JRE");
                }
                ByteArrayOutputStream errors = new ByteArrayOutputStream();
                if (javac.run(null, null, errors, "--release", "17", "-d", dir.toString(), source.toString()) != 0) {
                    throw new IllegalStateException("compiling the fleet's service failed: " + errors.toString(
                            StandardCharsets.UTF_8));
                }
                compiledClass = Files.readAllBytes(dir.resolve("demo/Shop.class"));
            } finally {
                Conveyor.deleteTree(dir);
            }
        }
        return compiledClass;
    }

    Map<String, String> appFiles(int i, int n) {
        String app = app(i);
        String ns = namespace(team(i));
        Map<String, String> sample = SampleApp.appFiles(n);
        Map<String, String> files = new LinkedHashMap<>();
        files.put("README.md", "# " + app + "\n\nOne of the pipeline benchmark's apps (deploy/local AppFleet).\n");
        files.put(".conveyor.yaml", """
                version:
                  strategy: tags
                  tagPrefix: v
                image:
                  kind: jar
                  ports: [8080]
                manifests:
                  chart: chart
                  namespace: %s
                notify:
                  slack:
                    channel: "#%s-deploys"
                """.formatted(ns, ns));
        files.put("src/main/java/demo/Shop.java", sample.get("src/main/java/demo/Shop.java"));
        files.put("chart/Chart.yaml", """
                apiVersion: v2
                name: %s
                description: A benchmark app
                type: application
                version: 0.1.0
                appVersion: "0.1.0"
                """.formatted(app));
        files.put("chart/values.yaml", """
                replicaCount: 1
                image:
                  repository: conveyor-demo/%s
                  tag: latest
                  digest: ""
                greeting: "Hello from %s (change %d)"
                """.formatted(app, app, n));
        files.put("chart/templates/deployment.yaml",
                """
                        apiVersion: apps/v1
                        kind: Deployment
                        metadata:
                          name: {{ .Release.Name }}
                          labels:
                            app.kubernetes.io/name: {{ .Chart.Name }}
                            app.kubernetes.io/instance: {{ .Release.Name }}
                        spec:
                          replicas: {{ .Values.replicaCount }}
                          selector:
                            matchLabels:
                              app.kubernetes.io/name: {{ .Chart.Name }}
                              app.kubernetes.io/instance: {{ .Release.Name }}
                          template:
                            metadata:
                              labels:
                                app.kubernetes.io/name: {{ .Chart.Name }}
                                app.kubernetes.io/instance: {{ .Release.Name }}
                            spec:
                              containers:
                                - name: app
                                  image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}{{ if .Values.image.digest }}@{{ .Values.image.digest }}{{ end }}"
                                  ports:
                                    - name: http
                                      containerPort: 8080
                                  envFrom:
                                    - configMapRef:
                                        name: {{ .Release.Name }}-settings
                        """);
        files.put("chart/templates/service.yaml", """
                apiVersion: v1
                kind: Service
                metadata:
                  name: {{ .Release.Name }}
                spec:
                  selector:
                    app.kubernetes.io/name: {{ .Chart.Name }}
                    app.kubernetes.io/instance: {{ .Release.Name }}
                  ports:
                    - name: http
                      port: 80
                      targetPort: http
                """);
        files.put("chart/templates/configmap.yaml", sample.get("chart/templates/configmap.yaml"));
        return files;
    }

    Map<String, String> gitopsFiles(int t) {
        Map<String, String> files = new LinkedHashMap<>();
        files.put("README.md", "# GitOps repository of " + namespace(t)
                + "\n\nThe seed's layout; Conveyor's promoter commits charts and releases here.\n");
        files.put("namespaces/" + namespace(t) + ".yaml", """
                apiVersion: v1
                kind: Namespace
                metadata:
                  name: %s
                """.formatted(namespace(t)));
        files.put("charts/README.md", "Charts promoted by Conveyor, one directory each.\n");
        return files;
    }
}
