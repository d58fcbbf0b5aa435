using Xunit;

using System.Reflection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using System.Runtime.CompilerServices;

namespace Hardening.Testing;

/// <summary>
/// The conventions every package keeps, checked once for all: each package's test project subclasses this in one line
/// (<c>public sealed class PackageTests() : PackageConventionTests("Hardening.X");</c>). The packed .nupkg/.snupkg are
/// checked for all packages at once by the pack test in Hardening.Repository.Tests (<see cref="PackageInspector"/>).
/// </summary>
public abstract class PackageConventionTests
{
    private readonly string packageId;
    private readonly Assembly assembly;

    /// <summary>Checks package <paramref name="packageId"/> (<c>Hardening.X</c>), which the test project references.</summary>
    protected PackageConventionTests(string packageId)
    {
        ArgumentException.ThrowIfNullOrEmpty(packageId);
        this.packageId = packageId;
        assembly = Assembly.Load(packageId);
    }

    /// <summary>
    /// The package's <c>Add...</c> methods that take a <c>configure</c> delegate: each registers with a delegate that
    /// counts its runs (the <see cref="Action"/> given), and names the services an app resolves afterwards.
    /// </summary>
    protected virtual IEnumerable<(string Method, Action<IServiceCollection, Action> Register, Type[] Resolve)> ConfiguredRegistrations => [];

    /// <summary>
    /// A <c>configure</c> delegate runs once per app: through start-up validation (what the host runs), the package's own
    /// services and <c>IOptions</c>/<c>IOptionsMonitor</c> of its options, not once for each of them.
    /// </summary>
    [Fact]
    public async Task Configure_delegates_run_once()
    {
        foreach (var (method, register, resolve) in ConfiguredRegistrations)
        {
            var runs = 0;
            var services = new ServiceCollection().AddLogging();
            register(services, () => runs++);
            await using var provider = services.BuildServiceProvider();
            provider.GetRequiredService<IStartupValidator>().Validate();
            foreach (var type in resolve)
            {
                var service = provider.GetRequiredService(type);
                if (type.IsGenericType && (type.GetGenericTypeDefinition() == typeof(IOptions<>) || type.GetGenericTypeDefinition() == typeof(IOptionsMonitor<>)))
                {
                    _ = type.GetProperty(type.GetGenericTypeDefinition() == typeof(IOptions<>) ? "Value" : "CurrentValue")!.GetValue(service);
                }
            }

            Assert.True(runs == 1, $"{method}: the configure delegate ran {runs} times; expected once.");
        }
    }

    /// <summary>Internals are visible to the package's own test project and to nothing else.</summary>
    [Fact]
    public void Internals_are_visible_only_to_its_own_test_project()
    {
        var friends = assembly.GetCustomAttributes<InternalsVisibleToAttribute>().Select(a => a.AssemblyName).ToList();
        Assert.Equal([packageId + ".Tests"], friends);
    }

    /// <summary>No package depends on another of ours; shared helpers are compiled in from src/Shared as internal.</summary>
    [Fact]
    public void Depends_on_no_other_Hardening_package()
    {
        var ours = assembly.GetReferencedAssemblies()
            .Select(a => a.Name ?? "")
            .Where(n => n.StartsWith("Hardening", StringComparison.OrdinalIgnoreCase))
            .ToList();
        Assert.Empty(ours);

        var project = File.ReadAllText(Path.Combine(RepoPaths.Source(packageId), packageId + ".csproj"));
        Assert.DoesNotContain("<ProjectReference", project, StringComparison.Ordinal);
    }

    /// <summary>
    /// Public types are in the package's root namespace (Npgsql's policy). The only others are static classes of
    /// extension methods, which live in the namespace of the type they extend (DI, endpoint routing, ...).
    /// </summary>
    [Fact]
    public void Public_types_are_in_the_package_namespace_or_are_extension_classes()
    {
        var strays = assembly.GetExportedTypes()
            .Where(t => t.Namespace != packageId && !IsExtensionClass(t))
            .Select(t => t.FullName)
            .Order(StringComparer.Ordinal)
            .ToList();
        Assert.True(strays.Count == 0, $"Public types of {packageId} outside namespace {packageId}: {string.Join(", ", strays)}");
    }

    /// <summary>
    /// The public API is tracked by PublicApiAnalyzers with nullable annotations: both baseline files exist and start
    /// with <c>#nullable enable</c>, so a change to the API (or to its nullability) fails the build until
    /// <c>./build.sh api</c> records it.
    /// </summary>
    [Fact]
    public void Public_api_baselines_exist_and_track_nullability()
    {
        foreach (var name in new[] { "PublicAPI.Shipped.txt", "PublicAPI.Unshipped.txt" })
        {
            var path = Path.Combine(RepoPaths.Source(packageId), name);
            Assert.True(File.Exists(path), $"{path} is missing; run ./build.sh api {packageId}");
            Assert.Equal("#nullable enable", File.ReadLines(path).FirstOrDefault());
        }

        Assert.False(File.Exists(Path.Combine(RepoPaths.Source(packageId), "PublicAPI.txt")), "PublicAPI.txt was replaced by PublicAPI.Shipped.txt / PublicAPI.Unshipped.txt");
    }

    /// <summary>The README shipped in the .nupkg exists and names the package.</summary>
    [Fact]
    public void Has_a_readme_that_names_the_package()
    {
        var path = Path.Combine(RepoPaths.Source(packageId), "README.md");
        Assert.True(File.Exists(path), $"{path} is missing");
        Assert.Contains(packageId, File.ReadAllText(path), StringComparison.Ordinal);
    }

    /// <summary>
    /// Package code never resumes on the caller's <see cref="SynchronizationContext"/>. The build enforces that every
    /// await names ConfigureAwait (CA2007) and bans Task.Yield; this holds the value: no <c>ConfigureAwait(true)</c>.
    /// (Behaviour tests under a counting context catch only the awaits that run while still on the caller's context.)
    /// </summary>
    [Fact]
    public void Package_code_never_resumes_on_the_callers_context()
    {
        var offenders = Directory.EnumerateFiles(RepoPaths.Source(packageId), "*.cs", SearchOption.AllDirectories)
            .Where(p => !p.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .SelectMany(p => File.ReadLines(p).Select((line, i) => (p, i, line)))
            .Where(x => System.Text.RegularExpressions.Regex.IsMatch(x.line, @"ConfigureAwait\(\s*(true|continueOnCapturedContext:\s*true)\s*\)"))
            .Select(x => $"{Path.GetRelativePath(RepoPaths.Root, x.p)}:{x.i + 1}")
            .ToList();
        Assert.True(offenders.Count == 0, "ConfigureAwait(true) in package code: " + string.Join(", ", offenders));
    }

    private static bool IsExtensionClass(Type t) =>
        t is { IsAbstract: true, IsSealed: true, IsNested: false }
        && t.IsDefined(typeof(ExtensionAttribute), inherit: false)
        && t.GetMethods(BindingFlags.Public | BindingFlags.Static | BindingFlags.DeclaredOnly)
            .All(m => m.IsDefined(typeof(ExtensionAttribute), inherit: false));
}
