using System.Collections.Concurrent;
using Hardening.Auth;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Hardening.Auth.Tests.Tokens;

/// <summary>One log record captured by <see cref="CollectingLoggerProvider"/>.</summary>
public sealed record LogRecord(string Category, LogLevel Level, EventId EventId, string Message, IReadOnlyDictionary<string, object?> State, Exception? Exception)
{
    public string? Value(string key) => State.TryGetValue(key, out var v) ? v?.ToString() : null;
}

/// <summary>Captures every log record, with its structured state.</summary>
public sealed class CollectingLoggerProvider : ILoggerProvider
{
    private readonly ConcurrentQueue<LogRecord> _records = new();

    public IReadOnlyList<LogRecord> Records => [.. _records];

    public IReadOnlyList<LogRecord> Events(string eventName) => [.. _records.Where(r => r.EventId.Name == eventName)];

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(CollectingLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var dict = new Dictionary<string, object?>();
            if (state is IEnumerable<KeyValuePair<string, object?>> kvs)
            {
                foreach (var kv in kvs)
                {
                    dict[kv.Key] = kv.Value;
                }
            }

            owner._records.Enqueue(new LogRecord(category, logLevel, eventId, formatter(state, exception), dict, exception));
        }
    }
}

/// <summary>Metrics, logs and a fake clock for constructing the package's internals in a test.</summary>
public sealed class AuthTestKit : IDisposable
{
    private readonly ServiceProvider _services;

    public AuthTestKit(DateTimeOffset? start = null)
    {
        Time = new FakeTimeProvider(start);
        _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        Metrics = new AuthMetrics(_services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>());
        Recorder = new MetricRecorder(AuthMeters.MeterName, Metrics.Meter);
        LoggerFactory = Microsoft.Extensions.Logging.LoggerFactory.Create(b => b.AddProvider(Logs).SetMinimumLevel(LogLevel.Trace));
    }

    public FakeTimeProvider Time { get; }

    internal AuthMetrics Metrics { get; }

    public MetricRecorder Recorder { get; }

    public CollectingLoggerProvider Logs { get; } = new();

    public ILoggerFactory LoggerFactory { get; }

    public ILogger<T> Logger<T>() => LoggerFactory.CreateLogger<T>();

    public void Dispose()
    {
        Recorder.Dispose();
        LoggerFactory.Dispose();
        _services.Dispose();
    }
}
