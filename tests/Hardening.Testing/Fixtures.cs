using StackExchange.Redis;
using Xunit;

namespace Hardening.Testing;

/// <summary>
/// xunit class/collection fixture for the process-wide PostgreSQL cluster
/// (<c>IClassFixture&lt;PostgresFixture&gt;</c>). The cluster starts on first use and stops when the test process exits.
/// </summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    /// <summary>The shared server.</summary>
    public PostgresServer Server { get; private set; } = null!;

    /// <summary>Superuser connection string to the <c>postgres</c> database.</summary>
    public string ConnectionString => Server.SuperuserConnectionString;

    /// <summary>Application-role connection string to the <c>postgres</c> database.</summary>
    public string AppConnectionString => Server.AppConnectionString;

    /// <inheritdoc />
    public async Task InitializeAsync() => Server = await PostgresServer.Shared;

    /// <inheritdoc />
    public Task DisposeAsync() => Task.CompletedTask;
}

/// <summary>A Redis deployment the Redis-backed tests run against: one server or the local cluster.</summary>
public interface IRedisTarget
{
    /// <summary><c>single</c> or <c>cluster</c>, for test output.</summary>
    string Name { get; }

    /// <summary>A StackExchange.Redis configuration string (<c>host:port[,host:port...]</c>).</summary>
    string ConnectionString { get; }

    /// <summary>True for the cluster.</summary>
    bool IsCluster { get; }

    /// <summary>A multiplexer shared by the tests of this fixture, with <see cref="TestRedis.Options"/>.</summary>
    IConnectionMultiplexer Multiplexer { get; }
}

/// <summary>
/// xunit class/collection fixture for the process-wide redis-server (<c>IClassFixture&lt;RedisFixture&gt;</c>).
/// Tests that stop or restart Redis must use <see cref="RedisServer.StartAsync()"/> for a server of their own.
/// </summary>
public sealed class RedisFixture : IAsyncLifetime, IRedisTarget
{
    /// <summary>The shared server.</summary>
    public RedisServer Server { get; private set; } = null!;

    /// <inheritdoc />
    public string Name => "single";

    /// <summary><c>host:port</c>.</summary>
    public string ConnectionString => Server.ConnectionString;

    /// <inheritdoc />
    public bool IsCluster => false;

    /// <inheritdoc />
    public IConnectionMultiplexer Multiplexer { get; private set; } = null!;

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        Server = await RedisServer.Shared;
        Multiplexer = await TestRedis.ConnectAsync(Server.ConnectionString);
    }

    /// <inheritdoc />
    public async Task DisposeAsync() => await Multiplexer.DisposeAsync();
}

/// <summary>xunit class fixture for the process-wide local Redis Cluster (three masters, one replica each).</summary>
public sealed class RedisClusterFixture : IAsyncLifetime, IRedisTarget
{
    /// <summary>The shared cluster.</summary>
    public RedisCluster Cluster { get; private set; } = null!;

    /// <inheritdoc />
    public string Name => "cluster";

    /// <inheritdoc />
    public string ConnectionString => Cluster.ConnectionString;

    /// <inheritdoc />
    public bool IsCluster => true;

    /// <inheritdoc />
    public IConnectionMultiplexer Multiplexer { get; private set; } = null!;

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        Cluster = await RedisCluster.Shared;
        Multiplexer = await TestRedis.ConnectAsync(Cluster.ConnectionString);
    }

    /// <inheritdoc />
    public async Task DisposeAsync() => await Multiplexer.DisposeAsync();
}
