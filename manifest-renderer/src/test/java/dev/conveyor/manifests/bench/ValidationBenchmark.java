package dev.conveyor.manifests.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import dev.conveyor.manifests.domain.ManifestParser;
import dev.conveyor.manifests.domain.Problem;
import dev.conveyor.manifests.domain.RenderedObject;
import dev.conveyor.manifests.domain.ValidationReport;
import dev.conveyor.manifests.domain.ValidationSettings;
import dev.conveyor.manifests.domain.Validator;
import dev.conveyor.manifests.domain.schema.BuiltinSchemas;
import dev.conveyor.manifests.domain.schema.SchemaRegistry;

/**
 * Validation throughput on 10,000 rendered objects of mixed kinds (Deployment, StatefulSet, Service, ConfigMap,
 * Secret, Ingress, CronJob, HorizontalPodAutoscaler, a custom resource with its CRD), as Helm would print them. Reports
 * objects per second for parse + validate and for validate alone, on one thread (one core) and on every core. Run:
 *
 * <pre>
 * ./mvnw -B -pl manifest-renderer -am test-compile -Pbench
 * </pre>
 */
public final class ValidationBenchmark {

    static final int OBJECTS = 10_000;
    static final int WARMUP = 5;
    static final int ROUNDS = 7;

    public static void main(String[] args) throws Exception {
        String rendered = corpus(OBJECTS);
        BuiltinSchemas builtins = BuiltinSchemas.load("1.32");
        ManifestParser parser = new ManifestParser(new ManifestParser.Limits(64 * 1024 * 1024, 100, 200_000, 64));
        ManifestParser.Result parsed = parser.parse(rendered, "bench");
        ValidationReport check = validate(builtins, parsed.objects());
        if (parsed.objects().size() != OBJECTS + 1 || !check.valid()) {
            throw new IllegalStateException("bench corpus is not " + OBJECTS + " valid objects: " + parsed.objects()
                    .size() + ", " + check.summary(5));
        }
        System.out.printf("corpus: %d objects (+1 CRD), %.1f MiB of YAML, %d available processors%n", OBJECTS,
                rendered.length() / 1024.0 / 1024.0, Runtime.getRuntime().availableProcessors());

        double validateOnly = median(() -> validate(builtins, parsed.objects()));
        double parseAndValidate = median(() -> validate(builtins, parser.parse(rendered, "bench").objects()));
        System.out.printf("validate only, 1 thread:       %,10.0f objects/s%n", OBJECTS / validateOnly);
        System.out.printf("parse + validate, 1 thread:    %,10.0f objects/s%n", OBJECTS / parseAndValidate);

        int threads = Runtime.getRuntime().availableProcessors();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            double parallel = median(() -> {
                List<Future<?>> futures = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    futures.add(pool.submit(() -> validate(builtins, parser.parse(rendered, "bench").objects())));
                }
                for (Future<?> f : futures) {
                    f.get();
                }
                return null;
            });
            System.out.printf("parse + validate, %d threads:   %,10.0f objects/s (%,.0f per core)%n", threads,
                    threads * OBJECTS / parallel, OBJECTS / parallel);
        } finally {
            pool.shutdown();
        }
        System.out.printf(
                "kubeconform's published figure: 50,714 resources in 6.7 s on 4 cores = %,.0f per core-second%n",
                50_714 / 6.7 / 4);
    }

    private static ValidationReport validate(BuiltinSchemas builtins, List<RenderedObject> objects) {
        SchemaRegistry registry = new SchemaRegistry(builtins, List.of());
        return new Validator(registry, ValidationSettings.strictDefaults()).validate(objects, List.<Problem>of());
    }

    @FunctionalInterface
    interface Round {
        Object run() throws Exception;
    }

    /** Median seconds of {@link #ROUNDS} rounds after {@link #WARMUP} warm-up rounds. */
    private static double median(Round round) throws Exception {
        for (int i = 0; i < WARMUP; i++) {
            round.run();
        }
        double[] seconds = new double[ROUNDS];
        for (int i = 0; i < ROUNDS; i++) {
            long start = System.nanoTime();
            round.run();
            seconds[i] = (System.nanoTime() - start) / 1e9;
        }
        Arrays.sort(seconds);
        return seconds[ROUNDS / 2];
    }

    static String corpus(int count) {
        StringBuilder out = new StringBuilder(CRD);
        for (int i = 0; i < count; i++) {
            String template = TEMPLATES[i % TEMPLATES.length];
            out.append("---\n# Source: bench/templates/t").append(i % TEMPLATES.length).append(".yaml\n").append(
                    template.replace("NAME", "app-" + i));
        }
        return out.toString();
    }

    static final String CRD = """
            ---
            # Source: bench/crds/widgets.yaml
            apiVersion: apiextensions.k8s.io/v1
            kind: CustomResourceDefinition
            metadata:
              name: widgets.example.com
            spec:
              group: example.com
              scope: Namespaced
              names: {kind: Widget, plural: widgets}
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
                            size: {type: integer}
                            colour: {type: string, enum: [red, green, blue]}
                            labels: {type: object, additionalProperties: {type: string}}
            """;

    static final String[] TEMPLATES = {"""
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: NAME
              namespace: shop
              labels: {app.kubernetes.io/name: NAME, app.kubernetes.io/managed-by: Helm}
            spec:
              replicas: 2
              selector:
                matchLabels: {app.kubernetes.io/name: NAME}
              strategy:
                type: RollingUpdate
                rollingUpdate: {maxSurge: 25%, maxUnavailable: 0}
              template:
                metadata:
                  labels: {app.kubernetes.io/name: NAME}
                  annotations: {checksum/config: abc123}
                spec:
                  serviceAccountName: NAME
                  securityContext: {runAsNonRoot: true, fsGroup: 1000}
                  containers:
                    - name: app
                      image: registry.example.com/shop/NAME:1.4.0
                      imagePullPolicy: IfNotPresent
                      args: [--port=8080]
                      env:
                        - {name: LOG_LEVEL, value: info}
                        - name: DB_PASSWORD
                          valueFrom:
                            secretKeyRef: {name: NAME-db, key: password}
                      ports:
                        - {name: http, containerPort: 8080, protocol: TCP}
                      livenessProbe:
                        httpGet: {path: /health/live, port: http}
                        initialDelaySeconds: 10
                      readinessProbe:
                        httpGet: {path: /health/ready, port: http}
                      resources:
                        requests: {cpu: 100m, memory: 128Mi}
                        limits: {cpu: "1", memory: 512Mi}
                      volumeMounts:
                        - {name: config, mountPath: /etc/app, readOnly: true}
                  volumes:
                    - name: config
                      configMap: {name: NAME-config}
            """, """
            apiVersion: v1
            kind: Service
            metadata:
              name: NAME
              namespace: shop
              labels: {app.kubernetes.io/name: NAME}
            spec:
              type: ClusterIP
              selector: {app.kubernetes.io/name: NAME}
              ports:
                - {name: http, port: 80, targetPort: http, protocol: TCP}
            """, """
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: NAME-config
              namespace: shop
            data:
              application.yaml: |
                server:
                  port: 8080
              LOG_LEVEL: info
            """, """
            apiVersion: v1
            kind: Secret
            metadata:
              name: NAME-db
              namespace: shop
            type: Opaque
            data:
              password: c2VjcmV0LXBhc3N3b3Jk
            """, """
            apiVersion: apps/v1
            kind: StatefulSet
            metadata:
              name: NAME-db
              namespace: shop
            spec:
              serviceName: NAME-db
              replicas: 1
              selector:
                matchLabels: {app: NAME-db}
              template:
                metadata:
                  labels: {app: NAME-db}
                spec:
                  containers:
                    - name: postgres
                      image: postgres:16
                      ports: [{containerPort: 5432, name: pg}]
                      volumeMounts: [{name: data, mountPath: /var/lib/postgresql/data}]
              volumeClaimTemplates:
                - metadata: {name: data}
                  spec:
                    accessModes: [ReadWriteOnce]
                    resources: {requests: {storage: 10Gi}}
            """, """
            apiVersion: networking.k8s.io/v1
            kind: Ingress
            metadata:
              name: NAME
              namespace: shop
            spec:
              ingressClassName: nginx
              rules:
                - host: NAME.example.com
                  http:
                    paths:
                      - path: /
                        pathType: Prefix
                        backend:
                          service: {name: NAME, port: {number: 80}}
            """, """
            apiVersion: batch/v1
            kind: CronJob
            metadata:
              name: NAME-cleanup
              namespace: shop
            spec:
              schedule: "0 3 * * *"
              jobTemplate:
                spec:
                  template:
                    spec:
                      restartPolicy: OnFailure
                      containers:
                        - name: cleanup
                          image: busybox:1.36
                          command: [sh, -c, echo done]
            """, """
            apiVersion: autoscaling/v2
            kind: HorizontalPodAutoscaler
            metadata:
              name: NAME
              namespace: shop
            spec:
              scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: NAME}
              minReplicas: 2
              maxReplicas: 10
              metrics:
                - type: Resource
                  resource:
                    name: cpu
                    target: {type: Utilization, averageUtilization: 80}
            """, """
            apiVersion: example.com/v1
            kind: Widget
            metadata:
              name: NAME
              namespace: shop
            spec:
              size: 3
              colour: green
              labels: {team: shop}
            """};

    private ValidationBenchmark() {
    }
}
