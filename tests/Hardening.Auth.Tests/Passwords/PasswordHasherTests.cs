using System.Text;
using System.Text.RegularExpressions;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Hardening.Auth;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using PasswordHasher = Hardening.Auth.PasswordHasher;
using PasswordHasherOptions = Hardening.Auth.PasswordHasherOptions;

namespace Hardening.Auth.Tests.Passwords;

public sealed partial class PasswordHasherTests
{
    private const string PepperOne = "pepper-one-0123456789abcdefghij";
    private const string PepperTwo = "pepper-two-0123456789abcdefghij";

    // Pieces that stress normalisation and encoding: NUL, combining marks, compatibility forms, astral and lone surrogates.
    private static readonly string[] Pieces =
        ["a", "Z", "0", " ", "\0", "é", "e\u0301", "ß", "\uFB01", "\uFF21", "\U0001F600", "\uD800", "\uDC00", "中", "\u00A0", "\t", "\u01C5", "x", "$", "\u212B"];

    private static readonly Gen<string> Short = Gen.Choose(0, 40).SelectMany(n => Gen.ArrayOf(Gen.Elements(Pieces), n)).Select(string.Concat);

    private static readonly Gen<string> Any = Gen.OneOf(
        Short,
        ArbMap.Default.ArbFor<string>().Generator.Where(s => s is not null),
        Short.SelectMany(s => Gen.Choose(73, 1500), (s, n) => s + new string('q', n) + s));

    private static PasswordHasher Hasher(int cost = 4, string? pepper = null, string pepperId = "1", ILogger<PasswordHasher>? logger = null, Action<PasswordHasherOptions>? more = null)
    {
        var options = new PasswordHasherOptions { Cost = cost, Pepper = pepper, PepperId = pepperId };
        more?.Invoke(options);
        return new PasswordHasher(options, logger);
    }

    [Property(MaxTest = 200)]
    public Property Hash_then_verify_round_trips_for_any_string_including_nul_and_far_past_72_bytes()
    {
        var hasher = Hasher(pepper: PepperOne);
        return Prop.ForAll(Any.ToArbitrary(), password =>
            Assert.Equal(PasswordVerificationResult.Success, hasher.Verify(password, hasher.Hash(password))));
    }

    [Property(MaxTest = 100)]
    public Property Passwords_sharing_their_first_200_bytes_never_cross_verify()
    {
        var hasher = Hasher(pepper: PepperOne);
        var prefix = Gen.ArrayOf(Gen.Choose(0x20, 0x7E).Select(c => (char)c), 200).Select(c => new string(c));
        var suffix = Gen.Choose(1, 20).SelectMany(n => Gen.ArrayOf(Gen.Choose(0x21, 0x7E).Select(c => (char)c), n)).Select(c => new string(c));
        return Prop.ForAll(prefix.ToArbitrary(), suffix.ToArbitrary(), suffix.ToArbitrary(), (p, a, b) =>
        {
            if (a == b)
            {
                return;
            }

            Assert.Equal(PasswordVerificationResult.Failed, hasher.Verify(p + b, hasher.Hash(p + a)));
        });
    }

    /// <summary>
    /// Rows of Data/nfkc-one-change.tsv: a password, the same password with one UTF-16 code unit changed, and whether
    /// the two are the same password, decided by CPython's unicodedata (Data/nfkc_one_change.py), not by .NET.
    /// </summary>
    private static List<(string Original, string Changed, bool Equivalent)> OneChange()
    {
        static string Text(string hex) => string.Concat(hex.Split(' ').Select(u => (char)Convert.ToUInt16(u, 16)));
        return [.. File.ReadLines(Path.Combine(RepoPaths.Root, "tests", "Hardening.Auth.Tests", "Passwords", "Data", "nfkc-one-change.tsv"))
            .Where(line => !line.StartsWith('#'))
            .Select(line => line.Split('\t'))
            .Select(c => (Text(c[0]), Text(c[1]), c[2] == "1"))];
    }

