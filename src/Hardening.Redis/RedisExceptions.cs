namespace Hardening.Redis;

/// <summary>Base class of every error this client raises.</summary>
public class RedisException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The cause, if any.</param>
    public RedisException(string message, Exception? innerException = null) : base(message, innerException)
    {
    }
}

/// <summary>The connection could not be made or broke while the command was in flight (it was not resent).</summary>
/// <param name="message">What went wrong.</param>
/// <param name="innerException">The cause, if any.</param>
public sealed class RedisConnectionException(string message, Exception? innerException = null) : RedisException(message, innerException);

/// <summary>The command did not complete within the command timeout (<c>syncTimeout</c>).</summary>
/// <param name="message">What went wrong.</param>
/// <param name="innerException">The cause, if any.</param>
public sealed class RedisTimeoutException(string message, Exception? innerException = null) : RedisException(message, innerException);

/// <summary>The server answered with an error; <see cref="Exception.Message"/> is the server's text.</summary>
/// <param name="message">The server's error text.</param>
public sealed class RedisServerException(string message) : RedisException(message);

/// <summary>The server's reply was malformed or truncated; the connection was reset.</summary>
/// <param name="message">What was wrong with the reply.</param>
public sealed class RedisProtocolException(string message) : RedisException(message);
