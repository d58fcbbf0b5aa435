using System.Buffers;
using System.Collections.Frozen;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Hardening.Auth;

/// <summary>
/// Hashes and verifies passwords without bcrypt's silent truncation: the password is NFKC-normalised, keyed with
/// HMAC-SHA384 and a pepper, and the base64 MAC is bcrypt-ed (or PBKDF2-HMAC-SHA512 with
/// <see cref="PasswordHasherOptions.UseFips"/>). Hashes are self-describing, versioned PHC strings such as
/// <c>$hbcrypt$v=1$c=12,k=1$&lt;salt&gt;$&lt;digest&gt;</c>. Verification also accepts plain bcrypt (<c>$2a$</c>,
/// <c>$2b$</c>, <c>$2y$</c>) and ASP.NET Core Identity V2/V3 hashes, and tells the caller when to store a fresh hash.
/// Thread-safe and immutable; register it once as a singleton.
/// </summary>
/// <example>
/// <code>
/// var result = hasher.Verify(password, user.PasswordHash);
/// if (result == PasswordVerificationResult.SuccessRehashNeeded)
/// {
///     user.PasswordHash = hasher.Hash(password);   // moves legacy, weaker or old-pepper hashes forward on login
/// }
/// </code>
/// </example>
public sealed class PasswordHasher
{
    private const int MaxStoredHashLength = 1024;

    private readonly PasswordHasherOptions _options;
    private readonly string? _currentPepperId;
    private readonly byte[] _currentKey;
    private readonly byte[] _domainKey = PasswordPreHash.DomainKey.ToArray();
    private readonly FrozenDictionary<string, byte[]> _previousKeys;
    private readonly ILogger _logger;
    private readonly string _dummyHash;

    /// <summary>Builds a hasher from validated <paramref name="options"/> (copied; later changes have no effect).</summary>
    /// <param name="options">The options; see <see cref="PasswordHasherOptions"/> for defaults.</param>
    /// <param name="logger">Receives security events (unusable stored hashes); optional.</param>
    /// <exception cref="ArgumentException">An option is invalid; the message names it and the accepted range.</exception>
    public PasswordHasher(PasswordHasherOptions options, ILogger<PasswordHasher>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = options.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", problems), nameof(options));
        }

        _options = options.Clone();
        _logger = logger ?? (ILogger)NullLogger.Instance;
        if (_options.Pepper is { } pepper)
        {
            _currentPepperId = _options.PepperId;
            _currentKey = Encoding.UTF8.GetBytes(pepper);
        }
        else
        {
            _currentKey = _domainKey;
        }

        _previousKeys = _options.PreviousPeppers.ToFrozenDictionary(kv => kv.Key, kv => Encoding.UTF8.GetBytes(kv.Value), StringComparer.Ordinal);

