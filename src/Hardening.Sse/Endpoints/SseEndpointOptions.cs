using Microsoft.AspNetCore.Http;

namespace Hardening.Sse;

/// <summary>Settings of one <c>MapServerSentEvents</c> endpoint.</summary>
public sealed class SseEndpointOptions
{
    /// <summary>
    /// Decides whether the caller may read the stream (tenant scoping). Required: an endpoint without it fails at
    /// start-up. To serve every stream to everyone, say so with <c>(_, _) =&gt; ValueTask.FromResult(SseAccess.Allow)</c>.
    /// </summary>
    public Func<HttpContext, string, ValueTask<SseAccess>>? Authorize { get; set; }

    /// <summary>The route value that names the stream. Default <c>stream</c>, as in <c>/events/{**stream}</c>.</summary>
    public string StreamRouteValue { get; set; } = "stream";

    /// <summary>Where a client without a Last-Event-ID starts. Default <see cref="SseStartPosition.Now"/>.</summary>
    public SseStartPosition StartPosition { get; set; } = SseStartPosition.Now;
}

/// <summary>The answer of <see cref="SseEndpointOptions.Authorize"/>.</summary>
public enum SseAccess
{
    /// <summary>Stream the events.</summary>
    Allow,

    /// <summary>401: the caller is not authenticated.</summary>
    Unauthenticated,

    /// <summary>403: the caller may not read this stream.</summary>
    Forbid,

    /// <summary>204: the stream is over for this client (e.g. the record was archived); browsers stop reconnecting.</summary>
    StopReconnecting,
}

/// <summary>Where a connection without a Last-Event-ID starts.</summary>
public enum SseStartPosition
{
    /// <summary>Only events published after the connection was made.</summary>
    Now,

    /// <summary>Every retained event, then live ones.</summary>
    OldestRetained,
}
