using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Hardening.Shared;

/// <summary>
/// One options instance per app (shared source). <c>ValidateOnStart</c> builds the options through
/// <see cref="IOptionsMonitor{TOptions}"/>, and the default <see cref="IOptions{TOptions}"/> builds them a second time,
/// running every <c>configure</c> delegate and validator twice. Serving <see cref="IOptions{TOptions}"/> from the
/// monitor's cache makes it one instance, configured and validated once.
/// </summary>
internal static class SingleOptionsInstance
{
    /// <summary>Registers <see cref="IOptions{TOptions}"/> for <typeparamref name="TOptions"/> as the monitor's default instance.</summary>
    public static void AddSingleOptionsInstance<TOptions>(this IServiceCollection services)
        where TOptions : class =>
        services.TryAddSingleton<IOptions<TOptions>>(sp => new FromMonitor<TOptions>(sp.GetRequiredService<IOptionsMonitor<TOptions>>()));

    private sealed class FromMonitor<TOptions>(IOptionsMonitor<TOptions> monitor) : IOptions<TOptions>
        where TOptions : class
    {
        private TOptions? _value;

        // Read once, like the default IOptions<T>: later reloads reach IOptionsMonitor users only.
        public TOptions Value => _value ??= monitor.Get(Options.DefaultName);
    }
}