        // A well-formed current-format hash with a random digest: verifying against it costs what a real one costs.
        Span<byte> salt = stackalloc byte[BCrypt.SaltSize];
        Span<byte> digest = stackalloc byte[PasswordHashFormat.Pbkdf2DigestSize];
        RandomNumberGenerator.Fill(salt);
        RandomNumberGenerator.Fill(digest);
        _dummyHash = PasswordHashFormat.Format(Scheme, Work, _currentPepperId, salt, digest[..PasswordHashFormat.DigestSize(Scheme)]);
    }

    /// <summary>The hash <see cref="VerifyDummy"/> verifies against.</summary>
    internal string DummyHash => _dummyHash;

    /// <summary>Whether a pepper is configured (otherwise hashes use the public domain key).</summary>
    internal bool HasPepper => _currentPepperId is not null;

    private PasswordScheme Scheme => _options.UseFips ? PasswordScheme.Pbkdf2Sha512 : PasswordScheme.BCrypt;

    private int Work => _options.UseFips ? _options.Pbkdf2Iterations : _options.Cost;

    /// <summary>
    /// Hashes <paramref name="password"/> with a fresh random salt, the current pepper and the configured cost.
    /// Any string is accepted, NUL characters and unpaired surrogates included, up to
    /// <see cref="PasswordHasherOptions.MaxPasswordLength"/> characters; nothing is truncated.
    /// </summary>
    /// <param name="password">The password as the user typed it.</param>
    /// <returns>A PHC string such as <c>$hbcrypt$v=1$c=12,k=1$&lt;salt&gt;$&lt;digest&gt;</c>, at most 200 ASCII characters.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="password"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="password"/> is longer than <see cref="PasswordHasherOptions.MaxPasswordLength"/>.</exception>
    /// <example>
    /// <code>
    /// user.PasswordHash = hasher.Hash(form.Password);
    /// </code>
    /// </example>
    public string Hash(string password)
    {
        ArgumentNullException.ThrowIfNull(password);
        if (password.Length > _options.MaxPasswordLength)
        {
            throw new ArgumentException(
                $"The password is {password.Length} characters long; the limit is {_options.MaxPasswordLength} characters (PasswordHasherOptions.MaxPasswordLength).",
                nameof(password));
        }

        Span<byte> salt = stackalloc byte[BCrypt.SaltSize];
        RandomNumberGenerator.Fill(salt);
        Span<byte> digest = stackalloc byte[PasswordHashFormat.Pbkdf2DigestSize];
        var size = PasswordHashFormat.DigestSize(Scheme);
        Derive(password, _currentKey, Scheme, Work, salt, digest[..size]);
        var hash = PasswordHashFormat.Format(Scheme, Work, _currentPepperId, salt, digest[..size]);
        CryptographicOperations.ZeroMemory(digest);
        return hash;
    }

    /// <summary>
    /// Checks <paramref name="password"/> against a stored hash in constant time. Never throws on a bad stored hash:
    /// a malformed, truncated or unknown hash gives <see cref="PasswordVerificationResult.Failed"/> and a warning log
    /// (event 1101) naming the problem, never the hash.
    /// </summary>
    /// <param name="password">The password the user typed.</param>
    /// <param name="hash">The stored hash: ours, plain bcrypt (<c>$2a$/$2b$/$2y$</c>, where bcrypt's 72-byte limit applies; read as
    /// <see cref="PasswordHasherOptions.LegacyBCryptFormat"/> says) or ASP.NET Core Identity V2/V3.</param>
    /// <returns>
    /// <see cref="PasswordVerificationResult.Success"/>; <see cref="PasswordVerificationResult.SuccessRehashNeeded"/> when the password is
    /// right but the hash is legacy, older, cheaper than configured, of the other algorithm or made with a retired or
    /// no pepper (store <see cref="Hash"/>'s result); or <see cref="PasswordVerificationResult.Failed"/>.
    /// </returns>
    /// <exception cref="ArgumentNullException"><paramref name="password"/> is null.</exception>
    public PasswordVerificationResult Verify(string password, string hash)
    {
        ArgumentNullException.ThrowIfNull(password);
        if (string.IsNullOrEmpty(hash))
        {
            return Unusable("the stored hash is empty");
        }

        if (password.Length > _options.MaxPasswordLength)
        {
            PasswordLog.PasswordTooLong(_logger, _options.MaxPasswordLength);
            return PasswordVerificationResult.Failed;
        }

        if (hash.Length > MaxStoredHashLength)
        {
            return Unusable($"the stored hash is longer than {MaxStoredHashLength} characters");
        }

        if (hash.StartsWith(PasswordHashFormat.BCryptPrefix, StringComparison.Ordinal) || hash.StartsWith(PasswordHashFormat.Pbkdf2Prefix, StringComparison.Ordinal))
        {
            return VerifyCurrentFormat(password, hash);
        }

        if (hash.StartsWith("$2", StringComparison.Ordinal))
        {
            return VerifyPlainBCrypt(password, hash);
        }

        if (hash[0] != '$')
        {
            var identity = IdentityV2V3Hash.Verify(password, hash, out var problem);
            if (problem is not null)
            {
                return Unusable(problem);
            }

            if (identity is { } ok)
            {
                return ok ? PasswordVerificationResult.SuccessRehashNeeded : PasswordVerificationResult.Failed;
            }
        }

        return Unusable("unknown format (not a Hardening '$hbcrypt$'/'$hpbkdf2-sha512$' hash, plain bcrypt or ASP.NET Identity V2/V3)");
    }

    /// <summary>
    /// Does the work of one verification against a hash of the current configuration and discards the result. Call it
    /// when the account does not exist, so the response time does not reveal which user names are registered.
    /// </summary>
    /// <param name="password">The password that was submitted.</param>
    /// <example>
    /// <code>
    /// var user = await users.FindAsync(name);
    /// if (user is null) { hasher.VerifyDummy(password); return Results.Unauthorized(); }
    /// </code>
    /// </example>
    public void VerifyDummy(string password)
    {
        ArgumentNullException.ThrowIfNull(password);
        _ = Verify(password, _dummyHash);
    }

    /// <summary>
    /// Whether <paramref name="password"/> matches one of the <see cref="PasswordHasherOptions.HistorySize"/> most recent
    /// stored hashes, so a password change can refuse reuse. The store of old hashes is the caller's.
    /// </summary>
    /// <param name="password">The candidate new password.</param>
    /// <param name="previousHashes">Stored hashes, newest first; only the first <see cref="PasswordHasherOptions.HistorySize"/> are checked, null entries are skipped.</param>
    /// <returns><see langword="true"/> when the candidate verifies against one of them.</returns>
    public bool IsReused(string password, IEnumerable<string?> previousHashes)
    {
        ArgumentNullException.ThrowIfNull(password);
        ArgumentNullException.ThrowIfNull(previousHashes);
        var checkedCount = 0;
        foreach (var previous in previousHashes)
        {
            if (checkedCount++ >= _options.HistorySize)
            {
                break;
            }

            if (previous is not null && Verify(password, previous) != PasswordVerificationResult.Failed)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Measures bcrypt on this machine and returns the highest cost whose hash takes at most
    /// <paramref name="target"/> (between <see cref="PasswordHasherOptions.MinCost"/> and <see cref="PasswordHasherOptions.MaxCost"/>;
    /// the minimum when even that is slower). Takes about twice <paramref name="target"/>; run it once at deployment,
    /// not per request, and on the hardware that serves logins.
    /// </summary>
    /// <param name="target">The longest acceptable hash time, e.g. 250 ms.</param>
    /// <returns>A cost for <see cref="PasswordHasherOptions.Cost"/>.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="target"/> is not positive or exceeds ten minutes.</exception>
    public static int CalibrateCost(TimeSpan target)
    {
        // bcrypt's running time does not depend on the key or salt bytes, only on the cost and the key length.
        var key = new byte[PasswordPreHash.EncodedSize];
        var salt = new byte[BCrypt.SaltSize];
        var digest = new byte[BCrypt.HashSize];
        BCrypt.Hash(key, salt, PasswordHasherOptions.MinCost, BCryptMinor.B, digest); // warm-up (JIT)
        return CalibrateCost(target, cost =>
        {
            var started = Stopwatch.GetTimestamp();
            BCrypt.Hash(key, salt, cost, BCryptMinor.B, digest);
            return Stopwatch.GetElapsedTime(started);
        });
    }

    /// <summary>
    /// The calibration rule: costs from <see cref="PasswordHasherOptions.MinCost"/> up, each measured once by
    /// <paramref name="measure"/>, stopping at the first whose time exceeds <paramref name="target"/>; the last cost
    /// before it (the minimum when the first is already over, the maximum when none is).
    /// </summary>
    internal static int CalibrateCost(TimeSpan target, Func<int, TimeSpan> measure)
    {
        if (target <= TimeSpan.Zero || target > TimeSpan.FromMinutes(10))
        {
            throw new ArgumentOutOfRangeException(nameof(target), target, "The calibration target must be positive and at most 10 minutes, e.g. 250 ms.");
        }

        var best = PasswordHasherOptions.MinCost;
        for (var cost = PasswordHasherOptions.MinCost; cost <= PasswordHasherOptions.MaxCost; cost++)
        {
            if (measure(cost) > target)
            {
                break;
            }

            best = cost;
        }

        return best;
    }

    private PasswordVerificationResult VerifyCurrentFormat(string password, string hash)
    {
        var problem = PasswordHashFormat.TryParse(hash, out var parsed);
        if (problem is not null)
        {
            return Unusable(problem);
        }

        byte[] key;
        if (parsed.PepperId is null)
        {
            key = _domainKey;
        }
        else if (string.Equals(parsed.PepperId, _currentPepperId, StringComparison.Ordinal))
        {
            key = _currentKey;
        }
        else if (!_previousKeys.TryGetValue(parsed.PepperId, out key!))
        {
            return Unusable($"it was made with pepper id '{parsed.PepperId}', which is neither PasswordHasherOptions.PepperId nor in PreviousPeppers");
        }

        Span<byte> salt = stackalloc byte[BCrypt.SaltSize];
        PhcBase64.TryDecode(hash.AsSpan()[parsed.Salt], salt);
        var size = PasswordHashFormat.DigestSize(parsed.Scheme);
        Span<byte> digest = stackalloc byte[PasswordHashFormat.Pbkdf2DigestSize];
        Derive(password, key, parsed.Scheme, parsed.Work, salt, digest[..size]);
        Span<char> encoded = stackalloc char[PhcBase64.EncodedLength(PasswordHashFormat.Pbkdf2DigestSize)];
        encoded = encoded[..PhcBase64.EncodedLength(size)];
        PhcBase64.Encode(digest[..size], encoded);
        CryptographicOperations.ZeroMemory(digest);
        if (!CryptographicOperations.FixedTimeEquals(MemoryMarshal.AsBytes(encoded), MemoryMarshal.AsBytes(hash.AsSpan()[parsed.Digest])))
        {
            return PasswordVerificationResult.Failed;
        }

        var current = parsed.Scheme == Scheme
            && parsed.Version == PasswordHashFormat.CurrentVersion
            && parsed.Work >= Work
            && string.Equals(parsed.PepperId, _currentPepperId, StringComparison.Ordinal);
        return current ? PasswordVerificationResult.Success : PasswordVerificationResult.SuccessRehashNeeded;
    }

    private PasswordVerificationResult VerifyPlainBCrypt(string password, string hash)
    {
        Span<byte> salt = stackalloc byte[BCrypt.SaltSize];
        var problem = BCryptFormat.TryParse(hash, requireDigest: true, out var minor, out var cost, salt);
        if (problem is not null)
        {
            return Unusable(problem);
        }

        if (cost > PasswordHasherOptions.MaxCost)
        {
            return Unusable($"the bcrypt cost {cost} is above the supported maximum {PasswordHasherOptions.MaxCost}");
        }

        Span<byte> key = stackalloc byte[(BCrypt.MaxKeyBytes + 1) * 3];
        Span<byte> digest = stackalloc byte[BCrypt.HashSize];
        Span<char> encoded = stackalloc char[BCryptFormat.DigestChars];
        try
        {
            int n;
            if (_options.LegacyBCryptFormat == LegacyBCryptFormat.BCryptNetEnhancedSha384)
            {
                if (!BCryptNetEnhancedKey.TryCompute(password, key))
                {
                    return PasswordVerificationResult.Failed;
                }

                n = BCryptNetEnhancedKey.Size;
            }
            else if (password.Contains('\0', StringComparison.Ordinal))
            {
                // crypt(3) reads a C string: a password with NUL could only match by truncation, so it never matches.
                return PasswordVerificationResult.Failed;
            }
            else
            {
                // Only the first 72 bytes count; 72 UTF-16 characters always cover them.
                n = Encoding.UTF8.GetBytes(password.AsSpan(0, Math.Min(password.Length, BCrypt.MaxKeyBytes + 1)), key);
            }

            BCrypt.Hash(key[..Math.Min(n, BCrypt.MaxKeyBytes)], salt, cost, minor, digest);
            BCryptFormat.Encode(digest, encoded);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
            CryptographicOperations.ZeroMemory(digest);
        }

        return CryptographicOperations.FixedTimeEquals(MemoryMarshal.AsBytes(encoded), MemoryMarshal.AsBytes(hash.AsSpan(BCryptFormat.SettingLength)))
            ? PasswordVerificationResult.SuccessRehashNeeded
            : PasswordVerificationResult.Failed;
    }

    private static void Derive(string password, ReadOnlySpan<byte> key, PasswordScheme scheme, int work, ReadOnlySpan<byte> salt, Span<byte> digest)
    {
        Span<byte> preHash = stackalloc byte[PasswordPreHash.EncodedSize];
        try
        {
            PasswordPreHash.Compute(password, key, preHash);
            if (scheme == PasswordScheme.BCrypt)
            {
                BCrypt.Hash(preHash, salt, work, BCryptMinor.B, digest);
            }
            else
            {
                Rfc2898DeriveBytes.Pbkdf2(preHash, salt, digest, work, HashAlgorithmName.SHA512);
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(preHash);
        }
    }

    private PasswordVerificationResult Unusable(string problem)
    {
        PasswordLog.StoredHashUnusable(_logger, problem);
        return PasswordVerificationResult.Failed;
    }
}
