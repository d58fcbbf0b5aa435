using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Hardening.Auth;

namespace Hardening.Auth.Tests.Tokens;

public sealed class TokenReplayGuardTests
{
    private static readonly TimeSpan Skew = TimeSpan.FromMinutes(5);

    internal static TokenReplayGuard MemoryGuard(AuthTestKit kit, int maxEntries = 10_000, bool failOpen = false) =>
        new(new InMemoryTokenReplayStore(maxEntries, kit.Time), new TokenReplayGuardOptions { ClockSkew = Skew, MaxInMemoryEntries = maxEntries, FailOpen = failOpen },
            kit.Time, kit.Metrics, kit.Logger<TokenReplayGuard>());

    [Property(MaxTest = 100)]
    public Property Consume_is_exactly_once_under_concurrency() =>
        Prop.ForAll(Gen.Choose(2, 64).ToArbitrary(), consumers =>
        {
            using var kit = new AuthTestKit();
            var guard = MemoryGuard(kit);
            var jti = Guid.NewGuid().ToString();
            var exp = kit.Time.GetUtcNow().AddMinutes(10);
            var results = ConcurrentConsumers.RunAsync(consumers, () => guard.TryConsumeAsync("https://issuer", jti, exp)).GetAwaiter().GetResult();
            return results.Count(r => r) == 1;
        });

    [Property(MaxTest = 200)]
    public Property A_jti_is_refused_until_exp_plus_skew_and_forgotten_after() =>
        Prop.ForAll(Gen.Choose(1, 3600).ToArbitrary(), Gen.Choose(0, 7199).ToArbitrary(), (lifetimeSeconds, probeSeconds) =>
        {
            using var kit = new AuthTestKit();
            var guard = MemoryGuard(kit);
            var start = kit.Time.GetUtcNow();
            var exp = start.AddSeconds(lifetimeSeconds);
            var consumed = guard.TryConsumeAsync("iss", "jti-1", exp).AsTask().GetAwaiter().GetResult();

            kit.Time.Advance(TimeSpan.FromSeconds(probeSeconds));
            var now = kit.Time.GetUtcNow();
            var replay = guard.TryConsumeAsync("iss", "jti-1", exp).AsTask().GetAwaiter().GetResult();

            // Once exp + skew has passed the id is forgotten: the same jti on a token with a later exp is accepted.
            var reissued = guard.TryConsumeAsync("iss", "jti-1", now.AddMinutes(1)).AsTask().GetAwaiter().GetResult();
            var forgotten = now >= exp + Skew;
            return consumed && !replay && reissued == forgotten;
        });

    [Fact]
    public async Task Different_issuers_do_not_share_jtis()
    {
        using var kit = new AuthTestKit();
        var guard = MemoryGuard(kit);
        var exp = kit.Time.GetUtcNow().AddMinutes(1);
        Assert.True(await guard.TryConsumeAsync("https://a", "1", exp));
        Assert.True(await guard.TryConsumeAsync("https://b", "1", exp));
        Assert.False(await guard.TryConsumeAsync("https://a", "1", exp));
    }

    [Fact]
    public async Task A_replay_raises_a_security_event_and_is_counted_with_its_reason()
    {
        using var kit = new AuthTestKit();
        var guard = MemoryGuard(kit);
        var exp = kit.Time.GetUtcNow().AddMinutes(1);
        Assert.True(await guard.TryConsumeAsync("iss", "secret-jti-value", exp));
        Assert.False(await guard.TryConsumeAsync("iss", "secret-jti-value", exp));

        var ev = Assert.Single(kit.Logs.Events("ReplayDetected"));
        Assert.Equal(4102, ev.Id.Id);
        Assert.DoesNotContain("secret-jti-value", ev.Message, StringComparison.Ordinal);
        Assert.Equal(1, kit.Metric("hardening.auth.token.rejected").Sum("reason", "replayed"));
    }

    [Fact]
    public async Task A_token_already_past_exp_plus_skew_is_refused()
    {
        using var kit = new AuthTestKit();
        var guard = MemoryGuard(kit);
        var exp = kit.Time.GetUtcNow() - Skew - TimeSpan.FromSeconds(1);
        Assert.False(await guard.TryConsumeAsync("iss", "old", exp));
        Assert.Equal(1, kit.Metric("hardening.auth.token.rejected").Sum("reason", "expired"));
    }

