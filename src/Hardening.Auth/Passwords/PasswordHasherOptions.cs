namespace Hardening.Auth;

/// <summary>
/// Options for <see cref="PasswordHasher"/>. Validated when the hasher is built (and at host start-up when
/// registered with <c>AddHardeningPasswordHasher</c>); the hasher keeps a frozen copy.
/// </summary>
/// <example>
/// <code>
/// builder.Services.AddHardeningPasswordHasher(o =>
/// {
///     o.Pepper = builder.Configuration["Auth:Pepper"];          // 32 random bytes, base64, from a secret store
///     o.PepperId = "2026-11";
///     o.PreviousPeppers["2025-01"] = builder.Configuration["Auth:OldPepper"]!; // still verifies, triggers rehash
/// });
/// </code>
/// </example>
public sealed class PasswordHasherOptions
{
    /// <summary>The lowest accepted bcrypt cost.</summary>
    public const int MinCost = 4;

    /// <summary>The highest accepted bcrypt cost (2^20 rounds, about a minute per hash on a 2024 server core).</summary>
    public const int MaxCost = 20;

    /// <summary>The lowest accepted PBKDF2-HMAC-SHA512 iteration count (OWASP 2023).</summary>
    public const int MinPbkdf2Iterations = 210_000;

    /// <summary>The highest accepted PBKDF2 iteration count, in options and in stored hashes.</summary>
    public const int MaxPbkdf2Iterations = 10_000_000;

    /// <summary>The bcrypt cost (log2 of the rounds) of new hashes. Default 12; 4..20. Stored hashes with a lower cost verify with <c>SuccessRehashNeeded</c>.</summary>
    public int Cost { get; set; } = 12;

    /// <summary>
    /// The current pepper: a secret kept outside the database (a secret store or environment), used as the
    /// HMAC-SHA384 key of the pre-hash. At least 16 bytes of UTF-8; use 32 random bytes, e.g. <c>openssl rand -base64 32</c>.
    /// <see langword="null"/> (the default) means no pepper: a fixed, public domain key is used and start-up logs a
    /// warning in Production. Never change it in place: add a new <see cref="PepperId"/> and move the old one to
    /// <see cref="PreviousPeppers"/>.
    /// </summary>
    public string? Pepper { get; set; }

    /// <summary>The identifier of <see cref="Pepper"/>, stored in every hash (1-32 characters of <c>A-Z a-z 0-9 . _ -</c>). Default <c>"1"</c>.</summary>
    public string PepperId { get; set; } = "1";

