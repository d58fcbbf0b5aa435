using System.Globalization;
using System.Text;
using Npgsql;

namespace Hardening.Testing;

/// <summary>
/// A throwaway PgBouncer (apt <c>pgbouncer</c>) in <b>transaction pooling</b> mode in front of a
/// <see cref="PostgresServer"/>, on a free loopback port, with its config file written into a temp directory. Every
/// database of the server is reachable under its own name; the listed roles log in without a password (the server
/// trusts loopback). Runs as the <c>postgres</c> system user when the caller is root (PgBouncer refuses root).
/// </summary>
public sealed class PgBouncerServer : IAsyncDisposable
{
    private readonly ServerProcess _process;

    private PgBouncerServer(string directory, int port, int poolSize, ServerProcess process)
    {
        Directory = directory;
        Port = port;
        PoolSize = poolSize;
        _process = process;
    }

    /// <summary>The port PgBouncer listens on (127.0.0.1).</summary>
    public int Port { get; }

    /// <summary>Server connections per database and user (<c>default_pool_size</c>).</summary>
    public int PoolSize { get; }

    /// <summary>The directory holding pgbouncer.ini, the user list and the log.</summary>
    public string Directory { get; }

    /// <summary>The pgbouncer process (SIGKILL, id, output).</summary>
    public ServerProcess Process => _process;

    /// <summary>
    /// The Npgsql settings transaction pooling needs, for a connection string through this PgBouncer: no prepared
    /// statements kept across transactions (<c>Max Auto Prepare=0</c>; PgBouncer before 1.21 does not track them), no
    /// <c>DISCARD ALL</c> on reuse (<c>No Reset On Close=true</c>: the server connection under the next transaction is
    /// another one anyway) and no multiplexing.
    /// </summary>
    public const string TransactionPoolingSettings = "Max Auto Prepare=0;No Reset On Close=true;Multiplexing=false";

    /// <summary>A connection string through PgBouncer to <paramref name="database"/> as <paramref name="user"/>.</summary>
    public string ConnectionString(string database, string user) =>
        $"Host=127.0.0.1;Port={Port};Database={database};Username={user};{TransactionPoolingSettings}";

    /// <summary>Starts PgBouncer for <paramref name="postgres"/>; <paramref name="users"/> may log in (the superuser always).</summary>
    public static async Task<PgBouncerServer> StartAsync(PostgresServer postgres, IEnumerable<string> users, int poolSize = 20, int maxClientConnections = 4000)
    {
        ArgumentNullException.ThrowIfNull(postgres);
        ArgumentNullException.ThrowIfNull(users);
        var binary = ServerBinaries.Find("pgbouncer", ["/usr/sbin", "/usr/bin", "/usr/local/bin"], "pgbouncer", "sudo apt-get install -y pgbouncer   (or ./build.sh deps)");
        var dir = Path.Combine(Path.GetTempPath(), $"hardening-pgbouncer-{Environment.ProcessId}-{Guid.NewGuid():N}");
        System.IO.Directory.CreateDirectory(dir);
        Watchdog.Arm(Environment.ProcessId, $"rm -rf {Watchdog.Quote(dir)}");
        var port = FreePort.Next();
        var userList = new StringBuilder();
        foreach (var user in users.Append("postgres").Distinct(StringComparer.Ordinal))
        {
            userList.Append(CultureInfo.InvariantCulture, $"\"{user}\" \"\"\n");
        }

        await File.WriteAllTextAsync(Path.Combine(dir, "userlist.txt"), userList.ToString());
        var ini = $"""
            [databases]
            * = host=127.0.0.1 port={postgres.Port}

            [pgbouncer]
            listen_addr = 127.0.0.1
            listen_port = {port}
            unix_socket_dir =
            auth_type = trust
            auth_file = {Path.Combine(dir, "userlist.txt")}
            admin_users = postgres
            stats_users = postgres
            pool_mode = transaction
            default_pool_size = {poolSize}
            min_pool_size = 0
            reserve_pool_size = 0
            max_client_conn = {maxClientConnections}
            max_db_connections = {poolSize + 10}
            server_reset_query =
            server_check_delay = 5
            server_login_retry = 1
            server_connect_timeout = 3
            query_wait_timeout = 10
            ignore_startup_parameters = extra_float_digits,options
            logfile = {Path.Combine(dir, "pgbouncer.log")}
            log_connections = 0
            log_disconnections = 0
            """;
        var config = Path.Combine(dir, "pgbouncer.ini");
        await File.WriteAllTextAsync(config, ini);
        string file;
        string[] args;
        if (ServerBinaries.IsRoot)
        {
            (await ProcessRunner.RunAsync("chown", ["-R", "postgres:postgres", dir])).EnsureSuccess($"chown postgres {dir}");
            file = "setpriv";
            args = ["--reuid=postgres", "--regid=postgres", "--init-groups", "--", binary, config];
        }
        else
        {
            file = binary;
            args = [config];
        }

        var server = new PgBouncerServer(dir, port, poolSize, new ServerProcess("pgbouncer", file, args, workingDirectory: dir));
        await server.StartAgainAsync();
        return server;
    }

    /// <summary>Starts the (killed) process again on the same port and waits until it serves a query.</summary>
    public async Task StartAgainAsync(CancellationToken cancellationToken = default)
    {
        _process.Start();
        await _process.WaitUntilAsync(async ct =>
        {
            await using var conn = new NpgsqlConnection(ConnectionString("pgbouncer", "postgres") + ";Pooling=false;Timeout=3;Server Compatibility Mode=NoTypeLoading");
            await conn.OpenAsync(ct);
            return true;
        }, TimeSpan.FromSeconds(30), cancellationToken);
    }

    /// <summary>SIGKILL: clients' connections die; server connections are dropped by PostgreSQL.</summary>
    public Task KillAsync() => _process.KillAsync();

    /// <summary>Kills and starts again (a crash and a restart by the supervisor).</summary>
    public async Task RestartAsync(CancellationToken cancellationToken = default)
    {
        await KillAsync();
        await StartAgainAsync(cancellationToken);
    }

    /// <summary>Runs an admin console command (<c>SHOW POOLS</c>, <c>SHOW STATS</c>) and returns the rows as column/value maps.</summary>
    public async Task<List<Dictionary<string, string>>> AdminAsync(string command, CancellationToken cancellationToken = default)
    {
        // The admin console speaks the simple query protocol only, which Npgsql does not use: ask psql.
        var result = await ProcessRunner.RunAsync(ServerBinaries.Postgres("psql"),
            ["-h", "127.0.0.1", "-p", Port.ToString(CultureInfo.InvariantCulture), "-U", "postgres", "-d", "pgbouncer", "--csv", "-c", command],
            TimeSpan.FromSeconds(20));
        result.EnsureSuccess($"psql pgbouncer -c '{command}'");
        cancellationToken.ThrowIfCancellationRequested();
        var lines = result.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var rows = new List<Dictionary<string, string>>();
        if (lines.Length == 0)
        {
            return rows;
        }

        var header = lines[0].Split(',');
        foreach (var line in lines.Skip(1))
        {
            var values = line.Split(',');
            var row = new Dictionary<string, string>(StringComparer.Ordinal);
            for (var i = 0; i < header.Length && i < values.Length; i++)
            {
                row[header[i]] = values[i];
            }

            rows.Add(row);
        }

        return rows;
    }

    /// <summary>Kills the process and deletes its directory.</summary>
    public async ValueTask DisposeAsync()
    {
        await _process.DisposeAsync();
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
}
