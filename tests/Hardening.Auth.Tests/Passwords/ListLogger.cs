using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Hardening.Auth.Tests.Passwords;

/// <summary>Captures log entries (event id, level, message) for assertions.</summary>
internal sealed class ListLogger<T> : ILogger<T>, ILoggerProvider
{
    public ConcurrentQueue<(EventId Id, LogLevel Level, string Message)> Entries { get; } = new();

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        Entries.Enqueue((eventId, logLevel, formatter(state, exception)));

    public ILogger CreateLogger(string categoryName) => this;

    public void Dispose()
    {
    }
}
