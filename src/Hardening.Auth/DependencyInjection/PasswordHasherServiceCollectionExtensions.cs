using Hardening.Shared;
using Hardening.Auth;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PasswordHasherOptions = Hardening.Auth.PasswordHasherOptions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers <see cref="PasswordHasher"/> (and the ASP.NET Core Identity adapter).</summary>
public static class PasswordHasherServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="PasswordHasher"/> as a singleton with options validated at start-up. Start-up logs a
    /// warning (event 1102) when no pepper is configured in Production.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets <see cref="PasswordHasherOptions"/>; optional.</param>
    /// <returns><paramref name="services"/>.</returns>
    /// <example>
    /// <code>
    /// builder.Services.AddHardeningPasswordHasher(o => o.Pepper = builder.Configuration["Auth:Pepper"]);
    /// </code>
    /// </example>
    public static IServiceCollection AddHardeningPasswordHasher(this IServiceCollection services, Action<PasswordHasherOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<PasswordHasherOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        return AddCore(services);
    }

    /// <summary>Registers <see cref="PasswordHasher"/> with options bound from a configuration section (e.g. <c>"Auth:Passwords"</c>).</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The section holding <see cref="PasswordHasherOptions"/> properties (Cost, Pepper, PepperId, PreviousPeppers, ...).</param>
    /// <returns><paramref name="services"/>.</returns>
    public static IServiceCollection AddHardeningPasswordHasher(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<PasswordHasherOptions>().Bind(configuration);
        return AddCore(services);
    }

    /// <summary>
    /// Registers <see cref="PasswordHasher"/> and makes it ASP.NET Core Identity's <see cref="IPasswordHasher{TUser}"/>,
    /// replacing Identity's own whether it was registered before or after this call. Identity V2/V3 hashes already
    /// stored keep working and are rehashed on the next login (Identity stores the new hash itself).
    /// </summary>
    /// <typeparam name="TUser">Identity's user type.</typeparam>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets <see cref="PasswordHasherOptions"/>; optional.</param>
    /// <returns><paramref name="services"/>.</returns>
    public static IServiceCollection AddHardeningPasswordHasher<TUser>(this IServiceCollection services, Action<PasswordHasherOptions>? configure = null)
        where TUser : class
    {
        AddHardeningPasswordHasher(services, configure);
        services.RemoveAll<IPasswordHasher<TUser>>();
        services.AddSingleton<IPasswordHasher<TUser>, IdentityPasswordHasher<TUser>>();
        return services;
    }

    private static IServiceCollection AddCore(IServiceCollection services)
    {
        services.AddOptions<PasswordHasherOptions>().ValidateOnStart();
        services.AddSingleOptionsInstance<PasswordHasherOptions>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PasswordHasherOptions>, PasswordHasherOptionsValidator>());
        services.TryAddSingleton(sp => new PasswordHasher(
            sp.GetRequiredService<IOptions<PasswordHasherOptions>>().Value,
            sp.GetService<ILogger<PasswordHasher>>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, PasswordHasherStartupCheck>());
        return services;
    }
}
