namespace Hardening.Drills;

/// <summary>A drill: runs against a started topology (or its own servers), prints figures, returns violations.</summary>
internal interface IDrill
{
    /// <summary>The name on the command line (<c>load</c>, <c>burst</c>, <c>faults</c>, <c>backup</c>).</summary>
    string Name { get; }

    /// <summary>Runs the drill; the summary is written to artifacts/drills/&lt;name&gt;.json by the caller.</summary>
    Task<DrillResult> RunAsync(DrillArguments arguments, TextWriter output, CancellationToken cancellationToken);
}

/// <summary>What a drill measured (figures by name) and what it found wrong (empty = nothing lost, duplicated or crossed).</summary>
internal sealed record DrillResult(string Drill, IReadOnlyDictionary<string, object?> Figures, IReadOnlyList<string> Violations);

/// <summary>Parsed command line: <c>--name value</c> pairs and flags.</summary>
internal sealed class DrillArguments
{
    private readonly Dictionary<string, string?> _values;

    private DrillArguments(string name, Dictionary<string, string?> values) { Name = name; _values = values; }

    /// <summary>The drill's name.</summary>
    public string Name { get; }

    /// <summary>Instances of the sample behind HAProxy (<c>--instances</c>, default 1).</summary>
    public int Instances => Int("instances", 1, 1, 16);

    /// <summary><c>--redis single|cluster</c> (default single).</summary>
    public string Redis => String("redis", "single", "single", "cluster");

    /// <summary><c>--quick</c>: the reduced version run by the test command (seconds, not minutes).</summary>
    public bool Quick => _values.ContainsKey("quick");

    /// <summary>True when <c>--name</c> is given as a flag.</summary>
    public bool Flag(string name) => _values.ContainsKey(name);

    /// <summary>An integer option with a default and an allowed range; a bad value is an <see cref="ArgumentException"/> naming it.</summary>
    public int Int(string name, int defaultValue, int min, int max)
    {
        if (!_values.TryGetValue(name, out var text) || text is null) return defaultValue;
        if (!int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value) || value < min || value > max)
            throw new ArgumentException($"--{name} must be an integer from {min} to {max}; got '{text}'.");
        return value;
    }

    /// <summary>A string option limited to the allowed values.</summary>
    public string String(string name, string defaultValue, params string[] allowed)
    {
        if (!_values.TryGetValue(name, out var text) || text is null) return defaultValue;
        if (!allowed.Contains(text, StringComparer.Ordinal))
            throw new ArgumentException($"--{name} must be one of {string.Join(", ", allowed)}; got '{text}'.");
        return text;
    }

    /// <summary>Parses <c>name --opt value --flag</c>.</summary>
    public static DrillArguments Parse(IReadOnlyList<string> args)
    {
        if (args.Count == 0 || args[0].StartsWith('-')) throw new ArgumentException("name a drill: load, burst, faults or backup.");
        var values = new Dictionary<string, string?>(StringComparer.Ordinal);
        for (var i = 1; i < args.Count; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal) || arg.Length == 2) throw new ArgumentException($"unexpected argument '{arg}'; options are --name value or --flag.");
            var key = arg[2..];
            string? value = null;
            if (i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal)) value = args[++i];
            if (!values.TryAdd(key, value)) throw new ArgumentException($"--{key} is given twice.");
        }
        return new DrillArguments(args[0], values);
    }
}

/// <summary>The entry point: picks the drill, runs it, writes artifacts/drills/&lt;name&gt;.json, sets the exit code.</summary>
internal static class DrillCommand
{
    /// <summary>Every drill, by name. Each drill adds its line here.</summary>
    internal static IReadOnlyList<IDrill> All { get; } =
    [
        new Load.LoadDrill(),
        new Burst.BurstDrill(),
        new Faults.FaultsDrill(),
        new Backup.BackupDrill(),
    ];

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        DrillArguments arguments;
        IDrill? drill;
        try
        {
            arguments = DrillArguments.Parse(args);
            drill = All.FirstOrDefault(d => d.Name == arguments.Name)
                ?? throw new ArgumentException($"no drill '{arguments.Name}'; drills: {string.Join(", ", All.Select(d => d.Name))}.");
        }
        catch (ArgumentException e)
        {
            await error.WriteLineAsync("drill: " + e.Message);
            return 2;
        }

        var loadBefore = LoadAverage();
        var result = await drill.RunAsync(arguments, output, cancellationToken);
        // The machine's load average around the run: figures from a busy machine are not comparable with a quiet one's.
        var figures = new Dictionary<string, object?>(result.Figures, StringComparer.Ordinal)
        {
            ["machine_load_average_before"] = loadBefore,
            ["machine_load_average_after"] = LoadAverage(),
            ["processors"] = Environment.ProcessorCount,
        };
        result = result with { Figures = figures };
        await output.WriteLineAsync($"machine: {Environment.ProcessorCount} processors, load average {loadBefore} before, {figures["machine_load_average_after"]} after");
        var directory = Path.Combine(Hardening.Testing.RepoPaths.Root, "artifacts", "drills");
        Directory.CreateDirectory(directory);
        var file = Path.Combine(directory, $"{drill.Name}{(arguments.Quick ? "-quick" : "")}.json");
        await File.WriteAllTextAsync(file, System.Text.Json.JsonSerializer.Serialize(result, JsonOptions), cancellationToken);
        await output.WriteLineAsync($"summary: {file}");
        foreach (var violation in result.Violations) await error.WriteLineAsync("VIOLATION: " + violation);
        await output.WriteLineAsync(result.Violations.Count == 0 ? $"drill {drill.Name}: nothing lost, duplicated or crossed tenants" : $"drill {drill.Name}: {result.Violations.Count} violation(s)");
        return result.Violations.Count == 0 ? 0 : 1;
    }

    /// <summary>The 1-minute load average from /proc/loadavg, or null where there is none.</summary>
    private static string? LoadAverage()
    {
        try
        {
            return File.ReadAllText("/proc/loadavg").Split(' ')[0];
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static readonly System.Text.Json.JsonSerializerOptions JsonOptions = new() { WriteIndented = true };
}
