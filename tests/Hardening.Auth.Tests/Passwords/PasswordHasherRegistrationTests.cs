using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using PasswordHasher = Hardening.Auth.PasswordHasher;
using PasswordHasherOptions = Hardening.Auth.PasswordHasherOptions;

namespace Hardening.Auth.Tests.Passwords;

public sealed class PasswordHasherRegistrationTests
{
    private static async Task<(IHost Host, FakeLogCollector Log)> StartAsync(string environment, Action<IServiceCollection> register)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = environment, DisableDefaults = true });
        var log = new FakeLogCollector();
        builder.Logging.ClearProviders().AddProvider(new FakeLoggerProvider(log));
        register(builder.Services);
        var host = builder.Build();
        await host.StartAsync();
        return (host, log);
    }

    [Fact]
    public async Task Production_without_a_pepper_logs_a_start_up_warning()
    {
        var (host, log) = await StartAsync(Environments.Production, s => s.AddHardeningPasswordHasher(o => o.Cost = 4));
        using (host)
        {
            var warning = Assert.Single(log.GetSnapshot(), e => e.Id.Id == 1102);
            Assert.Equal(LogLevel.Warning, warning.Level);
            Assert.Contains("Pepper", warning.Message, StringComparison.Ordinal);
            await host.StopAsync();
        }
    }

    [Theory]
    [InlineData("Development", null)]
    [InlineData("Production", "a-pepper-of-at-least-16-bytes")]
    public async Task No_warning_in_development_or_with_a_pepper(string environment, string? pepper)
    {
        var (host, log) = await StartAsync(environment, s => s.AddHardeningPasswordHasher(o => { o.Cost = 4; o.Pepper = pepper; }));
        using (host)
        {
            Assert.DoesNotContain(log.GetSnapshot(), e => e.Id.Id == 1102);
            await host.StopAsync();
        }
    }

    [Fact]
    public async Task Invalid_options_fail_the_start_naming_the_option()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddHardeningPasswordHasher(o => o.Cost = 40);
        using var host = builder.Build();
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Contains("PasswordHasherOptions.Cost is 40", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_hasher_is_a_singleton_and_options_bind_from_configuration()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Auth:Passwords:Cost"] = "5",
            ["Auth:Passwords:Pepper"] = "current-pepper-0123456789",
            ["Auth:Passwords:PepperId"] = "k2",
            ["Auth:Passwords:PreviousPeppers:k1"] = "previous-pepper-0123456789",
        }).Build();
        using var provider = new ServiceCollection().AddLogging().AddHardeningPasswordHasher(configuration.GetSection("Auth:Passwords")).BuildServiceProvider();
        var hasher = provider.GetRequiredService<PasswordHasher>();
        Assert.Same(hasher, provider.GetRequiredService<PasswordHasher>());
        Assert.StartsWith("$hbcrypt$v=1$c=5,k=k2$", hasher.Hash("pw"), StringComparison.Ordinal);

        var old = new PasswordHasher(new PasswordHasherOptions { Cost = 5, Pepper = "previous-pepper-0123456789", PepperId = "k1" }).Hash("pw");
        Assert.Equal(Microsoft.AspNetCore.Identity.PasswordVerificationResult.SuccessRehashNeeded, hasher.Verify("pw", old));
    }
}
