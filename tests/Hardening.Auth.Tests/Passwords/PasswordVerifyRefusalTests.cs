using Hardening.Auth;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using PasswordHasher = Hardening.Auth.PasswordHasher;
using PasswordHasherOptions = Hardening.Auth.PasswordHasherOptions;

namespace Hardening.Auth.Tests.Passwords;

/// <summary>Each way <see cref="PasswordHasher.Verify"/> refuses before or instead of comparing, with the exact log line (hand-written).</summary>
public sealed class PasswordVerifyRefusalTests
{
    private const string Prefix = "Password verification failed closed because the stored hash is unusable: ";

    private static (PasswordHasher Hasher, FakeLogger<PasswordHasher> Log) Hasher(Action<PasswordHasherOptions>? more = null)
    {
        var options = new PasswordHasherOptions { Cost = 4 };
        more?.Invoke(options);
        var log = new FakeLogger<PasswordHasher>();
        return (new PasswordHasher(options, log), log);
    }

    [Fact]
    public void An_empty_stored_hash_is_unusable()
    {
        var (hasher, log) = Hasher();
        Assert.Equal(PasswordVerificationResult.Failed, hasher.Verify("pw", ""));
        var entry = Assert.Single(log.Collector.GetSnapshot());
        Assert.Equal(Prefix + "the stored hash is empty.", entry.Message);
        Assert.Equal(1101, entry.Id.Id);
        Assert.Equal("StoredPasswordHashUnusable", entry.Id.Name);
        Assert.Equal(LogLevel.Warning, entry.Level);
    }

    [Fact]
    public void A_stored_hash_over_1024_characters_is_refused_before_parsing()
    {
        var (hasher, log) = Hasher();
        Assert.Equal(PasswordVerificationResult.Failed, hasher.Verify("pw", "$hbcrypt$" + new string('A', 1016)));
        Assert.Equal(Prefix + "the stored hash is longer than 1024 characters.", Assert.Single(log.Collector.GetSnapshot()).Message);

        log.Collector.Clear();
        Assert.Equal(PasswordVerificationResult.Failed, hasher.Verify("pw", "$hbcrypt$" + new string('A', 1015))); // 1024: parsed
        Assert.Equal(Prefix + "a Hardening password hash is at most 200 characters, this one has 1024.", Assert.Single(log.Collector.GetSnapshot()).Message);
    }

    [Fact]
    public void A_password_over_the_limit_fails_with_an_information_event_and_the_limit_itself_is_verified()
    {
        var (hasher, log) = Hasher(o => o.MaxPasswordLength = 10);
        var stored = hasher.Hash("0123456789");
        Assert.Equal(PasswordVerificationResult.Success, hasher.Verify("0123456789", stored));
        Assert.Empty(log.Collector.GetSnapshot());
        Assert.Equal(PasswordVerificationResult.Failed, hasher.Verify("0123456789a", stored));
        var entry = Assert.Single(log.Collector.GetSnapshot());
        Assert.Equal("Password verification rejected a password longer than the 10-character limit.", entry.Message);
        Assert.Equal(1103, entry.Id.Id);
        Assert.Equal(LogLevel.Information, entry.Level);
        Assert.Throws<ArgumentNullException>("password", () => hasher.Verify(null!, stored));
        Assert.Throws<ArgumentNullException>("password", () => hasher.VerifyDummy(null!));
    }

    [Fact]
    public void A_hash_of_an_unknown_pepper_id_names_the_id_and_where_it_was_looked_for()
    {
        var stored = new PasswordHasher(new PasswordHasherOptions { Cost = 4, Pepper = "retired-pepper-0123456789", PepperId = "retired" }).Hash("pw");
        var (hasher, log) = Hasher(o => { o.Pepper = "current-pepper-0123456789"; o.PepperId = "current"; o.PreviousPeppers["older"] = "older-pepper-0123456789"; });
        Assert.Equal(PasswordVerificationResult.Failed, hasher.Verify("pw", stored));
        Assert.Equal(
            Prefix + "it was made with pepper id 'retired', which is neither PasswordHasherOptions.PepperId nor in PreviousPeppers.",
            Assert.Single(log.Collector.GetSnapshot()).Message);
    }

    [Fact]
    public void Peppers_are_chosen_by_the_id_in_the_hash()
    {
        var oldPepper = new PasswordHasher(new PasswordHasherOptions { Cost = 4, Pepper = "older-pepper-0123456789", PepperId = "older" });
        var noPepper = new PasswordHasher(new PasswordHasherOptions { Cost = 4 });
        var (hasher, log) = Hasher(o => { o.Pepper = "current-pepper-0123456789"; o.PepperId = "current"; o.PreviousPeppers["older"] = "older-pepper-0123456789"; });
        Assert.Equal(PasswordVerificationResult.SuccessRehashNeeded, hasher.Verify("pw", oldPepper.Hash("pw")));
        Assert.Equal(PasswordVerificationResult.SuccessRehashNeeded, hasher.Verify("pw", noPepper.Hash("pw"))); // the public domain key
        Assert.Equal(PasswordVerificationResult.Success, hasher.Verify("pw", hasher.Hash("pw")));
        Assert.Equal(PasswordVerificationResult.Failed, hasher.Verify("pW", oldPepper.Hash("pw")));
        Assert.Empty(log.Collector.GetSnapshot());

        // Without a pepper, hashes have no k= and verify with the domain key; a pepper-less hasher cannot read peppered ones.
        Assert.Equal(PasswordVerificationResult.Success, noPepper.Verify("pw", noPepper.Hash("pw")));
        Assert.Equal(PasswordVerificationResult.Failed, noPepper.Verify("pw", hasher.Hash("pw")));
    }

