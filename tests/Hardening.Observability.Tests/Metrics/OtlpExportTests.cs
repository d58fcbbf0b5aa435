using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;

namespace Hardening.Observability.Tests.Metrics;

public sealed class OtlpExportTests
{
    [Fact]
    public async Task Preset_metrics_reach_an_otlp_http_endpoint()
    {
        var port = FreeLoopbackPort();
        using var listener = new HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        var received = ReceiveAsync(listener);

        var services = new ServiceCollection();
        services.AddLogging();
        services.AddHardeningObservability();
        services.AddHardeningOtlpExporter(o =>
        {
            o.Endpoint = new Uri($"http://127.0.0.1:{port}/v1/metrics");
            o.Protocol = OtlpExportProtocol.HttpProtobuf;
        });
        await using var provider = services.BuildServiceProvider();
        var meterProvider = provider.GetRequiredService<MeterProvider>();
        provider.GetRequiredService<SecurityTelemetry>().Record(SecurityEvent.MaliciousUpload);
        Assert.True(meterProvider.ForceFlush(10_000));

        var (path, body) = await received.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("/v1/metrics", path);
        var text = Encoding.UTF8.GetString(body);
        Assert.Contains("hardening.security.events", text, StringComparison.Ordinal);
        Assert.Contains("malicious_upload", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Empty_meter_lists_are_rejected() =>
        Assert.Throws<ArgumentException>(() => new ServiceCollection().AddHardeningOtlpExporter(meters: []));

    private static async Task<(string Path, byte[] Body)> ReceiveAsync(HttpListener listener)
    {
        while (true)
        {
            var context = await listener.GetContextAsync();
            using var buffer = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(buffer);
            context.Response.StatusCode = 200;
            context.Response.Close();
            if (buffer.Length > 0)
            {
                return (context.Request.Url!.AbsolutePath, buffer.ToArray());
            }
        }
    }

    private static int FreeLoopbackPort()
    {
        using var socket = new TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }
}
