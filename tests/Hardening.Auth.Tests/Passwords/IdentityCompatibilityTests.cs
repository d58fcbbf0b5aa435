using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using HardeningHasher = Hardening.Auth.PasswordHasher;
using HardeningOptions = Hardening.Auth.PasswordHasherOptions;
using IdentityOptions = Microsoft.AspNetCore.Identity.PasswordHasherOptions;

namespace Hardening.Auth.Tests.Passwords;

public sealed class IdentityCompatibilityTests
{
    public sealed class User
    {
        public string Name { get; set; } = "ada";
    }

    private static readonly HardeningHasher Ours = new(new HardeningOptions { Cost = 4 });

    private static PasswordHasher<User> Identity(PasswordHasherCompatibilityMode mode, int iterations = 100_000) =>
        new(Options.Create(new IdentityOptions { CompatibilityMode = mode, IterationCount = iterations }));

    [Theory]
    [InlineData(PasswordHasherCompatibilityMode.IdentityV2)]
    [InlineData(PasswordHasherCompatibilityMode.IdentityV3)]
    public void Identitys_own_hashes_verify_with_rehash_needed(PasswordHasherCompatibilityMode mode)
    {
        var stored = Identity(mode).HashPassword(new User(), "Correct horse 🐎 battery");
        Assert.Equal(PasswordVerificationResult.SuccessRehashNeeded, Ours.Verify("Correct horse 🐎 battery", stored));
        Assert.Equal(PasswordVerificationResult.Failed, Ours.Verify("Correct horse 🐎 batterY", stored));
    }

    [Property(MaxTest = 100)]
    public Property Identity_v2_and_v3_hashes_of_arbitrary_passwords_verify_and_wrong_ones_fail()
    {
        // Lower V3 iterations keep the property fast; the layout and PRF are what is under test.
        var v2 = Identity(PasswordHasherCompatibilityMode.IdentityV2);
        var v3 = Identity(PasswordHasherCompatibilityMode.IdentityV3, iterations: 1000);
        var password = ArbMap.Default.ArbFor<string>().Generator.Where(s => s is not null && s.Length <= 200);
        return Prop.ForAll(password.ToArbitrary(), Gen.Elements(true, false).ToArbitrary(), (pw, useV2) =>
        {
            var stored = (useV2 ? v2 : v3).HashPassword(new User(), pw);
            Assert.Equal(PasswordVerificationResult.SuccessRehashNeeded, Ours.Verify(pw, stored));
            Assert.Equal(PasswordVerificationResult.Failed, Ours.Verify(pw + "x", stored));
        });
    }

    [Fact]
    public void Corrupt_identity_hashes_fail_with_a_warning()
    {
        var logger = new FakeLogger<HardeningHasher>();
        var hasher = new HardeningHasher(new HardeningOptions { Cost = 4 }, logger);
        var v3 = Convert.FromBase64String(Identity(PasswordHasherCompatibilityMode.IdentityV3, 1000).HashPassword(new User(), "pw"));
        v3[4] = 7; // unknown PRF
        Assert.Equal(PasswordVerificationResult.Failed, hasher.Verify("pw", Convert.ToBase64String(v3)));
        Assert.Contains("unknown PRF", Assert.Single(logger.Collector.GetSnapshot()).Message, StringComparison.Ordinal);
        Assert.Equal(PasswordVerificationResult.Failed, hasher.Verify("pw", Convert.ToBase64String(v3[..20])));
        Assert.Equal(2, logger.Collector.Count);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void The_adapter_replaces_identitys_hasher_whatever_the_registration_order(bool identityFirst)
    {
        var services = new ServiceCollection().AddLogging();
        if (identityFirst)
        {
            services.AddIdentityCore<User>();
        }

        services.AddHardeningPasswordHasher<User>(o => o.Cost = 4);
        if (!identityFirst)
        {
            services.AddIdentityCore<User>();
        }

        using var provider = services.BuildServiceProvider();
        using var scope = provider.CreateScope();
        var hasher = scope.ServiceProvider.GetRequiredService<IPasswordHasher<User>>();
        var stored = hasher.HashPassword(new User(), "pw");
        Assert.StartsWith("$hbcrypt$v=1$c=4$", stored, StringComparison.Ordinal);
        Assert.Equal(PasswordVerificationResult.Success, hasher.VerifyHashedPassword(new User(), stored, "pw"));
        var legacy = Identity(PasswordHasherCompatibilityMode.IdentityV3, 1000).HashPassword(new User(), "pw");
        Assert.Equal(PasswordVerificationResult.SuccessRehashNeeded, hasher.VerifyHashedPassword(new User(), legacy, "pw"));
        Assert.Equal(PasswordVerificationResult.Failed, hasher.VerifyHashedPassword(new User(), legacy, "nope"));
    }
}
