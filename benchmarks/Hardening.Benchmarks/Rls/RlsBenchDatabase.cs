using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Hardening.Rls;
using Npgsql;

namespace Hardening.Benchmarks.Rls;

/// <summary>
/// One throwaway PostgreSQL 15 cluster (or HARDENING_BENCH_PG, a superuser connection string) with one database:
/// <c>jobs</c> under the generated RLS migration and an identical <c>jobs_plain</c> without RLS, 20 tenants x 500 rows,
/// and a login application role <c>bench_app</c>. Shared by every Rls benchmark in the process.
/// </summary>
internal sealed class RlsBenchDatabase
{
    private const int Tenants = 20;
    private const int RowsPerTenant = 500;
    private static readonly Lazy<RlsBenchDatabase> Instance = new(Start);
    private string? _clusterRoot;
    private int _postmaster;

    public string AppConnectionString { get; private set; } = "";

    public (Guid Tenant, Guid Row) Sample { get; private set; }

    public static RlsBenchDatabase Shared => Instance.Value;

    /// <summary>
    /// CPU time, in nanoseconds, used so far by the benchmark cluster's processes (the postmaster and its children,
    /// from <c>/proc/PID/schedstat</c>), or null when the server is not this process's own cluster. Only processes alive
    /// at both readings can be compared; the pooled backends are.
    /// </summary>
    public long? ServerCpuNanoseconds()
    {
        if (_clusterRoot is null)
        {
            return null;
        }

        if (_postmaster == 0)
        {
            _postmaster = int.Parse(File.ReadLines(Path.Combine(_clusterRoot, "data", "postmaster.pid")).First(), CultureInfo.InvariantCulture);
        }

        var total = 0L;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            var name = Path.GetFileName(dir);
            if (name.Length == 0 || !char.IsAsciiDigit(name[0]))
            {
                continue;
            }

            try
            {
                var pid = int.Parse(name, CultureInfo.InvariantCulture);
                if (pid != _postmaster)
                {
                    // /proc/PID/stat: "pid (comm) state ppid ..."; comm may hold spaces, so parse after the last ')'.
                    var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                    var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ', 3);
                    if (int.Parse(fields[1], CultureInfo.InvariantCulture) != _postmaster)
                    {
                        continue;
                    }
                }

                var schedstat = File.ReadAllText(Path.Combine(dir, "schedstat"));
                total += long.Parse(schedstat.AsSpan(0, schedstat.IndexOf(' ')), CultureInfo.InvariantCulture);
            }
            catch (IOException)
            {
                // The process ended between listing and reading.
            }
        }

        return total;
    }

    private static RlsBenchDatabase Start()
    {
        var db = new RlsBenchDatabase();
        var super = Environment.GetEnvironmentVariable("HARDENING_BENCH_PG");
        if (string.IsNullOrWhiteSpace(super))
        {
            super = db.StartCluster();
            AppDomain.CurrentDomain.ProcessExit += (_, _) => db.StopCluster();
        }

        var name = "rls_bench_" + Guid.NewGuid().ToString("N")[..8];
        using (var c = new NpgsqlConnection(super))
        {
            c.Open();
            Exec(c, $"CREATE DATABASE {name}");
        }

        var b = new NpgsqlConnectionStringBuilder(super) { Database = name, Pooling = false };
        using (var c = new NpgsqlConnection(b.ConnectionString))
        {
            c.Open();
            Exec(c, """
                CREATE TABLE jobs (tenant_id uuid NOT NULL, id uuid NOT NULL, title text NOT NULL, PRIMARY KEY (tenant_id, id));
                CREATE TABLE jobs_plain (tenant_id uuid NOT NULL, id uuid NOT NULL, title text NOT NULL, PRIMARY KEY (tenant_id, id));
                """);
            Exec(c, $"""
                INSERT INTO jobs SELECT t, gen_random_uuid(), 'job ' || r FROM (SELECT gen_random_uuid() AS t FROM generate_series(1, {Tenants})) ts, generate_series(1, {RowsPerTenant}) r;
                INSERT INTO jobs_plain SELECT * FROM jobs;
                """);
            Exec(c, new TenantSchema("bench_app") { AppRoleCanLogin = true }.Table("jobs").GenerateMigration().Up);
            Exec(c, "GRANT SELECT ON jobs_plain TO bench_app; ALTER ROLE bench_app PASSWORD 'bench_app'; ANALYZE;");
            using var pick = new NpgsqlCommand("SELECT tenant_id, id FROM jobs ORDER BY id LIMIT 1 OFFSET 1234", c);
            using var r = pick.ExecuteReader();
            r.Read();
            db.Sample = (r.GetGuid(0), r.GetGuid(1));
        }

        db.AppConnectionString = new NpgsqlConnectionStringBuilder(super) { Database = name, Username = "bench_app", Password = "bench_app", Pooling = true }.ConnectionString;
        return db;
    }

    private static void Exec(NpgsqlConnection c, string sql)
    {
        using var cmd = new NpgsqlCommand(sql, c);
        cmd.ExecuteNonQuery();
    }

    private string StartCluster()
    {
        const string Bin = "/usr/lib/postgresql/15/bin";
        var root = Path.Combine(Path.GetTempPath(), "hardening-bench-rls-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(root);
        var asRoot = Environment.UserName == "root";
        if (asRoot)
        {
            Run("chown", "postgres:postgres", root);
        }

        int port;
        using (var l = new TcpListener(IPAddress.Loopback, 0))
        {
            l.Start();
            port = ((IPEndPoint)l.LocalEndpoint).Port;
        }

        var data = Path.Combine(root, "data");
        PgRun(asRoot, $"{Bin}/initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync");
        PgRun(asRoot, $"{Bin}/pg_ctl", "-D", data, "-l", Path.Combine(root, "server.log"), "-w", "-o",
            $"-c port={port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={root} -c fsync=off -c synchronous_commit=off -c max_connections=100", "start");
        _clusterRoot = root;
        return $"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres;Pooling=false";
    }

    private void StopCluster()
    {
        if (_clusterRoot is null)
        {
            return;
        }

        NpgsqlConnection.ClearAllPools();
        PgRun(Environment.UserName == "root", "/usr/lib/postgresql/15/bin/pg_ctl", "-D", Path.Combine(_clusterRoot, "data"), "-m", "immediate", "-w", "stop");
        try
        {
            Directory.Delete(_clusterRoot, recursive: true);
        }
        catch (IOException)
        {
        }

        _clusterRoot = null;
    }

    private static void PgRun(bool asRoot, string binary, params string[] args)
    {
        if (asRoot)
        {
            Run("runuser", ["-u", "postgres", "--", binary, .. args]);
        }
        else
        {
            Run(binary, args);
        }
    }

    private static void Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = "/tmp" };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed: {err.Result}");
        }
    }
}
