using Hardening.Rls;
using Npgsql;

namespace Hardening.Samples.Ats;

/// <summary>
/// Wires Hardening.Rls into the sample ATS: tenant tables for jobs, the generated RLS migration applied at start-up,
/// a tenant data source whose sessions run as the NOLOGIN role <c>ats_app</c>, the tenant-header check and the
/// readiness lint (<c>/health/ready</c> when the host maps it). PostgreSQL comes from env <c>HARDENING_PG</c>.
/// </summary>
public static class RlsSample
{
    private const string AppRole = "ats_app";

    private const string Tables = """
        CREATE TABLE IF NOT EXISTS ats_jobs (
          tenant_id uuid NOT NULL, id uuid NOT NULL DEFAULT gen_random_uuid(), title text NOT NULL,
          created_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (tenant_id, id));
        CREATE TABLE IF NOT EXISTS ats_applications (
          tenant_id uuid NOT NULL, id uuid NOT NULL DEFAULT gen_random_uuid(), job_id uuid NOT NULL, email text NOT NULL,
          PRIMARY KEY (tenant_id, id));
        """;

    /// <summary>Registers the tenant data source, the claim-based tenant context and the readiness lint.</summary>
    /// <param name="builder">The host builder.</param>
    /// <returns>The builder.</returns>
    public static WebApplicationBuilder AddRlsSample(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var pg = Environment.GetEnvironmentVariable("HARDENING_PG");
        if (string.IsNullOrWhiteSpace(pg))
        {
            return builder;
        }

        // The sample connects with the configured (owner) credentials and switches every session to the NOLOGIN
        // application role, so RLS applies. In production, log in as the application role itself.
        // Auto-prepare makes the per-request tenant context statement a prepared one (see the Rls README, Performance).
        var app = new NpgsqlConnectionStringBuilder(pg) { Options = $"-c role={AppRole}", MaxAutoPrepare = 20, AutoPrepareMinUsages = 2 };
        builder.Services.AddSingleton(NpgsqlDataSource.Create(app.ConnectionString));
        builder.Services.AddHardeningRls(o =>
        {
            o.TenantClaimType = "tenant_id";
            o.Lint.AppRole = AppRole;
        });
        builder.Services.AddHealthChecks().AddHardeningRlsLintCheck();
        builder.Services.AddHostedService(_ => new RlsMigrationRunner(pg));
        return builder;
    }

    /// <summary>Maps <c>/rls/jobs</c> (list and create, for the caller's tenant) and <c>/rls/lint</c>. Call it after authentication middleware.</summary>
    /// <param name="app">The application.</param>
    /// <returns>The application.</returns>
    public static WebApplication MapRlsSample(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        if (string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable("HARDENING_PG")))
        {
            return app;
        }

        app.UseHardeningRls();
        app.MapGet("/rls/jobs", async (TenantDataSource db, ITenantContext tenant, CancellationToken ct) =>
        {
            await using var session = await db.OpenSessionAsync(tenant, ct);
            await using var cmd = session.CreateCommand("SELECT id, title FROM ats_jobs ORDER BY created_at");
            await using var reader = await session.ExecuteReaderAsync(cmd, cancellationToken: ct);
            var jobs = new List<object>();
            while (await reader.ReadAsync(ct))
            {
                jobs.Add(new { id = reader.GetGuid(0), title = reader.GetString(1) });
            }

            return Results.Ok(jobs);
        });
        app.MapPost("/rls/jobs", async (JobInput input, TenantDataSource db, ITenantContext tenant, CancellationToken ct) =>
        {
            if (string.IsNullOrWhiteSpace(input.Title) || input.Title.Length > 200)
            {
                return Results.Problem("title is required (1-200 characters).", statusCode: StatusCodes.Status400BadRequest);
            }

            if (!Guid.TryParse(tenant.TenantId, out var tenantId))
            {
                return Results.Problem("the tenant claim is not a UUID.", statusCode: StatusCodes.Status403Forbidden);
            }

            await using var session = await db.OpenSessionAsync(tenant, ct);
            await using var cmd = session.CreateCommand("INSERT INTO ats_jobs (tenant_id, title) VALUES ($1, $2) RETURNING id");
            cmd.Parameters.Add(new NpgsqlParameter { Value = tenantId });
            cmd.Parameters.Add(new NpgsqlParameter { Value = input.Title });
            var id = (Guid)(await session.ExecuteScalarAsync(cmd, ct))!;
            return Results.Created($"/rls/jobs/{id}", new { id, title = input.Title });
        });
        app.MapGet("/rls/lint", async (RlsLinter linter, TenantDataSource db, CancellationToken ct) =>
            Results.Ok(await linter.LintAsync(db.DataSource, ct)));
        return app;
    }

    private sealed record JobInput(string? Title);

    /// <summary>Creates the sample tables and applies the generated RLS migration (idempotent) at start-up.</summary>
    private sealed class RlsMigrationRunner(string ownerConnectionString) : IHostedService
    {
        public async Task StartAsync(CancellationToken cancellationToken)
        {
            var migration = new TenantSchema(AppRole)
                .Table("ats_jobs")
                .Table("ats_applications", t => t.References("job_id", "ats_jobs").Unique("email"))
                .GenerateMigration();
            await using var conn = new NpgsqlConnection(ownerConnectionString);
            await conn.OpenAsync(cancellationToken);
            await using var cmd = new NpgsqlCommand(Tables + migration.Up, conn);
            await cmd.ExecuteNonQueryAsync(cancellationToken);
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
