using System.Diagnostics;
using Hardening.Testing;

namespace Hardening.Drills.Topology;

/// <summary>How <see cref="DrillTopology.StartAsync"/> builds the topology.</summary>
internal sealed record TopologyOptions
{
    /// <summary>Sample instances behind HAProxy.</summary>
    public int Instances { get; init; } = 1;

    /// <summary><c>single</c> (one redis-server) or <c>cluster</c> (3 masters, 3 replicas).</summary>
    public string Redis { get; init; } = "single";

    /// <summary>PgBouncer's server connections to PostgreSQL (<c>default_pool_size</c>), shared by every instance.</summary>
    public int PgBouncerPoolSize { get; init; } = 20;

    /// <summary>Npgsql's <c>Maximum Pool Size</c> per instance (client connections to PgBouncer).</summary>
    public int AppPoolSize { get; init; } = 100;

    /// <summary>Extra or overriding environment variables for every instance (e.g. <c>Ats__MaxResumesPerCandidate</c>).</summary>
    public IReadOnlyDictionary<string, string?> Environment { get; init; } = new Dictionary<string, string?>();

    /// <summary>The options a drill's command line gives (<c>--instances</c>, <c>--redis</c>, <c>--pool</c>).</summary>
    public static TopologyOptions From(DrillArguments arguments) => new()
    {
        Instances = arguments.Instances,
        Redis = arguments.Redis,
        PgBouncerPoolSize = arguments.Int("pool", 20, 1, 250),
    };
}

/// <summary>
/// The drills' production-like topology, all real processes on free loopback ports, removed on dispose and by the
/// watchdog if the drill process dies: PostgreSQL 15; PgBouncer in front of it in transaction pooling mode; Redis
/// (one server or the 3-master cluster); the sample migrated as the owner directly against PostgreSQL; N sample
/// instances whose application connection goes through PgBouncer; HAProxy in front of the instances.
/// </summary>
internal sealed class DrillTopology : IAsyncDisposable
{
    private readonly List<IAsyncDisposable> _owned = [];

    private DrillTopology(TopologyOptions options) => Options = options;

    /// <summary>What was asked for.</summary>
    public TopologyOptions Options { get; }

    /// <summary>PostgreSQL (stop/start again keeps the data; <see cref="RestartPostgresAsync"/>).</summary>
    public PostgresServer Postgres { get; private set; } = null!;

    /// <summary>The sample's database.</summary>
    public string Database { get; private set; } = "";

    /// <summary>Superuser (owner) connection string to the sample's database, directly to PostgreSQL (not through PgBouncer).</summary>
    public string OwnerConnectionString => Postgres.ForDatabase(Database);

    /// <summary>PgBouncer (SIGKILL and start again, admin console).</summary>
    public PgBouncerServer PgBouncer { get; private set; } = null!;

    /// <summary>The application role's connection string through PgBouncer, as the instances use it.</summary>
    public string AppConnectionString { get; private set; } = "";

    /// <summary>The single Redis server, or null with a cluster.</summary>
    public RedisServer? Redis { get; private set; }

    /// <summary>The Redis cluster, or null with a single server.</summary>
    public RedisCluster? RedisCluster { get; private set; }

    /// <summary>The Redis connection string the instances use.</summary>
    public string RedisConnectionString => Redis?.ConnectionString ?? RedisCluster!.ConnectionString;

    /// <summary>The sample instances, in HAProxy's order (<c>ats-0</c>, ...).</summary>
    public IReadOnlyList<SampleInstance> Instances { get; private set; } = [];

    /// <summary>HAProxy.</summary>
    public HaProxy HaProxy { get; private set; } = null!;

    /// <summary>Where clients go: HAProxy's frontend.</summary>
    public Uri BaseAddress => HaProxy.BaseAddress;

    /// <summary>Starts everything; on failure, what was started is removed and the exception names the step.</summary>
    public static async Task<DrillTopology> StartAsync(TopologyOptions options, TextWriter log, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(log);
        if (!File.Exists(SampleInstance.Dll))
        {
            throw new InvalidOperationException($"The sample is not built ({SampleInstance.Dll}); run `dotnet build tools/Hardening.Drills -c {RepoPaths.Configuration}` or ./build.sh drill.");
        }

        var topology = new DrillTopology(options);
        var clock = Stopwatch.StartNew();
        try
        {
            await topology.StartCoreAsync(log, cancellationToken);
            await log.WriteLineAsync($"topology: up in {clock.Elapsed.TotalSeconds:0.0} s: {options.Instances} instance(s) behind HAProxy {topology.BaseAddress}, PgBouncer :{topology.PgBouncer.Port} (transaction pooling, pool {options.PgBouncerPoolSize}) -> PostgreSQL :{topology.Postgres.Port}, Redis {options.Redis} {topology.RedisConnectionString}");
            return topology;
        }
        catch
        {
            await topology.DisposeAsync();
            throw;
        }
    }

