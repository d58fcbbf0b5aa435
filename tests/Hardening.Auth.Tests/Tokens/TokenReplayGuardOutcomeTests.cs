using Hardening.Auth;

namespace Hardening.Auth.Tests.Tokens;

/// <summary>
/// The guard's decision for every store answer, at the edges of its time arithmetic, with the log line and counter of
/// each outcome. Stores here answer a fixed value (the guard is the subject); the real stores have their own tests.
/// Fingerprints are the first 8 bytes of SHA-256, hex, from Python's hashlib: "j" is 189f40034be7a199.
/// </summary>
public sealed class TokenReplayGuardOutcomeTests
{
    private const string JtiHash = "189f40034be7a199"; // hashlib.sha256(b"j").hexdigest()[:16]
    private static readonly DateTimeOffset Now = new(2026, 5, 1, 12, 0, 0, 500, TimeSpan.Zero); // half a second into the second

    /// <summary>Answers every add with <paramref name="result"/>, remembering since <paramref name="since"/>, or throws <paramref name="failure"/>.</summary>
    private sealed class FixedStore(ReplayStoreResult result, DateTimeOffset since, Exception? failure = null) : ITokenReplayStore
    {
        public string Name => "fixed";

        public DateTimeOffset? LastRetainUntil { get; private set; }

        public ValueTask<ReplayStoreAnswer> TryAddAsync(ReplayKey key, DateTimeOffset retainUntil, DateTimeOffset now, CancellationToken cancellationToken)
        {
            LastRetainUntil = retainUntil;
            return failure is null ? new(new ReplayStoreAnswer(result, since)) : throw failure;
        }
    }

    private static TokenReplayGuard Guard(AuthTestKit kit, ITokenReplayStore store, Action<TokenReplayGuardOptions>? adjust = null)
    {
        var options = new TokenReplayGuardOptions();
        adjust?.Invoke(options);
        return new TokenReplayGuard(store, options, kit.Time, kit.Metrics, kit.Logger<TokenReplayGuard>());
    }

    [Theory]
    [InlineData(0, "Consumed")] // issued in the second the memory began, even earlier in that second
    [InlineData(-1, "IssuedBeforeStoreLoss")]
    public async Task Issue_times_are_compared_with_the_stores_memory_in_whole_seconds(int seconds, string expected)
    {
        using var kit = new AuthTestKit(Now);
        var guard = Guard(kit, new FixedStore(ReplayStoreResult.Added, Now));
        var issued = new DateTimeOffset(2026, 5, 1, 12, 0, 0, TimeSpan.Zero).AddSeconds(seconds);
        Assert.Equal(Enum.Parse<TokenConsumeResult>(expected), await guard.ConsumeAsync("iss", "j", issued, Now.AddHours(1)));
    }

    [Fact]
    public async Task A_token_issued_before_the_stores_memory_is_refused_logged_and_counted()
    {
        using var kit = new AuthTestKit(Now);
        var guard = Guard(kit, new FixedStore(ReplayStoreResult.Added, Now));
        Assert.Equal(TokenConsumeResult.IssuedBeforeStoreLoss, await guard.ConsumeAsync("https://iss", "j", Now.AddMinutes(-1), Now.AddHours(1)));
        var ev = Assert.Single(kit.Logs.Events("TokenIssuedBeforeStoreLoss"));
        Assert.Equal(4108, ev.Id.Id);
        Assert.Equal(
            "Single-use token refused because it was issued (2026-05-01T11:59:00.5000000+00:00) before the replay store last lost its memory (2026-05-01T12:00:00.5000000+00:00); it cannot be proven unused: issuer https://iss, jti " + JtiHash + ".",
            ev.Message);
        Assert.Equal(1, kit.Metric("hardening.auth.token.rejected").Sum("reason", "issued_before_store_loss"));
        Assert.Equal(0, kit.Metric("hardening.auth.replay.store_errors").Sum());
    }

    [Fact]
    public async Task A_replay_of_a_token_issued_before_the_stores_memory_is_a_replay()
    {
        using var kit = new AuthTestKit(Now);
        var guard = Guard(kit, new FixedStore(ReplayStoreResult.Exists, Now), o => o.AcceptTokensIssuedBeforeStoreLoss = true);
        Assert.Equal(TokenConsumeResult.Replayed, await guard.ConsumeAsync("iss", "j", Now.AddMinutes(-1), Now.AddHours(1)));
        Assert.Empty(kit.Logs.Events("TokenIssuedBeforeStoreLossAccepted"));

        var strict = Guard(kit, new FixedStore(ReplayStoreResult.Exists, Now));
        Assert.Equal(TokenConsumeResult.Replayed, await strict.ConsumeAsync("iss", "j", Now.AddMinutes(-1), Now.AddHours(1)));
        Assert.Empty(kit.Logs.Events("TokenIssuedBeforeStoreLoss"));
        Assert.Equal(2, kit.Metric("hardening.auth.token.rejected").Sum("reason", "replayed"));
    }

