using Microsoft.Extensions.Logging;

namespace Hardening.Redis;

/// <summary>Source-generated log messages with stable event ids.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1, EventName = "RedisConnected", Level = LogLevel.Information, Message = "Redis {Role} connection to {Endpoint} is ready")]
    public static partial void Connected(ILogger logger, string role, RedisEndpoint endpoint);

    [LoggerMessage(EventId = 2, EventName = "RedisConnectionLost", Level = LogLevel.Warning, Message = "Redis {Role} connection to {Endpoint} was lost; reconnecting")]
    public static partial void ConnectionLost(ILogger logger, string role, RedisEndpoint endpoint, Exception reason);

    [LoggerMessage(EventId = 3, EventName = "RedisConnectFailed", Level = LogLevel.Warning, Message = "Redis {Role} connect attempt {Attempt} failed; next attempt in {DelayMs} ms")]
    public static partial void ConnectFailed(ILogger logger, string role, int attempt, long delayMs, Exception reason);

    [LoggerMessage(EventId = 4, EventName = "RedisProtocolError", Level = LogLevel.Error, Message = "Redis {Role} connection to {Endpoint} received a malformed reply; the connection was reset")]
    public static partial void ProtocolError(ILogger logger, string role, RedisEndpoint endpoint, Exception reason);

    [LoggerMessage(EventId = 5, EventName = "RedisSubscriptionHandlerFailed", Level = LogLevel.Error, Message = "A Redis subscription handler for {Channel} threw")]
    public static partial void HandlerFailed(ILogger logger, string channel, Exception exception);

    [LoggerMessage(EventId = 6, EventName = "RedisStateChangedHandlerFailed", Level = LogLevel.Error, Message = "A Redis StateChanged handler threw")]
    public static partial void StateHandlerFailed(ILogger logger, Exception exception);
}
