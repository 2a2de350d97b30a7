package dev.conveyor.deploy.grafana;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;

class ExpositionTest {

    @Test
    void familiesAndSampleNamesOfTheTextFormatAndOpenMetrics() {
        String text = """
                # HELP jvm_threads_live_threads The current number of live threads
                # TYPE jvm_threads_live_threads gauge
                jvm_threads_live_threads 42.0
                # TYPE lead_seconds histogram
                lead_seconds_bucket{flow="CD",le="+Inf",} 1.0
                lead_seconds_count{flow="CD",} 1.0
                lead_seconds_sum{flow="CD",} 41.5
                process_uptime_seconds 12.5 1700000000000

                # TYPE runs counter
                runs_total{outcome="succeeded"} 3.0
                runs_created{outcome="succeeded"} 1.7E9
                # EOF
                """;

        assertThat(Exposition.metricNames(text)).containsExactlyInAnyOrder("jvm_threads_live_threads",
                "lead_seconds", "lead_seconds_bucket", "lead_seconds_count", "lead_seconds_sum",
                "process_uptime_seconds", "runs", "runs_total", "runs_created");
    }

    @Test
    void severalServicesTogether() {
        assertThat(Exposition.metricNames(List.of("a_total 1\n", "# TYPE b gauge\nb{x=\"1\"} 2\n")))
                .containsExactly("a_total", "b");
    }
}
