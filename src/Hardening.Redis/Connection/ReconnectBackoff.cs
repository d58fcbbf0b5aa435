namespace Hardening.Redis;

/// <summary>Exponential backoff with jitter between reconnect attempts.</summary>
internal static class ReconnectBackoff
{
    /// <summary>
    /// The delay before attempt <paramref name="attempt"/> + 1: <paramref name="min"/> doubled per failed attempt,
    /// capped at <paramref name="max"/>, then scaled by a random 50 to 100 % so that many app instances that lost
    /// the same server do not reconnect in lockstep.
    /// </summary>
    public static TimeSpan Delay(int attempt, TimeSpan min, TimeSpan max, double random)
    {
        var step = Math.Min(max.TotalMilliseconds, min.TotalMilliseconds * Math.Pow(2, Math.Clamp(attempt, 0, 30)));
        return TimeSpan.FromMilliseconds(step * (0.5 + (Math.Clamp(random, 0, 1) * 0.5)));
    }
}