    [Theory]
    [InlineData("$2b$21$abcdefghijklmnopqrstuu5s2v8.iXieOjg/.AySBTTZIIVFJeBui", "the bcrypt cost 21 is above the supported maximum 20")]
    [InlineData("$2c$04$abcdefghijklmnopqrstuu5s2v8.iXieOjg/.AySBTTZIIVFJeBui", "unknown bcrypt version (expected '$2b$', '$2a$' or '$2y$')")]
    [InlineData("$2b$04$abcdefghijklmnopqrstuu5s2v8.iXieOjg/.AySBTTZIIVFJeBu", "a bcrypt hash is 60 characters long, this one has 59")]
    [InlineData("$1$abc$def", "unknown format (not a Hardening '$hbcrypt$'/'$hpbkdf2-sha512$' hash, plain bcrypt or ASP.NET Identity V2/V3)")]
    [InlineData("$hpbkdf2-sha512$", "a Hardening password hash has six '$'-separated fields: $scheme$v=N$params$salt$digest")]
    public void Stored_strings_of_the_wrong_shape_are_refused_with_the_parsers_reason(string stored, string problem)
    {
        var (hasher, log) = Hasher();
        Assert.Equal(PasswordVerificationResult.Failed, hasher.Verify("pw", stored));
        Assert.Equal(Prefix + problem + ".", Assert.Single(log.Collector.GetSnapshot()).Message);
    }

    [Fact]
    public void A_plain_bcrypt_hash_of_the_maximum_cost_is_usable_and_one_above_is_not()
    {
        // A password with NUL never matches a plain bcrypt hash and is turned away after the cost check but before any
        // hashing, so the cost-20 hash is judged usable or not without running 2^20 rounds.
        const string SaltAndDigest = "abcdefghijklmnopqrstuu5s2v8.iXieOjg/.AySBTTZIIVFJeBui";
        var (hasher, log) = Hasher();
        Assert.Equal(PasswordVerificationResult.Failed, hasher.Verify("p\0w", "$2b$20$" + SaltAndDigest));
        Assert.Empty(log.Collector.GetSnapshot());
        Assert.Equal(PasswordVerificationResult.Failed, hasher.Verify("p\0w", "$2b$21$" + SaltAndDigest));
        Assert.Equal(Prefix + "the bcrypt cost 21 is above the supported maximum 20.", Assert.Single(log.Collector.GetSnapshot()).Message);
    }

    [Fact]
    public void Reuse_checks_at_most_the_history_size_and_skips_nulls_without_counting_past_them()
    {
        var (hasher, _) = Hasher(o => o.HistorySize = 2);
        var a = hasher.Hash("a");
        var b = hasher.Hash("b");
        Assert.True(hasher.IsReused("a", [a, b]));
        Assert.True(hasher.IsReused("b", [a, b]));
        Assert.False(hasher.IsReused("b", [a, a, b])); // third: outside the history of 2
        Assert.True(hasher.IsReused("b", [null, b])); // a null entry still takes a place
        Assert.False(hasher.IsReused("b", [null, null, b]));
        Assert.False(hasher.IsReused("c", []));
        Assert.True(hasher.IsReused("a", ["$broken", a]));
        Assert.Throws<ArgumentNullException>("password", () => hasher.IsReused(null!, [a]));
        Assert.Throws<ArgumentNullException>("password", () => hasher.IsReused(null!, [])); // refused before any hash is read
        Assert.Throws<ArgumentNullException>("options", () => new PasswordHasher(null!));
        Assert.Throws<ArgumentNullException>("previousHashes", () => hasher.IsReused("a", null!));
    }

    [Fact]
    public void Calibration_accepts_targets_up_to_ten_minutes_and_names_the_parameter()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => PasswordHasher.CalibrateCost(TimeSpan.FromMinutes(10) + TimeSpan.FromTicks(1)));
        Assert.Equal("target", error.ParamName);
        Assert.StartsWith("The calibration target must be positive and at most 10 minutes, e.g. 250 ms.", error.Message, StringComparison.Ordinal);
        Assert.Equal("target", Assert.Throws<ArgumentOutOfRangeException>(() => PasswordHasher.CalibrateCost(TimeSpan.FromTicks(-1))).ParamName);
    }
}
