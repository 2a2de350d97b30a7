package dev.conveyor.fluxsync.service;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.lib.PersonIdent;

import dev.conveyor.fluxsync.client.ChartRenderer;
import dev.conveyor.fluxsync.client.GitopsSnapshot;
import dev.conveyor.fluxsync.client.SopsDecryptor;
import dev.conveyor.fluxsync.domain.LiveComparison;
import dev.conveyor.fluxsync.domain.Manifest;
import dev.conveyor.fluxsync.domain.ReleaseSpec;
import dev.conveyor.stage.warmup.WarmUp;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceList;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;

/**
 * flux-sync's warm-up: the steps of a sync that do not talk to the cluster, once, on a small GitOps repository written
 * into the scratch directory (the seed's layout: a namespace, a ConfigMap and a {@code FluxHelmRelease} of a chart in
 * the repository). The revision is read with JGit, planned ({@link Planner}: YAML, the layout), the release rendered
 * with Helm in the JVM ({@link ReleaseRenderer}: the first render loads Helm's native library) and its objects parsed,
 * and every object written to JSON, read back and listed through the Kubernetes client's own serialization, then
 * hashed as an apply would. Nothing is applied, nothing is read from or written to the cluster, no repository is
 * fetched, no event or metric is made.
 */
public final class FluxSyncWarmUp implements WarmUp {

    /** The repository's files, by path. */
    private static final Map<String, String> FILES = Map.of("namespaces/warm-up.yaml", """
            apiVersion: v1
            kind: Namespace
            metadata:
              name: warm-up
            """, "releases/manifests/warm-up/settings.yaml", """
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: settings
            data:
              greeting: hello
            """, "releases/helm/warm-up/web.yaml", """
            apiVersion: helm.integrations.flux.weave.works/v1alpha2
            kind: FluxHelmRelease
            metadata:
              name: web
              labels:
                chart: web
            spec:
              chartGitPath: web
              releaseName: web
              values:
                image: registry.invalid/warm-up/web:0.1.0
            """, "charts/web/Chart.yaml", """
            apiVersion: v2
            name: web
            version: 0.1.0
            appVersion: "0.1.0"
            """, "charts/web/values.yaml", """
            image: registry.invalid/warm-up/web:0.0.1
            replicas: 1
            """, "charts/web/templates/deployment.yaml", """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: {{ .Release.Name }}
              labels:
                app: {{ .Release.Name }}
            spec:
              replicas: {{ .Values.replicas }}
              selector:
                matchLabels:
                  app: {{ .Release.Name }}
              template:
                metadata:
                  labels:
                    app: {{ .Release.Name }}
                spec:
                  containers:
                    - name: web
                      image: {{ .Values.image | quote }}
                      ports:
                        - containerPort: 8080
            """, "charts/web/templates/service.yaml", """
            apiVersion: v1
            kind: Service
            metadata:
              name: {{ .Release.Name }}
            spec:
              selector:
                app: {{ .Release.Name }}
              ports:
                - port: 80
                  targetPort: 8080
            """);

    /** Objects the repository asks for: the Namespace, the ConfigMap, the release object, its Deployment and Service. */
    static final int OBJECTS = 5;

    private final KubernetesSerialization json;

    /** @param json the Kubernetes client's serialization (its mapper's serializers are made once, here) */
    public FluxSyncWarmUp(KubernetesSerialization json) {
        this.json = json;
    }

    @Override
    public void run(Path scratch) throws Exception {
        Path dir = scratch.resolve("gitops");
        try (Git git = Git.init().setInitialBranch("main").setDirectory(dir.toFile()).call()) {
            for (Map.Entry<String, String> file : FILES.entrySet()) {
                Path target = dir.resolve(file.getKey());
                Files.createDirectories(target.getParent());
                Files.writeString(target, file.getValue());
            }
            git.add().addFilepattern(".").call();
            PersonIdent who = new PersonIdent("warm-up", "warm-up@conveyor.invalid", Instant.EPOCH, ZoneOffset.UTC);
            String head = git.commit().setMessage("warm-up").setAuthor(who).setCommitter(who).call().name();
            RepoSpec repo = new RepoSpec("warm-up", dir.toUri().toString(), "main", "", Duration.ofMinutes(1), true,
                    false);
            GitopsSnapshot snapshot = GitopsSnapshot.read(git.getRepository(), head, repo.path());
            Planner.Plan plan = new Planner("charts", new SopsDecryptor(List::of)).plan(repo, snapshot);
            if (!plan.problems().isEmpty()) {
                throw new IllegalStateException("the warm-up repository has problems: " + plan.problems());
            }
            List<Manifest> objects = new ArrayList<>(plan.desired().objects());
            // No values come from the cluster (no valuesFrom), so the renderer never uses a cluster.
            ReleaseRenderer renderer = new ReleaseRenderer(null, new ChartRenderer(scratch.resolve("render")),
                    scratch.resolve("work"));
            for (ReleaseSpec release : plan.desired().releases()) {
                objects.addAll(renderer.render(new RepoState(), snapshot, release, false).manifests());
            }
            if (objects.size() != OBJECTS) {
                throw new IllegalStateException("the warm-up repository gave " + objects.size() + " objects, expected "
                        + OBJECTS);
            }
            List<GenericKubernetesResource> read = new ArrayList<>();
            for (Manifest m : objects) {
                LiveComparison.hash(m.body());
                read.add(json.unmarshal(json.asJson(m.body()), GenericKubernetesResource.class));
            }
            GenericKubernetesResourceList list = new GenericKubernetesResourceList();
            list.setItems(read);
            json.unmarshal(json.asJson(list), GenericKubernetesResourceList.class).getItems().forEach(item -> json
                    .convertValue(item, LinkedHashMap.class));
        }
    }
}
