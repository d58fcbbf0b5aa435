using Npgsql;

namespace Hardening.Samples.Ats.Infrastructure;

/// <summary>
/// Tells an unavailable database (PostgreSQL or PgBouncer down or restarting, the pool exhausted, a connection cut
/// mid-request) from a bug, so the exception handler answers 503 with <c>Retry-After</c> for the first and 500 only for
/// the second. Found by the faults drill (issue 19): with PostgreSQL stopped every request was a 500.
/// </summary>
internal static class DatabaseOutage
{
    /// <summary>Seconds a client should wait before retrying.</summary>
    public const int RetryAfterSeconds = 2;

    /// <summary>True when <paramref name="exception"/> (or an inner one) means the database cannot be reached right now.</summary>
    public static bool Is(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                // A server answer: only the connection-level ones (class 08, which is also how PgBouncer reports
                // "cannot connect to server" and "server login has been failing"; shutdown; too many connections).
                case PostgresException pg:
                    return pg.SqlState.StartsWith("08", StringComparison.Ordinal)
                        || pg.SqlState is "57P01" or "57P02" or "57P03" or "53300";   // admin/crash shutdown, cannot connect now, too many connections

                // No server answer at all: refused or broken connection, open timeout, pool exhausted.
                case NpgsqlException:
                    return true;
            }
        }

        return false;
    }
}
