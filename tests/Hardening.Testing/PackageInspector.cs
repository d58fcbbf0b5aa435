using Xunit;

using System.IO.Compression;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Text;
using System.Text.Json;
using System.Xml.Linq;

namespace Hardening.Testing;

/// <summary>
/// What a NuGet user gets from one packed package (<c>./build.sh pack</c>): the dll with XML docs and the README, the
/// metadata nuget.org shows, no dependency on another Hardening package, and a symbol package whose PDB carries Source
/// Link to GitHub at the packed commit and deterministic (<c>/_/</c>) source paths.
/// </summary>
public static class PackageInspector
{
    /// <summary>The Source Link custom debug information kind (Portable PDB spec).</summary>
    private static readonly Guid SourceLinkGuid = new("CC110556-A091-4D38-9FEC-25AB9A351A6A");

    /// <summary>Asserts the .nupkg and .snupkg of <paramref name="packageId"/> in <paramref name="directory"/>, packed at <paramref name="commit"/>.</summary>
    public static async Task AssertPackageIsCompleteAsync(string directory, string packageId, string commit)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentException.ThrowIfNullOrEmpty(packageId);
        ArgumentException.ThrowIfNullOrEmpty(commit);
        var nupkg = Directory.GetFiles(directory, packageId + ".*.nupkg").Where(f => IsVersionOf(f, packageId, ".nupkg")).ToArray();
        var snupkg = Directory.GetFiles(directory, packageId + ".*.snupkg").Where(f => IsVersionOf(f, packageId, ".snupkg")).ToArray();
        Assert.True(nupkg.Length == 1, $"{directory} holds {nupkg.Length} .nupkg files of {packageId}, expected 1.");
        Assert.True(snupkg.Length == 1, $"{directory} holds {snupkg.Length} .snupkg files of {packageId}, expected 1.");

