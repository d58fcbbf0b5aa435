using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Hardening.Redis.Tests.DependencyInjection;

public sealed class ServiceCollectionTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    [Fact]
    public async Task Connection_string_overload_registers_one_working_singleton()
    {
        var services = new ServiceCollection();
        services.AddHardeningRedis(redis.ConnectionString + ",name=di-test");
        services.AddHardeningRedis("other-host:1"); // does not replace the first registration
        await using var provider = services.BuildServiceProvider();
        var a = provider.GetRequiredService<RedisConnection>();
        Assert.Same(a, provider.GetRequiredService<RedisConnection>());
        await a.PingAsync();
        Assert.Equal("di-test", (await a.ExecuteAsync("CLIENT GETNAME", [])).AsString());
    }

    [Fact]
    public void Bad_connection_string_fails_at_registration_naming_the_option()
    {
        var ex = Assert.ThrowsAny<ArgumentException>(() => new ServiceCollection().AddHardeningRedis("localhost,syncTimeout=soon"));
        Assert.Contains("'syncTimeout'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Options_overload_validates_at_start()
    {
        var services = new ServiceCollection();
        services.AddHardeningRedis(o => o.SyncTimeout = TimeSpan.FromSeconds(1)); // no endpoint
        await using var provider = services.BuildServiceProvider();
        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<RedisConnectionOptions>>().Value);
        Assert.Contains("no endpoint", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Options_overload_connects()
    {
        var services = new ServiceCollection();
        var server = await RedisServer.Shared;
        services.AddHardeningRedis(o => o.Endpoints.Add(new RedisEndpoint(server.Host, server.Port)));
        await using var provider = services.BuildServiceProvider();
        await provider.GetRequiredService<RedisConnection>().PingAsync();
    }
}
