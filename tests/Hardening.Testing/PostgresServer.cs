using System.Globalization;
using Npgsql;

namespace Hardening.Testing;

/// <summary>
/// A throwaway PostgreSQL 15 cluster: <c>initdb</c> into a temp directory, a free port on 127.0.0.1, fsync off,
/// the superuser <c>postgres</c> and a plain application role <c>hardening_app</c> (LOGIN, NOSUPERUSER,
/// NOBYPASSRLS). Run as the <c>postgres</c> system user when the tests run as root. <see cref="Shared"/> starts once
/// per test process; <c>HARDENING_TEST_PG</c> (a superuser connection string) points it at an existing server.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    /// <summary>The plain application role every cluster has.</summary>
    public const string AppRole = "hardening_app";

    /// <summary>The application role's password.</summary>
    public const string AppPassword = "hardening_app";

    private static readonly Lazy<Task<PostgresServer>> SharedServer = new(() => StartSharedAsync());
    private int _databaseCounter;
    private bool _disposed;
    private readonly string? _startOptions;

    private PostgresServer(string connectionString, string? directory, string? startOptions = null)
    {
        SuperuserConnectionString = connectionString;
        Directory = directory;
        _startOptions = startOptions;
        var b = new NpgsqlConnectionStringBuilder(connectionString);
        Host = b.Host ?? "127.0.0.1";
        Port = b.Port;
    }

    /// <summary>The cluster shared by every test of this process.</summary>
    public static Task<PostgresServer> Shared => SharedServer.Value;

    /// <summary>Host.</summary>
    public string Host { get; }

    /// <summary>Port.</summary>
    public int Port { get; }

    /// <summary>The cluster directory (null for an external server).</summary>
    public string? Directory { get; }

    /// <summary>Superuser connection string to the <c>postgres</c> database.</summary>
    public string SuperuserConnectionString { get; }

    /// <summary>Application-role connection string to the <c>postgres</c> database.</summary>
    public string AppConnectionString => ForDatabase("postgres", AppRole);

    /// <summary>Starts a new dedicated cluster; cleanup is tied to <paramref name="ownerPid"/> (default: this process).</summary>
    public static async Task<PostgresServer> StartAsync(int? ownerPid = null)
    {
        var initdb = ServerBinaries.Postgres("initdb");
        var pgctl = ServerBinaries.Postgres("pg_ctl");
        var root = Path.Combine(Path.GetTempPath(), $"hardening-pg-{Environment.ProcessId}-{Guid.NewGuid():N}");
        var data = Path.Combine(root, "data");
        var port = FreePort.Next();

        System.IO.Directory.CreateDirectory(root);
        if (ServerBinaries.IsRoot)
        {
            (await ProcessRunner.RunAsync("chown", ["postgres:postgres", root])).EnsureSuccess($"chown postgres {root}");
        }

        var cleanup = $"{AsServerUser(pgctl)} -D {Watchdog.Quote(data)} -m immediate -w stop; rm -rf {Watchdog.Quote(root)}";
        Watchdog.Arm(ownerPid ?? Environment.ProcessId, cleanup);

        (await RunAsServerUserAsync(initdb, ["-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"]))
            .EnsureSuccess("initdb");
        var opts = string.Join(' ',
            $"-c port={port}", "-c listen_addresses=127.0.0.1", $"-c unix_socket_directories={root}",
            "-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off", "-c max_connections=300",
            "-c shared_buffers=64MB");
        var start = await RunAsServerUserAsync(pgctl, ["-D", data, "-l", Path.Combine(root, "server.log"), "-w", "-t", "60", "-o", opts, "start"]);
        if (start.ExitCode != 0)
        {
            var log = File.Exists(Path.Combine(root, "server.log")) ? await File.ReadAllTextAsync(Path.Combine(root, "server.log")) : "";
            throw new InvalidOperationException($"pg_ctl start failed ({start.ExitCode}): {start.StdOut}{start.StdErr}\n{log}");
        }

        var server = new PostgresServer($"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres;Pooling=false;Timeout=15", root, opts);
        await server.EnsureAppRoleAsync();
        return server;
    }

    /// <summary>A connection string for <paramref name="database"/> as <paramref name="user"/> (default: superuser).</summary>
    public string ForDatabase(string database, string? user = null)
    {
        var b = new NpgsqlConnectionStringBuilder(SuperuserConnectionString) { Database = database, Pooling = true };
        if (user is not null)
        {
            b.Username = user;
            b.Password = user == AppRole ? AppPassword : b.Password;
        }

        return b.ConnectionString;
    }

    /// <summary>Creates a fresh, empty database owned by the superuser and returns its name.</summary>
    public async Task<string> CreateDatabaseAsync(string prefix = "test")
    {
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        var name = $"{prefix.ToLowerInvariant()}_{Interlocked.Increment(ref _databaseCounter)}_{Guid.NewGuid():N}";
        name = name.Length > 63 ? name[..63] : name;
        await ExecuteAsync($"CREATE DATABASE \"{name}\"");
        await ExecuteAsync($"GRANT CONNECT, TEMPORARY ON DATABASE \"{name}\" TO {AppRole}");
        return name;
    }

    /// <summary>Runs SQL as the superuser in <paramref name="database"/>.</summary>
    public async Task ExecuteAsync(string sql, string database = "postgres")
    {
        await using var conn = new NpgsqlConnection(ForDatabase(database) + ";Pooling=false");
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        await cmd.ExecuteNonQueryAsync();
    }

    /// <summary>Runs a scalar query as the superuser in <paramref name="database"/>.</summary>
    public async Task<T?> ScalarAsync<T>(string sql, string database = "postgres")
    {
        await using var conn = new NpgsqlConnection(ForDatabase(database) + ";Pooling=false");
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        var value = await cmd.ExecuteScalarAsync();
        return value is null or DBNull ? default : (T)Convert.ChangeType(value, typeof(T), CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Stops the server (<c>pg_ctl stop -m fast</c>, or <c>immediate</c>: like a crash) and keeps its data;
    /// <see cref="StartAgainAsync"/> brings it back on the same port. Only for a cluster this harness started.
    /// </summary>
    public async Task StopAsync(bool immediate = false)
    {
        var data = Path.Combine(OwnedDirectory(), "data");
        (await RunAsServerUserAsync(ServerBinaries.Postgres("pg_ctl"), ["-D", data, "-m", immediate ? "immediate" : "fast", "-w", "-t", "60", "stop"]))
            .EnsureSuccess("pg_ctl stop");
    }

    /// <summary>Starts a stopped cluster again with the same data, port and settings (after <see cref="StopAsync"/>).</summary>
    public async Task StartAgainAsync()
    {
        var root = OwnedDirectory();
        var start = await RunAsServerUserAsync(ServerBinaries.Postgres("pg_ctl"), ["-D", Path.Combine(root, "data"), "-l", Path.Combine(root, "server.log"), "-w", "-t", "120", "-o", _startOptions!, "start"]);
        start.EnsureSuccess("pg_ctl start");
    }

    private string OwnedDirectory() =>
        Directory is not null && _startOptions is not null && !_disposed
            ? Directory
            : throw new InvalidOperationException("Only a cluster started by PostgresServer.StartAsync (not HARDENING_TEST_PG, not disposed) can be stopped and started again.");

    /// <summary>Stops the cluster and deletes its directory.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed || Directory is null)
        {
            return;
        }

        _disposed = true;
        NpgsqlConnection.ClearAllPools();
        var data = Path.Combine(Directory, "data");
        await RunAsServerUserAsync(ServerBinaries.Postgres("pg_ctl"), ["-D", data, "-m", "immediate", "-w", "stop"]);
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private static async Task<PostgresServer> StartSharedAsync()
    {
        var external = Environment.GetEnvironmentVariable("HARDENING_TEST_PG");
        if (!string.IsNullOrWhiteSpace(external))
        {
            var server = new PostgresServer(external, null);
            await server.EnsureAppRoleAsync();
            return server;
        }

        var owned = await StartAsync();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => owned.DisposeAsync().AsTask().GetAwaiter().GetResult();
        return owned;
    }

    private static string AsServerUser(string binary) =>
        ServerBinaries.IsRoot ? $"runuser -u postgres -- {Watchdog.Quote(binary)}" : Watchdog.Quote(binary);

    private static Task<ProcessRunner.Result> RunAsServerUserAsync(string binary, IEnumerable<string> args) =>
        ServerBinaries.IsRoot
            ? ProcessRunner.RunAsync("runuser", new[] { "-u", "postgres", "--", binary }.Concat(args), TimeSpan.FromMinutes(2), workingDirectory: "/tmp")
            : ProcessRunner.RunAsync(binary, args, TimeSpan.FromMinutes(2), workingDirectory: "/tmp");

    private Task EnsureAppRoleAsync() => ExecuteAsync($"""
        DO $$ BEGIN
          IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{AppRole}') THEN
            CREATE ROLE {AppRole} LOGIN PASSWORD '{AppPassword}' NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
          END IF;
        END $$;
        """);
}
