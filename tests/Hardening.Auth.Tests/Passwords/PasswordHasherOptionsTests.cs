using Hardening.Auth;
using Microsoft.Extensions.Options;
using PasswordHasherOptions = Hardening.Auth.PasswordHasherOptions;

namespace Hardening.Auth.Tests.Passwords;

/// <summary>Every option of <see cref="PasswordHasherOptions"/> at and just past its limits, against hand-written messages.</summary>
public sealed class PasswordHasherOptionsTests
{
    private const string Pepper16 = "0123456789abcdef"; // exactly 16 UTF-8 bytes

    public static TheoryData<string, string> Invalid => new()
    {
        { "Cost=3", "PasswordHasherOptions.Cost is 3; use 4..20 (12 is the default; PasswordHasher.CalibrateCost picks one for this machine)." },
        { "Cost=21", "PasswordHasherOptions.Cost is 21; use 4..20 (12 is the default; PasswordHasher.CalibrateCost picks one for this machine)." },
        { "Pepper=15 bytes", "PasswordHasherOptions.Pepper is shorter than 16 bytes; use 32 random bytes (e.g. 'openssl rand -base64 32'), or leave it null for no pepper." },
        { "PepperId=", "PasswordHasherOptions.PepperId '' is not 1-32 characters of A-Z a-z 0-9 . _ -." },
        { "PepperId=33 chars", "PasswordHasherOptions.PepperId 'abcdefghijklmnopqrstuvwxyz0123456' is not 1-32 characters of A-Z a-z 0-9 . _ -." },
        { "PepperId=a+b", "PasswordHasherOptions.PepperId 'a+b' is not 1-32 characters of A-Z a-z 0-9 . _ -." },
        { "PepperId=é", "PasswordHasherOptions.PepperId 'é' is not 1-32 characters of A-Z a-z 0-9 . _ -." },
        { "PreviousPeppers[a b]", "PasswordHasherOptions.PreviousPeppers has the identifier 'a b', which is not 1-32 characters of A-Z a-z 0-9 . _ -." },
        { "PreviousPeppers[1]", "PasswordHasherOptions.PreviousPeppers reuses the current PepperId '1'; give the new pepper a new identifier." },
        { "PreviousPeppers[old]=15 bytes", "PasswordHasherOptions.PreviousPeppers['old'] is shorter than 16 bytes; it must be the exact pepper that made those hashes." },
        { "PreviousPeppers[old]=null", "PasswordHasherOptions.PreviousPeppers['old'] is shorter than 16 bytes; it must be the exact pepper that made those hashes." },
        { "MaxPasswordLength=0", "PasswordHasherOptions.MaxPasswordLength is 0; use 1..1048576 (4096 is the default)." },
        { "MaxPasswordLength=1048577", "PasswordHasherOptions.MaxPasswordLength is 1048577; use 1..1048576 (4096 is the default)." },
        { "Pbkdf2Iterations=209999", "PasswordHasherOptions.Pbkdf2Iterations is 209999; use 210000..10000000 (OWASP 2023 asks for at least 210,000 with HMAC-SHA512)." },
        { "Pbkdf2Iterations=10000001", "PasswordHasherOptions.Pbkdf2Iterations is 10000001; use 210000..10000000 (OWASP 2023 asks for at least 210,000 with HMAC-SHA512)." },
        { "HistorySize=-1", "PasswordHasherOptions.HistorySize is -1; use 0..100 (5 is the default)." },
        { "HistorySize=101", "PasswordHasherOptions.HistorySize is 101; use 0..100 (5 is the default)." },
        { "LegacyBCryptFormat=2", "PasswordHasherOptions.LegacyBCryptFormat is 2; use Plain (the default) or BCryptNetEnhancedSha384." },
        { "LegacyBCryptFormat=-1", "PasswordHasherOptions.LegacyBCryptFormat is -1; use Plain (the default) or BCryptNetEnhancedSha384." },
    };

    public static TheoryData<string> Valid => new()
    {
        "defaults", "Cost=4", "Cost=20", "Pepper=16 bytes", "Pepper=8 two-byte chars", "PepperId=32 chars", "PepperId=.", "PepperId=_", "PepperId=-",
        "PepperId=Az09", "PreviousPeppers[old]=16 bytes", "MaxPasswordLength=1", "MaxPasswordLength=1048576", "Pbkdf2Iterations=210000",
        "Pbkdf2Iterations=10000000", "HistorySize=0", "HistorySize=100", "LegacyBCryptFormat=1",
    };

    private static PasswordHasherOptions With(string change)
    {
        var o = new PasswordHasherOptions();
        var (name, value) = change.Split('=', 2) is [var n, var v] ? (n, v) : (change, "");
        static int Int(string s) => int.Parse(s, System.Globalization.CultureInfo.InvariantCulture);
        switch (name)
        {
            case "defaults": break;
            case "Cost": o.Cost = Int(value); break;
            case "Pepper": o.Pepper = value switch { "15 bytes" => Pepper16[1..], "16 bytes" => Pepper16, _ => new string('é', 8) }; break;
            case "PepperId": o.PepperId = value switch { "33 chars" => "abcdefghijklmnopqrstuvwxyz0123456", "32 chars" => "abcdefghijklmnopqrstuvwxyz012345", _ => value }; break;
            case "PreviousPeppers[a b]": o.PreviousPeppers["a b"] = Pepper16; break;
            case "PreviousPeppers[1]": o.PreviousPeppers["1"] = Pepper16; break;
            case "PreviousPeppers[old]": o.PreviousPeppers["old"] = value switch { "15 bytes" => Pepper16[1..], "null" => null!, _ => Pepper16 }; break;
            case "MaxPasswordLength": o.MaxPasswordLength = Int(value); break;
            case "Pbkdf2Iterations": o.Pbkdf2Iterations = Int(value); break;
            case "HistorySize": o.HistorySize = Int(value); break;
            case "LegacyBCryptFormat": o.LegacyBCryptFormat = (LegacyBCryptFormat)Int(value); break;
            default: throw new ArgumentOutOfRangeException(nameof(change), change, "unknown option in the test table");
        }

        return o;
    }

