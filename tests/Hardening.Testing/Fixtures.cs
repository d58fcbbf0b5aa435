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

/// <summary>
/// xunit class/collection fixture for the process-wide redis-server (<c>IClassFixture&lt;RedisFixture&gt;</c>).
/// Tests that stop or restart Redis must use <see cref="RedisServer.StartAsync"/> for a server of their own.
/// </summary>
public sealed class RedisFixture : IAsyncLifetime
{
    /// <summary>The shared server.</summary>
    public RedisServer Server { get; private set; } = null!;

    /// <summary><c>host:port</c>.</summary>
    public string ConnectionString => Server.ConnectionString;

    /// <inheritdoc />
    public async Task InitializeAsync() => Server = await RedisServer.Shared;

    /// <inheritdoc />
    public Task DisposeAsync() => Task.CompletedTask;
}