    [Fact]
    public void Pre_hashes_of_a_one_character_change_are_equal_exactly_when_the_table_says_nfkc_equivalent()
    {
        var rows = OneChange();
        Assert.True(rows.Count >= 1000, $"only {rows.Count} rows in nfkc-one-change.tsv");
        Assert.True(rows.Count(r => r.Equivalent) >= 100, "too few equivalent rows in nfkc-one-change.tsv");
        foreach (var (original, changed, equivalent) in rows)
        {
            Assert.True(equivalent == PreHash(original).SequenceEqual(PreHash(changed)), $"{Hex(original)} -> {Hex(changed)}: expected {(equivalent ? "equal" : "different")} pre-hashes");
        }

        static byte[] PreHash(string password)
        {
            var destination = new byte[PasswordPreHash.EncodedSize];
            PasswordPreHash.Compute(password, PasswordPreHash.DomainKey, destination);
            return destination;
        }
    }

    [Property(MaxTest = 150)]
    public Property Any_one_character_change_fails_unless_it_is_nfkc_equivalent()
    {
        var hasher = Hasher();
        return Prop.ForAll(Gen.Elements(OneChange().ToArray()).ToArbitrary(), row =>
        {
            var expected = row.Equivalent ? PasswordVerificationResult.Success : PasswordVerificationResult.Failed;
            Assert.Equal(expected, hasher.Verify(row.Changed, hasher.Hash(row.Original)));
        });
    }

    private static string Hex(string s) => string.Join(' ', s.Select(c => ((int)c).ToString("X4", System.Globalization.CultureInfo.InvariantCulture)));

    [Fact]
    public void Nfkc_equivalent_spellings_verify_and_nul_is_significant()
    {
        var hasher = Hasher();
        Assert.Equal(PasswordVerificationResult.Success, hasher.Verify("caf\u0065\u0301", hasher.Hash("caf\u00E9")));
        Assert.Equal(PasswordVerificationResult.Success, hasher.Verify("fi", hasher.Hash("\uFB01")));
        Assert.Equal(PasswordVerificationResult.Success, hasher.Verify("A", hasher.Hash("\uFF21")));
        Assert.Equal(PasswordVerificationResult.Failed, hasher.Verify("a", hasher.Hash("a\0")));
        Assert.Equal(PasswordVerificationResult.Failed, hasher.Verify("a\0b", hasher.Hash("a\0c")));
        Assert.Equal(PasswordVerificationResult.Failed, hasher.Verify("\uFFFD", hasher.Hash("\uD800")));
        Assert.Equal(PasswordVerificationResult.Failed, hasher.Verify("\uD800", hasher.Hash("\uDC00")));
    }

