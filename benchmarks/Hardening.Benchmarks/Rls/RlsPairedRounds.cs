using System.Diagnostics;
using System.Globalization;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Hardening.Rls;

namespace Hardening.Benchmarks.Rls;

/// <summary>
/// The <see cref="RlsBenchmarks"/> ratio (a <see cref="Form"/> vs no RLS, throughput) measured so that a drifting
/// machine cannot move it: every invocation is one round of four segments, no RLS, the form, the form, no RLS
/// (A B B A), each <see cref="Concurrency"/> callers x <see cref="PerCaller"/> lookups (long enough that 8 callers
/// spend almost all of it at full load rather than starting and finishing). The round's ratio is the no-RLS time over
/// the form's time. BenchmarkDotNet's own figure is the round's time; the ratios are printed by <c>[GlobalCleanup]</c>
/// as the median and the middle 80% of all rounds after the first fifth (JIT tiering and pool warm-up). The
/// <see cref="TenantDataSource"/> rows are the goal's figure; the other forms take its cost apart (about 5 minutes in all).
/// Each line also splits CPU time per request into the server's (the benchmark cluster's processes, from
/// <c>/proc/PID/schedstat</c>; n/a under HARDENING_BENCH_PG) and this process's (<see cref="Environment.CpuUsage"/>):
/// the server's ratio is what a database on its own machine would give when it is the bottleneck. This process's CPU
/// includes the thread pool's spin-waiting, which dominates with 1 caller; read it at 8 callers.
/// Run: dotnet run -c Release --project benchmarks/Hardening.Benchmarks -- --filter '*RlsPairedRounds*'
/// </summary>
[Config(typeof(RoundsRun))]
public class RlsPairedRounds
{
    private const int PerCaller = 500;
    private static readonly List<string> Report = [];
    private readonly List<double> _ratios = [];
    private readonly List<double> _noRlsMicros = [];
    private readonly List<double> _formMicros = [];
    private readonly List<(double NoRls, double Form)> _clientCpu = [];
    private readonly List<(double NoRls, double Form)> _serverCpu = [];
    private RlsLookups _lookups = null!;

    /// <summary>Npgsql's <c>Max Auto Prepare</c> (see <see cref="RlsBenchmarks.MaxAutoPrepare"/>).</summary>
    [Params(0, 20)]
    public int MaxAutoPrepare { get; set; }

    /// <summary>The form compared with no RLS.</summary>
    [ParamsAllValues]
    public RlsLookupForm Form { get; set; }

    /// <summary>Callers per segment (see <see cref="RlsBenchmarks.Concurrency"/>).</summary>
    [Params(1, 8)]
    public int Concurrency { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _lookups = new RlsLookups(MaxAutoPrepare);

        // Every case runs in this one process, so a case that starts a group (new Max Auto Prepare or Concurrency) would
        // otherwise pay for JIT tiering of the paths it shares with the cases after it. Run every path first.
        for (var pass = 0; pass < 2; pass++)
        {
            RlsLookups.Run(_lookups.NoRls, 2 * PerCaller * Concurrency, Concurrency).GetAwaiter().GetResult();
            foreach (var form in Enum.GetValues<RlsLookupForm>())
            {
                RlsLookups.Run(_lookups.Get(form), 2 * PerCaller * Concurrency, Concurrency).GetAwaiter().GetResult();
            }

            Thread.Sleep(500);
        }

        _ratios.Clear();
        _noRlsMicros.Clear();
        _formMicros.Clear();
        _clientCpu.Clear();
        _serverCpu.Clear();
    }