    /// <summary>
    /// Retired peppers by identifier. Hashes made with them still verify, with <c>SuccessRehashNeeded</c>, so logins
    /// move users to the current pepper. Remove an entry once no stored hash uses it.
    /// </summary>
    public IDictionary<string, string> PreviousPeppers { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>
    /// The longest accepted password in UTF-16 characters, before normalisation. Default 4096. <c>Hash</c> throws
    /// <see cref="ArgumentException"/> above it and <c>Verify</c> returns <c>Failed</c>.
    /// </summary>
    public int MaxPasswordLength { get; set; } = 4096;

    /// <summary>
    /// Hash with PBKDF2-HMAC-SHA512 (FIPS 140 approved) instead of bcrypt. Same pre-hash, format family and rehash
    /// rules: bcrypt hashes still verify, with <c>SuccessRehashNeeded</c>. Default <see langword="false"/>.
    /// </summary>
    public bool UseFips { get; set; }

    /// <summary>PBKDF2-HMAC-SHA512 iterations when <see cref="UseFips"/> is set. Default and minimum 210,000.</summary>
    public int Pbkdf2Iterations { get; set; } = MinPbkdf2Iterations;

    /// <summary>How many of the most recent stored hashes <c>IsReused</c> checks. Default 5; 0 turns the check off.</summary>
    public int HistorySize { get; set; } = 5;

    /// <summary>
    /// How stored plain bcrypt hashes (<c>$2a$</c>/<c>$2b$</c>/<c>$2y$</c>) are read: <see cref="LegacyBCryptFormat.Plain"/>
    /// (the default: bcrypt of the password) or <see cref="LegacyBCryptFormat.BCryptNetEnhancedSha384"/> (BCrypt.Net-Next's
    /// <c>EnhancedHashPassword</c>). The string cannot tell them apart, so a hash of the other kind fails closed.
    /// </summary>
    public LegacyBCryptFormat LegacyBCryptFormat { get; set; } = LegacyBCryptFormat.Plain;

    /// <summary>A deep copy, so later changes to this instance do not reach a built hasher.</summary>
    internal PasswordHasherOptions Clone()
    {
        var copy = new PasswordHasherOptions
        {
            Cost = Cost,
            Pepper = Pepper,
            PepperId = PepperId,
            MaxPasswordLength = MaxPasswordLength,
            UseFips = UseFips,
            Pbkdf2Iterations = Pbkdf2Iterations,
            HistorySize = HistorySize,
            LegacyBCryptFormat = LegacyBCryptFormat,
        };
        foreach (var (id, pepper) in PreviousPeppers)
        {
            copy.PreviousPeppers[id] = pepper;
        }

        return copy;
    }

    /// <summary>Every problem with these options, each naming the option, the value's problem and the fix.</summary>
    internal List<string> Validate()
    {
        var problems = new List<string>();
        if (Cost is < MinCost or > MaxCost)
        {
            problems.Add($"PasswordHasherOptions.Cost is {Cost}; use {MinCost}..{MaxCost} (12 is the default; PasswordHasher.CalibrateCost picks one for this machine).");
        }

        if (Pepper is not null && System.Text.Encoding.UTF8.GetByteCount(Pepper) < 16)
        {
            problems.Add("PasswordHasherOptions.Pepper is shorter than 16 bytes; use 32 random bytes (e.g. 'openssl rand -base64 32'), or leave it null for no pepper.");
        }

        if (!IsValidPepperId(PepperId))
        {
            problems.Add($"PasswordHasherOptions.PepperId '{PepperId}' is not 1-32 characters of A-Z a-z 0-9 . _ -.");
        }

        foreach (var (id, pepper) in PreviousPeppers)
        {
            if (!IsValidPepperId(id))
            {
                problems.Add($"PasswordHasherOptions.PreviousPeppers has the identifier '{id}', which is not 1-32 characters of A-Z a-z 0-9 . _ -.");
            }
            else if (string.Equals(id, PepperId, StringComparison.Ordinal))
            {
                problems.Add($"PasswordHasherOptions.PreviousPeppers reuses the current PepperId '{id}'; give the new pepper a new identifier.");
            }

            if (pepper is null || System.Text.Encoding.UTF8.GetByteCount(pepper) < 16)
            {
                problems.Add($"PasswordHasherOptions.PreviousPeppers['{id}'] is shorter than 16 bytes; it must be the exact pepper that made those hashes.");
            }
        }

        if (MaxPasswordLength is < 1 or > 1_048_576)
        {
            problems.Add($"PasswordHasherOptions.MaxPasswordLength is {MaxPasswordLength}; use 1..1048576 (4096 is the default).");
        }

        if (Pbkdf2Iterations is < MinPbkdf2Iterations or > MaxPbkdf2Iterations)
        {
            problems.Add($"PasswordHasherOptions.Pbkdf2Iterations is {Pbkdf2Iterations}; use {MinPbkdf2Iterations}..{MaxPbkdf2Iterations} (OWASP 2023 asks for at least 210,000 with HMAC-SHA512).");
        }

        if (HistorySize is < 0 or > 100)
        {
            problems.Add($"PasswordHasherOptions.HistorySize is {HistorySize}; use 0..100 (5 is the default).");
        }

        if (!Enum.IsDefined(LegacyBCryptFormat))
        {
            problems.Add($"PasswordHasherOptions.LegacyBCryptFormat is {(int)LegacyBCryptFormat}; use Plain (the default) or BCryptNetEnhancedSha384.");
        }

        return problems;
    }

    internal static bool IsValidPepperId(string? id)
    {
        if (string.IsNullOrEmpty(id) || id.Length > 32)
        {
            return false;
        }

        foreach (var c in id)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('.' or '_' or '-'))
            {
                return false;
            }
        }

        return true;
    }
}