    [Fact]
    public async Task Accepting_tokens_issued_before_the_stores_memory_is_explicit_and_logged_as_critical()
    {
        using var kit = new AuthTestKit(Now);
        var guard = Guard(kit, new FixedStore(ReplayStoreResult.Added, Now), o => o.AcceptTokensIssuedBeforeStoreLoss = true);
        Assert.Equal(TokenConsumeResult.Consumed, await guard.ConsumeAsync("iss", "j", Now.AddMinutes(-1), Now.AddHours(1)));
        var ev = Assert.Single(kit.Logs.Events("TokenIssuedBeforeStoreLossAccepted"));
        Assert.Equal(4109, ev.Id.Id);
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Critical, ev.Level);
        Assert.Empty(kit.Logs.Events("TokenIssuedBeforeStoreLoss"));
        Assert.Equal(0, kit.Metric("hardening.auth.token.rejected").Sum());
    }

    [Fact]
    public async Task An_expired_token_is_logged_with_its_issuer_and_jti_fingerprint_and_never_reaches_the_store()
    {
        using var kit = new AuthTestKit(Now);
        var store = new FixedStore(ReplayStoreResult.Added, Now.AddHours(-2));
        var guard = Guard(kit, store, o => o.ClockSkew = TimeSpan.FromMinutes(2));

        // exp + skew == now: expired (the id would be forgotten at this very instant).
        Assert.Equal(TokenConsumeResult.Expired, await guard.ConsumeAsync("iss", "j", Now.AddHours(-1), Now.AddMinutes(-2)));
        Assert.Null(store.LastRetainUntil);
        var ev = Assert.Single(kit.Logs.Events("ExpiredTokenNotConsumed"));
        Assert.Equal(4107, ev.Id.Id);
        Assert.Equal("Single-use token refused because it is past its expiry plus clock skew: issuer iss, jti " + JtiHash + ".", ev.Message);
        Assert.Equal(1, kit.Metric("hardening.auth.token.rejected").Sum("reason", "expired"));

        // One tick later it is kept until exactly exp + skew.
        Assert.Equal(TokenConsumeResult.Consumed, await guard.ConsumeAsync("iss", "j", Now.AddHours(-1), Now.AddMinutes(-2).AddTicks(1)));
        Assert.Equal(Now.AddTicks(1), store.LastRetainUntil);
    }

    [Fact]
    public async Task An_expiry_near_the_end_of_time_is_kept_until_the_end_of_time()
    {
        using var kit = new AuthTestKit(Now);
        var store = new FixedStore(ReplayStoreResult.Added, Now);
        var guard = Guard(kit, store);
        Assert.Equal(TokenConsumeResult.Consumed, await guard.ConsumeAsync("iss", "j", Now, DateTimeOffset.MaxValue));
        Assert.Equal(DateTimeOffset.MaxValue, store.LastRetainUntil);
        Assert.Equal(TokenConsumeResult.Consumed, await guard.ConsumeAsync("iss", "j", Now, DateTimeOffset.MaxValue - TimeSpan.FromMinutes(5)));
        Assert.Equal(DateTimeOffset.MaxValue, store.LastRetainUntil);
        Assert.Equal(TokenConsumeResult.Consumed, await guard.ConsumeAsync("iss", "j", Now, DateTimeOffset.MaxValue - TimeSpan.FromMinutes(5) - TimeSpan.FromTicks(1)));
        Assert.Equal(DateTimeOffset.MaxValue - TimeSpan.FromTicks(1), store.LastRetainUntil);
    }

    [Fact]
    public async Task Issue_time_may_equal_the_expiry_but_not_follow_it()
    {
        using var kit = new AuthTestKit(Now);
        var guard = Guard(kit, new FixedStore(ReplayStoreResult.Added, Now));
        Assert.Equal(TokenConsumeResult.Consumed, await guard.ConsumeAsync("iss", "j", Now.AddHours(1), Now.AddHours(1)));
        var ex = await Assert.ThrowsAsync<ArgumentException>("issuedAt", async () => await guard.ConsumeAsync("iss", "j", Now.AddHours(1).AddTicks(1), Now.AddHours(1)));
        Assert.StartsWith(
            "The token's issue time (2026-05-01T13:00:00.5000001+00:00) is after its expiry (2026-05-01T13:00:00.5000000+00:00); such a token is malformed.",
            ex.Message,
            StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_store_failure_that_is_not_a_cancellation_by_the_caller_is_refused_with_the_failure_attached()
    {
        using var kit = new AuthTestKit(Now);
        var timeout = new OperationCanceledException("the store timed out");
        var guard = Guard(kit, new FixedStore(ReplayStoreResult.Added, Now, timeout));
        Assert.Equal(TokenConsumeResult.StoreUnavailable, await guard.ConsumeAsync("https://iss", "j", Now, Now.AddHours(1)));
        var ev = Assert.Single(kit.Logs.Events("ReplayStoreUnavailable"));
        Assert.Same(timeout, ev.Exception);
        Assert.Equal("Token replay store fixed failed; the token was refused (fail closed): issuer https://iss, jti " + JtiHash + ".", ev.Message);
        Assert.Empty(kit.Logs.Events("ReplayStoreFull"));
        Assert.Equal(1, kit.Metric("hardening.auth.replay.store_errors").Sum());
    }

    [Fact]
    public async Task An_argument_error_from_the_store_is_the_callers_and_propagates()
    {
        using var kit = new AuthTestKit(Now);
        var guard = Guard(kit, new FixedStore(ReplayStoreResult.Added, Now, new ArgumentException("bad", "key")));
        await Assert.ThrowsAsync<ArgumentException>("key", async () => await guard.ConsumeAsync("iss", "j", Now, Now.AddHours(1)));
        Assert.Empty(kit.Logs.Events("ReplayStoreUnavailable"));
    }

    [Fact]
    public async Task A_full_store_is_refused_with_the_full_event_and_fail_open_accepts_it_loudly()
    {
        using var kit = new AuthTestKit(Now);
        var full = Guard(kit, new FixedStore(ReplayStoreResult.Full, Now), o => o.MaxInMemoryEntries = 7);
        Assert.Equal(TokenConsumeResult.StoreUnavailable, await full.ConsumeAsync("iss", "j", Now, Now.AddHours(1)));
        Assert.Equal("In-memory token replay store is full (7 live entries); the token was refused (fail closed). Raise MaxInMemoryEntries or use Redis.", Assert.Single(kit.Logs.Events("ReplayStoreFull")).Message);
        Assert.Null(Assert.Single(kit.Logs.Events("ReplayStoreUnavailable")).Exception);

        var open = Guard(kit, new FixedStore(ReplayStoreResult.Full, Now), o => o.FailOpen = true);
        Assert.Equal(
            "Token replay guard configured with FailOpen = true: when the store (fixed) is unreachable, tokens are accepted without a replay check.",
            Assert.Single(kit.Logs.Events("ReplayGuardFailOpenConfigured")).Message);
        Assert.Equal(TokenConsumeResult.Consumed, await open.ConsumeAsync("iss", "j", Now, Now.AddHours(1)));
        var ev = Assert.Single(kit.Logs.Events("ReplayStoreUnavailableFailOpen"));
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Critical, ev.Level);
        Assert.Equal("Token replay store fixed failed and FailOpen is set: the token was ACCEPTED without a replay check: issuer iss, jti " + JtiHash + ".", ev.Message);
        Assert.Single(kit.Logs.Events("ReplayStoreUnavailable")); // not logged again as a refusal
        Assert.Equal(2, kit.Metric("hardening.auth.replay.store_errors").Sum());
        Assert.Equal(1, kit.Metric("hardening.auth.token.rejected").Sum("reason", "store_unavailable")); // the accepted one is not a rejection
    }

    [Fact]
    public async Task A_replay_log_names_the_issuer_and_only_a_fingerprint_of_the_jti()
    {
        using var kit = new AuthTestKit(Now);
        var guard = Guard(kit, new FixedStore(ReplayStoreResult.Exists, Now));
        Assert.False(await guard.TryConsumeAsync("https://iss", "j", Now, Now.AddHours(1)));
        Assert.Equal("Replayed single-use token refused: issuer https://iss, jti " + JtiHash + ".", Assert.Single(kit.Logs.Events("ReplayDetected")).Message);
        Assert.True(await Guard(kit, new FixedStore(ReplayStoreResult.Added, Now)).TryConsumeAsync("iss", "j", Now, Now.AddHours(1)));
    }

    [Fact]
    public void The_store_is_required()
    {
        using var kit = new AuthTestKit(Now);
        Assert.Throws<ArgumentNullException>("store", () => new TokenReplayGuard(null!, new TokenReplayGuardOptions(), kit.Time, kit.Metrics, kit.Logger<TokenReplayGuard>()));
        Assert.Throws<ArgumentNullException>("options", () => new TokenReplayGuard(new FixedStore(ReplayStoreResult.Added, Now), null!, kit.Time, kit.Metrics, kit.Logger<TokenReplayGuard>()));
    }
}
