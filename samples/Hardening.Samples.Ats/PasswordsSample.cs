using Hardening.Auth;
using Microsoft.AspNetCore.Identity;
using Npgsql;
using PasswordHasher = Hardening.Auth.PasswordHasher;

namespace Hardening.Samples.Ats;

/// <summary>
/// Recruiter accounts for the sample ATS: register, log in (with rehash on login and unknown-user timing) and change
/// the password (with reuse of the last five refused). Accounts live in PostgreSQL (env HARDENING_PG).
/// </summary>
public static class PasswordsSample
{
    private const string Schema = """
        CREATE TABLE IF NOT EXISTS recruiter_accounts (
            email text PRIMARY KEY,
            password_hash text NOT NULL,
            previous_hashes text[] NOT NULL DEFAULT '{}'
        )
        """;

    /// <summary>Registers the password hasher (pepper from configuration <c>Auth:Pepper</c>) and the accounts data source.</summary>
    public static WebApplicationBuilder AddPasswordsSample(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddHardeningPasswordHasher(o =>
        {
            o.Pepper = builder.Configuration["Auth:Pepper"];
            if (int.TryParse(builder.Configuration["Auth:PasswordCost"], out var cost))
            {
                o.Cost = cost;
            }
        });
        var connectionString = Environment.GetEnvironmentVariable("HARDENING_PG")
            ?? throw new InvalidOperationException("Set HARDENING_PG to a PostgreSQL connection string for the recruiter accounts.");
        builder.Services.AddKeyedSingleton("passwords-sample", (_, _) => NpgsqlDataSource.Create(connectionString));
        return builder;
    }

    /// <summary>Maps <c>POST /auth/register</c>, <c>/auth/login</c> and <c>/auth/change-password</c>.</summary>
    public static WebApplication MapPasswordsSample(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var db = app.Services.GetRequiredKeyedService<NpgsqlDataSource>("passwords-sample");
        using (var create = db.CreateCommand(Schema))
        {
            create.ExecuteNonQuery();
        }

        app.MapPost("/auth/register", async (Credentials body, PasswordHasher hasher) =>
        {
            if (string.IsNullOrWhiteSpace(body.Email) || string.IsNullOrEmpty(body.Password))
            {
                return Results.Problem("Email and password are required.", statusCode: StatusCodes.Status400BadRequest);
            }

            string hash;
            try
            {
                hash = hasher.Hash(body.Password);
            }
            catch (ArgumentException ex)
            {
                return Results.Problem(ex.Message, statusCode: StatusCodes.Status400BadRequest);
            }

            await using var insert = db.CreateCommand("INSERT INTO recruiter_accounts (email, password_hash) VALUES ($1, $2) ON CONFLICT DO NOTHING");
            insert.Parameters.Add(new NpgsqlParameter { Value = body.Email });
            insert.Parameters.Add(new NpgsqlParameter { Value = hash });
            return await insert.ExecuteNonQueryAsync() == 1
                ? Results.Created($"/auth/accounts/{Uri.EscapeDataString(body.Email)}", null)
                : Results.Problem("An account with this email already exists.", statusCode: StatusCodes.Status409Conflict);
        });

        app.MapPost("/auth/login", async (Credentials body, PasswordHasher hasher) =>
        {
            var account = await FindAsync(db, body.Email);
            if (account is null)
            {
                hasher.VerifyDummy(body.Password ?? "");   // same work as a real check: no user enumeration by timing
                return Results.Unauthorized();
            }

            switch (hasher.Verify(body.Password ?? "", account.Value.Hash))
            {
                case PasswordVerificationResult.SuccessRehashNeeded:
                    await UpdateAsync(db, body.Email!, hasher.Hash(body.Password!), account.Value.Previous);
                    return Results.Ok(new { email = body.Email, rehashed = true });
                case PasswordVerificationResult.Success:
                    return Results.Ok(new { email = body.Email, rehashed = false });
                default:
                    return Results.Unauthorized();
            }
        });

        app.MapPost("/auth/change-password", async (PasswordChange body, PasswordHasher hasher) =>
        {
            var account = await FindAsync(db, body.Email);
            if (account is null || hasher.Verify(body.CurrentPassword ?? "", account.Value.Hash) == PasswordVerificationResult.Failed)
            {
                return Results.Unauthorized();
            }

            if (string.IsNullOrEmpty(body.NewPassword))
            {
                return Results.Problem("The new password is required.", statusCode: StatusCodes.Status400BadRequest);
            }

            string[] history = [account.Value.Hash, .. account.Value.Previous];
            if (hasher.IsReused(body.NewPassword, history))
            {
                return Results.Problem("The new password was used recently; choose another.", statusCode: StatusCodes.Status409Conflict);
            }

            string hash;
            try
            {
                hash = hasher.Hash(body.NewPassword);
            }
            catch (ArgumentException ex)
            {
                return Results.Problem(ex.Message, statusCode: StatusCodes.Status400BadRequest);
            }

            await UpdateAsync(db, body.Email!, hash, history[..Math.Min(history.Length, 5)]);
            return Results.NoContent();
        });

        return app;
    }

    private static async Task<(string Hash, string[] Previous)?> FindAsync(NpgsqlDataSource db, string? email)
    {
        if (string.IsNullOrEmpty(email))
        {
            return null;
        }

        await using var select = db.CreateCommand("SELECT password_hash, previous_hashes FROM recruiter_accounts WHERE email = $1");
        select.Parameters.Add(new NpgsqlParameter { Value = email });
        await using var reader = await select.ExecuteReaderAsync();
        return await reader.ReadAsync() ? (reader.GetString(0), reader.GetFieldValue<string[]>(1)) : null;
    }

    private static async Task UpdateAsync(NpgsqlDataSource db, string email, string hash, string[] previous)
    {
        await using var update = db.CreateCommand("UPDATE recruiter_accounts SET password_hash = $2, previous_hashes = $3 WHERE email = $1");
        update.Parameters.Add(new NpgsqlParameter { Value = email });
        update.Parameters.Add(new NpgsqlParameter { Value = hash });
        update.Parameters.Add(new NpgsqlParameter { Value = previous });
        await update.ExecuteNonQueryAsync();
    }

    /// <summary>Register and login body.</summary>
    public sealed record Credentials(string? Email, string? Password);

    /// <summary>Change-password body.</summary>
    public sealed record PasswordChange(string? Email, string? CurrentPassword, string? NewPassword);
}
