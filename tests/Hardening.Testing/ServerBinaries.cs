namespace Hardening.Testing;

/// <summary>Finds the server binaries the harness starts, failing with the command that installs a missing one.</summary>
public static class ServerBinaries
{
    private static readonly string[] PostgresDirs = ["/usr/lib/postgresql/15/bin", "/usr/local/bin", "/usr/bin"];
    private static readonly string[] CommonDirs = ["/usr/bin", "/usr/local/bin", "/usr/sbin", "/bin"];

    /// <summary>True when the test process runs as root (PostgreSQL must then run as the 'postgres' user).</summary>
    public static bool IsRoot => Environment.UserName == "root";

    /// <summary>Path to a PostgreSQL 15 server binary such as <c>initdb</c> or <c>pg_ctl</c>.</summary>
    public static string Postgres(string name) =>
        Find(name, PostgresDirs, "postgresql-15", "sudo apt-get install -y postgresql-15   (or ./build.sh deps)");

    /// <summary>Path to <c>redis-server</c>, <c>redis-cli</c> or <c>redis-benchmark</c>.</summary>
    public static string Redis(string name) =>
        Find(name, CommonDirs, "redis-server", "sudo apt-get install -y redis-server   (or ./build.sh deps)");

    /// <summary>Path to <c>promtool</c>.</summary>
    public static string Promtool() =>
        Find("promtool", CommonDirs, "prometheus", "sudo apt-get install -y prometheus   (or ./build.sh deps)");

    /// <summary>Finds <paramref name="name"/> in <paramref name="dirs"/> or on PATH.</summary>
    public static string Find(string name, IEnumerable<string> dirs, string package, string install)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var path = Environment.GetEnvironmentVariable("PATH")?.Split(':', StringSplitOptions.RemoveEmptyEntries) ?? [];
        foreach (var dir in dirs.Concat(path))
        {
            var candidate = Path.Combine(dir, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException(
            $"The test harness needs '{name}' (Debian package '{package}') but it is not installed. Install it with: {install}");
    }
}
