package dev.conveyor.local;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;

import dev.conveyor.testkit.git.BareRepo;
import dev.conveyor.testkit.git.GitRepos;

/**
 * The sample application of the local stack and what Jenkins would do with it.
 *
 * <ul>
 * <li>{@code acme/shop.git}: a small Java HTTP service ({@code src/}), its Helm chart ({@code chart/}) and a
 * {@code .conveyor.yaml} (version tags, jar image on port 8080, namespace {@code shop}, Slack channel, JIRA project
 * {@code SHOP}).</li>
 * <li>{@code acme/gitops.git}: a GitOps repository in the seed's layout ({@code namespaces/},
 * {@code releases/manifests/}, {@code releases/helm/}, {@code charts/}); the promoter adds the release and the chart.</li>
 * <li>{@link #build}: compiles the service into a jar under {@code artifacts/} with its sha256, as a Jenkins build
 * would archive it.</li>
 * </ul>
 */
public final class SampleApp {

    public static final String APP = "shop";
    public static final String APP_REPO = "acme/shop.git";
    public static final String GITOPS_REPO = "acme/gitops.git";
    /** The git chart repository, used when the stack has no OCI registry. */
    public static final String CHARTS_REPO = "acme/charts.git";
    public static final String NAMESPACE = "shop";
    static final String AUTHOR = "Dana Developer";
    static final String AUTHOR_EMAIL = "dana@example.com";

    private final GitRepos repos;
    private final StackLayout layout;

    SampleApp(StackLayout layout) {
        this.layout = layout;
        this.repos = GitRepos.at(layout.gitDir());
    }

    /** Creates both repositories if they do not exist yet; returns whether it created them. */
    boolean init() {
        if (Files.isDirectory(layout.gitDir().resolve(APP_REPO))) {
            return false;
        }
        withFiles(repos.createBare(APP_REPO).writer(), appFiles(1)).author(AUTHOR, AUTHOR_EMAIL)
                .message("feat: shop service with its chart").commit();
        withFiles(repos.createBare(GITOPS_REPO).writer(), gitopsFiles()).author("Platform Team",
                "platform@example.com").message("chore: GitOps repository for the local environment").commit();
        repos.createBare(CHARTS_REPO).writer().file("README.md", "Helm chart repository: index.yaml and packages.\n")
                .author("Platform Team", "platform@example.com").message("chore: chart repository").commit();
        return true;
    }

    public BareRepo appRepo() {
        return repos.open(APP_REPO);
    }

    public BareRepo gitopsRepo() {
        return repos.open(GITOPS_REPO);
    }

    /**
     * A developer's change on {@code branch}: bumps the greeting (so every demo run has a new commit) and returns the
     * commit id. {@code message} should be a conventional commit; a JIRA key in it is picked up by the notifier.
     */
    String change(String branch, int n, String message) {
        BareRepo app = appRepo();
        if (app.head(branch).isEmpty()) {
            // A feature branch starts from main's tip.
            String main = app.head("main").orElseThrow();
            try (var db = app.open()) {
                var update = db.updateRef("refs/heads/" + branch);
                update.setNewObjectId(org.eclipse.jgit.lib.ObjectId.fromString(main));
                update.update();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot create branch " + branch, e);
            }
        }
        return withFiles(app.writer(), appFiles(n)).branch(branch).author(AUTHOR, AUTHOR_EMAIL).message(message)
                .commit();
    }

    private static dev.conveyor.testkit.git.RepoWriter withFiles(dev.conveyor.testkit.git.RepoWriter writer,
            Map<String, String> files) {
        files.forEach(writer::file);
        return writer;
    }

    /** The artifact Jenkins would archive for {@code commit}: a runnable jar. */
    record Artifact(URI url, String sha256, long sizeBytes) {
    }

