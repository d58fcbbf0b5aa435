using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Hardening.Sse;

/// <summary>
/// An event id as sent in the SSE <c>id</c> field and returned by browsers in <c>Last-Event-ID</c>:
/// <c>&lt;epoch&gt;-&lt;sequence&gt;</c>, e.g. <c>3f9a1c0b7d2e-42</c>. At most 52 ASCII characters; never CR, LF or NUL.
/// </summary>
/// <param name="Epoch">The stream's epoch: 1 to 32 ASCII letters or digits.</param>
/// <param name="Sequence">The sequence number within the epoch (0 means "before the first event").</param>
public readonly record struct SseEventId(string Epoch, long Sequence)
{
    /// <summary>The longest id this package produces or accepts.</summary>
    public const int MaxLength = 52;

    /// <summary>Parses an id; false for anything that is not <c>&lt;epoch&gt;-&lt;sequence&gt;</c>.</summary>
    public static bool TryParse([NotNullWhen(true)] string? value, out SseEventId id)
    {
        id = default;
        if (string.IsNullOrEmpty(value) || value.Length > MaxLength)
        {
            return false;
        }

        var dash = value.LastIndexOf('-');
        if (dash <= 0 || dash == value.Length - 1)
        {
            return false;
        }

        var epoch = value.AsSpan(0, dash);
        if (!IsValidEpoch(epoch))
        {
            return false;
        }

        var digits = value.AsSpan(dash + 1);
        foreach (var c in digits)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        if (!long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var sequence))
        {
            return false;
        }

        id = new SseEventId(epoch.ToString(), sequence);
        return true;
    }

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Epoch}-{Sequence}");

    internal static bool IsValidEpoch(ReadOnlySpan<char> epoch)
    {
        if (epoch.Length is 0 or > 32)
        {
            return false;
        }

        foreach (var c in epoch)
        {
            if (!char.IsAsciiLetterOrDigit(c))
            {
                return false;
            }
        }

        return true;
    }

    internal static string NewEpoch() => Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(6));
}
