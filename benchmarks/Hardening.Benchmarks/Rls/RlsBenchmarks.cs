using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Hardening.Rls;

namespace Hardening.Benchmarks.Rls;

/// <summary>
/// A primary-key lookup for one tenant: through <see cref="TenantDataSource"/> (context + query in one round trip),
/// vs the same lookup on an identical table without RLS and without context (baseline), vs the naive form
/// (separate BEGIN, set_config, query, COMMIT: four round trips). All three run in one process against one
/// database (<see cref="RlsBenchDatabase"/>). Each invocation is <see cref="Requests"/> requests, made by one caller
/// after another (<see cref="Concurrency"/> 1: latency-bound) or by 8 callers at once (CPU-bound on a small machine).
/// BenchmarkDotNet times the forms one after another, so a machine that drifts moves the ratio; <see cref="RlsPairedRounds"/>
/// measures the same ratio in alternating rounds.
/// Run: dotnet run -c Release --project benchmarks/Hardening.Benchmarks -- --filter '*RlsBenchmarks*'
/// </summary>
[MemoryDiagnoser]
[Config(typeof(InProcessRun))]
public class RlsBenchmarks
{
    private const int Requests = 512;
    private RlsLookups _lookups = null!;

    /// <summary>
    /// Npgsql's <c>Max Auto Prepare</c> for all three forms: 0 (every statement parsed and planned each time) or 20
    /// (statements used twice become server-side prepared: the setting most performance-minded teams run with).
    /// </summary>
    [Params(0, 20)]
    public int MaxAutoPrepare { get; set; }

    /// <summary>Callers making the <see cref="Requests"/> requests of one invocation: 1 (one after another) or 8 (at once).</summary>
    [Params(1, 8)]
    public int Concurrency { get; set; }

    [GlobalSetup]
    public void Setup() => _lookups = new RlsLookups(MaxAutoPrepare);

    [GlobalCleanup]
    public void Cleanup() => _lookups.Dispose();

    [Benchmark(Baseline = true, Description = "no RLS, no context", OperationsPerInvoke = Requests)]
    public Task<int> NoRls() => RlsLookups.Run(_lookups.NoRls, Requests, Concurrency);

    [Benchmark(Description = "TenantDataSource (1 round trip)", OperationsPerInvoke = Requests)]
    public Task<int> TenantDataSourceLookup() => RlsLookups.Run(_lookups.TenantDataSource, Requests, Concurrency);

    [Benchmark(Description = "naive BEGIN/set_config/query/COMMIT (4 round trips)", OperationsPerInvoke = Requests)]
    public Task<int> Naive() => RlsLookups.Run(_lookups.Naive, Requests, Concurrency);

    /// <summary>One process for all three, so they share one cluster and one database.</summary>
    internal sealed class InProcessRun : ManualConfig
    {
        public InProcessRun() => AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance).WithWarmupCount(3).WithIterationCount(12).WithId("InProcess"));
    }
}
