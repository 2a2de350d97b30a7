package dev.conveyor.manifests.service;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;

import com.marcnuri.helm.Helm;

/** Real charts for tests, as repository files (path to content). */
public final class TestCharts {

    private TestCharts() {
    }

    /** The chart {@code helm create <name>} makes (Helm's own scaffold, via helm-java), under {@code dir/}. */
    public static Map<String, String> helmCreate(String name, String dir) {
        try {
            Path tmp = Files.createTempDirectory("helm-create");
            try {
                Helm.create().withName(name).withDir(tmp).call();
                Map<String, String> files = new LinkedHashMap<>();
                Path root = tmp.resolve(name);
                try (Stream<Path> walk = Files.walk(root)) {
                    for (Path p : walk.filter(Files::isRegularFile).sorted().toList()) {
                        files.put(dir + "/" + root.relativize(p), Files.readString(p));
                    }
                }
                return files;
            } finally {
                try (Stream<Path> walk = Files.walk(tmp)) {
                    walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A parent chart with a vendored subchart under {@code charts/cache}. */
    public static Map<String, String> withSubchart(String dir) {
        Map<String, String> files = new LinkedHashMap<>();
        files.put(dir + "/Chart.yaml", """
                apiVersion: v2
                name: shop
                description: A shop with a cache
                version: 0.1.0
                appVersion: "0.1.0"
                icon: https://example.com/icon.png
                dependencies:
                  - name: cache
                    version: 1.2.3
                """);
        files.put(dir + "/values.yaml", """
                replicaCount: 1
                image:
                  repository: example/shop
                  tag: latest
                  digest: ""
                cache:
                  replicas: 2
                """);
        files.put(dir + "/templates/deployment.yaml", """
                apiVersion: apps/v1
                kind: Deployment
                metadata:
                  name: {{ .Release.Name }}-shop
                  labels:
                    app: shop
                spec:
                  replicas: {{ .Values.replicaCount }}
                  selector:
                    matchLabels:
                      app: shop
                  template:
                    metadata:
                      labels:
                        app: shop
                    spec:
                      containers:
                        - name: shop
                          image: "{{ .Values.image.repository }}@{{ .Values.image.digest }}"
                          ports:
                            - name: http
                              containerPort: 8080
                """);
        files.put(dir + "/charts/cache/Chart.yaml", """
                apiVersion: v2
                name: cache
                version: 1.2.3
                icon: https://example.com/cache.png
                """);
        files.put(dir + "/charts/cache/values.yaml", """
                replicas: 1
                """);
        files.put(dir + "/charts/cache/templates/statefulset.yaml", """
                apiVersion: apps/v1
                kind: StatefulSet
                metadata:
                  name: {{ .Release.Name }}-cache
                spec:
                  serviceName: {{ .Release.Name }}-cache
                  replicas: {{ .Values.replicas }}
                  selector:
                    matchLabels:
                      app: cache
                  template:
                    metadata:
                      labels:
                        app: cache
                    spec:
                      containers:
                        - name: redis
                          image: redis:7
                """);
        files.put(dir + "/charts/cache/templates/service.yaml", """
                apiVersion: v1
                kind: Service
                metadata:
                  name: {{ .Release.Name }}-cache
                spec:
                  clusterIP: None
                  selector:
                    app: cache
                  ports:
                    - name: redis
                      port: 6379
                """);
        return files;
    }

    /** A chart that installs a CRD ({@code crds/}) and a custom resource of it; {@code cr} is the resource's spec. */
    public static Map<String, String> withCrd(String dir, String crSpec) {
        Map<String, String> files = new LinkedHashMap<>();
        files.put(dir + "/Chart.yaml", """
                apiVersion: v2
                name: widgets
                version: 0.1.0
                icon: https://example.com/icon.png
                """);
        files.put(dir + "/values.yaml", """
                image:
                  repository: example/widgets
                  tag: latest
                  digest: ""
                """);
        files.put(dir + "/crds/widgets.yaml", """
                apiVersion: apiextensions.k8s.io/v1
                kind: CustomResourceDefinition
                metadata:
                  name: widgets.example.com
                spec:
                  group: example.com
                  scope: Namespaced
                  names:
                    kind: Widget
                    plural: widgets
                  versions:
                    - name: v1
                      served: true
                      storage: true
                      schema:
                        openAPIV3Schema:
                          type: object
                          properties:
                            spec:
                              type: object
                              required: [size]
                              properties:
                                size:
                                  type: integer
                                image:
                                  type: string
                """);
        files.put(dir + "/templates/widget.yaml", """
                apiVersion: example.com/v1
                kind: Widget
                metadata:
                  name: {{ .Release.Name }}
                spec:
                """ + crSpec.indent(2));
        return files;
    }

    /**
     * A chart with a Deployment and a Secret whose values the templates derive from {@code db.seed} in values.yaml
     * (sha-256 of the seed), so the values themselves appear nowhere in the repository: {@code stringData.password}
     * is the first 24 hex characters, {@code data.token} the base64 of {@code tok-} and the next 12.
     */
    public static Map<String, String> withSecret(String dir, String seed) {
        Map<String, String> files = new LinkedHashMap<>();
        files.put(dir + "/Chart.yaml", """
                apiVersion: v2
                name: vault
                version: 0.1.0
                icon: https://example.com/icon.png
                """);
        files.put(dir + "/values.yaml", """
                image:
                  repository: example/vault
                  tag: latest
                  digest: ""
                db:
                  seed: %s
                """.formatted(seed));
        files.put(dir + "/templates/secret.yaml", """
                apiVersion: v1
                kind: Secret
                metadata:
                  name: {{ .Release.Name }}-db
                type: Opaque
                stringData:
                  password: {{ .Values.db.seed | sha256sum | trunc 24 | quote }}
                data:
                  token: {{ printf "tok-%s" (.Values.db.seed | sha256sum | substr 24 36) | b64enc | quote }}
                """);
        files.put(dir + "/templates/deployment.yaml", """
                apiVersion: apps/v1
                kind: Deployment
                metadata:
                  name: {{ .Release.Name }}
                spec:
                  selector:
                    matchLabels:
                      app: vault
                  template:
                    metadata:
                      labels:
                        app: vault
                    spec:
                      containers:
                        - name: vault
                          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
                          envFrom:
                            - secretRef:
                                name: {{ .Release.Name }}-db
                """);
        return files;
    }
}
