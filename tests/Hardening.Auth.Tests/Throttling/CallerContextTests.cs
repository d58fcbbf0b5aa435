using System.Net;
using Hardening.Auth;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace Hardening.Auth.Tests.Throttling;

/// <summary>
/// The login throttle and <see cref="PasswordLogin"/> never resume on the caller's <see cref="SynchronizationContext"/>
/// (a caller that blocks on them would deadlock). Redis is reached through a slow link (each reply held 5 ms). With the
/// in-memory store the throttle completes at once, so the app's own password lookup is the first await that waits.
/// </summary>
public sealed class CallerContextTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private static readonly TimeSpan SlowLink = TimeSpan.FromMilliseconds(5);
    private static readonly string Pepper = Convert.ToBase64String([.. Enumerable.Range(1, 32).Select(i => (byte)i)]);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Throttling_and_password_login_do_not_resume_on_the_callers_context(bool useRedis)
    {
        await using var proxy = RoundTripProxy.Start(redis.Server.Host, redis.Server.Port, SlowLink, postgres: false);
        await using var connection = await TestRedis.ConnectAsync($"{redis.Server.Host}:{proxy.Port}");
        var services = new ServiceCollection().AddLogging().AddMetrics();
        services.AddSingleton<IConnectionMultiplexer>(connection);
        services.AddHardeningPasswordHasher(o =>
        {
            o.Pepper = Pepper;
            o.Cost = 4;
        });
        services.AddHardeningLoginThrottle(o =>
        {
            o.UseRedis = useRedis;
            o.KeyPrefix = $"ctx:{Guid.NewGuid():N}:";
        });
        await using var provider = services.BuildServiceProvider();
        var throttle = provider.GetRequiredService<LoginThrottle>();
        var login = provider.GetRequiredService<PasswordLogin>();
        var hash = provider.GetRequiredService<PasswordHasher>().Hash("correct horse");
        var ip = IPAddress.Parse("203.0.113.9");
        var context = new CallerContext();

        Assert.True((await context.Value(() => throttle.AcquireAsync("ann", ip).AsTask())).IsAllowed);
        await context.Run(() => throttle.ResetAsync("ann", ip).AsTask());
        async ValueTask<string?> Find(string account, CancellationToken ct)
        {
            await Task.Delay(SlowLink, ct).ConfigureAwait(false);
            return hash;
        }

        Assert.Equal(PasswordLoginStatus.Succeeded, (await context.Value(() => login.VerifyAsync("ann", "correct horse", ip, Find).AsTask())).Status);
        Assert.NotEqual(PasswordLoginStatus.Succeeded, (await context.Value(() => login.VerifyAsync("ann", "wrong", ip, Find).AsTask())).Status);

        Assert.Equal(0, context.Posts);
    }
}