        var sourceLinkUrl = await AssertNupkgAsync(nupkg[0], packageId, commit);
        await AssertSnupkgAsync(snupkg[0], packageId, commit, sourceLinkUrl);
    }

    // Hardening.Rls.0.1.0.nupkg, but not Hardening.Rls.Lint.0.1.0.nupkg.
    private static bool IsVersionOf(string file, string packageId, string extension)
    {
        var name = Path.GetFileName(file);
        return name.EndsWith(extension, StringComparison.Ordinal)
            && char.IsAsciiDigit(name[packageId.Length + 1]);
    }

    private static async Task<string> AssertNupkgAsync(string path, string packageId, string commit)
    {
        using var zip = ZipFile.OpenRead(path);
        var names = zip.Entries.Select(e => e.FullName).ToHashSet();
        Assert.Contains($"lib/net10.0/{packageId}.dll", names);
        Assert.Contains($"lib/net10.0/{packageId}.xml", names);
        Assert.Contains("README.md", names);
        Assert.DoesNotContain(names, n => n.EndsWith(".pdb", StringComparison.Ordinal));
        Assert.DoesNotContain(names, n => n.StartsWith("PublicAPI", StringComparison.Ordinal));

        XDocument nuspec;
        using (var s = zip.Entries.Single(e => e.FullName == packageId + ".nuspec").Open())
        {
            nuspec = await XDocument.LoadAsync(s, LoadOptions.None, CancellationToken.None);
        }

        XNamespace ns = nuspec.Root!.Name.Namespace;
        var meta = nuspec.Root.Element(ns + "metadata")!;
        Assert.Equal(packageId, meta.Element(ns + "id")?.Value);
        Assert.Equal("MIT", meta.Element(ns + "license")?.Value);
        Assert.Equal("expression", meta.Element(ns + "license")?.Attribute("type")?.Value);
        Assert.Equal("README.md", meta.Element(ns + "readme")?.Value);
        Assert.False(string.IsNullOrWhiteSpace(meta.Element(ns + "description")?.Value), $"{packageId}: no description");
        Assert.False(string.IsNullOrWhiteSpace(meta.Element(ns + "authors")?.Value), $"{packageId}: no authors");
        Assert.Contains("security", meta.Element(ns + "tags")?.Value ?? "", StringComparison.Ordinal);
        var repo = meta.Element(ns + "repository");
        Assert.NotNull(repo);
        Assert.Equal("git", repo!.Attribute("type")?.Value);
        var repoUrl = repo.Attribute("url")?.Value ?? "";
        Assert.Matches("^https://github\\.com/[^/]+/[^/]+$", repoUrl);
        Assert.Equal(commit, repo.Attribute("commit")?.Value);

        // No package depends on another of ours.
        var dependencies = meta.Descendants(ns + "dependency").Select(d => d.Attribute("id")?.Value ?? "").ToList();
        Assert.DoesNotContain(dependencies, d => d.StartsWith("Hardening", StringComparison.OrdinalIgnoreCase));

        using (var readme = new StreamReader(zip.GetEntry("README.md")!.Open()))
        {
            var text = await readme.ReadToEndAsync();
            Assert.Contains(packageId, text, StringComparison.Ordinal);
            var source = await File.ReadAllTextAsync(Path.Combine(RepoPaths.Source(packageId), "README.md"));
            Assert.Equal(source, text);
        }

        // The dll names its PDB by a mapped path: no path of the build machine in the shipped binary.
        using (var dll = zip.GetEntry($"lib/net10.0/{packageId}.dll")!.Open())
        using (var copy = new MemoryStream())
        {
            await dll.CopyToAsync(copy);
            copy.Position = 0;
            using var pe = new PEReader(copy);
            var codeView = pe.ReadDebugDirectory().Single(d => d.Type == DebugDirectoryEntryType.CodeView);
            var pdbPath = pe.ReadCodeViewDebugDirectoryData(codeView).Path;
            Assert.StartsWith("/_/", pdbPath, StringComparison.Ordinal);
            Assert.Contains(pe.ReadDebugDirectory(), d => d.IsPortableCodeView);
            Assert.DoesNotContain(RepoPaths.Root, Encoding.UTF8.GetString(copy.ToArray()), StringComparison.Ordinal);
        }

        return "https://raw.githubusercontent.com/" + repoUrl["https://github.com/".Length..] + "/" + commit + "/*";
    }

    private static async Task AssertSnupkgAsync(string path, string packageId, string commit, string expectedSourceLink)
    {
        using var zip = ZipFile.OpenRead(path);
        var pdbEntry = zip.GetEntry($"lib/net10.0/{packageId}.pdb");
        Assert.True(pdbEntry is not null, $"{path} has no lib/net10.0/{packageId}.pdb");
        using var pdbStream = new MemoryStream();
        using (var s = pdbEntry!.Open())
        {
            await s.CopyToAsync(pdbStream);
        }

        pdbStream.Position = 0;
        using var provider = MetadataReaderProvider.FromPortablePdbStream(pdbStream);
        var md = provider.GetMetadataReader();

        var sourceLinks = md.CustomDebugInformation
            .Select(md.GetCustomDebugInformation)
            .Where(cdi => md.GetGuid(cdi.Kind) == SourceLinkGuid)
            .Select(cdi => Encoding.UTF8.GetString(md.GetBlobBytes(cdi.Value)))
            .ToList();
        Assert.True(sourceLinks.Count == 1, $"{packageId}.pdb has {sourceLinks.Count} Source Link records, expected 1.");
        using var json = JsonDocument.Parse(sourceLinks[0]);
        var documents = json.RootElement.GetProperty("documents").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString());
        Assert.Equal(expectedSourceLink, Assert.Single(documents, d => d.Key == "/_/*").Value);
        Assert.Contains(commit, expectedSourceLink, StringComparison.Ordinal);

        var paths = md.Documents.Select(h => md.GetString(md.GetDocument(h).Name)).ToList();
        Assert.NotEmpty(paths);
        var unmapped = paths.Where(p => !p.StartsWith("/_/", StringComparison.Ordinal)).ToList();
        Assert.True(unmapped.Count == 0, $"{packageId}.pdb has source paths outside /_/: {string.Join(", ", unmapped)}");
        Assert.Contains(paths, p => p.StartsWith($"/_/src/{packageId}/", StringComparison.Ordinal) && p.EndsWith(".cs", StringComparison.Ordinal));
    }
}
