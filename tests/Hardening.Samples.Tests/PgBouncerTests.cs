using System.Net;

namespace Hardening.Samples.Tests;

/// <summary>
/// The sample behind PgBouncer in transaction pooling mode (as the reliability drills run it): consecutive
/// transactions of one Npgsql connection land on different server connections, so a statement prepared on one is
/// missing on the next. With <c>Max Auto Prepare=0</c> in its connection string the host must not turn auto-prepare on.
/// </summary>
public sealed class PgBouncerTests
{
    [Fact]
    public async Task Behind_transaction_pooling_with_auto_prepare_off_repeated_requests_never_fail()
    {
        var host = new AtsHost { PgBouncerPoolSize = 3 };
        await host.InitializeAsync();
        try
        {
            var tenant = await host.NewTenantAsync();
            var created = await tenant.CreateCandidateAsync("Ada");
            var id = created.GetProperty("id").GetString();
            using var http = tenant.Client();

            // Every statement is used many times (auto-prepare would prepare it after two uses), from many connections at once.
            for (var round = 0; round < 10; round++)
            {
                var responses = await Task.WhenAll(Enumerable.Range(0, 16).Select(async i =>
                {
                    using var r = await http.GetAsync(new Uri(i % 2 == 0 ? "/api/candidates" : $"/api/candidates/{id}", UriKind.Relative));
                    return (r.StatusCode, Body: await r.Content.ReadAsStringAsync());
                }));
                Assert.All(responses, r => Assert.True(r.StatusCode == HttpStatusCode.OK, $"{r.StatusCode}: {r.Body}\n{host.Log}"));
            }
        }
        finally
        {
            await host.DisposeAsync();
        }
    }
}