    [Fact]
    public async Task Bad_arguments_are_named()
    {
        using var kit = new AuthTestKit();
        var guard = MemoryGuard(kit);
        var exp = kit.Time.GetUtcNow().AddMinutes(1);
        await Assert.ThrowsAsync<ArgumentNullException>("issuer", async () => await guard.TryConsumeAsync(null!, "j", exp));
        await Assert.ThrowsAsync<ArgumentException>("jti", async () => await guard.TryConsumeAsync("iss", "", exp));
    }

    [Fact]
    public async Task Store_failure_is_denied_logged_and_counted()
    {
        using var kit = new AuthTestKit();
        var guard = new TokenReplayGuard(new FailingStore(), new TokenReplayGuardOptions(), kit.Time, kit.Metrics, kit.Logger<TokenReplayGuard>());
        Assert.False(await guard.TryConsumeAsync("iss", "j", kit.Time.GetUtcNow().AddMinutes(1)));
        var ev = Assert.Single(kit.Logs.Events("ReplayStoreUnavailable"));
        Assert.IsType<StackExchange.Redis.RedisConnectionException>(ev.Exception);
        Assert.Equal(1, kit.Metric("hardening.auth.replay.store_errors").Sum());
        Assert.Equal(1, kit.Metric("hardening.auth.token.rejected").Sum("reason", "store_unavailable"));
    }

    [Fact]
    public async Task Fail_open_is_explicit_and_logged_at_start_and_on_each_use()
    {
        using var kit = new AuthTestKit();
        var guard = new TokenReplayGuard(new FailingStore(), new TokenReplayGuardOptions { FailOpen = true }, kit.Time, kit.Metrics, kit.Logger<TokenReplayGuard>());
        Assert.Single(kit.Logs.Events("ReplayGuardFailOpenConfigured"));
        Assert.True(await guard.TryConsumeAsync("iss", "j", kit.Time.GetUtcNow().AddMinutes(1)));
        Assert.Single(kit.Logs.Events("ReplayStoreUnavailableFailOpen"));
    }

    [Fact]
    public async Task Cancellation_propagates_instead_of_being_reported_as_a_store_failure()
    {
        using var kit = new AuthTestKit();
        var guard = new TokenReplayGuard(new FailingStore(), new TokenReplayGuardOptions(), kit.Time, kit.Metrics, kit.Logger<TokenReplayGuard>());
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await guard.TryConsumeAsync("iss", "j", kit.Time.GetUtcNow().AddMinutes(1), cts.Token));
        Assert.Empty(kit.Logs.Events("ReplayStoreUnavailable"));
    }

    /// <summary>A store whose server is gone (the real Redis outage is covered by RedisTokenReplayStoreTests).</summary>
    private sealed class FailingStore : ITokenReplayStore
    {
        public string Name => "failing";

        public ValueTask<ReplayStoreAnswer> TryAddAsync(ReplayKey key, DateTimeOffset retainUntil, DateTimeOffset now, CancellationToken cancellationToken)
        {
            cancellationToken.ThrowIfCancellationRequested();
            throw new StackExchange.Redis.RedisConnectionException(StackExchange.Redis.ConnectionFailureType.UnableToConnect, StackExchange.Redis.CommandFlags.None, "connection refused", null, StackExchange.Redis.CommandStatus.Unknown);
        }
    }
}

internal static class ConcurrentConsumers
{
    /// <summary>Starts <paramref name="count"/> callers that are released together, and collects their answers.</summary>
    public static async Task<bool[]> RunAsync(int count, Func<ValueTask<bool>> consume)
    {
        using var gate = new Barrier(count);
        var tasks = Enumerable.Range(0, count).Select(_ => Task.Factory.StartNew(() =>
        {
            gate.SignalAndWait();
            return consume().AsTask();
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap()).ToArray();
        return await Task.WhenAll(tasks);
    }
}

/// <summary>
/// The guard's pre-issue-time signature for the tests written before <c>iat</c> was required: the token counts as issued
/// just before it expires, which is after the store's memory began in every such test.
/// </summary>
internal static class GuardTestExtensions
{
    public static ValueTask<bool> TryConsumeAsync(this TokenReplayGuard guard, string issuer, string jti, DateTimeOffset expiresAt, CancellationToken cancellationToken = default) =>
        guard.TryConsumeAsync(issuer, jti, expiresAt == DateTimeOffset.MinValue ? expiresAt : expiresAt.AddTicks(-1), expiresAt, cancellationToken);
}
