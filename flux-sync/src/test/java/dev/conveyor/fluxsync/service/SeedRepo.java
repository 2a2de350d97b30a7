package dev.conveyor.fluxsync.service;

import dev.conveyor.testkit.git.RepoWriter;

/** The seed's example GitOps layout, written into a test repository. */
final class SeedRepo {

    static final String CHART = """
            apiVersion: v2
            name: chart1
            version: 0.1.0
            """;
    static final String CHART_VALUES = """
            image: stakater/helloworld:1.0
            replicas: 1
            """;
    static final String CHART_DEPLOYMENT = """
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
                    - name: app
                      image: {{ .Values.image }}
            """;
    static final String CHART_SERVICE = """
            apiVersion: v1
            kind: Service
            metadata:
              name: {{ .Release.Name }}
            spec:
              selector:
                app: {{ .Release.Name }}
              ports:
                - port: 80
            """;

    private SeedRepo() {
    }

    static RepoWriter chart(RepoWriter w) {
        return w.file("charts/chart1/Chart.yaml", CHART).file("charts/chart1/values.yaml", CHART_VALUES)
                .file("charts/chart1/templates/deployment.yaml", CHART_DEPLOYMENT)
                .file("charts/chart1/templates/service.yaml", CHART_SERVICE);
    }

    static String namespace(String name) {
        return """
                apiVersion: v1
                kind: Namespace
                metadata:
                  name: %s
                """.formatted(name);
    }

    static String configMap(String name, String value) {
        return """
                apiVersion: v1
                kind: ConfigMap
                metadata:
                  name: %s
                data:
                  value: "%s"
                """.formatted(name, value);
    }

    static String deployment(String name) {
        return """
                apiVersion: apps/v1
                kind: Deployment
                metadata:
                  name: %1$s
                spec:
                  replicas: 2
                  selector:
                    matchLabels:
                      app: %1$s
                  template:
                    metadata:
                      labels:
                        app: %1$s
                    spec:
                      containers:
                        - name: app
                          image: nginx:1.27
                """.formatted(name);
    }

    static String fluxHelmRelease(String name, String namespace, String image, String extraAnnotations) {
        return """
                apiVersion: helm.integrations.flux.weave.works/v1alpha2
                kind: FluxHelmRelease
                metadata:
                  name: %s
                  namespace: %s
                  labels:
                    chart: chart1
                  annotations: {%s}
                spec:
                  chartGitPath: chart1
                  values:
                    image: %s
                """.formatted(name, namespace, extraAnnotations, image);
    }

    static String helmOperatorRelease(String name, String namespace) {
        return """
                apiVersion: helm.fluxcd.io/v1
                kind: HelmRelease
                metadata:
                  name: %s
                  namespace: %s
                spec:
                  releaseName: %s
                  chart:
                    path: charts/chart1
                  values:
                    replicas: 3
                """.formatted(name, namespace, name);
    }

    static String flux2Release(String name, String namespace, String dependsOn) {
        return """
                apiVersion: helm.toolkit.fluxcd.io/v2
                kind: HelmRelease
                metadata:
                  name: %s
                  namespace: %s
                spec:
                  interval: 5m
                  chart:
                    spec:
                      chart: ./charts/chart1
                      sourceRef:
                        kind: GitRepository
                        name: self
                  dependsOn: [%s]
                """.formatted(name, namespace, dependsOn);
    }
}
