using System.Security.Cryptography;

namespace Hardening.Sse;

/// <summary>The browser ES module, embedded in the assembly.</summary>
internal static class SseClientScript
{
    public const string ResourceName = "Hardening.Sse.Client.hardening-sse.js";

    private static readonly Lazy<byte[]> Content = new(() =>
    {
        using var stream = typeof(SseClientScript).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The embedded resource {ResourceName} is missing from Hardening.Sse.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    });

    public static ReadOnlyMemory<byte> Bytes => Content.Value;

    public static string ETag => $"\"{Convert.ToHexStringLower(SHA256.HashData(Content.Value))[..16]}\"";
}
