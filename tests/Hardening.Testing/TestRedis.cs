using StackExchange.Redis;

namespace Hardening.Testing;

/// <summary>
/// StackExchange.Redis multiplexers with the settings the packages' READMEs recommend: start without Redis
/// (<c>AbortOnConnectFail = false</c>), fail fast instead of queueing while disconnected
/// (<c>BacklogPolicy.FailFast</c>) and short timeouts, so fault tests finish quickly.
/// </summary>
public static class TestRedis
{
    /// <summary>The recommended options over <paramref name="configuration"/> (<c>host:port[,host:port...]</c>).</summary>
    public static ConfigurationOptions Options(string configuration)
    {
        var options = ConfigurationOptions.Parse(configuration);
        options.AbortOnConnectFail = false;
        options.BacklogPolicy = BacklogPolicy.FailFast;
        options.ConnectTimeout = 2000;
        options.SyncTimeout = 2000;
        options.AsyncTimeout = 2000;
        options.ReconnectRetryPolicy = new LinearRetry(200);
        options.ClientName = "hardening-tests";
        options.AllowAdmin = true; // the tests flush, kill scripts and change settings; the packages never need it
        return options;
    }

    /// <summary>Connects with <see cref="Options"/>, adjusted by <paramref name="adjust"/>.</summary>
    public static async Task<ConnectionMultiplexer> ConnectAsync(string configuration, Action<ConfigurationOptions>? adjust = null)
    {
        var options = Options(configuration);
        adjust?.Invoke(options);
        return await ConnectionMultiplexer.ConnectAsync(options);
    }
}
