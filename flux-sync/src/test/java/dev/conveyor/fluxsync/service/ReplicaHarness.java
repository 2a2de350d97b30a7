package dev.conveyor.fluxsync.service;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

import dev.conveyor.events.kafka.ConveyorEventDeserializer;
import dev.conveyor.events.kafka.ConveyorEventSerializer;
import dev.conveyor.events.v1.CloudEventAttributes;
import dev.conveyor.events.v1.ConveyorEvent;
import dev.conveyor.events.v1.ReleasePromoted;
import dev.conveyor.events.v1.Stage;
import dev.conveyor.fluxsync.client.ChartRenderer;
import dev.conveyor.fluxsync.client.Handoffs;
import dev.conveyor.fluxsync.client.KubeCluster;
import dev.conveyor.fluxsync.client.RepoLeases;
import dev.conveyor.stage.Backoff;
import dev.conveyor.stage.StageMetrics;
import dev.conveyor.stage.StageRunner;
import dev.conveyor.stage.git.GitAccess;
import dev.conveyor.stage.git.RepoMirrors;
import dev.conveyor.testkit.kube.KubernetesApiStandIn;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.core.instrument.LongTaskTimer;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.distribution.DistributionStatisticConfig;
import io.micrometer.core.instrument.internal.DefaultLongTaskTimer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * Several flux-sync replicas in one JVM: each has its own Kubernetes client, git mirrors, reconciler, service, health
 * pool, Leases and handoff loop, as separate processes would; they share the API stand-in, the git repositories and
 * the Kafka broker their events go to. What the Quarkus application wires ({@code FluxSyncBeans.shard}) is done here
 * with the same classes. With {@code -Dflux-sync.replicas-it.ownership=off} the replicas are not sharded (each syncs
 * every repository, the way two instances were before): the tests of {@code ReplicasIT} must then fail.
 */
final class ReplicaHarness {

    static final boolean OWNERSHIP = !"off".equals(System.getProperty("flux-sync.replicas-it.ownership"));
    static final String NAMESPACE = "conveyor";

    /** One sync of a repository by a replica, from the reconciler's {@code conveyor_sync_active} timer. */
    record Span(String replica, String repo, long start, long end) {
    }

    /** Every replica's syncs: the fake meter registry records when each sync starts and ends. */
    static final class Timeline {
        final List<Span> spans = new CopyOnWriteArrayList<>();

        MeterRegistry registryFor(String replica) {
            return new SimpleMeterRegistry() {
                @Override
                protected LongTaskTimer newLongTaskTimer(Meter.Id id, DistributionStatisticConfig config) {
                    String repo = id.getTag("repo");
                    return new DefaultLongTaskTimer(id, clock, getBaseTimeUnit(), config, false) {
                        @Override
                        public Sample start() {
                            long start = System.nanoTime();
                            Sample sample = super.start();
                            return new Sample() {
                                @Override
                                public long stop() {
                                    long d = sample.stop();
                                    spans.add(new Span(replica, repo, start, System.nanoTime()));
                                    return d;
                                }

                                @Override
                                public double duration(TimeUnit unit) {
                                    return sample.duration(unit);
                                }
                            };
                        }
                    };
                }
            };
        }

        List<Span> of(String replica) {
            return spans.stream().filter(s -> s.replica().equals(replica)).toList();
        }
    }

    /** The event topics on the real broker: what every replica published, with its CloudEvents id. */
    static final class Events implements AutoCloseable {
        record Sent(String replica, String id, ConveyorEvent event) {
        }

        final String bootstrap;
        final KafkaProducer<String, ConveyorEvent> producer;

        Events(String bootstrap) {
            this.bootstrap = bootstrap;
            Properties p = new Properties();
            p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
            p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ConveyorEventSerializer.class.getName());
            p.put(ProducerConfig.ACKS_CONFIG, "all");
            this.producer = new KafkaProducer<>(p);
        }

