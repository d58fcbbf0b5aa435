using System.Reflection;
using System.Text.Json;
using Hardening.Observability;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Hardening.Observability;

/// <summary>
/// Writes a <see cref="HealthReport"/> as JSON: the overall status and, per check, its name and status; for callers
/// allowed by <see cref="ReadinessOptions.DetailPolicy"/> (or <see cref="ReadinessOptions.ShowDetail"/>) also version,
/// environment, total duration and, per check, duration in ms, description, error type and data. Exception messages
/// are never written (they can carry host names and connection details); the error's type name is.
/// </summary>
public static class HealthResponseWriter
{
    private static readonly Lazy<string> EntryVersion = new(() =>
        Assembly.GetEntryAssembly()?.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? Assembly.GetEntryAssembly()?.GetName().Version?.ToString()
        ?? "unknown");

    /// <summary>Writes <paramref name="report"/> to the response as <c>application/json</c>.</summary>
    /// <example>
    /// <code>
    /// app.MapHealthChecks("/healthz", new HealthCheckOptions { ResponseWriter = HealthResponseWriter.WriteJsonAsync });
    /// </code>
    /// </example>
    public static async Task WriteJsonAsync(HttpContext context, HealthReport report)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(report);
        context.RequestServices.GetService<HealthStatusStore>()?.Update(report);
        context.Response.ContentType = "application/json; charset=utf-8";
        context.Response.Headers.CacheControl = "no-store";
        var detail = await ShowsDetailAsync(context).ConfigureAwait(false);
        var writer = new Utf8JsonWriter(context.Response.BodyWriter);
        await using var writerDisposal = writer.ConfigureAwait(false);
        Write(writer, report, context.RequestServices, detail);
        await writer.FlushAsync(context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>Fails closed: no options, no policy and no hook mean no detail.</summary>
    private static async ValueTask<bool> ShowsDetailAsync(HttpContext context)
    {
        var readiness = context.RequestServices.GetService<IOptions<HardeningObservabilityOptions>>()?.Value.Readiness;
        if (readiness?.ShowDetail is { } hook)
        {
            return await hook(context).ConfigureAwait(false);
        }

        if (readiness?.DetailPolicy is not { } policy || context.RequestServices.GetService<IAuthorizationService>() is not { } authorization)
        {
            return false;
        }

        return (await authorization.AuthorizeAsync(context.User, policy).ConfigureAwait(false)).Succeeded;
    }

    internal static void Write(Utf8JsonWriter writer, HealthReport report, IServiceProvider services, bool detail = true)
    {
        writer.WriteStartObject();
        writer.WriteString("status", report.Status.ToString());
        if (!detail)
        {
            writer.WriteStartArray("checks");
            foreach (var (name, entry) in report.Entries.OrderBy(e => e.Key, StringComparer.Ordinal))
            {
                writer.WriteStartObject();
                writer.WriteString("name", name);
                writer.WriteString("status", entry.Status.ToString());
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
            return;
        }

        writer.WriteString("version", services.GetService<IOptions<HardeningObservabilityOptions>>()?.Value.Readiness.Version ?? EntryVersion.Value);
        writer.WriteString("environment", services.GetService<IHostEnvironment>()?.EnvironmentName ?? "unknown");
        writer.WriteNumber("durationMs", Math.Round(report.TotalDuration.TotalMilliseconds, 3));
        writer.WriteStartArray("checks");
        foreach (var (name, entry) in report.Entries.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            writer.WriteStartObject();
            writer.WriteString("name", name);
            writer.WriteString("status", entry.Status.ToString());
            writer.WriteNumber("durationMs", Math.Round(entry.Duration.TotalMilliseconds, 3));
            if (entry.Description is not null)
            {
                writer.WriteString("description", entry.Description);
            }

            if (entry.Exception is not null)
            {
                writer.WriteString("error", entry.Exception.GetType().Name);
            }

            if (entry.Data.Count > 0)
            {
                writer.WriteStartObject("data");
                foreach (var (key, value) in entry.Data)
                {
                    writer.WritePropertyName(key);
                    JsonSerializer.Serialize(writer, value, value?.GetType() ?? typeof(object));
                }

                writer.WriteEndObject();
            }

            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }
}
