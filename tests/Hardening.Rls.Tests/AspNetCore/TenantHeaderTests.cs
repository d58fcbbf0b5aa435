using System.Net;
using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;

namespace Hardening.Rls.Tests.AspNetCore;

public sealed class TenantHeaderTests(AppRoleDatabaseFixture fixture) : IClassFixture<AppRoleDatabaseFixture>, IAsyncLifetime
{
    private readonly Guid _tenant = Guid.NewGuid();
    private readonly FakeLogCollector _logs = new();
    private WebApplication _app = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        await fixture.Server.ExecuteAsync($"INSERT INTO jobs (tenant_id, id, title) VALUES ('{_tenant}', gen_random_uuid(), 'one'), ('{_tenant}', gen_random_uuid(), 'two')", fixture.Database);
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders().AddProvider(new FakeLoggerProvider(_logs));
        builder.Services.AddSingleton(_ => AtsDatabase.AppDataSource(fixture.Server, fixture.Database));
        builder.Services.AddHardeningRls();
        _app = builder.Build();

        // Stand-in for authentication: claims from test headers.
        _app.Use((ctx, next) =>
        {
            if (ctx.Request.Headers.TryGetValue("X-Test-Tenant-Claim", out var claims))
            {
                ctx.User = new ClaimsPrincipal(new ClaimsIdentity(
                    [.. claims.Select(c => new Claim("tenant_id", c!)), new Claim(ClaimTypes.NameIdentifier, "user-1"), new Claim(ClaimTypes.Role, "recruiter")], "test"));
            }

            return next(ctx);
        });
        _app.UseHardeningRls();
        _app.MapGet("/jobs/count", async (TenantDataSource db, ITenantContext tenant) =>
        {
            await using var session = await db.OpenSessionAsync(tenant);
            await using var cmd = session.CreateCommand("SELECT count(*)::int FROM jobs");
            return Results.Text($"{tenant.TenantId}|{tenant.UserId}|{string.Join(',', tenant.Roles)}|{await session.ExecuteScalarAsync(cmd)}");
        });
        await _app.StartAsync();
        _client = _app.GetTestClient();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _app.DisposeAsync();
    }

    [Fact]
    public async Task The_tenant_comes_from_the_claim()
    {
        using var response = await SendAsync(claim: [_tenant.ToString()], header: null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal($"{_tenant}|user-1|recruiter|2", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_matching_header_is_accepted()
    {
        using var response = await SendAsync(claim: [_tenant.ToString()], header: _tenant.ToString());
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task A_header_that_disagrees_with_the_claim_gets_403_a_security_event_and_a_metric()
    {
        using var mismatches = new MetricCollector<long>(_app.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), RlsMeters.MeterName, RlsMeters.TenantMismatches);
        using var response = await SendAsync(claim: [_tenant.ToString()], header: Guid.NewGuid().ToString());
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains(_logs.GetSnapshot(), e => e.Id.Id == 6101 && e.Level == LogLevel.Warning);
        Assert.Equal(1, mismatches.Sum());
        Assert.Equal(RlsMeters.MeterName, mismatches.Instrument?.Meter.Name);
    }

    [Fact]
    public async Task A_header_without_a_tenant_claim_or_with_ambiguous_claims_gets_403()
    {
        using (var noClaim = await SendAsync(claim: ["   ", "x"], header: _tenant.ToString()))
        {
            Assert.Equal(HttpStatusCode.Forbidden, noClaim.StatusCode);
        }

        using var twoClaims = await SendAsync(claim: [_tenant.ToString(), Guid.NewGuid().ToString()], header: _tenant.ToString());
        Assert.Equal(HttpStatusCode.Forbidden, twoClaims.StatusCode);
    }

    [Fact]
    public async Task Tenant_scoped_work_without_a_tenant_claim_is_403_not_500()
    {
        using var anonymous = await SendAsync(claim: null, header: null);
        Assert.Equal(HttpStatusCode.Forbidden, anonymous.StatusCode);
        Assert.Contains(_logs.GetSnapshot(), e => e.Id.Id == 6105);

        // An unauthenticated request's header is never trusted as the tenant either.
        using var headerOnly = await SendAsync(claim: null, header: _tenant.ToString());
        Assert.Equal(HttpStatusCode.Forbidden, headerOnly.StatusCode);
    }

    [Fact]
    public void Bad_options_fail_at_start_up_with_a_message()
    {
        var services = new ServiceCollection().AddLogging();
        services.AddHardeningRls(o => o.DataSource.TenantSetting = "tenant id");
        using var sp = services.BuildServiceProvider();
        var e = Assert.Throws<OptionsValidationException>(() => sp.GetRequiredService<IOptions<Hardening.Rls.RlsOptions>>().Value);
        Assert.Contains("'tenant id'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_npgsql_data_source_is_explained()
    {
        var services = new ServiceCollection().AddLogging();
        services.AddHardeningRls();
        using var sp = services.BuildServiceProvider();
        var e = Assert.Throws<InvalidOperationException>(() => sp.GetRequiredService<TenantDataSource>());
        Assert.Contains("NpgsqlDataSource", e.Message, StringComparison.Ordinal);
    }

    private Task<HttpResponseMessage> SendAsync(string[]? claim, string? header)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/jobs/count");
        if (claim is not null)
        {
            request.Headers.Add("X-Test-Tenant-Claim", claim);
        }

        if (header is not null)
        {
            request.Headers.Add("X-Tenant-Id", header);
        }

        return _client.SendAsync(request);
    }
}
