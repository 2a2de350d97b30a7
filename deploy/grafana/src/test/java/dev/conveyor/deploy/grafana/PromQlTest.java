package dev.conveyor.deploy.grafana;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PromQlTest {

    static java.util.Set<String> names(String expr) {
        return PromQl.metricNames(expr);
    }

    @Test
    void aHistogramQuantileSelectsOnlyTheBucketSeries() {
        assertThat(names("histogram_quantile(0.95, sum by (le, stage) (rate(conveyor_stage_duration_seconds_bucket"
                + "{stage=~\"$stage\", outcome!=\"failure\"}[$__rate_interval])))"))
                .containsExactly("conveyor_stage_duration_seconds_bucket");
        assertThat(names("histogram_quantile(0.5, sum(rate(x_bucket[5m])) by (le))")).containsExactly("x_bucket");
    }

    @Test
    void groupingAndMatchingLabelListsAreNotMetrics() {
        assertThat(names("sum without(instance, pod) (rate(requests_total[1m]))")).containsExactly("requests_total");
        assertThat(names("rate(errors_total[5m]) / on(job, instance) group_left(version) build_info"))
                .containsExactly("errors_total", "build_info");
        assertThat(names("a_total / ignoring (code) group_right b_total")).containsExactly("a_total", "b_total");
        assertThat(names("up == bool 1 and on() absent(other_metric) unless ignoring(x) third or fourth"))
                .containsExactly("up", "other_metric", "third", "fourth");
        assertThat(names("topk(5, count_values(\"version\", build_version)) by (version)"))
                .containsExactly("build_version");
    }

    @Test
    void matchersStringsRegexesAndTheNameMatcher() {
        assertThat(names("sum(rate(kafka_producer_record_send_total{client_id=~\"kafka-dead-letter-.*\\\\.dlq\","
                + " le='0.5', x=`raw}{`}[5m]))")).containsExactly("kafka_producer_record_send_total");
        assertThat(names("{__name__=\"conveyor_sync_objects\", action=\"pruned\"}"))
                .containsExactly("conveyor_sync_objects");
        assertThat(names("{__name__=~\"conveyor_.*\"}")).isEmpty(); // a regex names no metric to check
        assertThat(names("label_replace(up, \"dst\", \"$1\", \"src\", \"(.*)\")")).containsExactly("up");
    }

    @Test
    void offsetsSubqueriesAtModifiersNumbersAndDurations() {
        assertThat(names("rate(http_requests_total[5m] offset 1w) - rate(http_requests_total[5m] offset -30m)"))
                .containsExactly("http_requests_total");
        assertThat(names("max_over_time(deriv(rate(lag[1m])[30m:1m])[1h:]) @ end()")).containsExactly("lag");
        assertThat(names("foo @ 1609746000 + bar offset $__range")).containsExactly("foo", "bar");
        assertThat(names("x > 1e3 and y < 0x1F and z != Inf and w != -NaN and v > 1.5e-3 and u > .5"))
                .containsExactly("x", "y", "z", "w", "v", "u");
        assertThat(names("sum(increase(d_total[1h30m])) / ($__range_s / 86400)")).containsExactly("d_total");
    }

    @Test
    void grafanaVariablesAreNeverMetrics() {
        assertThat(names("sum(rate(m_total{stage=~\"${stage:regex}\"}[$__rate_interval])) * $factor + ${offset}"
                + " + [[legacy]]")).containsExactly("m_total");
        assertThat(names("rate(m_total[$__interval]) offset $shift")).containsExactly("m_total");
    }

    @Test
    void functionsAndAggregationsWithSpacesBeforeTheirParenthesisAreNotMetrics() {
        assertThat(names("sum (rate (a_total [1m])) / clamp_min (vector (1), 1) + time() - timestamp(b)"))
                .containsExactly("a_total", "b");
        assertThat(names("# a comment naming not_a_metric\nrecorded:metric:rate5m")).containsExactly(
                "recorded:metric:rate5m");
    }
}
