using FsCheck;
using FsCheck.Fluent;

namespace Hardening.Testing;

/// <summary>
/// FsCheck configuration for property tests run from xunit facts: throws on failure with the seed in the message
/// ("Replay: (seed, gamma)"). Set <c>HARDENING_FSCHECK_REPLAY="seed,gamma"</c> to replay a failure.
/// </summary>
public static class PropertyConfig
{
    /// <summary>A throwing configuration running <paramref name="maxTest"/> cases (at least 100 in this project).</summary>
    public static Config Create(int maxTest = 100)
    {
        var config = Config.QuickThrowOnFailure.WithMaxTest(maxTest);
        var replay = Environment.GetEnvironmentVariable("HARDENING_FSCHECK_REPLAY");
        if (!string.IsNullOrWhiteSpace(replay))
        {
            var parts = replay.Trim().Trim('(', ')').Split(',', StringSplitOptions.TrimEntries);
            config = config.WithReplay(ulong.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture), ulong.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture));
        }

        return config;
    }
}
