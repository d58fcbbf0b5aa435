namespace Hardening.Testing;

/// <summary>Paths in the repository, found from the test assembly's location.</summary>
public static class RepoPaths
{
    private static readonly Lazy<string> RootPath = new(() =>
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Hardening.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException($"Hardening.sln not found above {AppContext.BaseDirectory}.");
    });

    /// <summary>The repository root (the folder holding Hardening.sln).</summary>
    public static string Root => RootPath.Value;

    /// <summary>The folder of package <c>Hardening.{name}</c> under src/.</summary>
    public static string Source(string package) => Path.Combine(Root, "src", package);

    /// <summary>The build configuration the tests were compiled in.</summary>
    public static string Configuration =>
#if DEBUG
        "Debug";
#else
        "Release";
#endif
}