        /** Publishes like {@code StageEdge.publish}: each event to its topic; completes when the broker took all. */
        CompletableFuture<Void> publish(String replica, List<ConveyorEvent> events) {
            List<CompletableFuture<Void>> acks = new ArrayList<>();
            for (ConveyorEvent e : events) {
                CompletableFuture<Void> ack = new CompletableFuture<>();
                ProducerRecord<String, ConveyorEvent> r = new ProducerRecord<>(e.eventType().topic(), e.run().app(),
                        e);
                r.headers().add(ConveyorEventDeserializer.CE_TYPE_HEADER, e.eventType().type().getBytes(
                        StandardCharsets.UTF_8));
                r.headers().add("ce_id", CloudEventAttributes.idOf(e).getBytes(StandardCharsets.UTF_8));
                r.headers().add("replica", replica.getBytes(StandardCharsets.UTF_8));
                producer.send(r, (md, ex) -> {
                    if (ex == null) {
                        ack.complete(null);
                    } else {
                        ack.completeExceptionally(ex);
                    }
                });
                acks.add(ack);
            }
            return CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new));
        }

        /** Everything on the topic now, read back from the broker. */
        List<Sent> read(String topic) {
            Properties p = new Properties();
            p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
            p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ConveyorEventDeserializer.class.getName());
            List<Sent> out = new ArrayList<>();
            try (KafkaConsumer<String, ConveyorEvent> c = new KafkaConsumer<>(p)) {
                List<TopicPartition> parts = c.partitionsFor(topic, Duration.ofSeconds(10)).stream().map(
                        i -> new TopicPartition(topic, i.partition())).toList();
                c.assign(parts);
                c.seekToBeginning(parts);
                Map<TopicPartition, Long> end = c.endOffsets(parts);
                while (parts.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
                    for (ConsumerRecord<String, ConveyorEvent> r : c.poll(Duration.ofMillis(500))) {
                        out.add(new Sent(new String(r.headers().lastHeader("replica").value(),
                                StandardCharsets.UTF_8),
                                new String(r.headers().lastHeader("ce_id").value(),
                                        StandardCharsets.UTF_8),
                                r.value()));
                    }
                }
            }
            return out;
        }

        @Override
        public void close() {
            producer.close(Duration.ofSeconds(5));
        }
    }

    /** Lease and loop timings of a test. */
    record Timings(Duration leaseDuration, Duration renewPeriod, Duration handoffPoll, Duration healthTimeout) {
    }

    /** One replica: a process of its own in production. */
    static final class Replica implements AutoCloseable {
        final String id;
        final FluxSyncService service;
        final RepoLeases leases;
        final Replicas replicas;
        final ExecutorService pool;
        final StageRunner runner;
        final Events events;
        final KubernetesClient client;
        final List<ConveyorEvent> sent = new CopyOnWriteArrayList<>();

        Replica(String id, KubernetesApiStandIn kube, GitAccess access, Path work, List<RepoSpec> repos,
                Timeline timeline, Events events, Timings t) {
            this.id = id;
            this.events = events;
            this.client = kube.newClient();
            RepoReconciler reconciler = new RepoReconciler(new RepoMirrors(work.resolve("mirrors-" + id), access),
                    new KubeCluster(client, "conveyor-flux-sync"), new ChartRenderer(work.resolve("work-" + id)),
                    new RepoReconciler.Settings("charts", NAMESPACE, t.healthTimeout(), Duration.ofMillis(50), work
                            .resolve("work-" + id)),
                    timeline.registryFor(id), Clock.systemUTC());
            this.pool = Executors.newFixedThreadPool(2);
            this.service = new FluxSyncService(reconciler, repos, Clock.systemUTC(), pool);
            this.runner = new StageRunner(Stage.FLUX_SYNC, new Backoff(3, Duration.ofMillis(20), Duration.ofMillis(
                    100)), new StageMetrics(new SimpleMeterRegistry(), Stage.FLUX_SYNC));
            service.onLaterEvents(later -> publish(later));
            if (OWNERSHIP) {
                Handoffs handoffs = new Handoffs(client, NAMESPACE);
                this.replicas = new Replicas(service, handoffs, runner, this::publish, t.handoffPoll());
                this.leases = new RepoLeases(client, new RepoLeases.Settings(NAMESPACE, id, t.leaseDuration(), t
                        .renewPeriod()), Set.copyOf(repos.stream().map(RepoSpec::name).toList()), replicas);
                service.shard(leases::owns, handoffs);
                replicas.start();
                leases.start();
            } else {
                this.replicas = null;
                this.leases = null;
            }
        }

        CompletableFuture<Void> publish(List<ConveyorEvent> out) {
            sent.addAll(out);
            return events.publish(id, out);
        }

        boolean owns(String repo) {
            return service.owns(repo);
        }

        /** A promotion delivered to this replica's consumer: the work and publishing of {@code StageEdge.handle}. */
        List<ConveyorEvent> deliver(ReleasePromoted promoted) {
            CompletableFuture<Void> published = new CompletableFuture<>();
            String causation = "ce-" + promoted.run().runId();
            List<ConveyorEvent> out = runner.run(promoted, causation, attempt -> service.onReleasePromoted(promoted,
                    causation, published));
            publish(out).whenComplete((v, e) -> {
                if (e == null) {
                    published.complete(null);
                } else {
                    published.completeExceptionally(e);
                }
            });
            return out;
        }

        /** A webhook received by this replica ({@code FluxSyncResource.webhook}), or an interval poll. */
        void webhook(String repo) {
            if (service.requestSync(repo)) {
                poll(repo);
            }
        }

        /** An interval sync ({@code SyncScheduler.syncNow}): only the owner syncs. */
        void poll(String repo) {
            try {
                CompletableFuture<Void> published = new CompletableFuture<>();
                List<ConveyorEvent> out = service.syncRepo(service.repo(repo).orElseThrow(), published);
                publish(out).whenComplete((v, e) -> published.complete(null));
            } catch (RuntimeException e) {
                // logged by the scheduler in production; a lost ownership mid-sync lands here
            }
        }

        /** A crash: nothing freed, nothing more done (the Leases expire, the waits stay recorded). */
        void kill() throws InterruptedException {
            if (leases != null) {
                leases.stop();
                replicas.close();
            }
            pool.shutdownNow();
            pool.awaitTermination(10, TimeUnit.SECONDS);
        }

        @Override
        public void close() throws InterruptedException {
            if (leases != null) {
                leases.close();
                replicas.close();
            }
            pool.shutdownNow();
            pool.awaitTermination(10, TimeUnit.SECONDS);
            client.close();
        }
    }

    private ReplicaHarness() {
    }
}
