using System.Diagnostics;

namespace Hardening.Testing;

/// <summary>
/// A long-running child process (pgbouncer, haproxy, a sample host) that can be killed like a crash (SIGKILL) and
/// started again with the same command line. Each start arms the <see cref="Watchdog"/>, so the process does not
/// outlive the test or drill process even when that one is killed. Keeps the last lines of its output.
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private const int LogLines = 400;
    private readonly string _file;
    private readonly string[] _arguments;
    private readonly IReadOnlyDictionary<string, string?> _environment;
    private readonly string? _workingDirectory;
    private readonly Queue<string> _log = new();
    private readonly object _gate = new();
    private Process? _process;

    /// <summary>Describes the process; <see cref="Start"/> starts it.</summary>
    public ServerProcess(string name, string file, IEnumerable<string> arguments, IReadOnlyDictionary<string, string?>? environment = null, string? workingDirectory = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentException.ThrowIfNullOrEmpty(file);
        ArgumentNullException.ThrowIfNull(arguments);
        Name = name;
        _file = file;
        _arguments = arguments.ToArray();
        _environment = environment ?? new Dictionary<string, string?>();
        _workingDirectory = workingDirectory;
    }

    /// <summary>What the process is, for messages (<c>pgbouncer</c>, <c>ats-1</c>).</summary>
    public string Name { get; }

    /// <summary>The running process's id, or null when it is not running.</summary>
    public int? ProcessId { get { lock (_gate) { return _process is { HasExited: false } p ? p.Id : null; } } }

    /// <summary>True while the process runs.</summary>
    public bool IsRunning => ProcessId is not null;

    /// <summary>How many times the process was started.</summary>
    public int Starts { get; private set; }

    /// <summary>The last lines the process wrote (stdout and stderr).</summary>
    public string Log { get { lock (_log) { return string.Join('\n', _log); } } }

    /// <summary>Starts the process (it must not be running).</summary>
    public void Start()
    {
        lock (_gate)
        {
            if (_process is { HasExited: false })
            {
                throw new InvalidOperationException($"{Name} is already running (pid {_process.Id}).");
            }

            _process?.Dispose();
            var psi = new ProcessStartInfo(_file)
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                RedirectStandardInput = true,
            };
            foreach (var a in _arguments)
            {
                psi.ArgumentList.Add(a);
            }

            foreach (var (k, v) in _environment)
            {
                if (v is null)
                {
                    psi.Environment.Remove(k);
                }
                else
                {
                    psi.Environment[k] = v;
                }
            }

            if (_workingDirectory is not null)
            {
                psi.WorkingDirectory = _workingDirectory;
            }

            var p = Process.Start(psi) ?? throw new InvalidOperationException($"Could not start {Name} ({_file}).");
            p.StandardInput.Close();
            p.OutputDataReceived += (_, e) => Append(e.Data);
            p.ErrorDataReceived += (_, e) => Append(e.Data);
            p.BeginOutputReadLine();
            p.BeginErrorReadLine();
            _process = p;
            Starts++;
            Watchdog.Arm(Environment.ProcessId, $"kill -9 {p.Id}");
        }
    }

    /// <summary>Kills the process with SIGKILL (a crash: no shutdown, sockets die) and waits for it to exit.</summary>
    public async Task KillAsync()
    {
        Process? p;
        lock (_gate)
        {
            p = _process;
        }

        if (p is null || p.HasExited)
        {
            return;
        }

        try
        {
            p.Kill();
        }
        catch (InvalidOperationException)
        {
        }

        await p.WaitForExitAsync();
    }

    /// <summary>
    /// Polls <paramref name="ready"/> until it returns true; throws with the process's output if the process exits
    /// or <paramref name="timeout"/> passes first. Exceptions from <paramref name="ready"/> count as "not yet".
    /// </summary>
    public async Task WaitUntilAsync(Func<CancellationToken, Task<bool>> ready, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ready);
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!IsRunning)
            {
                throw new InvalidOperationException($"{Name} exited while starting.\n{Log}");
            }

            try
            {
                using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                attempt.CancelAfter(TimeSpan.FromSeconds(5));
                if (await ready(attempt.Token))
                {
                    return;
                }
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{Name} was not ready within {timeout.TotalSeconds:0} s.\n{Log}");
            }

            await Task.Delay(100, cancellationToken);
        }
    }

    /// <summary>Kills the process.</summary>
    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        lock (_gate)
        {
            _process?.Dispose();
            _process = null;
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_log)
        {
            _log.Enqueue(line);
            while (_log.Count > LogLines)
            {
                _log.Dequeue();
            }
        }
    }
}