    [Theory]
    [MemberData(nameof(Invalid))]
    public void Each_invalid_option_gives_exactly_its_own_message(string change, string message)
    {
        var options = With(change);
        Assert.Equal([message], options.Validate());
        var result = new PasswordHasherOptionsValidator().Validate(null, options);
        Assert.True(result.Failed);
        Assert.Equal([message], result.Failures);
        var error = Assert.Throws<ArgumentException>(() => new Hardening.Auth.PasswordHasher(options));
        Assert.Equal("options", error.ParamName);
        Assert.StartsWith(message, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Valid))]
    public void Options_at_their_limits_are_valid(string change)
    {
        var options = With(change);
        Assert.Empty(options.Validate());
        Assert.Same(ValidateOptionsResult.Success, new PasswordHasherOptionsValidator().Validate("any", options));
    }

    [Fact]
    public void Every_problem_is_reported_in_option_order()
    {
        var options = new PasswordHasherOptions { Cost = 3, Pepper = "short", PepperId = "", MaxPasswordLength = 0, Pbkdf2Iterations = 1, HistorySize = -1, LegacyBCryptFormat = (LegacyBCryptFormat)9 };
        options.PreviousPeppers["bad id"] = "short";
        var problems = options.Validate();
        Assert.Equal(
            ["Cost", "Pepper", "PepperId", "PreviousPeppers", "PreviousPeppers['bad", "MaxPasswordLength", "Pbkdf2Iterations", "HistorySize", "LegacyBCryptFormat"],
            problems.Select(p => p["PasswordHasherOptions.".Length..].Split(' ')[0]));
        var error = Assert.Throws<ArgumentException>(() => new Hardening.Auth.PasswordHasher(options));
        Assert.Equal(string.Join(" ", problems) + " (Parameter 'options')", error.Message);
    }

    [Fact]
    public void The_defaults_are_the_documented_ones()
    {
        var o = new PasswordHasherOptions();
        Assert.Equal(12, o.Cost);
        Assert.Null(o.Pepper);
        Assert.Equal("1", o.PepperId);
        Assert.Empty(o.PreviousPeppers);
        Assert.Equal(4096, o.MaxPasswordLength);
        Assert.False(o.UseFips);
        Assert.Equal(210_000, o.Pbkdf2Iterations);
        Assert.Equal(5, o.HistorySize);
        Assert.Equal(LegacyBCryptFormat.Plain, o.LegacyBCryptFormat);
        Assert.Equal((4, 20, 210_000, 10_000_000), (PasswordHasherOptions.MinCost, PasswordHasherOptions.MaxCost, PasswordHasherOptions.MinPbkdf2Iterations, PasswordHasherOptions.MaxPbkdf2Iterations));
        o.PreviousPeppers["x"] = "y";
        Assert.True(o.PreviousPeppers.ContainsKey("x"));
        Assert.False(o.PreviousPeppers.ContainsKey("X")); // ordinal
    }

    [Fact]
    public void Clone_copies_every_option_and_is_independent()
    {
        var o = new PasswordHasherOptions
        {
            Cost = 7, Pepper = "pepper-0123456789", PepperId = "k2", MaxPasswordLength = 77, UseFips = true, Pbkdf2Iterations = 300_000,
            HistorySize = 9, LegacyBCryptFormat = LegacyBCryptFormat.BCryptNetEnhancedSha384,
        };
        o.PreviousPeppers["k1"] = "old-pepper-0123456789";
        var copy = o.Clone();
        Assert.Equal(
            (7, "pepper-0123456789", "k2", 77, true, 300_000, 9, LegacyBCryptFormat.BCryptNetEnhancedSha384),
            (copy.Cost, copy.Pepper, copy.PepperId, copy.MaxPasswordLength, copy.UseFips, copy.Pbkdf2Iterations, copy.HistorySize, copy.LegacyBCryptFormat));
        Assert.Equal(o.PreviousPeppers, copy.PreviousPeppers);
        o.PreviousPeppers["k0"] = "older-pepper-0123456789";
        Assert.False(copy.PreviousPeppers.ContainsKey("k0"));
        Assert.Throws<KeyNotFoundException>(() => copy.PreviousPeppers["K1"]); // still ordinal
    }

    [Theory]
    [InlineData(null, false)]
    [InlineData("", false)]
    [InlineData("a", true)]
    [InlineData("abcdefghijklmnopqrstuvwxyz012345", true)]
    [InlineData("abcdefghijklmnopqrstuvwxyz0123456", false)]
    [InlineData("A.b_c-9", true)]
    [InlineData("a b", false)]
    [InlineData("a,b", false)]
    [InlineData("a$b", false)]
    [InlineData("a=b", false)]
    [InlineData("é", false)]
    [InlineData("٣", false)] // a non-ASCII digit
    public void Pepper_ids_are_1_to_32_ascii_letters_digits_dots_underscores_and_dashes(string? id, bool valid)
    {
        Assert.Equal(valid, PasswordHasherOptions.IsValidPepperId(id));
    }
}