    /** Compiles the service at {@code commit} (its {@code src/}) into {@code artifacts/shop/<commit>/shop.jar}. */
    Artifact build(String commit) {
        try {
            Path work = Files.createDirectories(layout.artifactsDir().resolve(APP).resolve(commit));
            Path src = work.resolve("src");
            Path classes = work.resolve("classes");
            Files.createDirectories(classes);
            Path checkout = appRepo().cloneTo(work.resolve("checkout"));
            try (var git = org.eclipse.jgit.api.Git.open(checkout.toFile())) {
                git.checkout().setName(commit).call();
            }
            Path source = checkout.resolve("src/main/java/demo/Shop.java");
            Files.createDirectories(src);
            JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
            if (javac == null) {
                throw new IllegalStateException("the sample build needs a JDK (javac), not a JRE");
            }
            ByteArrayOutputStream errors = new ByteArrayOutputStream();
            int rc = javac.run(null, null, errors, "--release", "17", "-d", classes.toString(), source.toString());
            if (rc != 0) {
                throw new IllegalStateException("compiling the sample app failed: " + errors.toString(
                        StandardCharsets.UTF_8));
            }
            Path jar = work.resolve("shop.jar");
            Manifest manifest = new Manifest();
            manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
            manifest.getMainAttributes().put(Attributes.Name.MAIN_CLASS, "demo.Shop");
            try (OutputStream out = Files.newOutputStream(jar);
                    JarOutputStream jarOut = new JarOutputStream(out,
                            manifest)) {
                for (Path cls : Files.walk(classes).filter(Files::isRegularFile).sorted().toList()) {
                    JarEntry entry = new JarEntry(classes.relativize(cls).toString().replace('\\', '/'));
                    entry.setTime(315532800000L);
                    jarOut.putNextEntry(entry);
                    jarOut.write(Files.readAllBytes(cls));
                    jarOut.closeEntry();
                }
            }
            deleteTree(checkout);
            deleteTree(classes);
            byte[] bytes = Files.readAllBytes(jar);
            return new Artifact(jar.toUri(), sha256(bytes), bytes.length);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (org.eclipse.jgit.api.errors.GitAPIException e) {
            throw new IllegalStateException("cannot check out " + commit, e);
        }
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (var walk = Files.walk(root)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    static Map<String, String> appFiles(int n) {
        Map<String, String> files = new LinkedHashMap<>();
        files.put("README.md", """
                # shop

                The local stack's sample service. Jenkins (here: `./conveyor demo`) builds `src/` into a jar; Conveyor
                versions, images, renders `chart/`, publishes and deploys it.
                """);
        files.put(".conveyor.yaml", """
                version:
                  strategy: tags
                  tagPrefix: v
                image:
                  kind: jar
                  ports: [8080]
                manifests:
                  chart: chart
                  namespace: shop
                notify:
                  slack:
                    channel: "#shop-deploys"
                  jira:
                    project: SHOP
                """);
        files.put("src/main/java/demo/Shop.java", """
                package demo;

                import java.io.IOException;
                import java.net.InetSocketAddress;
                import java.nio.charset.StandardCharsets;

                import com.sun.net.httpserver.HttpServer;

                /** The sample shop: answers every request with its greeting. */
                public final class Shop {

                    static final String GREETING = "Welcome to the shop, change %d";

                    public static void main(String[] args) throws IOException {
                        HttpServer server = HttpServer.create(new InetSocketAddress(8080), 0);
                        server.createContext("/", exchange -> {
                            byte[] body = GREETING.getBytes(StandardCharsets.UTF_8);
                            exchange.sendResponseHeaders(200, body.length);
                            exchange.getResponseBody().write(body);
                            exchange.close();
                        });
                        server.start();
                    }
                }
                """.formatted(n));
        files.put("chart/Chart.yaml", """
                apiVersion: v2
                name: shop
                description: The sample shop service
                type: application
                version: 0.1.0
                appVersion: "0.1.0"
                icon: https://conveyor.dev/icons/shop.png
                """);
        files.put("chart/values.yaml", """
                replicaCount: 2
                image:
                  repository: conveyor-demo/shop
                  tag: latest
                  digest: ""
                greeting: "Welcome (change %d)"
                """.formatted(n));
        files.put("chart/templates/deployment.yaml",
                """
                        apiVersion: apps/v1
                        kind: Deployment
                        metadata:
                          name: {{ .Release.Name }}
                          labels:
                            app.kubernetes.io/name: shop
                            app.kubernetes.io/instance: {{ .Release.Name }}
                        spec:
                          replicas: {{ .Values.replicaCount }}
                          selector:
                            matchLabels:
                              app.kubernetes.io/name: shop
                              app.kubernetes.io/instance: {{ .Release.Name }}
                          template:
                            metadata:
                              labels:
                                app.kubernetes.io/name: shop
                                app.kubernetes.io/instance: {{ .Release.Name }}
                            spec:
                              containers:
                                - name: shop
                                  image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}{{ if .Values.image.digest }}@{{ .Values.image.digest }}{{ end }}"
                                  ports:
                                    - name: http
                                      containerPort: 8080
                                  envFrom:
                                    - configMapRef:
                                        name: {{ .Release.Name }}-settings
                                  readinessProbe:
                                    httpGet:
                                      path: /
                                      port: http
                        """);
        files.put("chart/templates/service.yaml", """
                apiVersion: v1
                kind: Service
                metadata:
                  name: {{ .Release.Name }}
                  labels:
                    app.kubernetes.io/name: shop
                spec:
                  selector:
                    app.kubernetes.io/name: shop
                    app.kubernetes.io/instance: {{ .Release.Name }}
                  ports:
                    - name: http
                      port: 80
                      targetPort: http
                """);
        files.put("chart/templates/configmap.yaml", """
                apiVersion: v1
                kind: ConfigMap
                metadata:
                  name: {{ .Release.Name }}-settings
                data:
                  GREETING: {{ .Values.greeting | quote }}
                """);
        return files;
    }

    static Map<String, String> gitopsFiles() {
        Map<String, String> files = new LinkedHashMap<>();
        files.put("README.md", """
                # gitops (local environment)

                The seed's layout: `namespaces/`, `releases/manifests/<namespace>/`, `releases/helm/<namespace>/` and
                `charts/`. Conveyor's promoter commits charts and releases here; flux-sync applies it to the cluster.
                """);
        files.put("namespaces/shop.yaml", """
                apiVersion: v1
                kind: Namespace
                metadata:
                  name: shop
                """);
        files.put("releases/manifests/shop/limits.yaml", """
                apiVersion: v1
                kind: LimitRange
                metadata:
                  name: shop-defaults
                spec:
                  limits:
                    - type: Container
                      default:
                        cpu: 500m
                        memory: 256Mi
                      defaultRequest:
                        cpu: 50m
                        memory: 64Mi
                """);
        files.put("charts/README.md", "Charts promoted by Conveyor, one directory each.\n");
        return files;
    }

    static List<String> repoNames() {
        return List.of(APP_REPO, GITOPS_REPO);
    }
}
