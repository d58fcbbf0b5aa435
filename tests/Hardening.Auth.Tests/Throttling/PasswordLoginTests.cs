using System.Net;
using System.Net.Http.Json;
using Hardening.Auth;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using PasswordVerificationResult = Microsoft.AspNetCore.Identity.PasswordVerificationResult;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Hardening.Auth.Tests.Throttling;

public sealed class PasswordLoginTests
{
    [Fact]
    public async Task Unknown_and_known_accounts_fail_identically_with_exactly_one_verification_each()
    {
        await using var host = await LoginHost.StartAsync();

        var unknown = await host.LoginAsync("nobody@example.test", "wrong-password");
        var unknownVerifications = host.Verifier.Reset();
        var known = await host.LoginAsync("alice@example.test", "wrong-password");
        var knownVerifications = host.Verifier.Reset();

        Assert.Equal(HttpStatusCode.Unauthorized, unknown.Status);
        Assert.Equal(unknown.Status, known.Status);
        Assert.Equal(unknown.Body, known.Body);
        Assert.Equal(unknown.Headers, known.Headers);
        Assert.Equal((Real: 0, Dummy: 1), unknownVerifications);
        Assert.Equal((Real: 1, Dummy: 0), knownVerifications);
        Assert.Equal(2, host.Kit.Metric("hardening.auth.login.failures").Sum());
    }

    [Fact]
    public async Task Unknown_and_known_accounts_are_throttled_identically()
    {
        await using var host = await LoginHost.StartAsync();
        var responses = new Dictionary<string, LoginHost.Response>();
        foreach (var account in new[] { "nobody@example.test", "alice@example.test" })
        {
            for (var i = 0; i < 3; i++)
            {
                Assert.Equal(HttpStatusCode.Unauthorized, (await host.LoginAsync(account, "wrong")).Status);
            }

            host.Verifier.Reset();
            responses[account] = await host.LoginAsync(account, "wrong");
            Assert.Equal((0, 0), host.Verifier.Reset()); // refused before any verification
        }

        var a = responses["nobody@example.test"];
        var b = responses["alice@example.test"];
        Assert.Equal(HttpStatusCode.TooManyRequests, a.Status);
        Assert.Equal(a.Status, b.Status);
        Assert.Equal(a.Body, b.Body);
        Assert.Equal(a.Headers, b.Headers);
        Assert.Contains("Retry-After: 60", a.Headers, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_right_password_succeeds_and_resets_the_counters()
    {
        await using var host = await LoginHost.StartAsync();
        Assert.Equal(HttpStatusCode.Unauthorized, (await host.LoginAsync("alice@example.test", "wrong")).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await host.LoginAsync("alice@example.test", "wrong")).Status);
        Assert.Equal(HttpStatusCode.OK, (await host.LoginAsync("Alice@Example.test", LoginHost.AlicePassword)).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await host.LoginAsync("alice@example.test", "wrong")).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await host.LoginAsync("alice@example.test", "wrong")).Status);
        Assert.Equal(HttpStatusCode.OK, (await host.LoginAsync("alice@example.test", LoginHost.AlicePassword)).Status);
    }

    [Fact]
    public void Registration_without_a_password_hasher_names_the_missing_call()
    {
        using var sp = new ServiceCollection().AddLogging().AddHardeningLoginThrottle().BuildServiceProvider();
        var ex = Assert.Throws<InvalidOperationException>(() => sp.GetRequiredService<PasswordLogin>());
        Assert.Contains("AddHardeningPasswordHasher", ex.Message, StringComparison.Ordinal);
    }

    /// <summary>The real hasher, counting the verifications it performs.</summary>
    internal sealed class CountingVerifier(PasswordHasher hasher) : IPasswordVerifier
    {
        private int _real;
        private int _dummy;

        public PasswordVerificationResult Verify(string password, string hash)
        {
            Interlocked.Increment(ref _real);
            return hasher.Verify(password, hash);
        }

        public void VerifyDummy(string password)
        {
            Interlocked.Increment(ref _dummy);
            hasher.VerifyDummy(password);
        }

        public (int Real, int Dummy) Reset() => (Interlocked.Exchange(ref _real, 0), Interlocked.Exchange(ref _dummy, 0));
    }

    internal sealed class LoginHost : IAsyncDisposable
    {
        public const string AlicePassword = "correct horse battery staple";
        private readonly WebApplication _app;

        private LoginHost(WebApplication app, Tokens.AuthTestKit kit, CountingVerifier verifier)
        {
            _app = app;
            Kit = kit;
            Verifier = verifier;
        }

        public sealed record Response(HttpStatusCode Status, string Body, string Headers);

        public Tokens.AuthTestKit Kit { get; }

        public CountingVerifier Verifier { get; }

        public static async Task<LoginHost> StartAsync()
        {
            var kit = new Tokens.AuthTestKit();
            var hasher = new PasswordHasher(new PasswordHasherOptions { Cost = PasswordHasherOptions.MinCost });
            var users = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["alice@example.test"] = hasher.Hash(AlicePassword) };
            var verifier = new CountingVerifier(hasher);
            var throttle = LoginThrottleTests.Create(kit, new LoginThrottleOptions { AccountAndIp = new() { Threshold = 3 } });
            var login = new PasswordLogin(throttle, verifier, kit.Metrics, kit.Logger<PasswordLogin>());

            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseTestServer();
            builder.Logging.ClearProviders();
            var app = builder.Build();

            // The test server has no connection address; a real one always does (a missing address is refused).
            app.Use((http, next) =>
            {
                http.Connection.RemoteIpAddress = IPAddress.Parse("192.0.2.10");
                return next(http);
            });
            app.MapPost("/login", async (LoginForm form, HttpContext http) =>
            {
                var result = await login.VerifyAsync(form.Account, form.Password, http.Connection.RemoteIpAddress,
                    (account, _) => ValueTask.FromResult(users.GetValueOrDefault(account.Trim())), http.RequestAborted);
                switch (result.Status)
                {
                    case PasswordLoginStatus.Succeeded:
                        return Results.Text("welcome");
                    case PasswordLoginStatus.Throttled:
                        http.Response.Headers.RetryAfter = result.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                        return Results.Text("Too many attempts; try again later.", statusCode: StatusCodes.Status429TooManyRequests);
                    default:
                        return Results.Text("Wrong account name or password.", statusCode: StatusCodes.Status401Unauthorized);
                }
            });
            await app.StartAsync();
            return new LoginHost(app, kit, verifier);
        }

        public async Task<Response> LoginAsync(string account, string password)
        {
            using var response = await _app.GetTestClient().PostAsJsonAsync("/login", new LoginForm(account, password));
            var headers = string.Join("\n", response.Headers.Concat(response.Content.Headers).OrderBy(h => h.Key, StringComparer.Ordinal).Select(h => $"{h.Key}: {string.Join(",", h.Value)}"));
            return new Response(response.StatusCode, await response.Content.ReadAsStringAsync(), headers);
        }

        public async ValueTask DisposeAsync()
        {
            await _app.DisposeAsync();
            Kit.Dispose();
        }
    }

    internal sealed record LoginForm(string Account, string Password);
}
