namespace Hardening.Repository.Tests;

/// <summary>Runs alone: it builds the five packages, which would slow the other tests.</summary>
[CollectionDefinition(nameof(PackCollection), DisableParallelization = true)]
public sealed class PackCollection;

/// <summary>
/// The README's <c>./build.sh pack</c>: it exits 0 and packs exactly the packages under src/, each with what a NuGet
/// user needs (<see cref="PackageInspector"/>: README, license and repository metadata, XML docs, Source Link to GitHub
/// at the HEAD commit, deterministic <c>/_/</c> paths in the PDB).
/// </summary>
[Collection(nameof(PackCollection))]
public sealed class PackTests
{
    [Fact]
    public async Task Pack_exits_0_and_every_package_carries_source_link_and_its_metadata()
    {
        var packages = Directory.GetDirectories(Path.Combine(RepoPaths.Root, "src"), "Hardening.*")
            .Where(d => File.Exists(Path.Combine(d, Path.GetFileName(d) + ".csproj")))
            .Select(Path.GetFileName)
            .Order(StringComparer.Ordinal)
            .ToList();
        Assert.NotEmpty(packages);
        var head = (await ProcessRunner.RunAsync("git", ["rev-parse", "HEAD"], TimeSpan.FromSeconds(30), RepoPaths.Root))
            .EnsureSuccess("git rev-parse HEAD").StdOut.Trim();

        var output = Path.Combine(Path.GetTempPath(), $"hardening-pack-{Guid.NewGuid():N}");
        try
        {
            // The test host inherits MSBuild variables from 'dotnet test'; the nested 'dotnet pack' must not see them.
            var env = Environment.GetEnvironmentVariables().Keys.Cast<string>()
                .Where(k => k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase) || k.StartsWith("DOTNET_HOST", StringComparison.OrdinalIgnoreCase))
                .ToDictionary(k => k, string? (_) => null);
            var result = await ProcessRunner.RunAsync("bash", [Path.Combine(RepoPaths.Root, "build.sh"), "pack", output], TimeSpan.FromMinutes(9), RepoPaths.Root, env);
            Assert.True(result.ExitCode == 0, $"./build.sh pack exited {result.ExitCode}.\nstdout:\n{result.StdOut}\nstderr:\n{result.StdErr}");

            var expected = packages.SelectMany(p => new[] { p + ".0.1.0.nupkg", p + ".0.1.0.snupkg" }).Order(StringComparer.Ordinal);
            var actual = Directory.GetFiles(output).Select(Path.GetFileName).Order(StringComparer.Ordinal);
            Assert.Equal(expected, actual);
            foreach (var package in packages)
            {
                await PackageInspector.AssertPackageIsCompleteAsync(output, package!, head);
            }
        }
        finally
        {
            if (Directory.Exists(output))
            {
                Directory.Delete(output, recursive: true);
            }
        }
    }
}
