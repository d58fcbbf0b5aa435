using Xunit;

using System.IO.Compression;
using System.Reflection.Metadata;
using System.Xml.Linq;

namespace Hardening.Testing;

/// <summary>Packs one src project and checks what a NuGet user gets: dll, XML docs, README, symbols with Source Link.</summary>
public static class PackageInspector
{
    private static readonly Guid SourceLinkGuid = new("CC110556-A091-4D38-9FEC-25AB9A351A6A");

    /// <summary>Runs <c>dotnet pack --no-build</c> for <paramref name="packageId"/> and asserts the package's contents.</summary>
    public static async Task AssertPackageIsCompleteAsync(string packageId)
    {
        var project = Path.Combine(RepoPaths.Source(packageId), packageId + ".csproj");
        var output = Path.Combine(Path.GetTempPath(), $"hardening-pack-{Guid.NewGuid():N}");
        try
        {
            // The test host inherits MSBuild variables from 'dotnet test'; a nested 'dotnet pack' must not see them.
            var env = Environment.GetEnvironmentVariables().Keys.Cast<string>()
                .Where(k => k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase) || k.StartsWith("DOTNET_HOST", StringComparison.OrdinalIgnoreCase))
                .ToDictionary(k => k, string? (_) => null);
            (await ProcessRunner.RunAsync("dotnet", ["pack", project, "-c", RepoPaths.Configuration, "--no-build", "-o", output, "-nologo", "-p:PackageOutputPath=" + output + "/"], TimeSpan.FromMinutes(5), RepoPaths.Root, env))
                .EnsureSuccess($"dotnet pack {packageId}");

            var nupkg = Directory.GetFiles(output, packageId + ".*.nupkg").Single(f => !f.EndsWith(".snupkg", StringComparison.Ordinal));
            var snupkg = Directory.GetFiles(output, packageId + ".*.snupkg").Single();
            using (var zip = ZipFile.OpenRead(nupkg))
            {
                var names = zip.Entries.Select(e => e.FullName).ToHashSet();
                Assert.Contains($"lib/net10.0/{packageId}.dll", names);
                Assert.Contains($"lib/net10.0/{packageId}.xml", names);
                Assert.Contains("README.md", names);
                var nuspecEntry = zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal));
                using var s = nuspecEntry.Open();
                var nuspec = XDocument.Load(s);
                XNamespace ns = nuspec.Root!.Name.Namespace;
                var meta = nuspec.Root.Element(ns + "metadata")!;
                Assert.Equal(packageId, meta.Element(ns + "id")?.Value);
                Assert.Equal("MIT", meta.Element(ns + "license")?.Value);
                Assert.Equal("README.md", meta.Element(ns + "readme")?.Value);
                Assert.False(string.IsNullOrWhiteSpace(meta.Element(ns + "description")?.Value));
                Assert.False(string.IsNullOrWhiteSpace(meta.Element(ns + "tags")?.Value));
                var repo = meta.Element(ns + "repository");
                Assert.NotNull(repo);
                Assert.StartsWith("https://github.com/", repo!.Attribute("url")?.Value ?? "", StringComparison.Ordinal);
                Assert.Matches("^[0-9a-f]{40}$", repo.Attribute("commit")?.Value ?? "");
                using var readme = zip.GetEntry("README.md")!.Open();
                using var reader = new StreamReader(readme);
                Assert.Contains(packageId, await reader.ReadToEndAsync(), StringComparison.Ordinal);
            }

            using (var zip = ZipFile.OpenRead(snupkg))
            {
                var pdbEntry = zip.GetEntry($"lib/net10.0/{packageId}.pdb");
                Assert.NotNull(pdbEntry);
                using var pdbStream = new MemoryStream();
                using (var s = pdbEntry!.Open())
                {
                    await s.CopyToAsync(pdbStream);
                }

                pdbStream.Position = 0;
                using var provider = MetadataReaderProvider.FromPortablePdbStream(pdbStream);
                var md = provider.GetMetadataReader();
                string? sourceLink = null;
                foreach (var h in md.CustomDebugInformation)
                {
                    var cdi = md.GetCustomDebugInformation(h);
                    if (md.GetGuid(cdi.Kind) == SourceLinkGuid)
                    {
                        sourceLink = System.Text.Encoding.UTF8.GetString(md.GetBlobBytes(cdi.Value));
                    }
                }

                Assert.NotNull(sourceLink);
                Assert.Contains("raw.githubusercontent.com", sourceLink!, StringComparison.Ordinal);
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
