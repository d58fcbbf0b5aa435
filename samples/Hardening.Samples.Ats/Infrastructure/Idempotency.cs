using System.Security.Cryptography;
using System.Text;
using Hardening.Rls;
using Npgsql;

namespace Hardening.Samples.Ats.Infrastructure;

/// <summary>
/// <c>Idempotency-Key</c> on creating POSTs: the key is claimed in the same transaction as the creation, so a retried
/// request replays the first response and creates nothing twice; the same key with another body is refused.
/// </summary>
internal static class Idempotency
{
    public const string Header = "Idempotency-Key";

    /// <summary>The key (1-100 printable ASCII characters) or null when the request has none.</summary>
    public static string? ReadKey(HttpRequest request, Dictionary<string, string[]> errors)
    {
        if (!request.Headers.TryGetValue(Header, out var values))
        {
            return null;
        }

        var key = values.Count == 1 ? values[0] : null;
        if (string.IsNullOrEmpty(key) || key.Length > 100 || key.Any(c => c is < '!' or > '~'))
        {
            errors[Header] = [$"'{Header}' must be one value of 1-100 printable ASCII characters."];
            return null;
        }

        return key;
    }

    public static string Hash(string body) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(body)));

    /// <summary>Claims the key inside the session's transaction; returns the earlier response to replay, or null to proceed.</summary>
    public static async Task<IResult?> ClaimAsync(TenantSession session, Guid tenant, string key, string requestHash, CancellationToken ct)
    {
        var claim = session.CreateCommand("""
            INSERT INTO idempotency_keys (tenant_id, key, request_hash, status, body) VALUES ($1, $2, $3, 0, '')
            ON CONFLICT DO NOTHING RETURNING 1
            """);
        claim.Parameters.Add(new NpgsqlParameter { Value = tenant });
        claim.Parameters.Add(new NpgsqlParameter { Value = key });
        claim.Parameters.Add(new NpgsqlParameter { Value = requestHash });
        if (await session.ExecuteScalarAsync(claim, ct) is not null)
        {
            return null;
        }

        var earlier = session.CreateCommand("SELECT request_hash, status, location, body FROM idempotency_keys WHERE key = $1");
        earlier.Parameters.Add(new NpgsqlParameter { Value = key });
        await using var reader = await session.ExecuteReaderAsync(earlier, cancellationToken: ct);
        if (!await reader.ReadAsync(ct))
        {
            return Problems.Status(StatusCodes.Status409Conflict, "The Idempotency-Key is in use by a request still running; retry shortly.");
        }

        if (reader.GetString(0) != requestHash)
        {
            return Problems.Status(StatusCodes.Status422UnprocessableEntity, $"This {Header} was used with a different request body; use a new key.");
        }

        var status = reader.GetInt32(1);
        var location = reader.IsDBNull(2) ? null : reader.GetString(2);
        var body = reader.GetString(3);
        return new Replay(status, location, body);
    }

    /// <summary>Stores the response for later retries (same transaction as the creation).</summary>
    public static async Task CompleteAsync(TenantSession session, string key, int status, string? location, string body, CancellationToken ct)
    {
        var done = session.CreateCommand("UPDATE idempotency_keys SET status = $2, location = $3, body = $4 WHERE key = $1");
        done.Parameters.Add(new NpgsqlParameter { Value = key });
        done.Parameters.Add(new NpgsqlParameter { Value = status });
        done.Parameters.Add(new NpgsqlParameter { Value = (object?)location ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        done.Parameters.Add(new NpgsqlParameter { Value = body });
        await session.ExecuteNonQueryAsync(done, ct);
    }

    private sealed class Replay(int status, string? location, string body) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = status;
            if (location is not null)
            {
                httpContext.Response.Headers.Location = location;
            }

            httpContext.Response.Headers["Idempotent-Replayed"] = "true";
            httpContext.Response.ContentType = "application/json; charset=utf-8";
            await httpContext.Response.WriteAsync(body);
        }
    }
}
