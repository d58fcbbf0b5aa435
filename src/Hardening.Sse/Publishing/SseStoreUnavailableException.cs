namespace Hardening.Sse;

/// <summary>
/// The event store (Redis) could not be reached, so the event was NOT published. Nothing is dropped silently:
/// retry the publish, or fail the operation that produced the event.
/// </summary>
public sealed class SseStoreUnavailableException : Exception
{
    /// <summary>Creates the exception.</summary>
    public SseStoreUnavailableException(string message, Exception? innerException = null) : base(message, innerException)
    {
    }
}
