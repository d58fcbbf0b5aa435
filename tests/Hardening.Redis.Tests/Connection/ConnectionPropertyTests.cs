using System.Text;
using FsCheck;
using FsCheck.Fluent;
using Hardening.Redis.Tests.Protocol;

namespace Hardening.Redis.Tests.Connection;

public sealed class ConnectionPropertyTests(RedisFixture redis) : IClassFixture<RedisFixture>, IAsyncLifetime
{
    private RedisConnection _redis = null!;

    public async Task InitializeAsync() => _redis = await RedisConnection.ConnectAsync(redis.ConnectionString);

    public async Task DisposeAsync() => await _redis.DisposeAsync();

    private enum OpKind
    {
        SetThenGet,
        IncrBy,
        Echo,
        GetMissing,
        Error,
    }

    [Fact]
    public void Arbitrary_binary_values_round_trip_through_set_and_get()
    {
        var keys = Gen.Choose(0, 30).SelectMany(n => Gen.ArrayOf(Gen.Choose(1, 0xD7FF).Select(c => (char)c), n)).Select(cs => "bin:" + new string(cs));
        var cases = from key in keys
                    from value in RespGen.Bytes
                    from asMemory in Gen.Elements(true, false)
                    select (key, value, asMemory);
        Prop.ForAll(cases.ToArbitrary(), c =>
        {
            RedisArg arg = c.asMemory ? new ReadOnlyMemory<byte>([0xEE, .. c.value, 0xEE], 1, c.value.Length) : c.value;
            _redis.SetAsync(c.key, arg).AsTask().GetAwaiter().GetResult();
            var back = _redis.GetAsync(c.key).AsTask().GetAwaiter().GetResult();
            _redis.DeleteAsync(c.key).AsTask().GetAwaiter().GetResult();
            return back is not null && back.AsSpan().SequenceEqual(c.value);
        }).Check(PropertyConfig.Create(200));
    }

    [Fact]
    public void Many_concurrent_callers_with_random_interleavings_each_get_exactly_their_own_reply()
    {
        var op = from kind in Gen.Elements(Enum.GetValues<OpKind>())
                 from number in Gen.Choose(-1000, 1000)
                 from payload in RespGen.Bytes
                 from yields in Gen.Choose(0, 3)
                 select (kind, number, payload, yields);
        var batches = Gen.Choose(1, 60).SelectMany(n => Gen.ArrayOf(op, n));
        Prop.ForAll(batches.ToArbitrary(), ops =>
        {
            var run = Guid.NewGuid().ToString("N");
            var tasks = ops.Select((o, i) => Task.Run(async () =>
            {
                for (var y = 0; y < o.yields; y++)
                {
                    await Task.Yield();
                }

                var key = $"cc:{run}:{i}";
                switch (o.kind)
                {
                    case OpKind.SetThenGet:
                        await _redis.SetAsync(key, o.payload);
                        return (await _redis.GetAsync(key))!.AsSpan().SequenceEqual(o.payload);
                    case OpKind.IncrBy:
                        return await _redis.IncrementAsync(key, o.number) == o.number && await _redis.IncrementAsync(key, 1) == o.number + 1;
                    case OpKind.Echo:
                        return (await _redis.ExecuteAsync("ECHO", [o.payload])).Bytes.Span.SequenceEqual(o.payload);
                    case OpKind.GetMissing:
                        return await _redis.GetAsync(key) is null;
                    default:
                        var ex = await Assert.ThrowsAsync<RedisServerException>(() => _redis.ExecuteAsync("LPUSH", [key]).AsTask());
                        return ex.Message.Contains("wrong number of arguments", StringComparison.Ordinal);
                }
            })).ToArray();
            var ok = Task.WhenAll(tasks).GetAwaiter().GetResult().All(r => r);
            _redis.ExecuteAsync("DEL", [.. Enumerable.Range(0, ops.Length).Select(i => (RedisArg)$"cc:{run}:{i}")]).AsTask().GetAwaiter().GetResult();
            return ok;
        }).Check(PropertyConfig.Create(100));
    }

    [Fact]
    public void Garbage_from_the_server_fails_the_command_with_a_protocol_exception_never_a_hang()
    {
        // A reply that can never become valid, or a valid reply cut short by the server closing the socket.
        var garbage = Gen.OneOf(
            from first in Gen.Choose(0, 255).Where(b => !"+-:$*"u8.Contains((byte)b))
            from rest in RespGen.Bytes
            select (byte[])[(byte)first, .. rest],
            from value in RespGen.Value(2)
            let bytes = RespGen.Encode([value])
            from cut in Gen.Choose(1, bytes.Length - 1)
            select bytes[..cut]);
        Prop.ForAll(garbage.ToArbitrary(), bytes =>
        {
            return Task.Run(async () =>
            {
                await using var fake = new FakeServer(closeAfterReply: true, bytes);
                await using var conn = await RedisConnection.ConnectAsync($"127.0.0.1:{fake.Port},syncTimeout=10000");
                var ex = await Record.ExceptionAsync(() => conn.GetAsync("k").AsTask());
                return ex is RedisProtocolException;
            }).GetAwaiter().GetResult();
        }).Check(PropertyConfig.Create(100));
    }

    [Fact]
    public async Task Text_keys_and_values_are_utf8()
    {
        var key = "ключ:" + Guid.NewGuid().ToString("N") + ":🔑";
        await _redis.SetAsync(key, "значение 🎉");
        Assert.Equal("значение 🎉", Encoding.UTF8.GetString((await _redis.GetAsync(key))!));
        Assert.Equal(1, (await _redis.ExecuteAsync("EXISTS", [Encoding.UTF8.GetBytes(key)])).AsInt64());
        await _redis.DeleteAsync(key);
    }
}
