using Hardening.Auth;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace Hardening.Auth.Tests.Tokens;

/// <summary>Metrics, logs and a fake clock for constructing the package's internals in a test.</summary>
public sealed class AuthTestKit : IDisposable
{
    /// <summary>The package's counters, each collected from the kit's own meter.</summary>
    internal static readonly string[] Counters =
        ["hardening.auth.token.rejected", "hardening.auth.login.failures", "hardening.auth.login.throttled", "hardening.auth.replay.store_errors"];

    private readonly ServiceProvider _services;
    private readonly Dictionary<string, MetricCollector<long>> _collectors;

    public AuthTestKit(DateTimeOffset? start = null)
    {
        Time = new FakeTimeProvider(start ?? new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        Metrics = new AuthMetrics(_services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>());
        _collectors = Counters.ToDictionary(name => name, name => new MetricCollector<long>(Metrics.Meter, name), StringComparer.Ordinal);
        LoggerFactory = Microsoft.Extensions.Logging.LoggerFactory.Create(b => b.AddProvider(new FakeLoggerProvider(Logs)).SetMinimumLevel(LogLevel.Trace));
    }

    public FakeTimeProvider Time { get; }

    internal AuthMetrics Metrics { get; }

    public FakeLogCollector Logs { get; } = new();

    public ILoggerFactory LoggerFactory { get; }

    /// <summary>The collector of one of <see cref="Counters"/>.</summary>
    public MetricCollector<long> Metric(string instrument) => _collectors[instrument];

    public ILogger<T> Logger<T>() => LoggerFactory.CreateLogger<T>();

    public void Dispose()
    {
        foreach (var collector in _collectors.Values)
        {
            collector.Dispose();
        }

        LoggerFactory.Dispose();
        _services.Dispose();
    }
}
