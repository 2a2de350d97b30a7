package dev.conveyor.events.cdevents;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.conveyor.events.v1.BuildFailed;
import dev.conveyor.events.v1.BuildSucceeded;
import dev.conveyor.events.v1.ChartPublished;
import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.Flow;
import dev.conveyor.events.v1.ImagePushed;
import dev.conveyor.events.v1.PipelineRun;
import dev.conveyor.events.v1.ReleaseDegraded;
import dev.conveyor.events.v1.ReleaseHealthy;
import dev.conveyor.events.v1.RepoSynced;
import dev.conveyor.events.v1.TestSummary;

/**
 * The CDEvents (spec {@value #SPEC_VERSION}) that mirror a Conveyor event, so that tools which speak CDEvents can follow
 * a run without learning Conveyor's own types. Pure: a function of the event, its CloudEvents id and source, with no
 * I/O; the same input always gives the same CDEvents, ids included, so a redelivered event is recognisable downstream.
 *
 * <p>
 * Every CDEvent of a run carries the run in two places: the context's {@code chainId} (a name-based UUID of the run
 * id, the same for every event and attempt of the run, so a CDEvents consumer groups the run's events as one chain)
 * and {@code customData.conveyor} (the run id itself, attempt, app, flow, and the Conveyor event it mirrors). When one
 * Conveyor event gives several CDEvents, each after the first carries a {@code PATH} link from the one before it. The
 * mapping table is in {@code events/README.md}.
 */
public final class CdEvents {

    /** The CDEvents specification version of the context. */
    public static final String SPEC_VERSION = "0.4.1";
    /** Content type of {@code customData}. */
    public static final String CUSTOM_DATA_CONTENT_TYPE = "application/json";

    public static final String ARTIFACT_PACKAGED = "dev.cdevents.artifact.packaged.0.2.0";
    public static final String ARTIFACT_PUBLISHED = "dev.cdevents.artifact.published.0.2.0";
    public static final String BUILD_FINISHED = "dev.cdevents.build.finished.0.2.0";
    public static final String CHANGE_MERGED = "dev.cdevents.change.merged.0.2.0";
    public static final String TESTSUITERUN_FINISHED = "dev.cdevents.testsuiterun.finished.0.2.0";
    public static final String ENVIRONMENT_MODIFIED = "dev.cdevents.environment.modified.0.2.0";
    public static final String SERVICE_DEPLOYED = "dev.cdevents.service.deployed.0.2.0";
    public static final String INCIDENT_DETECTED = "dev.cdevents.incident.detected.0.2.0";

    /** Where the build's tests ran: Jenkins, identified by the build URL as its source. */
    static final String TEST_ENVIRONMENT = "jenkins";

    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;
    /** {@code user@host:path}, git's scp-like syntax, which has no scheme. */
    private static final Pattern SCP_LIKE = Pattern.compile("([A-Za-z0-9._-]+)@([A-Za-z0-9.-]+):(?!//)(.+)");

    private CdEvents() {
    }

    /**
     * The run's chain id: a name-based UUID of the run id, shared by every CDEvent of the run (all attempts).
     */
    public static String chainId(String runId) {
        return UUID.nameUUIDFromBytes(("conveyor-run\n" + runId).getBytes(StandardCharsets.UTF_8)).toString();
    }

    /** The CDEvent id for the CDEvent of {@code type} mirroring the Conveyor event with CloudEvents id {@code eventId}. */
    public static String idOf(String type, String eventId) {
        return UUID.nameUUIDFromBytes(("cdevents\n" + type + "\n" + eventId).getBytes(StandardCharsets.UTF_8))
                .toString();
    }

