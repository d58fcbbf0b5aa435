using Hardening.Testing;

namespace Hardening.Drills.Topology;

/// <summary>
/// One sample ATS host (<c>dotnet Hardening.Samples.Ats.dll</c>) on its own loopback port, as the application role
/// through PgBouncer. <see cref="KillAsync"/> is a SIGKILL (a crash); <see cref="StartAgainAsync"/> starts it on the
/// same port and waits until <c>/health/ready</c> answers 200.
/// </summary>
internal sealed class SampleInstance : IAsyncDisposable
{
    private readonly ServerProcess _process;

    public SampleInstance(int index, int port, IReadOnlyDictionary<string, string?> environment)
    {
        Index = index;
        Port = port;
        _process = new ServerProcess($"ats-{index}", "dotnet", [Dll, "--contentRoot", Bin, "--urls", $"http://127.0.0.1:{port}"], environment, Bin);
    }

    /// <summary>The sample's build output (built with the drills).</summary>
    public static string Bin => Path.Combine(RepoPaths.Root, "samples", "Hardening.Samples.Ats", "bin", RepoPaths.Configuration, "net10.0");

    /// <summary>The sample's entry assembly.</summary>
    public static string Dll => Path.Combine(Bin, "Hardening.Samples.Ats.dll");

    /// <summary>0-based index; HAProxy names it <c>ats-{Index}</c>.</summary>
    public int Index { get; }

    /// <summary>The instance's own port (HAProxy's backend).</summary>
    public int Port { get; }

    /// <summary>The instance's own address (bypassing HAProxy).</summary>
    public Uri BaseAddress => new($"http://127.0.0.1:{Port}");

    /// <summary>The host process (id, output, starts).</summary>
    public ServerProcess Process => _process;

    /// <summary>Starts the host (it must not be running) and waits until it is ready.</summary>
    public async Task StartAgainAsync(CancellationToken cancellationToken = default)
    {
        _process.Start();
        using var http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        await _process.WaitUntilAsync(async ct =>
        {
            using var r = await http.GetAsync(new Uri("/health/ready", UriKind.Relative), ct);
            return r.IsSuccessStatusCode;
        }, TimeSpan.FromMinutes(2), cancellationToken);
    }

    /// <summary>SIGKILL: no graceful shutdown, open SSE streams and requests die.</summary>
    public Task KillAsync() => _process.KillAsync();

    /// <summary>Kills and starts again.</summary>
    public async Task RestartAsync(CancellationToken cancellationToken = default)
    {
        await KillAsync();
        await StartAgainAsync(cancellationToken);
    }

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}