    [Benchmark(Description = "round: no RLS, form x2, no RLS")]
    public async Task Round()
    {
        var lookup = _lookups.Get(Form);
        var noRls = await Segment(_lookups.NoRls);
        var tenant = await Segment(lookup);
        tenant += await Segment(lookup);
        noRls += await Segment(_lookups.NoRls);
        var requests = 2.0 * PerCaller * Concurrency;
        _ratios.Add(noRls.Seconds / tenant.Seconds);
        _noRlsMicros.Add(noRls.Seconds * 1e6 / requests);
        _formMicros.Add(tenant.Seconds * 1e6 / requests);
        _clientCpu.Add((noRls.ClientCpu / requests, tenant.ClientCpu / requests));
        if (noRls.ServerCpu is { } noRlsServer && tenant.ServerCpu is { } tenantServer)
        {
            _serverCpu.Add((noRlsServer / requests, tenantServer / requests));
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _lookups.Dispose();
        var skip = _ratios.Count / 5;
        var ratios = _ratios.Skip(skip).Order().ToArray();
        if (ratios.Length > 0)
        {
            Report.Add(string.Create(
                CultureInfo.InvariantCulture,
                $"RLS paired rounds, Max Auto Prepare={MaxAutoPrepare}, {Concurrency} caller(s): {Form} throughput / no RLS = median {Quantile(ratios, 0.5):F3} (middle 80%: {Quantile(ratios, 0.1):F3}-{Quantile(ratios, 0.9):F3}) over {ratios.Length} rounds; median us/request: no RLS {Median(_noRlsMicros.Skip(skip)):F1}, {Form} {Median(_formMicros.Skip(skip)):F1}; CPU us/request, no RLS -> {Form} (ratio): {CpuLine("server", _serverCpu.Skip(skip))}, {CpuLine("client", _clientCpu.Skip(skip))}"));
        }

        foreach (var line in Report)
        {
            Console.WriteLine(line);
        }
    }

    private async Task<Measure> Segment(Func<Task<string>> lookup)
    {
        var serverBefore = RlsBenchDatabase.Shared.ServerCpuNanoseconds();
        var clientBefore = Environment.CpuUsage.TotalTime;
        var start = Stopwatch.GetTimestamp();
        await RlsLookups.Run(lookup, PerCaller * Concurrency, Concurrency);
        var elapsed = Stopwatch.GetElapsedTime(start).TotalSeconds;
        var client = (Environment.CpuUsage.TotalTime - clientBefore).TotalMicroseconds;
        var serverAfter = RlsBenchDatabase.Shared.ServerCpuNanoseconds();
        return new Measure(elapsed, client, serverAfter - serverBefore is { } server ? server / 1e3 : null);
    }

    /// <summary>One segment's wall time (s), this process's CPU time (us) and the server's CPU time (us, null when unknown).</summary>
    private readonly record struct Measure(double Seconds, double ClientCpu, double? ServerCpu)
    {
        public static Measure operator +(Measure a, Measure b) =>
            new(a.Seconds + b.Seconds, a.ClientCpu + b.ClientCpu, a.ServerCpu + b.ServerCpu);
    }

    /// <summary>One round per iteration (a round lasts 0.1-1.5 s), 24 of them after 2 warm-up rounds, in this process.</summary>
    private sealed class RoundsRun : ManualConfig
    {
        public RoundsRun() => AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance).WithWarmupCount(2).WithIterationCount(24)
            .WithInvocationCount(1).WithUnrollFactor(1).WithId("InProcess"));
    }

    private static string CpuLine(string who, IEnumerable<(double NoRls, double Form)> rounds)
    {
        var list = rounds.ToList();
        return list.Count == 0
            ? $"{who} n/a"
            : string.Create(CultureInfo.InvariantCulture, $"{who} {Median(list.Select(r => r.NoRls)):F1} -> {Median(list.Select(r => r.Form)):F1} ({Median(list.Select(r => r.NoRls / r.Form)):F3})");
    }

    private static double Median(IEnumerable<double> values) => Quantile(values.Order().ToArray(), 0.5);

    private static double Quantile(double[] sorted, double q) => sorted[(int)Math.Round(q * (sorted.Length - 1))];
}