    /**
     * The CDEvents for one Conveyor event, in the order they happened; empty for an event with no CDEvents
     * counterpart.
     *
     * @param event the Conveyor event
     * @param eventId its CloudEvents id ({@code ce_id})
     * @param source its CloudEvents source ({@code ce_source}, e.g. {@code /conveyor/image-builder}): the CDEvents'
     *     context source, since that stage is where it happened
     */
    public static List<CdEvent> of(ConveyorEvent event, String eventId, String source) {
        Builder out = new Builder(event, eventId, source);
        PipelineRun run = event.run();
        if (event instanceof BuildSucceeded build) {
            changeMerged(out, run);
            out.add(BUILD_FINISHED, build.buildUrl(), "build",
                    object().put("artifactId", jarPurl(run, build.artifact().uri(), build.artifact().sha256())));
            testSuite(out, run, build.buildUrl(), build.tests(), false);
        } else if (event instanceof BuildFailed build) {
            changeMerged(out, run);
            out.add(BUILD_FINISHED, build.buildUrl(), "build", object());
            testSuite(out, run, build.buildUrl(), build.tests(), "test".equals(build.failedStep()));
        } else if (event instanceof ImagePushed image) {
            String purl = imagePurl(image.repository(), image.digest(), image.version());
            ObjectNode change = object().put("id", run.commit()).put("source", uriReference(run.repoUrl()));
            out.add(ARTIFACT_PACKAGED, purl, "artifact", object().set("change", change));
            out.add(ARTIFACT_PUBLISHED, purl, "artifact", object());
        } else if (event instanceof ChartPublished chart) {
            out.add(ARTIFACT_PUBLISHED, chartPurl(chart), "artifact", object());
        } else if (event instanceof RepoSynced synced) {
            out.add(ENVIRONMENT_MODIFIED, synced.gitopsRepo(), "environment",
                    object().put("name", synced.gitopsRepo() + "@" + synced.revision()));
        } else if (event instanceof ReleaseHealthy healthy) {
            out.add(SERVICE_DEPLOYED, healthy.namespace() + "/" + healthy.release(), "service",
                    object().<ObjectNode>set("environment", object().put("id", healthy.gitopsRepo()))
                            .put("artifactId", appPurl(run)));
        } else if (event instanceof ReleaseDegraded degraded) {
            out.add(INCIDENT_DETECTED,
                    degraded.namespace() + "/" + degraded.release() + "@" + degraded.revision(),
                    "incident",
                    object().put("description", degraded.reason() + ": " + degraded.message())
                            .<ObjectNode>set("environment", object().put("id", degraded.gitopsRepo()))
                            .<ObjectNode>set("service",
                                    object().put("id", degraded.namespace() + "/" + degraded.release()))
                            .put("artifactId", appPurl(run)));
        }
        return out.events;
    }

    /** A build of the default branch (CD) means the change was merged there. */
    private static void changeMerged(Builder out, PipelineRun run) {
        if (run.flow() == Flow.CD) {
            out.add(CHANGE_MERGED, run.commit(), "change", object().set("repository",
                    object().put("id", run.app()).put("source", uriReference(run.repoUrl()))));
        }
    }

    private static void testSuite(Builder out, PipelineRun run, String buildUrl, TestSummary tests,
            boolean testStepFailed) {
        if (tests == null) {
            return;
        }
        boolean failed = tests.testsFailed() > 0 || testStepFailed;
        ObjectNode content = object().put("outcome", failed ? "fail" : "pass");
        if (failed) {
            content.put("reason", tests.testsFailed() + " of "
                    + (tests.testsPassed() + tests.testsFailed() + tests.testsSkipped()) + " tests failed");
        }
        content.set("environment", object().put("id", TEST_ENVIRONMENT).put("source", buildUrl));
        content.set("testSuite", object().put("id", run.app()).put("name", run.app() + " tests"));
        out.add(TESTSUITERUN_FINISHED, run.runId() + "/attempt-" + run.attempt() + "/tests", "testSuiteRun", content);
    }

    /**
     * A repository URL as a URI reference, as CDEvents {@code source} fields must be: the scp-like
     * {@code user@host:path} (which is none) becomes {@code ssh://user@host/path}; URLs stay as they are.
     */
    static String uriReference(String repoUrl) {
        Matcher scp = SCP_LIKE.matcher(repoUrl);
        return scp.matches() ? "ssh://" + scp.group(1) + "@" + scp.group(2) + "/" + scp.group(3) : repoUrl;
    }