    private async Task StartCoreAsync(TextWriter log, CancellationToken ct)
    {
        var cluster = Options.Redis == "cluster";
        var pgTask = PostgresServer.StartAsync();
        var clusterTask = cluster ? Hardening.Testing.RedisCluster.StartAsync() : null;
        var redisTask = cluster ? null : RedisServer.StartAsync();
        try
        {
            await Task.WhenAll(new Task?[] { pgTask, clusterTask, redisTask }.OfType<Task>());
        }
        finally
        {
            // Whatever started is owned (and removed on dispose) even if another part failed.
            if (pgTask.IsCompletedSuccessfully) { Postgres = pgTask.Result; _owned.Add(Postgres); }
            if (clusterTask is { IsCompletedSuccessfully: true }) { RedisCluster = clusterTask.Result; _owned.Add(RedisCluster); }
            if (redisTask is { IsCompletedSuccessfully: true }) { Redis = redisTask.Result; _owned.Add(Redis); }
        }

        Database = await Postgres.CreateDatabaseAsync("ats");

        // The migration runs as the owner, directly against PostgreSQL (DDL and the advisory lock need a session).
        var migrateEnvironment = new Dictionary<string, string?>(InstanceEnvironment(""))
        {
            ["ConnectionStrings__Owner"] = OwnerConnectionString,
        };
        (await ProcessRunner.RunAsync("dotnet", [SampleInstance.Dll, "migrate", "--contentRoot", SampleInstance.Bin], TimeSpan.FromMinutes(2), environment: migrateEnvironment))
            .EnsureSuccess("sample migrate");
        await log.WriteLineAsync($"topology: PostgreSQL :{Postgres.Port} migrated ({Database})");

        PgBouncer = await PgBouncerServer.StartAsync(Postgres, ["ats_app"], Options.PgBouncerPoolSize);
        _owned.Add(PgBouncer);
        AppConnectionString = PgBouncer.ConnectionString(Database, "ats_app")
            + $";Maximum Pool Size={Options.AppPoolSize};Timeout=5;Command Timeout=30";

        var instances = Enumerable.Range(0, Options.Instances)
            .Select(i => new SampleInstance(i, FreePort.Next(), InstanceEnvironment(AppConnectionString)))
            .ToList();
        Instances = instances;
        _owned.AddRange(instances);
        await Task.WhenAll(instances.Select(i => i.StartAgainAsync(ct)));
        await log.WriteLineAsync($"topology: {instances.Count} sample instance(s) ready on :{string.Join(", :", instances.Select(i => i.Port))}");

        HaProxy = await HaProxy.StartAsync(instances.Select(i => i.Port).ToList(), ct);
        _owned.Add(HaProxy);
        await HaProxy.WaitForUpAsync(instances.Count, TimeSpan.FromSeconds(30), ct);
    }

    /// <summary>The environment of an instance: Development secrets, cheap bcrypt, rate limits out of the drill's way.</summary>
    private Dictionary<string, string?> InstanceEnvironment(string postgres)
    {
        var env = SampleEnvironment.For(postgres, RedisConnectionString);
        foreach (var (k, v) in Options.Environment)
        {
            env[k] = v;
        }

        return env;
    }

    /// <summary>Stops PostgreSQL (<c>immediate</c>: like a crash) and starts it again with the same data and port.</summary>
    public async Task RestartPostgresAsync(bool immediate = true, TimeSpan? downFor = null)
    {
        await Postgres.StopAsync(immediate);
        if (downFor is { } d)
        {
            await Task.Delay(d);
        }

        await Postgres.StartAgainAsync();
    }

    /// <summary>Restarts the single Redis server (SIGKILL, then start; its data is gone).</summary>
    public Task RestartRedisAsync() =>
        (Redis ?? throw new InvalidOperationException("This topology runs a Redis cluster; restart a node of RedisCluster.Nodes instead.")).RestartAsync();

    /// <summary>Removes everything, in reverse order of start.</summary>
    public async ValueTask DisposeAsync()
    {
        for (var i = _owned.Count - 1; i >= 0; i--)
        {
            try
            {
                await _owned[i].DisposeAsync();
            }
            catch (Exception e) when (e is InvalidOperationException or IOException or TimeoutException)
            {
                // Best effort: the watchdog removes what is left when the process ends.
            }
        }

        _owned.Clear();
    }
}
