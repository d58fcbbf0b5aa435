using System.Security.Cryptography;
using System.Text;
using Hardening.Auth;
using Hardening.Observability;
using Hardening.Rls;
using Hardening.Samples.Ats.Infrastructure;
using Npgsql;
using PasswordHasher = Hardening.Auth.PasswordHasher;

namespace Hardening.Samples.Ats.Accounts;

/// <summary>
/// <c>/api/auth</c>: login (throttled by <see cref="PasswordLogin"/>), single-use refresh tokens (the replay guard;
/// reuse revokes the family), registration of a new organisation and password change with a history check.
/// </summary>
internal static class AccountsApi
{
    public static RouteGroupBuilder MapAccountsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/auth").WithTags("Accounts");
        group.MapPost("/login", LoginAsync).Accepts<LoginRequest>("application/json").RequireRateLimiting(RateLimits.Auth).AllowAnonymous();
        group.MapPost("/refresh", RefreshAsync).Accepts<RefreshRequest>("application/json").RequireRateLimiting(RateLimits.Auth).AllowAnonymous();
        group.MapPost("/register", RegisterAsync).Accepts<RegisterRequest>("application/json").RequireRateLimiting(RateLimits.Auth).AllowAnonymous();
        group.MapPost("/password", ChangePasswordAsync).Accepts<PasswordChangeRequest>("application/json").RequireRateLimiting(RateLimits.Api).RequireAuthorization();
        return group;
    }

    internal sealed record LoginRequest(string? Tenant, string? Email, string? Password);

    internal sealed record RefreshRequest(string? RefreshToken);

    internal sealed record RegisterRequest(string? Organization, string? DisplayName, string? Email, string? Password);

    internal sealed record PasswordChangeRequest(string? CurrentPassword, string? NewPassword);

    private sealed record AccountRow(Guid Id, string Email, string Hash, string[] Previous, string[] Roles);

    private static async Task<IResult> LoginAsync(HttpContext http, PasswordLogin login, PasswordHasher hasher, TenantDataSource db, TokenIssuer tokens, CancellationToken ct)
    {
        var (body, problem) = await Input.ReadJsonAsync<LoginRequest>(http.Request);
        if (problem is not null)
        {
            return problem;
        }

        var errors = new Dictionary<string, string[]>();
        var tenantText = Input.Text(errors, "tenant", body!.Tenant, 36, required: true);
        var email = Input.Email(errors, "email", body.Email, required: true);
        var password = Input.Text(errors, "password", body.Password, 1024, required: true) is null ? null : body.Password;
        if (tenantText is not null && !Guid.TryParse(tenantText, out _))
        {
            errors["tenant"] = ["'tenant' is not a UUID."];
        }

        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }

        var tenant = Guid.Parse(tenantText!);
        AccountRow? found = null;
        var result = await login.VerifyAsync($"{tenant}/{email}", password!, http.Connection.RemoteIpAddress, async (_, token) =>
        {
            found = await FindAsync(db, tenant, email!, token);
            return found?.Hash;
        }, ct);
        if (result.Status == PasswordLoginStatus.Throttled)
        {
            http.Response.Headers.RetryAfter = result.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return Problems.Status(StatusCodes.Status429TooManyRequests, "Too many login attempts; try again later.");
        }

        if (result.Status != PasswordLoginStatus.Succeeded || found is null)
        {
            // Unknown tenant, unknown account and wrong password all answer the same.
            return Problems.Status(StatusCodes.Status401Unauthorized, "The tenant, email or password is wrong.");
        }

        await using var session = await db.OpenSessionAsync(new TenantContext(tenant.ToString(), found.Id.ToString()), ct);
        await session.BeginTransactionAsync(ct);
        if (result.RehashNeeded)
        {
            var rehash = session.CreateCommand("UPDATE accounts SET password_hash = $1 WHERE id = $2");
            rehash.Parameters.Add(new NpgsqlParameter { Value = hasher.Hash(password!) });
            rehash.Parameters.Add(new NpgsqlParameter { Value = found.Id });
            await session.ExecuteNonQueryAsync(rehash, ct);
        }

        var family = Guid.CreateVersion7();
        var insert = session.CreateCommand("INSERT INTO token_families (tenant_id, id, account_id) VALUES ($1, $2, $3)");
        insert.Parameters.Add(new NpgsqlParameter { Value = tenant });
        insert.Parameters.Add(new NpgsqlParameter { Value = family });
        insert.Parameters.Add(new NpgsqlParameter { Value = found.Id });
        await session.ExecuteNonQueryAsync(insert, ct);
        await session.CommitAsync(ct);
        return Results.Ok(tokens.Issue(new Identity(tenant, found.Id, found.Email, found.Roles), family));
    }

    private static async Task<IResult> RefreshAsync(HttpContext http, TokenIssuer tokens, TokenReplayGuard guard, TenantDataSource db, SecurityTelemetry security, ILogger<TokenIssuer> log, CancellationToken ct)
    {
        var (body, problem) = await Input.ReadJsonAsync<RefreshRequest>(http.Request);
        if (problem is not null)
        {
            return problem;
        }

        var errors = new Dictionary<string, string[]>();
        var token = Input.Text(errors, "refreshToken", body!.RefreshToken, 4096, required: true);
        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }

        var claims = await tokens.ValidateRefreshAsync(token!);
        if (claims is null)
        {
            return Problems.Status(StatusCodes.Status401Unauthorized, "The refresh token is not valid or has expired; log in again.");
        }

        var consumed = await guard.ConsumeAsync(tokens.Issuer, claims.Jti, claims.IssuedAt, claims.ExpiresAt, ct);
        await using var session = await db.OpenSessionAsync(new TenantContext(claims.TenantId.ToString(), claims.AccountId.ToString()), ct);
        switch (consumed)
        {
            case TokenConsumeResult.Consumed:
                break;
            case TokenConsumeResult.StoreUnavailable:
                return Problems.Status(StatusCodes.Status503ServiceUnavailable, "The token store is unavailable; retry shortly.");
            case TokenConsumeResult.Replayed:
                // A refresh token used twice was stolen or leaked: end every session of its family.
                var revoke = session.CreateCommand("UPDATE token_families SET revoked_at = now(), revoked_reason = 'refresh_reuse' WHERE id = $1 AND revoked_at IS NULL");
                revoke.Parameters.Add(new NpgsqlParameter { Value = claims.FamilyId });
                await session.ExecuteNonQueryAsync(revoke, ct);
                security.Record(SecurityEvent.AuthorizationDenied);
                AtsLog.RefreshTokenReused(log, claims.TenantId, claims.AccountId, claims.FamilyId);
                return Problems.Status(StatusCodes.Status401Unauthorized, "This refresh token was already used; every session of this login has been ended. Log in again.", "refresh_reused");
            default:
                return Problems.Status(StatusCodes.Status401Unauthorized, "The refresh token can no longer be used; log in again.");
        }

        var load = session.CreateCommand("""
            SELECT a.email, a.roles FROM token_families f JOIN accounts a ON a.id = f.account_id
            WHERE f.id = $1 AND f.account_id = $2 AND f.revoked_at IS NULL
            """);
        load.Parameters.Add(new NpgsqlParameter { Value = claims.FamilyId });
        load.Parameters.Add(new NpgsqlParameter { Value = claims.AccountId });
        await using var reader = await session.ExecuteReaderAsync(load, cancellationToken: ct);
        if (!await reader.ReadAsync(ct))
        {
            return Problems.Status(StatusCodes.Status401Unauthorized, "This login was ended; log in again.", "family_revoked");
        }

        var who = new Identity(claims.TenantId, claims.AccountId, reader.GetString(0), reader.GetFieldValue<string[]>(1));
        return Results.Ok(tokens.Issue(who, claims.FamilyId));
    }

    private static async Task<IResult> RegisterAsync(HttpContext http, PasswordHasher hasher, TenantDataSource db, CancellationToken ct)
    {
        var (body, problem) = await Input.ReadJsonAsync<RegisterRequest>(http.Request);
        if (problem is not null)
        {
            return problem;
        }

        var errors = new Dictionary<string, string[]>();
        var organization = Input.Text(errors, "organization", body!.Organization, 100, required: true);
        var display = Input.Text(errors, "displayName", body.DisplayName, 100, required: true);
        var email = Input.Email(errors, "email", body.Email, required: true);
        var password = Input.Text(errors, "password", body.Password, 1024, required: true) is null ? null : body.Password;
        if (password is not null && password.Length < 12)
        {
            errors["password"] = ["'password' must have at least 12 characters."];
        }

        var key = Idempotency.ReadKey(http.Request, errors);
        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }

        // With an Idempotency-Key the new tenant's id is derived from it, so a retried registration finds the
        // organisation it created instead of creating a second one.
        var tenant = key is null ? Guid.CreateVersion7() : DeriveTenantId(key, email!);
        var account = Guid.CreateVersion7();
        var hash = hasher.Hash(password!);
        await using var session = await db.OpenSessionAsync(new TenantContext(tenant.ToString(), account.ToString()), ct);
        await session.BeginTransactionAsync(ct);
        var create = session.CreateCommand("""
            WITH t AS (INSERT INTO tenants (tenant_id, name) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING tenant_id)
            INSERT INTO accounts (tenant_id, id, email, display_name, password_hash, roles)
            SELECT tenant_id, $3, $4, $5, $6, ARRAY['recruiter'] FROM t
            """);
        create.Parameters.Add(new NpgsqlParameter { Value = tenant });
        create.Parameters.Add(new NpgsqlParameter { Value = organization });
        create.Parameters.Add(new NpgsqlParameter { Value = account });
        create.Parameters.Add(new NpgsqlParameter { Value = email });
        create.Parameters.Add(new NpgsqlParameter { Value = display });
        create.Parameters.Add(new NpgsqlParameter { Value = hash });
        var created = await session.ExecuteNonQueryAsync(create, ct) == 1;
        await session.CommitAsync(ct);
        if (!created)
        {
            var existing = await FindAsync(db, tenant, email!, ct);
            if (existing is null)
            {
                return Problems.Status(StatusCodes.Status409Conflict, "This Idempotency-Key was used for another registration.");
            }

            account = existing.Id;
        }

        return Results.Created((string?)null, new { tenantId = tenant, accountId = account, email });
    }

    private static async Task<IResult> ChangePasswordAsync(HttpContext http, PasswordLogin login, PasswordHasher hasher, TenantDataSource db, ITenantContext tenantContext, CancellationToken ct)
    {
        var who = Caller.From(http.User)!;
        var (body, problem) = await Input.ReadJsonAsync<PasswordChangeRequest>(http.Request);
        if (problem is not null)
        {
            return problem;
        }

        var errors = new Dictionary<string, string[]>();
        var current = Input.Text(errors, "currentPassword", body!.CurrentPassword, 1024, required: true) is null ? null : body.CurrentPassword;
        var next = Input.Text(errors, "newPassword", body.NewPassword, 1024, required: true) is null ? null : body.NewPassword;
        if (next is not null && next.Length < 12)
        {
            errors["newPassword"] = ["'newPassword' must have at least 12 characters."];
        }

        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }

        AccountRow? row = null;
        var check = await login.VerifyAsync($"{who.TenantId}/{who.Email}", current!, http.Connection.RemoteIpAddress, async (_, token) =>
        {
            row = await FindAsync(db, who.TenantId, who.Email, token);
            return row is not null && row.Id == who.AccountId ? row.Hash : null;
        }, ct);
        if (check.Status == PasswordLoginStatus.Throttled)
        {
            http.Response.Headers.RetryAfter = check.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return Problems.Status(StatusCodes.Status429TooManyRequests, "Too many attempts; try again later.");
        }

        if (check.Status != PasswordLoginStatus.Succeeded || row is null)
        {
            return Problems.BadRequest("currentPassword", "'currentPassword' is wrong.");
        }

        string[] history = [row.Hash, .. row.Previous];
        if (hasher.IsReused(next!, history))
        {
            return Problems.BadRequest("newPassword", "'newPassword' was used recently; choose another.");
        }

        await using var session = await db.OpenSessionAsync(tenantContext, ct);
        var update = session.CreateCommand("UPDATE accounts SET password_hash = $1, previous_hashes = $2 WHERE id = $3");
        update.Parameters.Add(new NpgsqlParameter { Value = hasher.Hash(next!) });
        update.Parameters.Add(new NpgsqlParameter { Value = history[..Math.Min(history.Length, 5)] });
        update.Parameters.Add(new NpgsqlParameter { Value = who.AccountId });
        await session.ExecuteNonQueryAsync(update, ct);
        return Results.NoContent();
    }

    private static async Task<AccountRow?> FindAsync(TenantDataSource db, Guid tenant, string email, CancellationToken ct)
    {
        await using var session = await db.OpenSessionAsync(new TenantContext(tenant.ToString()), ct);
        var select = session.CreateCommand("SELECT id, email, password_hash, previous_hashes, roles FROM accounts WHERE email = $1");
        select.Parameters.Add(new NpgsqlParameter { Value = email });
        await using var reader = await session.ExecuteReaderAsync(select, cancellationToken: ct);
        return await reader.ReadAsync(ct)
            ? new AccountRow(reader.GetGuid(0), reader.GetString(1), reader.GetString(2), reader.GetFieldValue<string[]>(3), reader.GetFieldValue<string[]>(4))
            : null;
    }

    private static Guid DeriveTenantId(string key, string email)
    {
        var bytes = SHA256.HashData(Encoding.UTF8.GetBytes("ats-register\n" + key + "\n" + email))[..16];
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x80);   // version 8 (custom)
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);   // RFC 4122 variant
        return new Guid(bytes, bigEndian: true);
    }
}
