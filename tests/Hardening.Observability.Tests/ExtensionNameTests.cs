using System.Reflection;
using System.Runtime.CompilerServices;

namespace Hardening.Observability.Tests;

/// <summary>
/// No public extension method of ours has the name of an OpenTelemetry extension method: an app that references both
/// would otherwise get an ambiguous call. OpenTelemetry.Exporter.Prometheus.AspNetCore is prerelease and does not
/// restore here, so its names are listed by hand; the assemblies that do restore are read by reflection.
/// </summary>
public sealed class ExtensionNameTests
{
    // From OpenTelemetry.Exporter.Prometheus.AspNetCore 1.x (PrometheusExporterEndpointRouteBuilderExtensions,
    // PrometheusExporterApplicationBuilderExtensions, PrometheusExporterMeterProviderBuilderExtensions).
    private static readonly string[] PrometheusExporterNames = ["MapPrometheusScrapingEndpoint", "UseOpenTelemetryPrometheusScrapingEndpoint", "AddPrometheusExporter"];

    [Fact]
    public void No_public_extension_method_of_ours_has_an_opentelemetry_extension_method_name()
    {
        string[] otelAssemblies = ["OpenTelemetry", "OpenTelemetry.Api", "OpenTelemetry.Api.ProviderBuilderExtensions", "OpenTelemetry.Extensions.Hosting", "OpenTelemetry.Exporter.OpenTelemetryProtocol"];
        var theirs = otelAssemblies.Select(Assembly.Load).SelectMany(ExtensionMethods).Select(m => m.Name).Concat(PrometheusExporterNames).ToHashSet(StringComparer.Ordinal);
        Assert.Contains("AddOtlpExporter", theirs); // the reflection really read OpenTelemetry's extensions
        Assert.Contains("WithMetrics", theirs);

        var ours = new[] { "Hardening.Observability", "Hardening.Auth", "Hardening.Rls", "Hardening.Fsm", "Hardening.Sse" }
            .Select(Assembly.Load).SelectMany(ExtensionMethods).ToList();
        Assert.Contains(ours, m => m.Name == "MapHardeningMetrics");
        Assert.Contains(ours, m => m.Name == "AddHardeningInstrumentation");
        var clashes = ours.Where(m => theirs.Contains(m.Name)).Select(m => $"{m.DeclaringType!.FullName}.{m.Name}").ToList();
        Assert.True(clashes.Count == 0, "Extension methods named like OpenTelemetry's: " + string.Join(", ", clashes));
    }

    private static IEnumerable<MethodInfo> ExtensionMethods(Assembly assembly) =>
        assembly.GetExportedTypes().Where(t => t.IsAbstract && t.IsSealed)
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Static))
            .Where(m => m.IsDefined(typeof(ExtensionAttribute), inherit: false));
}
