using Hardening.Observability;

namespace Hardening.Observability.Tests.Prometheus;

public sealed class PrometheusNamingTests
{
    [Theory]
    [InlineData("hardening.auth.token.rejected", "{token}", true, false, "hardening_auth_token_rejected_total")]
    [InlineData("hardening.sse.delivery.lag", "s", false, false, "hardening_sse_delivery_lag_seconds")]
    [InlineData("http.server.request.duration", "s", false, false, "http_server_request_duration_seconds")]
    [InlineData("hardening.ingestion.queue.depth", "{resume}", false, true, "hardening_ingestion_queue_depth")]
    [InlineData("upload.size", "By", false, false, "upload_size_bytes")]
    [InlineData("network.io", "By/s", false, true, "network_io_bytes_per_second")]
    [InlineData("cache.hit_ratio", "1", false, true, "cache_hit_ratio")]
    [InlineData("cpu.usage", "1", false, true, "cpu_usage_ratio")]
    [InlineData("jobs.total", "", true, false, "jobs_total")]
    [InlineData("request.duration", "ms", true, false, "request_duration_milliseconds_total")]
    [InlineData("weird-name..x", null, false, true, "weird_name_x")]
    [InlineData("9lives", null, false, true, "_9lives")]
    [InlineData("db.client.connection.count", "{connection}", false, true, "db_client_connection_count_value")]
    [InlineData("jobs.count", "{job}", true, false, "jobs_count_total")]
    public void Otel_names_map_to_prometheus_names(string name, string? unit, bool counter, bool gauge, string expected) =>
        Assert.Equal(expected, PrometheusNaming.MetricName(name, unit, counter, gauge));

    [Theory]
    [InlineData("http.response.status_code", "http_response_status_code")]
    [InlineData("reason", "reason")]
    [InlineData("__reserved", "_reserved")]
    [InlineData("a-b c", "a_b_c")]
    public void Tag_names_map_to_label_names(string tag, string expected) => Assert.Equal(expected, PrometheusNaming.LabelName(tag));
}