    /** The image as an OCI package URL: {@code pkg:oci/<name>@sha256%3A<hex>?repository_url=<repo>&tag=<version>}. */
    static String imagePurl(String repository, String digest, String tag) {
        String name = repository.substring(repository.lastIndexOf('/') + 1).toLowerCase(Locale.ROOT);
        Map<String, String> qualifiers = new LinkedHashMap<>();
        qualifiers.put("repository_url", repository.toLowerCase(Locale.ROOT));
        qualifiers.put("tag", tag);
        return purl("oci", name, digest, qualifiers);
    }

    /** The chart, as a generic package URL with its digest as checksum. */
    static String chartPurl(ChartPublished chart) {
        return purl("generic", chart.chartName(), chart.chartVersion(), Map.of("checksum", chart.chartDigest()));
    }

    /** The build's artifact, as a generic package URL of the app at its commit, with download URL and checksum. */
    static String jarPurl(PipelineRun run, String uri, String sha256) {
        Map<String, String> qualifiers = new LinkedHashMap<>();
        qualifiers.put("checksum", "sha256:" + sha256);
        qualifiers.put("download_url", uri);
        return purl("generic", run.app(), run.commit(), qualifiers);
    }

    /** The app at the run's commit, which is what a release of the run deploys. */
    static String appPurl(PipelineRun run) {
        return purl("generic", run.app(), run.commit(), Map.of("vcs_url", "git+" + run.repoUrl()));
    }

    /** A package URL: type, name and version percent-encoded, qualifiers sorted by key. */
    static String purl(String type, String name, String version, Map<String, String> qualifiers) {
        StringBuilder purl = new StringBuilder("pkg:").append(type).append('/').append(encode(name)).append('@')
                .append(encode(version));
        String separator = "?";
        for (Map.Entry<String, String> qualifier : qualifiers.entrySet().stream().sorted(Map.Entry.comparingByKey())
                .toList()) {
            purl.append(separator).append(qualifier.getKey()).append('=')
                    .append(encode(qualifier.getValue()).replace("%2F", "/"));
            separator = "&";
        }
        return purl.toString();
    }

    private static String encode(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private static ObjectNode object() {
        return JSON.objectNode();
    }

    /** Collects the CDEvents of one Conveyor event, each after the first linked from the one before. */
    private static final class Builder {
        private final ConveyorEvent event;
        private final String eventId;
        private final String source;
        private final String chainId;
        private final List<CdEvent> events = new ArrayList<>();

        Builder(ConveyorEvent event, String eventId, String source) {
            this.event = event;
            this.eventId = eventId;
            this.source = source;
            this.chainId = chainId(event.run().runId());
        }

        void add(String type, String subjectId, String subjectType, ObjectNode content) {
            String id = idOf(type, eventId);
            ObjectNode context = object().put("version", SPEC_VERSION).put("id", id).put("source", source)
                    .put("type", type).put("timestamp", event.occurredAt().toString()).put("chainId", chainId);
            if (!events.isEmpty()) {
                ArrayNode links = context.putArray("links");
                links.addObject().put("linkType", "PATH").putObject("from").put("contextId",
                        events.get(events.size() - 1).id());
            }
            ObjectNode subject = object().put("id", subjectId).put("source", source).put("type", subjectType);
            subject.set("content", content);
            PipelineRun run = event.run();
            ObjectNode conveyor = object().put("runId", run.runId()).put("attempt", run.attempt())
                    .put("app", run.app()).put("flow", run.flow().name()).put("eventId", eventId)
                    .put("eventType", event.eventType().type());
            ObjectNode document = object();
            document.set("context", context);
            document.set("subject", subject);
            document.set("customData", object().set("conveyor", conveyor));
            document.put("customDataContentType", CUSTOM_DATA_CONTENT_TYPE);
            events.add(new CdEvent(id, type, source, subjectId, event.occurredAt(), chainId, document));
        }
    }
}