    [Fact]
    public void Salts_never_repeat()
    {
        var hasher = Hasher();
        var hashes = Enumerable.Range(0, 200).Select(_ => hasher.Hash("same password")).ToList();
        Assert.Equal(hashes.Count, hashes.Select(h => h.Split('$')[4]).Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void Hash_is_a_versioned_self_describing_phc_string()
    {
        Assert.Matches(CurrentFormat(), Hasher(cost: 5, pepper: PepperOne, pepperId: "2026-11").Hash("pw"));
        var unpeppered = Hasher(cost: 4).Hash("pw");
        Assert.StartsWith("$hbcrypt$v=1$c=4$", unpeppered, StringComparison.Ordinal);
        Assert.DoesNotContain("k=", unpeppered, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"^\$hbcrypt\$v=1\$c=5,k=2026-11\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{31}$")]
    private static partial Regex CurrentFormat();

    [Property(MaxTest = 300)]
    public Property Random_malformed_stored_strings_give_failed_with_a_warning_and_never_throw()
    {
        var logger = new FakeLogger<PasswordHasher>();
        var hasher = Hasher(pepper: PepperOne, logger: logger);
        var chars = "$hbcrypt-pkdf2sha512v=ik,0123456789ABCabc./+ \0\uD800é".ToCharArray();
        var garbage = Gen.Choose(0, 120).SelectMany(n => Gen.ArrayOf(Gen.Elements(chars), n)).Select(c => new string(c));
        var prefixed = garbage.SelectMany(g => Gen.Elements("$hbcrypt$", "$hpbkdf2-sha512$", "$2b$", "$2a$05$", "$2x$05$", "AQ", "AA", "$hbcrypt$v=1$c=4,k=1$"), (g, p) => p + g);
        return Prop.ForAll(Gen.OneOf(garbage, prefixed, ArbMap.Default.ArbFor<string>().Generator.Where(s => s is not null)).ToArbitrary(), stored =>
        {
            logger.Collector.Clear();
            Assert.Equal(PasswordVerificationResult.Failed, hasher.Verify("password", stored));
            var warning = Assert.Single(logger.Collector.GetSnapshot());
            Assert.Equal(1101, warning.Id.Id);
            Assert.Equal(LogLevel.Warning, warning.Level);
            if (stored.Length >= 12)
            {
                Assert.DoesNotContain(stored, warning.Message, StringComparison.Ordinal);
            }
        });
    }

    [Theory]
    [InlineData("v=1", "v=2", "newer than this library")]
    [InlineData("v=1", "v=0", "version field")]
    [InlineData("c=4", "c=3", "outside 4..20")]
    [InlineData("c=4", "c=21", "outside 4..20")]
    [InlineData("c=4", "c=04", "not a number")]
    [InlineData(",k=1", ",k=bad id", "pepper id is not")]
    [InlineData(",k=1", ",k=1,k=1", "parameter field")]
    [InlineData("c=4,k=1", "k=1,c=4", "unexpected parameter")]
    [InlineData("$hbcrypt$", "$hargon2$", "unknown format")]
    [InlineData("$hbcrypt$", "$hpbkdf2-sha512$", "unexpected parameter 'c'")]
    public void Malformed_hashes_fail_with_a_warning_naming_the_problem(string find, string replace, string problem)
    {
        var logger = new FakeLogger<PasswordHasher>();
        var hasher = Hasher(pepper: PepperOne, logger: logger);
        var stored = hasher.Hash("pw").Replace(find, replace, StringComparison.Ordinal);
        Assert.Equal(PasswordVerificationResult.Failed, hasher.Verify("pw", stored));
        var entry = Assert.Single(logger.Collector.GetSnapshot());
        Assert.Equal(1101, entry.Id.Id);
        Assert.Contains(problem, entry.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("truncated", "six '$'-separated fields")]
    [InlineData("non-canonical salt", "salt is not 22 characters")]
    [InlineData("short digest", "digest is not 31 characters")]
    [InlineData("bcrypt cost 31", "above the supported maximum 20")]
    [InlineData("identity v3 with 20M iterations", "20000000 iterations")]
    [InlineData("too long", "longer than 1024 characters")]
    public void Hostile_or_damaged_hashes_fail_closed_with_the_reason(string kind, string problem)
    {
        var logger = new FakeLogger<PasswordHasher>();
        var hasher = Hasher(logger: logger);
        var valid = hasher.Hash("pw");
        var parts = valid.Split('$');
        var stored = kind switch
        {
            "truncated" => valid[..valid.LastIndexOf('$')],
            "non-canonical salt" => string.Join('$', parts[..4]) + "$" + parts[4][..21] + "B$" + parts[5],
            "short digest" => valid[..^1],
            "bcrypt cost 31" => "$2b$31$abcdefghijklmnopqrstuu5s2v8.iXieOjg/.AySBTTZIIVFJeBui",
            "identity v3 with 20M iterations" => Convert.ToBase64String([0x01, 0, 0, 0, 2, 0x01, 0x31, 0x2D, 0x00, 0, 0, 0, 16, .. new byte[48]]),
            _ => new string('A', 1025),
        };
        Assert.Equal(PasswordVerificationResult.Failed, hasher.Verify("pw", stored));
        Assert.Contains(problem, Assert.Single(logger.Collector.GetSnapshot()).Message, StringComparison.Ordinal);
    }

    [Property(MaxTest = 300)]
    public Property Any_mutation_of_a_valid_hash_fails()
    {
        var hasher = Hasher(pepper: PepperOne);
        var valid = hasher.Hash("password");
        var alphabet = "$=,0123456789abckivAZaz+/.-_ \0".ToCharArray();
        var mutation = Gen.Choose(0, 3)
            .SelectMany(_ => Gen.Choose(0, valid.Length - 1), (kind, at) => (kind, at))
            .SelectMany(_ => Gen.Elements(alphabet), (t, c) => t.kind switch
            {
                0 => valid[..t.at],                                   // truncation
                1 => valid[..t.at] + c + valid[(t.at + 1)..],         // substitution
                2 => valid[..t.at] + c + valid[t.at..],               // insertion
                _ => valid[..t.at] + valid[(t.at + 1)..],             // deletion
            });
        return Prop.ForAll(mutation.Where(m => m != valid).ToArbitrary(), stored =>
            Assert.Equal(PasswordVerificationResult.Failed, hasher.Verify("password", stored)));
    }

    [Property(MaxTest = 150)]
    public Property Rehash_is_flagged_exactly_when_cost_or_pepper_id_is_behind_the_configuration()
    {
        string?[] pepperIds = [null, "p1", "p2"];
        var secrets = new Dictionary<string, string> { ["p1"] = PepperOne, ["p2"] = PepperTwo };
        var hashers = (from cost in new[] { 4, 5, 6 }
                       from id in pepperIds
                       select (cost, id, hasher: Hasher(cost, id is null ? null : secrets[id], id ?? "1", more: o =>
                       {
                           foreach (var (otherId, secret) in secrets.Where(s => s.Key != id))
                           {
                               o.PreviousPeppers[otherId] = secret;
                           }
                       }))).ToArray();
        var pick = Gen.Choose(0, hashers.Length - 1);
        return Prop.ForAll(pick.ToArbitrary(), pick.ToArbitrary(), Short.ToArbitrary(), (a, b, password) =>
        {
            var (costA, idA, writer) = hashers[a];
            var (costB, idB, reader) = hashers[b];
            var expected = costA < costB || idA != idB ? PasswordVerificationResult.SuccessRehashNeeded : PasswordVerificationResult.Success;
            Assert.Equal(expected, reader.Verify(password, writer.Hash(password)));
        });
    }

    [Fact]
    public void Unknown_pepper_id_fails_with_a_warning_naming_the_id()
    {
        var logger = new FakeLogger<PasswordHasher>();
        var stored = Hasher(pepper: PepperOne, pepperId: "retired").Hash("pw");
        Assert.Equal(PasswordVerificationResult.Failed, Hasher(pepper: PepperTwo, pepperId: "current", logger: logger).Verify("pw", stored));
        var entry = Assert.Single(logger.Collector.GetSnapshot());
        Assert.Contains("'retired'", entry.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_pepper_secret_is_part_of_the_hash()
    {
        var stored = Hasher(pepper: PepperOne).Hash("pw");
        Assert.Equal(PasswordVerificationResult.Failed, Hasher(pepper: PepperTwo).Verify("pw", stored));
        Assert.Equal(PasswordVerificationResult.Failed, Hasher().Verify("pw", stored.Replace(",k=1", "", StringComparison.Ordinal)));
    }

    [Fact]
    public void Max_length_is_enforced_by_hash_and_verify()
    {
        var hasher = Hasher(more: o => o.MaxPasswordLength = 100);
        var atLimit = new string('é', 100);
        Assert.Equal(PasswordVerificationResult.Success, hasher.Verify(atLimit, hasher.Hash(atLimit)));
        var error = Assert.Throws<ArgumentException>(() => hasher.Hash(atLimit + "x"));
        Assert.Equal("password", error.ParamName);
        Assert.Contains("101 characters", error.Message, StringComparison.Ordinal);
        Assert.Contains("limit is 100", error.Message, StringComparison.Ordinal);
        Assert.Equal(PasswordVerificationResult.Failed, hasher.Verify(atLimit + "x", hasher.Hash(atLimit)));
        Assert.Equal(4096, new PasswordHasherOptions().MaxPasswordLength);
        Assert.Contains("limit is 4096", Assert.Throws<ArgumentException>(() => Hasher().Hash(new string('a', 4097))).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Null_password_throws_and_null_or_empty_stored_hash_fails()
    {
        var hasher = Hasher();
        Assert.Throws<ArgumentNullException>(() => hasher.Hash(null!));
        Assert.Throws<ArgumentNullException>(() => hasher.Verify(null!, "x"));
        Assert.Equal(PasswordVerificationResult.Failed, hasher.Verify("pw", null!));
        Assert.Equal(PasswordVerificationResult.Failed, hasher.Verify("pw", ""));
    }

    [Fact]
    public void Plain_bcrypt_from_libxcrypt_verifies_and_asks_for_a_rehash()
    {
        var hasher = Hasher();
        foreach (var prefix in new[] { "$2a$", "$2b$", "$2y$" })
        {
            var stored = LibXCrypt.Crypt(Encoding.UTF8.GetBytes("pässwörd"), prefix + "04$abcdefghijklmnopqrstuu");
            Assert.NotNull(stored);
            Assert.Equal(PasswordVerificationResult.SuccessRehashNeeded, hasher.Verify("pässwörd", stored));
            Assert.Equal(PasswordVerificationResult.Failed, hasher.Verify("passwörd", stored));
            Assert.Equal(PasswordVerificationResult.Failed, hasher.Verify("pässwörd\0", stored));
        }

        // The 72-byte limit of plain bcrypt still applies to legacy hashes (Hash() then removes it).
        var longOne = LibXCrypt.Crypt(Encoding.UTF8.GetBytes(new string('k', 72) + "tail"), "$2b$04$abcdefghijklmnopqrstuu");
        Assert.Equal(PasswordVerificationResult.SuccessRehashNeeded, hasher.Verify(new string('k', 72) + "other tail", longOne!));
    }

    [Fact]
    public void Bcrypt_2x_hashes_are_refused_with_a_clear_warning()
    {
        var logger = new FakeLogger<PasswordHasher>();
        var hasher = Hasher(logger: logger);
        Assert.Equal(PasswordVerificationResult.Failed, hasher.Verify("\u00A3", "$2x$05$/OK.fbVrR/bpIqNJ5ianF.CE5elHaaO4EbggVDjb8P19RukzXSM3e"));
        Assert.Contains("sign-extension bug", Assert.Single(logger.Collector.GetSnapshot()).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Fips_mode_uses_pbkdf2_sha512_with_the_same_rehash_rules()
    {
        var fips = Hasher(pepper: PepperOne, more: o => o.UseFips = true);
        var stored = fips.Hash("pw");
        Assert.StartsWith("$hpbkdf2-sha512$v=1$i=210000,k=1$", stored, StringComparison.Ordinal);
        Assert.Equal(PasswordVerificationResult.Success, fips.Verify("pw", stored));
        Assert.Equal(PasswordVerificationResult.Failed, fips.Verify("pW", stored));

        var bcrypt = Hasher(pepper: PepperOne);
        Assert.Equal(PasswordVerificationResult.SuccessRehashNeeded, bcrypt.Verify("pw", stored));
        Assert.Equal(PasswordVerificationResult.SuccessRehashNeeded, fips.Verify("pw", bcrypt.Hash("pw")));
        var stronger = Hasher(pepper: PepperOne, more: o => { o.UseFips = true; o.Pbkdf2Iterations = 250_000; });
        Assert.Equal(PasswordVerificationResult.SuccessRehashNeeded, stronger.Verify("pw", stored));
        Assert.Equal(PasswordVerificationResult.Success, fips.Verify("pw", stronger.Hash("pw")));
    }

    [Fact]
    public void Verify_dummy_works_against_a_hash_of_the_current_configuration()
    {
        foreach (var fips in new[] { false, true })
        {
            var logger = new FakeLogger<PasswordHasher>();
            var hasher = Hasher(cost: 5, pepper: PepperOne, pepperId: "cur", logger: logger, more: o => o.UseFips = fips);
            Assert.Null(PasswordHashFormat.TryParse(hasher.DummyHash, out var parsed));
            Assert.Equal(fips ? PasswordScheme.Pbkdf2Sha512 : PasswordScheme.BCrypt, parsed.Scheme);
            Assert.Equal(fips ? 210_000 : 5, parsed.Work);
            Assert.Equal("cur", parsed.PepperId);
            Assert.Equal(PasswordVerificationResult.Failed, hasher.Verify("anything", hasher.DummyHash));
            hasher.VerifyDummy("anything");
            Assert.Empty(logger.Collector.GetSnapshot());
        }
    }

    [Fact]
    public void Reuse_is_detected_in_the_configured_number_of_recent_hashes()
    {
        var hasher = Hasher();
        var history = Enumerable.Range(1, 6).Select(i => hasher.Hash($"old-{i}")).ToList(); // newest first
        Assert.True(hasher.IsReused("old-1", history));
        Assert.True(hasher.IsReused("old-5", history));
        Assert.False(hasher.IsReused("old-6", history)); // sixth most recent: outside the default 5
        Assert.False(hasher.IsReused("new", history));
        Assert.True(hasher.IsReused("old-2", [null, history[1]]));
        Assert.False(Hasher(more: o => o.HistorySize = 0).IsReused("old-1", history));
        Assert.True(Hasher(more: o => o.HistorySize = 6).IsReused("old-6", history));
    }

    [Fact]
    public void Calibration_returns_a_cost_in_range_and_the_minimum_for_an_impossible_target()
    {
        // A cost-4 hash takes thousands of times one tick (100 ns), so a 1-tick target gives the minimum: a lower bound
        // of work, which load cannot break. Asked again after the first call has bound everything the measurement uses,
        // it also shows that the measured interval contains the hash (without it, the interval is under a tick).
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(PasswordHasherOptions.MinCost, PasswordHasher.CalibrateCost(TimeSpan.FromTicks(1)));
        }

        Assert.InRange(PasswordHasher.CalibrateCost(TimeSpan.FromMilliseconds(5)), PasswordHasherOptions.MinCost, PasswordHasherOptions.MaxCost);
        Assert.Throws<ArgumentOutOfRangeException>(() => PasswordHasher.CalibrateCost(TimeSpan.Zero));
        Assert.Throws<ArgumentOutOfRangeException>(() => PasswordHasher.CalibrateCost(TimeSpan.FromHours(1)));
    }

    [Theory]
    [InlineData("Cost", 3)]
    [InlineData("Cost", 21)]
    [InlineData("Pepper", "short")]
    [InlineData("PepperId", "has space")]
    [InlineData("PepperId", "")]
    [InlineData("MaxPasswordLength", 0)]
    [InlineData("Pbkdf2Iterations", 100_000)]
    [InlineData("HistorySize", -1)]
    [InlineData("PreviousPeppers", "1")]
    public void Invalid_options_are_refused_naming_the_option(string option, object value)
    {
        var options = new PasswordHasherOptions();
        if (option == "PreviousPeppers")
        {
            options.PreviousPeppers[(string)value] = PepperTwo; // reuses the current id "1"
        }
        else
        {
            typeof(PasswordHasherOptions).GetProperty(option)!.SetValue(options, value);
        }

        var error = Assert.Throws<ArgumentException>(() => new PasswordHasher(options));
        Assert.Contains("PasswordHasherOptions." + option, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_are_copied_when_the_hasher_is_built()
    {
        var options = new PasswordHasherOptions { Cost = 4 };
        var hasher = new PasswordHasher(options);
        options.Cost = 5;
        Assert.StartsWith("$hbcrypt$v=1$c=4$", hasher.Hash("pw"), StringComparison.Ordinal);
    }
}
