using System.Text;

namespace Hardening.Redis.Tests.Commands;

public sealed class ScriptTests
{
    private static readonly RedisScript Script = new("redis.call('SET', KEYS[1], ARGV[1]); return redis.call('INCRBY', KEYS[2], ARGV[2])");

    [Fact]
    public void Sha1_matches_the_servers_digest_format()
    {
        // Known SHA-1 of "return 1" (as SCRIPT LOAD returns it).
        Assert.Equal("e0e1f9fabfc9d4800c877a703b823ac0578ff8db", new RedisScript("return 1").Sha1);
        Assert.Throws<ArgumentException>(() => new RedisScript(" "));
    }

    [Fact]
    public async Task Script_is_loaded_once_and_still_runs_after_script_flush()
    {
        // A dedicated server so that the SCRIPT LOAD count is ours alone.
        await using var server = await RedisServer.StartAsync();
        await using var redis = await RedisConnection.ConnectAsync(server.ConnectionString);

        for (var i = 1; i <= 5; i++)
        {
            var reply = await redis.EvaluateAsync(Script, ["s:value", "s:counter"], ["v" + i, 2L]);
            Assert.Equal(2 * i, reply.AsInt64());
        }

        Assert.Equal(1, await ScriptLoadCallsAsync(redis));
        Assert.Equal("v5", Encoding.UTF8.GetString((await redis.GetAsync("s:value"))!));

        await redis.ExecuteAsync("SCRIPT FLUSH", []);
        Assert.Equal(0, (await redis.ExecuteAsync("SCRIPT EXISTS", [Script.Sha1])).Items[0].AsInt64());

        Assert.Equal(12, (await redis.EvaluateAsync(Script, ["s:value", "s:counter"], ["again", 2L])).AsInt64());
        Assert.Equal(13, (await redis.EvaluateAsync(Script, ["s:value", "s:counter"], ["again", 1L])).AsInt64());
        Assert.Equal(2, await ScriptLoadCallsAsync(redis));
    }

    [Fact]
    public async Task Lua_errors_surface_as_server_exceptions()
    {
        var shared = await RedisServer.Shared;
        await using var redis = await RedisConnection.ConnectAsync(shared.ConnectionString);
        var ex = await Assert.ThrowsAsync<RedisServerException>(() => redis.EvaluateAsync(new RedisScript("return redis.call('NOSUCH')"), [], []).AsTask());
        Assert.Contains("Unknown Redis command", ex.Message, StringComparison.OrdinalIgnoreCase);
        var nested = await redis.EvaluateAsync(new RedisScript("return {1, 'two', redis.status_reply('OK')}"), [], []);
        Assert.Equal("*3 [:1, $3 two, +OK]", nested.ToString());
    }

    private static async Task<long> ScriptLoadCallsAsync(RedisConnection redis)
    {
        var info = (await redis.ExecuteAsync("INFO", ["commandstats"])).AsString()!;
        var line = info.Split("\r\n").FirstOrDefault(l => l.StartsWith("cmdstat_script|load:", StringComparison.Ordinal));
        if (line is null)
        {
            return 0;
        }

        var calls = line.Split(':')[1].Split(',')[0];
        return long.Parse(calls.Split('=')[1], System.Globalization.CultureInfo.InvariantCulture);
    }
}
